// A StatefulSet pod's identity (pkg/controller/statefulset/stateful_set_utils.go):
// its name `<set>-<ordinal>`, hostname and subdomain (so the headless Service
// gives it a DNS name), its pod-name / pod-index labels, the claims of its
// volume claim templates, and the revision it was made from. Pure functions.
import { isPodAvailable, isPodReady, podFromTemplate } from '../workloads/pods.js';
import { controllerRevisionHashLabel, type PodObject } from '../workloads/types.js';
import { podIndexLabel, podNameLabel, type StatefulSetObject, type StatefulSetSpec } from './types.js';

export const statefulSetGVK = { apiVersion: 'apps/v1', kind: 'StatefulSet' };

type ClaimTemplate = NonNullable<StatefulSetSpec['volumeClaimTemplates']>[number];

/** getParentNameAndOrdinal: `<parent>-<digits>`; an ordinal beyond int32 or no digits gives -1. */
export function parentAndOrdinal(pod: PodObject): { parent: string; ordinal: number } {
  const m = /^(.*)-([0-9]+)$/.exec(pod.metadata.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1]!, ordinal: n <= 2 ** 31 - 1 ? n : -1 };
}

export const ordinalOf = (pod: PodObject) => parentAndOrdinal(pod).ordinal;

/** spec.ordinals.start, 0 when unset. */
export const startOrdinal = (set: StatefulSetObject) => set.spec?.ordinals?.start ?? 0;

/** The last ordinal the set wants (inclusive). */
export const endOrdinal = (set: StatefulSetObject) => startOrdinal(set) + (set.spec?.replicas ?? 1) - 1;

export function inOrdinalRange(pod: PodObject, set: StatefulSetObject): boolean {
  const ordinal = ordinalOf(pod);
  return ordinal >= startOrdinal(set) && ordinal <= endOrdinal(set);
}

export const podName = (set: StatefulSetObject, ordinal: number) => `${set.metadata.name}-${ordinal}`;

/** getPersistentVolumeClaimName: `<template>-<set>-<ordinal>`. */
export const claimName = (set: StatefulSetObject, claim: ClaimTemplate, ordinal: number) => `${claim.metadata?.name}-${set.metadata.name}-${ordinal}`;

/** isMemberOf: the pod's name says it belongs to this set. */
export const isMemberOf = (set: StatefulSetObject, pod: PodObject) => parentAndOrdinal(pod).parent === set.metadata.name;

/** identityMatches: name, namespace and pod-name label agree with the ordinal. */
export function identityMatches(set: StatefulSetObject, pod: PodObject): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod);
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.name === podName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[podNameLabel] === pod.metadata.name
  );
}

/** storageMatches: every claim template is mounted from this ordinal's claim. */
export function storageMatches(set: StatefulSetObject, pod: PodObject): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  return (set.spec?.volumeClaimTemplates ?? []).every((claim) => volumes.get(claim.metadata?.name ?? '')?.persistentVolumeClaim?.claimName === claimName(set, claim, ordinal));
}

/**
 * getPersistentVolumeClaims: the claims a pod of this ordinal mounts, labelled
 * with the template's labels plus the selector's matchLabels.
 */
export function claimsFor(set: StatefulSetObject, ordinal: number) {
  return (set.spec?.volumeClaimTemplates ?? []).map((template) => ({
    template: template.metadata?.name ?? '',
    claim: {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(set, template, ordinal),
        namespace: set.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      },
      spec: structuredClone(template.spec ?? {}),
    },
  }));
}

/** updateStorage: the claims' volumes replace any volumes of the same names. */
export function updateStorage(set: StatefulSetObject, pod: PodObject): void {
  const spec = (pod.spec ??= { containers: [] });
  const claims = claimsFor(set, ordinalOf(pod));
  const claimed = new Set(claims.map((c) => c.template));
  spec.volumes = [
    ...claims.map((c) => ({ name: c.template, persistentVolumeClaim: { claimName: c.claim.metadata.name } })),
    ...(spec.volumes ?? []).filter((v) => !claimed.has(v.name)),
  ];
}

/** updateIdentity: name, namespace and the pod-name and pod-index labels. */
export function updateIdentity(set: StatefulSetObject, pod: PodObject): void {
  const ordinal = ordinalOf(pod);
  pod.metadata.name = podName(set, ordinal);
  pod.metadata.namespace = set.metadata.namespace;
  const labels = (pod.metadata.labels ??= {});
  labels[podNameLabel] = pod.metadata.name;
  labels[podIndexLabel] = String(ordinal);
}

/** newStatefulSetPod: from the template, named by ordinal; hostname and subdomain are set once, at creation. */
export function newStatefulSetPod(set: StatefulSetObject, ordinal: number): PodObject {
  const pod = podFromTemplate(set.spec?.template, set, statefulSetGVK);
  delete pod.metadata.generateName;
  pod.metadata.name = podName(set, ordinal);
  updateIdentity(set, pod);
  pod.spec!.hostname = pod.metadata.name;
  pod.spec!.subdomain = set.spec?.serviceName;
  if (!pod.spec!.subdomain) delete pod.spec!.subdomain;
  updateStorage(set, pod);
  return pod;
}

export const podRevision = (pod: PodObject) => pod.metadata.labels?.[controllerRevisionHashLabel] ?? '';

/**
 * newVersionedStatefulSetPod: ordinals below the partition (or, without a
 * rollingUpdate block, below the current replica count) are made at the current
 * revision, the rest at the update revision. The grouping of the conditions is
 * upstream's, partition included.
 */
export function newVersionedStatefulSetPod(
  currentSet: StatefulSetObject,
  updateSet: StatefulSetObject,
  currentRevision: string,
  updateRevision: string,
  ordinal: number,
): PodObject {
  const strategy = currentSet.spec?.updateStrategy;
  const start = startOrdinal(currentSet);
  const atCurrent =
    (strategy?.type === 'RollingUpdate' && strategy.rollingUpdate == null && ordinal < start + (currentSet.status?.currentReplicas ?? 0)) ||
    (strategy?.rollingUpdate != null && ordinal < start + (strategy.rollingUpdate.partition ?? 0));
  const pod = newStatefulSetPod(atCurrent ? currentSet : updateSet, ordinal);
  pod.metadata.labels![controllerRevisionHashLabel] = atCurrent ? currentRevision : updateRevision;
  return pod;
}

// ---- pod phases as the controller reads them

/** isCreated: the API server has given it a phase. */
export const isCreated = (pod: PodObject) => !!pod.status?.phase;
export const isPending = (pod: PodObject) => pod.status?.phase === 'Pending';
export const isFailed = (pod: PodObject) => pod.status?.phase === 'Failed';
export const isSucceeded = (pod: PodObject) => pod.status?.phase === 'Succeeded';
export const isTerminating = (pod: PodObject) => !!pod.metadata.deletionTimestamp;
export const isRunningAndReady = (pod: PodObject) => pod.status?.phase === 'Running' && isPodReady(pod);
export const isRunningAndAvailable = (pod: PodObject, minReadySeconds: number, now: number) => isPodAvailable(pod, minReadySeconds, now);
/** isUnavailable: not available, or on its way out. */
export const isUnavailable = (pod: PodObject, minReadySeconds: number, now: number) => !isRunningAndAvailable(pod, minReadySeconds, now) || isTerminating(pod);
