// The Deployment controller's decisions (pkg/controller/deployment and its
// util package) as pure functions over a Deployment and its ReplicaSets:
// which ReplicaSet is new, revisions and their annotations, how many replicas
// each ReplicaSet gets in a rolling update, a Recreate or a proportional
// scale, the status and its conditions. The controller applies the results.
import { annotationLastApplied } from '../../api/labels.js';
import { resolveFenceposts } from './intstr.js';
import { equalIgnoreHash } from './hash.js';
import type { DeploymentObject, ReplicaSetObject } from './types.js';

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
const deprecatedRollbackTo = 'deprecated.deployment.rollback.to';
/** Upstream's --deployment-controller revision history cap on the revision-history annotation. */
export const maxRevHistoryLengthInChars = 2000;

/** Annotations never copied from a Deployment to its ReplicaSets (and back on rollback). */
export const annotationsToSkip = new Set([
  annotationLastApplied,
  revisionAnnotation,
  revisionHistoryAnnotation,
  desiredReplicasAnnotation,
  maxReplicasAnnotation,
  deprecatedRollbackTo,
]);

// Condition reasons (deploymentutil).
export const reasons = {
  newReplicaSet: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  newRSAvailable: 'NewReplicaSetAvailable',
  replicaSetUpdated: 'ReplicaSetUpdated',
  timedOut: 'ProgressDeadlineExceeded',
  failedRSCreate: 'ReplicaSetCreateError',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

export type DeploymentStatus = NonNullable<DeploymentObject['status']>;
export type DeploymentCondition = NonNullable<DeploymentStatus['conditions']>[number];

const time = (t: string | undefined) => (t ? Date.parse(t) : 0);

export const desiredReplicas = (d: DeploymentObject) => d.spec?.replicas ?? 1;
export const rsReplicas = (rs: ReplicaSetObject | undefined) => (rs ? (rs.spec?.replicas ?? 1) : 0);

// ---- revisions -------------------------------------------------------------

/** deploymentutil.Revision; an unparsable or absent annotation counts as 0. */
export function revisionOf(obj: { metadata: { annotations?: Record<string, string> } }): number {
  const v = obj.metadata.annotations?.[revisionAnnotation];
  if (v === undefined || !/^\d+$/.test(v)) return 0;
  return Number(v);
}

export function maxRevision(rss: ReplicaSetObject[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

// ---- sorting (controller.ReplicaSetsBy*) ----------------------------------

export function byCreationTimestamp(a: ReplicaSetObject, b: ReplicaSetObject): number {
  const ta = time(a.metadata.creationTimestamp);
  const tb = time(b.metadata.creationTimestamp);
  if (ta === tb) return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
  return ta - tb;
}

export function byRevision(a: ReplicaSetObject, b: ReplicaSetObject): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  return ra === rb ? byCreationTimestamp(a, b) : ra - rb;
}

/** Larger first; equal sizes older first. */
export function bySizeOlder(a: ReplicaSetObject, b: ReplicaSetObject): number {
  const sa = rsReplicas(a);
  const sb = rsReplicas(b);
  return sa === sb ? byCreationTimestamp(a, b) : sb - sa;
}

/** Larger first; equal sizes newer first. */
export function bySizeNewer(a: ReplicaSetObject, b: ReplicaSetObject): number {
  const sa = rsReplicas(a);
  const sb = rsReplicas(b);
  if (sa !== sb) return sb - sa;
  return time(b.metadata.creationTimestamp) - time(a.metadata.creationTimestamp);
}

// ---- new and old ReplicaSets ------------------------------------------------

/** FindNewReplicaSet: the oldest ReplicaSet whose template is the Deployment's. */
export function findNewReplicaSet(d: DeploymentObject, rsList: ReplicaSetObject[]): ReplicaSetObject | undefined {
  return [...rsList].sort(byCreationTimestamp).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** FindOldReplicaSets (all of them, scaled down or not). */
export function findOldReplicaSets(d: DeploymentObject, rsList: ReplicaSetObject[]): ReplicaSetObject[] {
  const newRS = findNewReplicaSet(d, rsList);
  return rsList.filter((rs) => !newRS || rs.metadata.uid !== newRS.metadata.uid);
}

export const filterActive = (rss: (ReplicaSetObject | undefined)[]) => rss.filter((rs): rs is ReplicaSetObject => !!rs && rsReplicas(rs) > 0);

const sum = (rss: (ReplicaSetObject | undefined)[], f: (rs: ReplicaSetObject) => number | undefined) => rss.reduce((n, rs) => n + (rs ? (f(rs) ?? 0) : 0), 0);
/** GetReplicaCountForReplicaSets: spec.replicas summed. */
export const replicaCount = (rss: (ReplicaSetObject | undefined)[]) => sum(rss, (rs) => rsReplicas(rs));
/** GetActualReplicaCountForReplicaSets: status.replicas summed. */
export const actualReplicaCount = (rss: (ReplicaSetObject | undefined)[]) => sum(rss, (rs) => rs.status?.replicas);
export const readyReplicaCount = (rss: (ReplicaSetObject | undefined)[]) => sum(rss, (rs) => rs.status?.readyReplicas);
export const availableReplicaCount = (rss: (ReplicaSetObject | undefined)[]) => sum(rss, (rs) => rs.status?.availableReplicas);

// ---- surge and unavailability -----------------------------------------------

export const isRollingUpdate = (d: DeploymentObject) => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export function maxSurge(d: DeploymentObject): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, desiredReplicas(d)).surge;
}

export function maxUnavailable(d: DeploymentObject): number {
  if (!isRollingUpdate(d) || desiredReplicas(d) === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, desiredReplicas(d));
  return Math.min(unavailable, desiredReplicas(d));
}

/** NewRSNewReplicas: how far the new ReplicaSet may grow now. */
export function newRSNewReplicas(d: DeploymentObject, allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject): number {
  if (!isRollingUpdate(d)) return desiredReplicas(d);
  const current = replicaCount(allRSs);
  const maxTotal = desiredReplicas(d) + maxSurge(d);
  if (current >= maxTotal) return rsReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, desiredReplicas(d) - rsReplicas(newRS));
  return rsReplicas(newRS) + scaleUp;
}

