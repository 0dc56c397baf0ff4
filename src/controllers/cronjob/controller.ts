// The CronJob controller (pkg/controller/cronjob, the v2 controller): for
// each CronJob, trim finished Jobs beyond the history limits, reconcile
// status.active with the Jobs it controls (SawCompletedJob, UnexpectedJob,
// MissingJob, lastSuccessfulTime), then start the most recent unmet schedule
// time's Job unless suspended, too late (startingDeadlineSeconds:
// MissSchedule), already done or forbidden by the concurrency policy
// (JobAlreadyActive; Replace deletes the running ones first). The Job's name
// is deterministic per schedule time, so a second create is AlreadyExists and
// adopted into the active list when it is ours. The CronJob is requeued for
// its next schedule time with a timer; time decisions are in schedule.ts, and
// the clock is injectable for tests.
import { isAlreadyExists, isNotFound, resourceTypes, ApiError } from '../../client/client.js';
import { keyOf, type Informer } from '../../client/informer.js';
import { isLoadableTimeZone } from '../../util/cron-time-zone.js';
import type { CronSchedule } from '../../util/cron.js';
import { errorMessage } from '../../util/errors.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';
import type { JobObject } from '../job/types.js';
import { getControllerOf, resolveControllerRef } from '../workloads/controller-ref.js';
import { addWorkloadIndexes, namespaceIndex } from '../workloads/shell.js';
import { finishedCondition, jobFromTemplate, jobName, jobsToTrim, metaTime, nextScheduleDelay, nextScheduleTime, parseSchedule, usesScheduleTimeZonePrefix } from './schedule.js';
import type { CronJobObject, ObjectReference } from './types.js';

const workers = 2;
const maxTimerMs = 2 ** 31 - 1;

export interface CronJobControllerOptions {
  /** The controller's clock (tests move it); Date.now by default. */
  now?: () => number;
}

