// The Job controller (pkg/controller/job): runs a Job's pods to completion.
// Decisions are in plan.ts; this file does the I/O of one sync in upstream's
// order — record finished pods as uncounted, release their job-tracking
// finalizers, delete and create pods (SuccessfulCreate "Created pod: x",
// SuccessfulDelete "Deleted pod: x"), write the status with the pods counted,
// and record the Job's events (Completed "Job completed", BackoffLimitExceeded,
// DeadlineExceeded, Suspended, Resumed).
//
// Pod creations are tracked with expectations as the ReplicaSet controller
// does; finalizer removals asked for and not yet seen are remembered per Job,
// so a stale cache never counts a pod twice. A pod that still carries the
// finalizer while its Job is gone or finished has it removed (the orphan
// path), so deleting a Job never leaves its pods stuck.
import { fromLabelSelector } from '../../api/selectors.js';
import { isAlreadyExists, isConflict, isNotFound, resourceTypes } from '../../client/client.js';
import { keyOf, type Informer } from '../../client/informer.js';
import { jobTrackingFinalizer } from '../../registry/jobs/labels.js';
import { errorMessage } from '../../util/errors.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';
import { getControllerOf, resolveControllerRef } from '../workloads/controller-ref.js';
import { createExpectations } from '../workloads/expectations.js';
import { podFromTemplate } from '../workloads/pods.js';
import { addWorkloadIndexes, claim, controllerUidIndex, namespaceIndex, selectingOwners, slowStartBatch } from '../workloads/shell.js';
import type { PodObject } from '../workloads/types.js';
import { stampCompletionIndex } from './indexes.js';
import { isJobFinished, planJob, type JobPlan } from './plan.js';
import { compactJobStatus, sameJobStatus } from './status.js';
import { jobGVK, type JobObject, type JobStatus } from './types.js';

const workers = 2;
const orphanPrefix = 'orphan-pod/';

export interface JobControllerOptions {
  /** The controller's clock (tests move it); Date.now by default. */
  now?: () => number;
}