// ---- annotations ------------------------------------------------------------

/** SetReplicasAnnotations; mutates rs, reports whether anything changed. */
export function setReplicasAnnotations(rs: ReplicaSetObject, desired: number, max: number): boolean {
  const a = (rs.metadata.annotations ??= {});
  let changed = false;
  if (a[desiredReplicasAnnotation] !== String(desired)) {
    a[desiredReplicasAnnotation] = String(desired);
    changed = true;
  }
  if (a[maxReplicasAnnotation] !== String(max)) {
    a[maxReplicasAnnotation] = String(max);
    changed = true;
  }
  return changed;
}

function copyDeploymentAnnotationsToReplicaSet(d: DeploymentObject, rs: ReplicaSetObject): boolean {
  const a = (rs.metadata.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (annotationsToSkip.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  return changed;
}

/** SetNewReplicaSetAnnotations; mutates rs, reports whether anything changed. */
export function setNewReplicaSetAnnotations(d: DeploymentObject, rs: ReplicaSetObject, newRevision: string, exists: boolean, limitChars = maxRevHistoryLengthInChars): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const a = (rs.metadata.annotations ??= {});
  const oldRevision = a[revisionAnnotation];
  const had = oldRevision !== undefined;
  let oldInt = 0;
  if (had) {
    if (!/^\d+$/.test(oldRevision)) {
      if (oldRevision !== '') return false;
    } else oldInt = Number(oldRevision);
  }
  const newInt = Number(newRevision);
  if (oldInt < newInt) {
    a[revisionAnnotation] = newRevision;
    changed = true;
  }
  // A ReplicaSet that gets a newer revision is being rolled back to: keep its old revisions.
  if (had && oldInt < newInt) {
    const history = a[revisionHistoryAnnotation] ?? '';
    let old = history.split(',');
    if (!old[0]) a[revisionHistoryAnnotation] = oldRevision;
    else {
      let total = history.length + oldRevision.length + 1;
      let start = 0;
      while (total > limitChars && start < old.length) {
        total -= old[start].length + 1;
        start++;
      }
      if (total <= limitChars) {
        old = [...old.slice(start), oldRevision];
        a[revisionHistoryAnnotation] = old.join(',');
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, desiredReplicas(d), desiredReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

// ---- conditions -------------------------------------------------------------

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(type: string, status: string, reason: string, message: string, now: string): DeploymentCondition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/** SetDeploymentCondition: same status and reason is a no-op; same status keeps lastTransitionTime. */
export function setCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const current = getCondition(status, cond.type);
  if (current && current.status === cond.status && current.reason === cond.reason) return;
  if (current && current.status === cond.status) cond.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), cond];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  const kept = (status.conditions ?? []).filter((c) => c.type !== type);
  if (kept.length) status.conditions = kept;
  else delete status.conditions;
}

export function hasProgressDeadline(d: DeploymentObject): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== null && s !== 2147483647;
}

// ---- status -----------------------------------------------------------------

/** The Deployment controller's calculateStatus. */
export function calculateStatus(allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject | undefined, d: DeploymentObject, now: string): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = replicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    collisionCount: d.status?.collisionCount,
  };
  if (d.status?.conditions?.length) status.conditions = structuredClone(d.status.conditions);
  if (available >= desiredReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', reasons.minimumReplicasAvailable, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition('Available', 'False', reasons.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  }
  return status;
}

