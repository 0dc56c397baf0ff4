// One sync of a Job, decided from the Job and its pods alone (syncJob,
// manageJob and trackJobStatusAndRemoveFinalizers of pkg/controller/job):
//
// - Finished pods that still carry the job-tracking finalizer are recorded in
//   status.uncountedTerminatedPods (an Indexed Job's successes straight in
//   completedIndexes), their finalizers come off, and only then are they
//   moved into the succeeded/failed counters, so a pod is never counted twice
//   or lost. A pod deleted before it finished counts as failed.
// - More failures than backoffLimit (or, under OnFailure, as many container
//   restarts), or running past activeDeadlineSeconds, sets FailureTarget
//   (BackoffLimitExceeded / DeadlineExceeded); enough successes set
//   SuccessCriteriaMet (CompletionsReached). Either way the remaining pods are
//   deleted, and once no pod is left terminating and nothing is uncounted the
//   terminal Failed or Complete condition follows with the same reason.
// - Otherwise pods are created up to min(parallelism, completions left),
//   Indexed Jobs taking the lowest free indexes, new pods waiting out the
//   failure back-off; a suspended Job deletes its pods and loses its startTime.
import { jobTrackingFinalizer } from '../../registry/jobs/labels.js';
import { isPodReady, isPodTerminal } from '../workloads/pods.js';
import type { PodObject } from '../workloads/types.js';
import { backoffRecord, remainingBackoffMs } from './backoff.js';
import { completionIndexOf, firstPendingIndexes, formatIndexes, parseIndexes } from './indexes.js';
import type { JobCondition, JobObject, JobStatus } from './types.js';

/** MaxPodCreateDeletePerSync. */
const maxPodCreateDeletePerSync = 500;

export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface JobPlan {
  /** Status with the newly finished pods recorded as uncounted, written before any finalizer comes off (undefined: nothing new). */
  uncountedStatus?: JobStatus;
  /** Pods whose job-tracking finalizer comes off now. */
  releaseFinalizers: PodObject[];
  /** Active pods to delete (suspension, a finished Job, too many running). */
  deletePods: PodObject[];
  /** How many pods to create; for an Indexed Job, which indexes. */
  createCount: number;
  createIndexes?: number[];
  /** The status once the finalizers are off and the pods created or deleted. */
  status: JobStatus;
  events: JobEvent[];
  /** Look again after this long (back-off, activeDeadlineSeconds). */
  requeueAfterMs?: number;
}

export interface JobPlanInput {
  job: JobObject;
  pods: PodObject[];
  now: number;
  /** Pods whose finalizer removal was asked for and not yet seen in the cache. */
  pendingFinalizerRemovals: Set<string>;
  /** No pod creations or deletions are outstanding (manageJob is skipped otherwise). */
  expectationsSatisfied: boolean;
}

const hasFinalizer = (pod: PodObject) => pod.metadata.finalizers?.includes(jobTrackingFinalizer) ?? false;
const isActive = (pod: PodObject) => !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
const isTerminating = (pod: PodObject) => !isPodTerminal(pod) && !!pod.metadata.deletionTimestamp;
/** isPodFailed: Failed, or deleted before it succeeded (an orphan never gets to Failed). */
const consideredFailed = (pod: PodObject) => pod.status?.phase === 'Failed' || (!!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded');

export const findCondition = (status: JobStatus | undefined, type: string) => status?.conditions?.find((c) => c.type === type);
export const conditionTrue = (status: JobStatus | undefined, type: string) => findCondition(status, type)?.status === 'True';
export const isJobFinished = (job: JobObject) => conditionTrue(job.status, 'Complete') || conditionTrue(job.status, 'Failed');

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string, now: number): JobCondition {
  const t = rfc3339(now);
  return { type, status, reason, message, lastProbeTime: t, lastTransitionTime: t };
}