interface SyncResult {
  requeueAfterMs?: number;
  updateStatus: boolean;
  error?: unknown;
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** Go's time.RFC1123Z of an instant in UTC ("Mon, 02 Jan 2006 15:04:05 +0000"), as the MissSchedule event writes it. */
export function formatRFC1123Z(instant: number): string {
  const d = new Date(instant);
  return `${days[d.getUTCDay()]}, ${two(d.getUTCDate())} ${monthNames[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

const jobRef = (job: JobObject): ObjectReference => ({
  kind: 'Job',
  namespace: job.metadata.namespace,
  name: job.metadata.name,
  uid: job.metadata.uid,
  apiVersion: 'batch/v1',
  resourceVersion: job.metadata.resourceVersion,
});

const inActiveList = (cj: CronJobObject, uid: string | undefined) => (cj.status?.active ?? []).some((r) => r.uid === uid);
const inActiveListByName = (cj: CronJobObject, namespace: string | undefined, name: string) => (cj.status?.active ?? []).some((r) => r.name === name && r.namespace === namespace);
function deleteFromActiveList(cj: CronJobObject, uid: string | undefined) {
  cj.status = { ...cj.status, active: (cj.status?.active ?? []).filter((r) => r.uid !== uid) };
}

const namespaceTerminating = (e: unknown) => e instanceof ApiError && (e.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');

export function createCronJobController(ctx: ControllerContext, opts: CronJobControllerOptions = {}): Controller {
  const now = opts.now ?? Date.now;
  const cronJobClient = ctx.client.resource<CronJobObject>(resourceTypes.cronjobs);
  const jobClient = ctx.client.resource<JobObject>(resourceTypes.jobs);
  const { queue, log } = queueFor('cronjob', reconcile, workers);
  /** Per key: the pending requeue, earliest wins (a delaying queue's AddAfter). */
  const timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  let stopped = false;
  let cronJobInformer: Informer<CronJobObject>;
  let jobInformer: Informer<JobObject>;

  const event = ctx.events.event.bind(ctx.events);
  const enqueue = (cj: CronJobObject) => queue.add(keyOf(cj));

  function enqueueAfter(key: string, requestedMs: number) {
    if (stopped) return;
    // setTimeout holds at most 2^31-1 ms (~24.8 days); a later time is looked at again then.
    const delayMs = Math.min(requestedMs, maxTimerMs);
    if (delayMs <= 0) return queue.add(key);
    const at = Date.now() + delayMs;
    const pending = timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      timers.delete(key);
      queue.add(key);
    }, delayMs);
    timer.unref?.();
    timers.set(key, { at, timer });
  }

  const ownerOf = (job: JobObject) => resolveControllerRef(getControllerOf(job), 'CronJob', job.metadata.namespace, (k) => cronJobInformer.get(k));

  function onJobAdded(job: JobObject) {
    const cj = ownerOf(job);
    if (cj) enqueue(cj);
  }

  function onJobUpdated(old: JobObject, cur: JobObject) {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const oldRef = getControllerOf(old);
    const curRef = getControllerOf(cur);
    if (oldRef && JSON.stringify(oldRef) !== JSON.stringify(curRef)) {
      const previous = ownerOf(old);
      if (previous) enqueue(previous);
    }
    onJobAdded(cur);
  }

  function onCronJobUpdated(old: CronJobObject, cur: CronJobObject) {
    if (old.spec?.schedule !== cur.spec?.schedule || (old.spec?.timeZone ?? undefined) !== (cur.spec?.timeZone ?? undefined)) {
      let sched: CronSchedule;
      try {
        sched = parseSchedule(cur);
      } catch {
        event(cur, 'Warning', 'UnParseableCronJobSchedule', `unparseable schedule for cronjob: ${cur.spec?.schedule}`);
        return;
      }
      const delay = nextScheduleDelay(cur, now(), sched);
      if (delay !== undefined) enqueueAfter(keyOf(cur), delay);
      return;
    }
    enqueue(cur);
  }

  /** The Jobs whose controller reference names the CronJob (getJobsToBeReconciled). */
  const jobsOf = (cj: CronJobObject) => jobInformer.byIndex(namespaceIndex, cj.metadata.namespace ?? '').filter((j) => getControllerOf(j)?.name === cj.metadata.name);

  /** Deletes a Job in the background and drops it from the active list; false (with FailedDelete) when the delete failed. */
  async function deleteJob(cj: CronJobObject, job: JobObject): Promise<boolean> {
    try {
      await jobClient.delete(job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Background' });
    } catch (e) {
      event(cj, 'Warning', 'FailedDelete', `Deleted job: ${errorMessage(e)}`);
      log.warn('error deleting job from cronjob', { job: keyOf(job), cronjob: keyOf(cj), error: errorMessage(e) });
      return false;
    }
    deleteFromActiveList(cj, job.metadata.uid);
    event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }

  async function cleanupFinishedJobs(cj: CronJobObject, jobs: JobObject[]): Promise<boolean> {
    let update = false;
    for (const job of jobsToTrim(cj, jobs)) if (await deleteJob(cj, job)) update = true;
    return update;
  }

  async function syncCronJob(holder: { cj: CronJobObject }, jobs: JobObject[]): Promise<SyncResult> {
    const at = now();
    let cj = holder.cj;
    let updateStatus = false;
    const children = new Set<string>();
    for (const j of jobs) {
      children.add(j.metadata.uid!);
      const found = inActiveList(cj, j.metadata.uid);
      const finished = finishedCondition(j);
      if (!found && !finished) {
        let fresh: CronJobObject;
        try {
          fresh = await cronJobClient.get(cj.metadata.namespace, cj.metadata.name!);
        } catch (e) {
          return { updateStatus, error: e };
        }
        if (inActiveList(fresh, j.metadata.uid)) {
          cj = holder.cj = fresh;
          continue;
        }
        // Ours but not in the active list: a crash between create and status update, a stale list, or made by someone else.
        event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (finished) {
        if (found) {
          deleteFromActiveList(cj, j.metadata.uid);
          event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished}`);
          updateStatus = true;
        }
        const completion = j.status?.completionTime;
        if (finished === 'Complete') {
          const last = cj.status?.lastSuccessfulTime;
          if (completion && (!last || Date.parse(completion) > Date.parse(last))) {
            cj.status = { ...cj.status, lastSuccessfulTime: completion };
            updateStatus = true;
          }
        }
      }
    }

    // An active reference whose Job is gone would keep the CronJob "active" forever.
    for (const ref of [...(cj.status?.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await jobClient.get(ref.namespace, ref.name!);
      } catch (e) {
        if (!isNotFound(e)) return { updateStatus, error: e };
        event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        deleteFromActiveList(cj, ref.uid);
        updateStatus = true;
      }
    }

    if (cj.metadata.deletionTimestamp) return { updateStatus };

    const tz = cj.spec?.timeZone;
    if (tz != null && !isLoadableTimeZone(tz)) {
      event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`);
      return { updateStatus };
    }
    if (cj.spec?.suspend) return { updateStatus };

    if (usesScheduleTimeZonePrefix(cj)) {
      event(
        cj,
        'Warning',
        'UnsupportedSchedule',
        `CRON_TZ or TZ used in schedule ${JSON.stringify(cj.spec?.schedule)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
      );
    }
    let sched: CronSchedule;
    try {
      sched = parseSchedule(cj);
    } catch (e) {
      event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec?.schedule)} : ${errorMessage(e)}`);
      return { updateStatus };
    }

    const next = nextScheduleTime(cj, at, sched);
    if (next.tooManyMissed) {
      event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      log.info('too many missed times', { cronjob: keyOf(cj) });
    }
    if (next.error) {
      event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec?.schedule} : ${next.error}`);
      return { updateStatus };
    }
    const requeue = () => ({ requeueAfterMs: nextScheduleDelay(cj, at, sched), updateStatus });
    const scheduled = next.time;
    // No unmet time: only after a restart, or an early wake-up.
    if (scheduled === undefined) return requeue();

    const deadline = cj.spec?.startingDeadlineSeconds;
    if (deadline != null && scheduled + deadline * 1000 < at) {
      event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatRFC1123Z(scheduled)}`);
      return requeue();
    }
    const lastScheduled = cj.status?.lastScheduleTime ? Date.parse(cj.status.lastScheduleTime) : undefined;
    if (inActiveListByName(cj, cj.metadata.namespace, jobName(cj, scheduled)) || lastScheduled === scheduled) return requeue();

    const policy = cj.spec?.concurrencyPolicy;
    if (policy === 'Forbid' && (cj.status?.active ?? []).length > 0) {
      event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return requeue();
    }
    if (policy === 'Replace') {
      for (const ref of [...(cj.status?.active ?? [])]) {
        let job: JobObject;
        try {
          job = await jobClient.get(ref.namespace, ref.name!);
        } catch (e) {
          event(cj, 'Warning', 'FailedGet', `Get job: ${errorMessage(e)}`);
          return { updateStatus, error: e };
        }
        if (!(await deleteJob(cj, job))) return { updateStatus, error: new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`) };
        updateStatus = true;
      }
    }

    const request = jobFromTemplate(cj, scheduled);
    let created: JobObject;
    let alreadyExisted = false;
    try {
      created = await jobClient.create(cj.metadata.namespace, request);
    } catch (e) {
      if (namespaceTerminating(e)) return { updateStatus, error: e };
      if (!isAlreadyExists(e)) {
        event(cj, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(e)}`);
        return { updateStatus, error: e };
      }
      // Made before by someone: ours and missing from the active list (a status write was lost) is taken back in.
      alreadyExisted = true;
      try {
        created = await jobClient.get(request.metadata.namespace, request.metadata.name!);
      } catch (err) {
        return { updateStatus, error: err };
      }
      const ref = getControllerOf(created);
      if (!ref || ref.uid !== cj.metadata.uid) return { updateStatus };
      if (inActiveList(cj, created.metadata.uid)) return { updateStatus };
    }
    if (alreadyExisted) log.info('job already exists', { cronjob: keyOf(cj), job: keyOf(request) });
    else event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);

    // The Job's name is the lock: restarting here would try the same name again.
    cj.status = { ...cj.status, active: [...(cj.status?.active ?? []), jobRef(created)], lastScheduleTime: metaTime(scheduled) };
    updateStatus = true;
    return requeue();
  }

  async function reconcile(key: string): Promise<void> {
    const cached = cronJobInformer.get(key);
    if (!cached) return;
    const jobs = jobsOf(cached);
    const holder = { cj: structuredClone(cached) };
    const cleaned = await cleanupFinishedJobs(holder.cj, jobs);
    const result = await syncCronJob(holder, jobs);
    if (result.error) log.info('error reconciling cronjob', { cronjob: key, error: errorMessage(result.error) });
    if (cleaned || result.updateStatus) {
      const cj = holder.cj;
      if (cj.status?.active && cj.status.active.length === 0) delete cj.status.active;
      await cronJobClient.updateStatus(cj);
    }
    if (result.requeueAfterMs !== undefined) {
      enqueueAfter(key, result.requeueAfterMs);
      return;
    }
    if (result.error) throw result.error;
  }

  return {
    name: 'cronjob',
    setup() {
      cronJobInformer = ctx.factory.informer<CronJobObject>(resourceTypes.cronjobs);
      jobInformer = ctx.factory.informer<JobObject>(resourceTypes.jobs);
      addWorkloadIndexes(jobInformer);
      cronJobInformer.on({ add: enqueue, update: onCronJobUpdated, delete: enqueue });
      jobInformer.on({
        add: (job) => onJobAdded(job),
        update: onJobUpdated,
        delete: (job) => onJobAdded(job),
      });
    },
    run() {
      for (const cj of cronJobInformer.list()) enqueue(cj);
      log.info('started', { cronjobs: cronJobInformer.list().length });
    },
    stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t.timer);
      timers.clear();
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
