// The TTL-after-finished controller (pkg/controller/ttlafterfinished): a
// finished Job (Complete or Failed) with spec.ttlSecondsAfterFinished is
// deleted that many seconds after it finished, its pods with it (foreground
// propagation, as upstream deletes). The finish time is the terminal
// condition's lastTransitionTime; before deleting, the Job is read fresh from
// the server in case its TTL was changed meanwhile.
import { isNotFound, resourceTypes } from '../../client/client.js';
import { keyOf, splitKey, type Informer } from '../../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';
import type { JobObject } from './types.js';

/** When the Job finished (ms), or undefined while it runs. */
export function jobFinishTime(job: JobObject): number | undefined {
  const c = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : undefined;
}

/** How long until the Job expires: undefined when it never will (no TTL, not finished, being deleted); <= 0 when due. */
export function timeLeft(job: JobObject, now: number): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl == null || job.metadata.deletionTimestamp) return undefined;
  const finished = jobFinishTime(job);
  return finished === undefined ? undefined : finished + ttl * 1000 - now;
}

export function createTTLAfterFinishedController(ctx: ControllerContext, opts: { now?: () => number } = {}): Controller {
  const now = opts.now ?? Date.now;
  const jobs = ctx.client.resource<JobObject>(resourceTypes.jobs);
  const { queue, log } = queueFor('ttl-after-finished', reconcile, 1);
  let informer: Informer<JobObject>;

  const enqueue = (job: JobObject) => {
    if (timeLeft(job, now()) !== undefined) queue.add(keyOf(job));
  };

  async function reconcile(key: string): Promise<void> {
    const cached = informer.get(key);
    if (!cached) return;
    const left = timeLeft(cached, now());
    if (left === undefined) return;
    if (left > 0) {
      queue.addAfter(key, left);
      return;
    }
    // The cache may be stale: the TTL could have been changed.
    const { namespace, name } = splitKey(key);
    let fresh: JobObject;
    try {
      fresh = await jobs.get(namespace, name);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const freshLeft = timeLeft(fresh, now());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) {
      queue.addAfter(key, freshLeft);
      return;
    }
    log.info('deleting expired job', { job: key });
    try {
      await jobs.delete(namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid, resourceVersion: fresh.metadata.resourceVersion } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  return {
    name: 'ttl-after-finished',
    setup() {
      informer = ctx.factory.informer<JobObject>(resourceTypes.jobs);
      informer.on({ add: enqueue, update: (_old, cur) => enqueue(cur) });
    },
    run() {
      for (const job of informer.list()) enqueue(job);
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