/** ensureJobConditionStatus: add a True condition, or update one whose status changes; a new False one is not added. */
function ensureCondition(conditions: JobCondition[], next: JobCondition): JobCondition[] {
  const i = conditions.findIndex((c) => c.type === next.type);
  if (i < 0) return next.status === 'True' ? [...conditions, next] : conditions;
  const cur = conditions[i]!;
  if (cur.status === next.status && cur.reason === next.reason && cur.message === next.message) return conditions;
  const copy = [...conditions];
  copy[i] = { ...next, lastTransitionTime: cur.status === next.status ? cur.lastTransitionTime : next.lastTransitionTime };
  return copy;
}

/** pastBackoffLimitOnFailure: under OnFailure the containers' restarts count against the limit. */
function pastBackoffLimitOnFailure(job: JobObject, active: PodObject[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const pod of active) for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** activePodsForRemoval: not-yet-running pods first, then the youngest. */
function podsForRemoval(active: PodObject[], count: number): PodObject[] {
  const rank = (p: PodObject) => (p.spec?.nodeName ? 1 : 0) + (p.status?.phase === 'Running' ? 1 : 0) + (isPodReady(p) ? 1 : 0);
  return [...active]
    .sort((a, b) => rank(a) - rank(b) || Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? ''))
    .slice(0, count);
}

