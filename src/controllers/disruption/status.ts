// What the disruption controller computes for one budget
// (pkg/controller/disruption): how many pods it expects (the pods themselves
// for an integer minAvailable, otherwise the summed scale of their
// controllers), how many must stay healthy, how many are healthy now
// (ready, not being deleted, not just evicted), and so how many may be
// disrupted. Pure: the caller finds the controllers' scales.
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { deepEqual } from '../../api/object.js';
import {
  conditionsAreUpToDate,
  disruptionAllowedCondition,
  setStatusCondition,
  syncFailedReason,
  updateDisruptionAllowedCondition,
} from '../../registry/poddisruptionbudgets/conditions.js';
import { getControllerOf } from '../workloads/controller-ref.js';
import { scaledValue } from '../workloads/intstr.js';
import { isPodReady } from '../workloads/pods.js';
import type { PodObject } from '../workloads/types.js';

/** DeletionTimeout: an evicted pod not marked for deletion within this long is assumed to stay. */
export const deletionTimeoutMs = 2 * 60_000;

/** A pod's controller and its desired replicas (controllerAndScale), or undefined when the reference leads nowhere. */
export type ScaleFinder = (ref: OwnerReference, namespace: string) => { uid: string; scale: number } | undefined;

export interface ExpectedPods {
  expectedCount: number;
  desiredHealthy: number;
  /** Pods without a controller: their budget's percentages cannot be computed right. */
  unmanagedPods: string[];
}

/** getExpectedScale: the sum of the scales of the pods' controllers (each counted once). */
function expectedScale(pods: PodObject[], findScale: ScaleFinder): { expectedCount: number; unmanagedPods: string[] } {
  const scales = new Map<string, number>();
  const unmanagedPods: string[] = [];
  for (const pod of pods) {
    const ref = getControllerOf(pod);
    if (!ref) {
      unmanagedPods.push(pod.metadata.name!);
      continue;
    }
    if (scales.has(ref.uid)) continue;
    const found = findScale(ref, pod.metadata.namespace ?? '');
    if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
    scales.set(found.uid, found.scale);
  }
  return { expectedCount: [...scales.values()].reduce((a, b) => a + b, 0), unmanagedPods };
}

/** intstr.GetScaledValueFromIntOrPercent with round-up, as the controller calls it. */
function scaled(value: number | string, total: number): number {
  try {
    return scaledValue(value, total, true);
  } catch {
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  }
}

/** getExpectedPodCount. Throws (the sync fails) when a controller cannot be found. */
export function expectedPodCount(pdb: PodDisruptionBudget, pods: PodObject[], findScale: ScaleFinder): ExpectedPods {
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable != null) {
    const { expectedCount, unmanagedPods } = expectedScale(pods, findScale);
    const desiredHealthy = Math.max(0, expectedCount - scaled(spec.maxUnavailable, expectedCount));
    return { expectedCount, desiredHealthy, unmanagedPods };
  }
  if (spec.minAvailable != null) {
    if (typeof spec.minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: spec.minAvailable, unmanagedPods: [] };
    const { expectedCount, unmanagedPods } = expectedScale(pods, findScale);
    return { expectedCount, desiredHealthy: scaled(spec.minAvailable, expectedCount), unmanagedPods };
  }
  return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
}

/**
 * buildDisruptedPodMap: the evicted pods still expected to go (not yet
 * marked for deletion, within the timeout), the overdue ones (an Event
 * each), and when to look again.
 */
export function disruptedPodMap(pdb: PodDisruptionBudget, pods: PodObject[], now: number) {
  const recorded = pdb.status?.disruptedPods ?? {};
  const disruptedPods: Record<string, string> = {};
  const overdue: PodObject[] = [];
  let recheckAt: number | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = recorded[pod.metadata.name!];
    if (!at) continue;
    const expectedDeletion = Date.parse(at) + deletionTimeoutMs;
    if (expectedDeletion < now) {
      overdue.push(pod);
      continue;
    }
    if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
    disruptedPods[pod.metadata.name!] = at;
  }
  return { disruptedPods, overdue, recheckAt };
}

/** countHealthyPods: ready pods not being deleted and not evicted within the timeout. */
export function countHealthyPods(pods: PodObject[], disruptedPods: Record<string, string>, now: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disruptedPods[pod.metadata.name!];
    if (at && Date.parse(at) + deletionTimeoutMs > now) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/**
 * updatePdbStatus: the status to write, or undefined when the stored one
 * already says all of it. A budget expecting no pods allows no disruption,
 * so its first pods are safe before this controller has counted them.
 */
export function nextBudgetStatus(
  pdb: PodDisruptionBudget,
  counts: { currentHealthy: number; desiredHealthy: number; expectedCount: number; disruptedPods: Record<string, string> },
  now: Date,
): PodDisruptionBudgetStatus | undefined {
  const { currentHealthy, desiredHealthy, expectedCount, disruptedPods } = counts;
  let disruptionsAllowed = currentHealthy - desiredHealthy;
  if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
  const old = pdb.status;
  const generation = pdb.metadata?.generation ?? 0;
  if (
    old &&
    old.currentHealthy === currentHealthy &&
    old.desiredHealthy === desiredHealthy &&
    old.expectedPods === expectedCount &&
    old.disruptionsAllowed === disruptionsAllowed &&
    deepEqual(old.disruptedPods ?? {}, disruptedPods) &&
    (old.observedGeneration ?? 0) === generation &&
    conditionsAreUpToDate(old, generation)
  ) {
    return undefined;
  }
  const status: PodDisruptionBudgetStatus = { disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods: expectedCount, conditions: old?.conditions };
  if (generation) status.observedGeneration = generation;
  if (Object.keys(disruptedPods).length) status.disruptedPods = disruptedPods;
  updateDisruptionAllowedCondition(status, now);
  return status;
}

/** failSafe: when the budget cannot be computed, at least allow no disruption (DisruptionAllowed False, SyncFailed, the error). */
export function failSafeStatus(pdb: PodDisruptionBudget, message: string, now: Date): PodDisruptionBudgetStatus {
  const status: PodDisruptionBudgetStatus = structuredClone(pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  status.disruptionsAllowed = 0;
  status.conditions = setStatusCondition(
    status.conditions ?? [],
    { type: disruptionAllowedCondition, status: 'False', reason: syncFailedReason, message, observedGeneration: status.observedGeneration },
    now,
  );
  return status;
}