/** DeploymentComplete: every replica updated and available, and the latest generation observed. */
export function deploymentComplete(d: DeploymentObject, s: DeploymentStatus): boolean {
  const want = desiredReplicas(d);
  return (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: more updated, fewer old, more ready or more available than before. */
export function deploymentProgressing(d: DeploymentObject, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

export function deploymentTimedOut(d: DeploymentObject, s: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === reasons.newRSAvailable) return false;
  if (c.reason === reasons.timedOut) return true;
  return time(c.lastUpdateTime) + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

type RSCondition = NonNullable<NonNullable<ReplicaSetObject['status']>['conditions']>[number];
const toDeploymentCondition = (c: RSCondition): DeploymentCondition => ({
  type: c.type,
  status: c.status,
  lastUpdateTime: c.lastTransitionTime,
  lastTransitionTime: c.lastTransitionTime,
  reason: c.reason,
  message: c.message,
});

/** getReplicaFailures: the new ReplicaSet's ReplicaFailure conditions, else the old ones'. */
export function replicaFailures(allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject | undefined): DeploymentCondition[] {
  const failures = (rs: ReplicaSetObject | undefined) => (rs?.status?.conditions ?? []).filter((c) => c.type === 'ReplicaFailure').map(toDeploymentCondition);
  const fromNew = failures(newRS);
  if (fromNew.length) return fromNew;
  return allRSs.flatMap(failures);
}

/** syncRolloutStatus's computation: the status with Progressing judged against the current one. */
export function rolloutStatus(allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject | undefined, d: DeploymentObject, now: string, nowMs: number): DeploymentStatus {
  const s = calculateStatus(allRSs, newRS, d, now);
  if (!hasProgressDeadline(d)) removeCondition(s, 'Progressing');
  const current = getCondition(d.status, 'Progressing');
  const complete = s.replicas === s.updatedReplicas && current?.reason === reasons.newRSAvailable;
  if (hasProgressDeadline(d) && !complete) {
    const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
    if (deploymentComplete(d, s)) {
      setCondition(s, newCondition('Progressing', 'True', reasons.newRSAvailable, `${subject} has successfully progressed.`, now));
    } else if (deploymentProgressing(d, s)) {
      // Progress refreshes lastUpdateTime even with the same reason, hence remove then set.
      const cond = newCondition('Progressing', 'True', reasons.replicaSetUpdated, `${subject} is progressing.`, now);
      if (current) {
        if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(s, 'Progressing');
      }
      setCondition(s, cond);
    } else if (deploymentTimedOut(d, s, nowMs)) {
      setCondition(s, newCondition('Progressing', 'False', reasons.timedOut, `${subject} has timed out progressing.`, now));
    }
  }
  const failures = replicaFailures(allRSs, newRS);
  if (failures.length) setCondition(s, failures[0]);
  else removeCondition(s, 'ReplicaFailure');
  return s;
}

/**
 * requeueStuckDeployment: ms until the progress deadline should be checked
 * again, or undefined when there is nothing to check.
 */
export function progressCheckAfter(d: DeploymentObject, s: DeploymentStatus, nowMs: number): number | undefined {
  const current = getCondition(d.status, 'Progressing');
  if (!hasProgressDeadline(d) || !current) return undefined;
  if (deploymentComplete(d, s) || current.reason === reasons.timedOut) return undefined;
  const after = time(current.lastUpdateTime) + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  return after < 1000 ? 0 : after + 1000;
}

/** Status equality as reflect.DeepEqual sees the Go struct (zero ints and absent fields alike). */
export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus | undefined): boolean {
  return JSON.stringify(compactStatus(a ?? {})) === JSON.stringify(compactStatus(b ?? {}));
}

/** The status as Go serialises it: omitempty drops zero counts. */
export function compactStatus(s: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = {};
  const keys = ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'terminatingReplicas'] as const;
  for (const k of keys) if (s[k as keyof DeploymentStatus]) (out as Record<string, unknown>)[k] = s[k as keyof DeploymentStatus];
  if (s.conditions?.length) out.conditions = s.conditions.map((c) => ({ type: c.type, status: c.status, lastUpdateTime: c.lastUpdateTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message }));
  if (s.collisionCount !== undefined && s.collisionCount !== null) out.collisionCount = s.collisionCount;
  return out;
}

// ---- scaling ----------------------------------------------------------------

/** The scale of one ReplicaSet the controller should write (size unchanged still refreshes annotations). */
export interface ScaleStep {
  rs: ReplicaSetObject;
  replicas: number;
  /** 'up' / 'down' for the event; undefined means "work it out from the sizes". */
  operation?: 'up' | 'down';
  /** Write the desired/max-replicas annotations even when the size stays (proportional scaling). */
  refresh?: boolean;
}

/** IsSaturated: the new ReplicaSet has all the Deployment's replicas, all available. */
export function isSaturated(d: DeploymentObject, rs: ReplicaSetObject | undefined): boolean {
  if (!rs) return false;
  const desired = rs.metadata.annotations?.[desiredReplicasAnnotation];
  if (desired === undefined || !/^\d+$/.test(desired)) return false;
  const want = desiredReplicas(d);
  return rsReplicas(rs) === want && Number(desired) === want && (rs.status?.availableReplicas ?? 0) === want;
}

/** FindActiveOrLatest: the only active ReplicaSet, or the latest when none is active; undefined when several are. */
export function findActiveOrLatest(newRS: ReplicaSetObject | undefined, oldRSs: ReplicaSetObject[]): ReplicaSetObject | undefined {
  if (!newRS && !oldRSs.length) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = filterActive([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** isScalingEvent: an active ReplicaSet was sized for a different replica count than the Deployment has now. */
export function isScalingEvent(d: DeploymentObject, newRS: ReplicaSetObject | undefined, oldRSs: ReplicaSetObject[]): boolean {
  for (const rs of filterActive([...oldRSs, newRS])) {
    const v = rs.metadata.annotations?.[desiredReplicasAnnotation];
    if (v === undefined || !/^\d+$/.test(v)) continue;
    if (Number(v) !== desiredReplicas(d)) return true;
  }
  return false;
}

function replicaSetFraction(rs: ReplicaSetObject, d: DeploymentObject): number {
  if (desiredReplicas(d) === 0) return -rsReplicas(rs);
  const deploymentReplicas = desiredReplicas(d) + maxSurge(d);
  const annotated = rs.metadata.annotations?.[maxReplicasAnnotation];
  const annotatedReplicas = annotated !== undefined && /^\d+$/.test(annotated) ? Number(annotated) : (d.status?.replicas ?? 0);
  if (annotatedReplicas === 0) return 0;
  // integer.RoundToInt32 is math.Round: half away from zero (the value is never negative here).
  const size = Math.round((rsReplicas(rs) * deploymentReplicas) / annotatedReplicas);
  return size - rsReplicas(rs);
}

/** GetProportion: this ReplicaSet's share of a scaling of the whole Deployment. */
export function getProportion(rs: ReplicaSetObject | undefined, d: DeploymentObject, toAdd: number, added: number): number {
  if (!rs || rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * The controller's scale(): while a rollout is in flight, a change of
 * replicas is spread over the active ReplicaSets in proportion to their size.
 */
export function planScale(d: DeploymentObject, newRS: ReplicaSetObject | undefined, oldRSs: ReplicaSetObject[]): ScaleStep[] {
  const want = desiredReplicas(d);
  const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
  if (activeOrLatest) {
    return rsReplicas(activeOrLatest) === want ? [] : [{ rs: activeOrLatest, replicas: want }];
  }
  if (isSaturated(d, newRS)) {
    return filterActive(oldRSs).map((rs) => ({ rs, replicas: 0 }));
  }
  if (!isRollingUpdate(d)) return [];
  let all = filterActive([...oldRSs, newRS]);
  const allowed = want > 0 ? want + maxSurge(d) : 0;
  const toAdd = allowed - replicaCount(all);
  let operation: 'up' | 'down' | undefined;
  if (toAdd > 0) {
    all = [...all].sort(bySizeNewer);
    operation = 'up';
  } else if (toAdd < 0) {
    all = [...all].sort(bySizeOlder);
    operation = 'down';
  }
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of all) {
    if (toAdd !== 0) {
      const p = getProportion(rs, d, toAdd, added);
      sizes.set(rs.metadata.name!, rsReplicas(rs) + p);
      added += p;
    } else sizes.set(rs.metadata.name!, rsReplicas(rs));
  }
  return all.map((rs, i) => {
    let size = sizes.get(rs.metadata.name!)!;
    // Leftovers go to the largest ReplicaSet.
    if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
    return { rs, replicas: size, operation, refresh: true };
  });
}

/** reconcileNewReplicaSet: the new ReplicaSet's next size in a rolling update (undefined: leave it). */
export function planNewReplicaSet(allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject, d: DeploymentObject): number | undefined {
  const want = desiredReplicas(d);
  if (rsReplicas(newRS) === want) return undefined;
  if (rsReplicas(newRS) > want) return want;
  const next = newRSNewReplicas(d, allRSs, newRS);
  return next === rsReplicas(newRS) ? undefined : next;
}

/**
 * reconcileOldReplicaSets: how far the old ReplicaSets may shrink without
 * going below replicas − maxUnavailable available. Unhealthy old replicas go
 * first (cleanupUnhealthyReplicas), then available ones, oldest ReplicaSet first.
 */
export function planOldReplicaSets(allRSs: (ReplicaSetObject | undefined)[], oldRSs: ReplicaSetObject[], newRS: ReplicaSetObject | undefined, d: DeploymentObject): ScaleStep[] {
  const oldPods = replicaCount(oldRSs);
  if (oldPods === 0) return [];
  const allPods = replicaCount(allRSs);
  const minAvailable = desiredReplicas(d) - maxUnavailable(d);
  const newUnavailable = rsReplicas(newRS) - (newRS?.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];

  // Work on copies so the second pass sees the first pass's sizes, as upstream's re-read objects.
  const olds = oldRSs.map((rs) => ({ ...rs, spec: { ...rs.spec!, replicas: rsReplicas(rs) } }) as ReplicaSetObject).sort(byCreationTimestamp);
  const steps = new Map<string, ScaleStep>();
  let cleaned = 0;
  for (const rs of olds) {
    if (cleaned >= maxScaledDown) break;
    const size = rsReplicas(rs);
    const availableHere = rs.status?.availableReplicas ?? 0;
    if (size === 0 || size === availableHere) continue;
    const down = Math.min(maxScaledDown - cleaned, size - availableHere);
    // A status counting more available pods than the spec asks for is stale: wait for the next one.
    if (down < 0) throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${size} -> ${size - down}`);
    rs.spec!.replicas = size - down;
    steps.set(rs.metadata.uid!, { rs, replicas: size - down });
    cleaned += down;
  }

  const available = availableReplicaCount([...olds, newRS]);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let scaled = 0;
    for (const rs of olds) {
      if (scaled >= total) break;
      const size = rsReplicas(rs);
      if (size === 0) continue;
      const down = Math.min(size, total - scaled);
      rs.spec!.replicas = size - down;
      steps.set(rs.metadata.uid!, { rs, replicas: size - down });
      scaled += down;
    }
  }
  const original = new Map(oldRSs.map((rs) => [rs.metadata.uid!, rs]));
  return [...steps.values()].map((s) => ({ rs: original.get(s.rs.metadata.uid!)!, replicas: s.replicas }));
}

/** cleanupDeployment: old ReplicaSets beyond revisionHistoryLimit that are fully scaled down, oldest revision first. */
export function replicaSetsToCleanUp(oldRSs: ReplicaSetObject[], d: DeploymentObject): ReplicaSetObject[] {
  const limit = d.spec?.revisionHistoryLimit;
  if (limit === undefined || limit === null) return [];
  const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  return [...alive]
    .sort(byRevision)
    .slice(0, diff)
    .filter((rs) => !(rs.status?.replicas ?? 0) && rsReplicas(rs) === 0 && (rs.metadata.generation ?? 0) <= (rs.status?.observedGeneration ?? 0));
}