export function planJob({ job, pods, now, pendingFinalizerRemovals, expectationsSatisfied }: JobPlanInput): JobPlan {
  const spec = job.spec!;
  const old = job.status ?? {};
  const indexed = spec.completionMode === 'Indexed';
  const completions = spec.completions;
  const events: JobEvent[] = [];
  const plan: JobPlan = { releaseFinalizers: [], deletePods: [], createCount: 0, status: {}, events };

  // ---- the interim condition a previous sync set, carried to its terminal form
  let interim: JobCondition | undefined = [findCondition(old, 'FailureTarget'), findCondition(old, 'SuccessCriteriaMet')].find((c) => c?.status === 'True');

  // ---- finished pods: recorded as uncounted, their finalizers released
  const uncountedSucceeded = new Set(old.uncountedTerminatedPods?.succeeded ?? []);
  const uncountedFailed = new Set(old.uncountedTerminatedPods?.failed ?? []);
  const completed = indexed ? parseIndexes(old.completedIndexes, completions ?? 0) : new Set<number>();
  const completedBefore = completed.size;
  let flush = false;
  for (const pod of pods) {
    const uid = pod.metadata.uid!;
    if (!hasFinalizer(pod) || pendingFinalizerRemovals.has(uid)) continue;
    const failed = consideredFailed(pod);
    if (!(pod.metadata.deletionTimestamp || interim || isPodTerminal(pod))) continue;
    plan.releaseFinalizers.push(pod);
    const ix = completionIndexOf(pod);
    const validIndex = !indexed || (ix !== undefined && ix < (completions ?? 0));
    if (pod.status?.phase === 'Succeeded') {
      if (indexed) {
        if (validIndex && !completed.has(ix!)) {
          completed.add(ix!);
          flush = true;
        }
      } else if (!uncountedSucceeded.has(uid)) {
        uncountedSucceeded.add(uid);
        flush = true;
      }
    } else if ((failed || interim?.type === 'SuccessCriteriaMet') && validIndex && !uncountedFailed.has(uid)) {
      // Once the Job succeeded, the pods still running count as failed.
      uncountedFailed.add(uid);
      flush = true;
    }
  }
  const completedIndexes = indexed ? formatIndexes(completed) : undefined;
  const succeeded = indexed ? completed.size : (old.succeeded ?? 0) + uncountedSucceeded.size;
  const failed = (old.failed ?? 0) + uncountedFailed.size;

  const active = pods.filter(isActive);
  let terminating = pods.filter(isTerminating).length;

  let conditions = [...(old.conditions ?? [])];
  let startTime = old.startTime;
  const suspended = spec.suspend === true;

  // ---- failure and success criteria
  if (!interim) {
    const deadline = spec.activeDeadlineSeconds;
    const pastDeadline = deadline != null && startTime != null && !suspended && now - Date.parse(startTime) >= deadline * 1000;
    if (failed > (spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, active)) {
      interim = condition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
    } else if (pastDeadline) {
      interim = condition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
    } else {
      const done = indexed ? succeeded >= (completions ?? 0) : completions != null ? succeeded >= completions : succeeded > 0 && active.length === 0;
      if (done) interim = condition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    }
    if (interim) conditions = ensureCondition(conditions, interim);
  }

  let activeCount = active.length;
  if (interim) {
    // A finishing Job's pods all go.
    plan.deletePods = active;
    activeCount = 0;
    terminating += active.length;
  } else if (suspended) {
    if (expectationsSatisfied) plan.deletePods = active;
    activeCount -= plan.deletePods.length;
    terminating += plan.deletePods.length;
    if (!conditionTrue(old, 'Suspended')) {
      conditions = ensureCondition(conditions, condition('Suspended', 'True', 'JobSuspended', 'Job suspended', now));
      events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
    }
    // The activeDeadlineSeconds timer starts again on resume.
    startTime = undefined;
  } else {
    if (findCondition(old, 'Suspended')?.status === 'True') {
      conditions = ensureCondition(conditions, condition('Suspended', 'False', 'JobResumed', 'Job resumed', now));
      events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
    }
    startTime ??= rfc3339(now);
    if (expectationsSatisfied) {
      const parallelism = spec.parallelism ?? 1;
      let wantActive: number;
      if (completions == null) wantActive = succeeded > 0 ? active.length : parallelism;
      else wantActive = Math.max(0, Math.min(completions - succeeded, parallelism));
      const excess = Math.max(0, active.length - wantActive);
      plan.deletePods = podsForRemoval(active, Math.min(excess, maxPodCreateDeletePerSync));
      activeCount -= plan.deletePods.length;
      terminating += plan.deletePods.length;
      // TerminatingOrFailed replaces a pod as soon as it is terminating; Failed waits until it is gone.
      const waiting = spec.podReplacementPolicy === 'Failed' ? pods.filter(isTerminating).length : 0;
      let diff = wantActive - waiting - active.length;
      if (diff > 0) {
        const wait = remainingBackoffMs(backoffRecord(pods, now), now);
        if (wait > 0) plan.requeueAfterMs = wait;
        else {
          diff = Math.min(diff, maxPodCreateDeletePerSync);
          if (indexed) {
            plan.createIndexes = firstPendingIndexes(completed, active, diff, completions ?? 0);
            diff = plan.createIndexes.length;
          }
          plan.createCount = diff;
          activeCount += diff;
        }
      }
    }
    if (spec.activeDeadlineSeconds != null && startTime) {
      const left = Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 - now;
      plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(left, 0) + 10);
    }
  }

  // ---- the status before the finalizers come off: what finished is recorded, not yet counted
  const base: JobStatus = { ...old, conditions: conditions.length ? conditions : undefined };
  if (flush || completed.size !== completedBefore) {
    plan.uncountedStatus = {
      ...base,
      uncountedTerminatedPods: { succeeded: [...uncountedSucceeded], failed: [...uncountedFailed] },
      ...(indexed ? { completedIndexes, succeeded } : {}),
    };
  }

  // ---- after the finalizers are off every uncounted pod is counted
  const status: JobStatus = {
    ...base,
    startTime,
    active: activeCount,
    // Pods being deleted are no longer active, ready or not.
    ready: active.filter((p) => isPodReady(p) && !plan.deletePods.includes(p)).length,
    terminating,
    succeeded,
    failed,
    uncountedTerminatedPods: {},
  };
  if (indexed) status.completedIndexes = completedIndexes;
  if (!startTime) delete status.startTime;

  // enactJobFinished: the terminal condition once nothing is uncounted and no pod is terminating.
  if (interim && terminating === 0) {
    const terminal = interim.type === 'FailureTarget' ? 'Failed' : 'Complete';
    if (!conditionTrue(old, terminal)) {
      status.conditions = ensureCondition(status.conditions ?? [], condition(terminal, 'True', interim.reason ?? '', interim.message ?? '', now));
      if (terminal === 'Complete') {
        status.completionTime = rfc3339(now);
        events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
      } else events.push({ type: 'Warning', reason: interim.reason ?? '', message: interim.message ?? '' });
    }
  }
  plan.status = status;
  return plan;
}