export function createJobController(ctx: ControllerContext, opts: JobControllerOptions = {}): Controller {
  const now = opts.now ?? Date.now;
  const jobClient = ctx.client.resource<JobObject>(resourceTypes.jobs);
  const podClient = ctx.client.resource<PodObject>(resourceTypes.pods);
  const { queue, log } = queueFor('job', reconcile, workers);
  const expectations = createExpectations(now);
  /** Per Job key: uids of pods whose finalizer removal is in flight or not yet observed. */
  const finalizerRemovals = new Map<string, Set<string>>();
  let jobInformer: Informer<JobObject>;
  let podInformer: Informer<PodObject>;

  const enqueue = (job: JobObject) => queue.add(keyOf(job));
  const ownerOf = (pod: PodObject) => resolveControllerRef(getControllerOf(pod), 'Job', pod.metadata.namespace, (k) => jobInformer.get(k));
  const hasFinalizer = (pod: PodObject) => pod.metadata.finalizers?.includes(jobTrackingFinalizer) ?? false;
  const pendingFor = (key: string) => finalizerRemovals.get(key) ?? new Set<string>();

  function observeFinalizer(pod: PodObject, gone: boolean) {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'Job') return;
    const key = `${pod.metadata.namespace}/${ref.name}`;
    if (gone || !hasFinalizer(pod)) finalizerRemovals.get(key)?.delete(pod.metadata.uid!);
  }

  /** A pod holding the finalizer without a live, unfinished Job to count it. */
  function checkOrphan(pod: PodObject) {
    if (!hasFinalizer(pod)) return;
    const job = ownerOf(pod);
    if (!job || isJobFinished(job)) queue.add(orphanPrefix + keyOf(pod));
  }

  function onPodAdded(pod: PodObject) {
    const job = ownerOf(pod);
    if (job) {
      expectations.creationObserved(keyOf(job));
      enqueue(job);
    } else if (!getControllerOf(pod)) for (const j of selectingOwners(jobInformer.byIndex(namespaceIndex, pod.metadata.namespace ?? ''), pod.metadata.labels, selectorOf)) enqueue(j);
    checkOrphan(pod);
  }

  function onPodUpdated(_old: PodObject, pod: PodObject) {
    observeFinalizer(pod, false);
    const job = ownerOf(pod);
    if (job) enqueue(job);
    checkOrphan(pod);
  }

  function onPodDeleted(pod: PodObject) {
    observeFinalizer(pod, true);
    const job = ownerOf(pod);
    if (job) enqueue(job);
  }

  const selectorOf = (job: JobObject) => fromLabelSelector(job.spec?.selector);

  /** Removes the job-tracking finalizer with a JSON patch that checks it is still where it was. */
  async function releaseFinalizer(pod: PodObject): Promise<void> {
    const i = pod.metadata.finalizers?.indexOf(jobTrackingFinalizer) ?? -1;
    if (i < 0) return;
    const at = `/metadata/finalizers/${i}`;
    try {
      await podClient.patch(pod.metadata.namespace, pod.metadata.name!, [{ op: 'test', path: at, value: jobTrackingFinalizer }, { op: 'remove', path: at }], 'json');
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async function syncOrphanPod(podKey: string): Promise<void> {
    const pod = podInformer.get(podKey);
    if (!pod || !hasFinalizer(pod)) return;
    const job = ownerOf(pod);
    if (job && !isJobFinished(job)) return;
    await releaseFinalizer(pod);
  }

  async function writeStatus(job: JobObject, status: JobStatus): Promise<JobObject> {
    if (sameJobStatus(job.status, status)) return job;
    return jobClient.updateStatus({ ...job, status: compactJobStatus(status) });
  }

  function newPod(job: JobObject, index: number | undefined): PodObject {
    const pod = podFromTemplate(job.spec?.template, job, jobGVK);
    pod.metadata.finalizers = [...(pod.metadata.finalizers ?? []), jobTrackingFinalizer];
    if (index !== undefined) stampCompletionIndex(pod, job.metadata.name!, index);
    return pod;
  }

  /** Deletions and creations; returns how many creations failed (they are not active). */
  async function managePods(job: JobObject, key: string, plan: JobPlan): Promise<{ failedCreates: number; error?: unknown }> {
    const deletions = await Promise.allSettled(
      plan.deletePods.map(async (pod) => {
        try {
          await podClient.delete(pod.metadata.namespace, pod.metadata.name!);
          ctx.events.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (e) {
          if (isNotFound(e)) return;
          ctx.events.event(job, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
          throw e;
        }
      }),
    );
    const error: unknown = deletions.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    const n = plan.createCount;
    if (n === 0) return { failedCreates: 0, error };
    // Expect before creating: the informer may see the pods before create() returns.
    expectations.expect(key, n, []);
    const { successes, error: createError } = await slowStartBatch(n, 1, async (i) => {
      try {
        const created = await podClient.create(job.metadata.namespace, newPod(job, plan.createIndexes?.[i]));
        ctx.events.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      } catch (e) {
        ctx.events.event(job, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
        throw e;
      }
    });
    for (let i = successes; i < n; i++) expectations.creationObserved(key);
    return { failedCreates: n - successes, error: error ?? createError };
  }

  async function syncJob(key: string): Promise<void> {
    if (key.startsWith(orphanPrefix)) return syncOrphanPod(key.slice(orphanPrefix.length));
    let job = jobInformer.get(key);
    if (!job) {
      expectations.delete(key);
      finalizerRemovals.delete(key);
      return;
    }
    const candidates = podInformer.byIndex(namespaceIndex, job.metadata.namespace ?? '');
    const fetchJob = () => jobClient.get(job!.metadata.namespace, job!.metadata.name!);
    const pods = await claim(job, jobGVK, selectorOf(job), candidates, podClient, fetchJob);
    if (isJobFinished(job)) {
      // Whatever still holds the finalizer was counted or is no longer wanted.
      await Promise.all(pods.filter(hasFinalizer).map(releaseFinalizer));
      return;
    }
    const pending = pendingFor(key);
    const plan = planJob({ job, pods, now: now(), pendingFinalizerRemovals: pending, expectationsSatisfied: expectations.satisfied(key) });

    // 1. Finished pods are recorded before their finalizers come off.
    if (plan.uncountedStatus) job = await writeStatus(job, plan.uncountedStatus);
    // 2. The finalizers come off.
    if (plan.releaseFinalizers.length) {
      finalizerRemovals.set(key, pending);
      const results = await Promise.allSettled(
        plan.releaseFinalizers.map(async (pod) => {
          pending.add(pod.metadata.uid!);
          try {
            await releaseFinalizer(pod);
          } catch (e) {
            pending.delete(pod.metadata.uid!);
            throw e;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      // The uncounted pods stay recorded; the next sync finishes the job.
      if (failed) throw failed.reason;
    }
    // 3. Pods go and come.
    const { failedCreates, error } = await managePods(job, key, plan);
    // 4. The counted status, then the Job's own events.
    const status = { ...plan.status, active: (plan.status.active ?? 0) - failedCreates };
    await writeStatus(job, status);
    for (const e of plan.events) ctx.events.event(job, e.type, e.reason, e.message);
    if (error) throw error;
    if (plan.requeueAfterMs !== undefined && Number.isFinite(plan.requeueAfterMs)) queue.addAfter(key, plan.requeueAfterMs);
  }

  /** A conflict means the informer is about to deliver a newer object, which enqueues the key again. */
  async function reconcile(key: string): Promise<void> {
    try {
      await syncJob(key);
    } catch (e) {
      if (isConflict(e) && !isAlreadyExists(e)) {
        queue.addAfter(key, 100);
        return;
      }
      throw e;
    }
  }

  return {
    name: 'job',
    setup() {
      jobInformer = ctx.factory.informer<JobObject>(resourceTypes.jobs);
      podInformer = ctx.factory.informer<PodObject>(resourceTypes.pods);
      addWorkloadIndexes(jobInformer);
      addWorkloadIndexes(podInformer);
      jobInformer.on({
        add: enqueue,
        update: (_old, cur) => enqueue(cur),
        delete: (job) => {
          enqueue(job);
          // Its pods that still hold the finalizer are orphans now.
          for (const pod of podInformer.byIndex(controllerUidIndex, job.metadata.uid!)) if (hasFinalizer(pod)) queue.add(orphanPrefix + keyOf(pod));
        },
      });
      podInformer.on({ add: onPodAdded, update: onPodUpdated, delete: onPodDeleted });
    },
    run() {
      for (const job of jobInformer.list()) enqueue(job);
      for (const pod of podInformer.list()) checkOrphan(pod);
      log.info('started', { jobs: jobInformer.list().length });
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
