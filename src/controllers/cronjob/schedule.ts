// The CronJob controller's time decisions (pkg/controller/cronjob/utils.go),
// as pure functions of the CronJob, the clock and its parsed schedule: the
// most recent unmet schedule time, when to look again, the Job a schedule
// time makes and its name, and the order old Jobs are trimmed in.
//
// A CronJob without spec.timeZone runs in kube-controller-manager's local
// zone upstream; kubesvc's controller manager takes UTC as its local zone
// (clusters' control planes run in UTC, and tests do not depend on the host).
import { isLoadableTimeZone, wallClock } from '../../util/cron-time-zone.js';
import { parseCronSchedule, type CronSchedule } from '../../util/cron.js';
import type { JobObject } from '../job/types.js';
import { newControllerRef } from '../workloads/controller-ref.js';
import { cronJobGVK, scheduledTimestampAnnotation, type CronJobObject } from './types.js';

/** The zone a CronJob without spec.timeZone is scheduled in (the controller's "local" zone). */
export const controllerTimeZone = 'UTC';

/** Requeue padding past the next schedule time, against clock skew (upstream's nextScheduleDelta). */
export const nextScheduleDeltaMs = 100;

/** More missed schedules than this and the CronJob gets the TooManyMissedTimes warning. */
export const tooManyMissed = 100;

export type MissedSchedules = 'none' | 'few' | 'many';

export interface MostRecent {
  /** lastScheduleTime, else creationTimestamp (moved up to the starting deadline when asked). */
  earliest: number;
  /** The latest schedule time in (earliest, now], if any. */
  mostRecent?: number;
  missed: MissedSchedules;
  /** A schedule that never repeats sensibly (two activations less than a second apart, or none at all). */
  error?: string;
}

const ms = (t: string | undefined) => (t ? Date.parse(t) : NaN);

/**
 * The schedule text the controller parses (formatSchedule): as written when
 * it names a zone itself (TZ=/CRON_TZ=, which upstream warns about), else in
 * spec.timeZone, else in the controller's zone.
 */
export function scheduleZone(cj: CronJobObject): string {
  const tz = cj.spec?.timeZone;
  return tz != null && isLoadableTimeZone(tz) ? tz || 'UTC' : controllerTimeZone;
}

export function usesScheduleTimeZonePrefix(cj: CronJobObject): boolean {
  return (cj.spec?.schedule ?? '').includes('TZ');
}

export function parseSchedule(cj: CronJobObject): CronSchedule {
  return parseCronSchedule(cj.spec?.schedule ?? '', usesScheduleTimeZonePrefix(cj) ? controllerTimeZone : scheduleZone(cj));
}

/**
 * mostRecentScheduleTime: counts the missed activations by the interval
 * between the first two after `earliest` (an approximation, as upstream), then
 * walks the schedule from just before the last of them to find the exact one.
 */
export function mostRecentScheduleTime(cj: CronJobObject, now: number, schedule: CronSchedule, includeStartingDeadline: boolean): MostRecent {
  let earliest = cj.status?.lastScheduleTime ? ms(cj.status.lastScheduleTime) : ms(cj.metadata.creationTimestamp);
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && deadline != null) {
    const schedulingDeadline = now - deadline * 1000;
    if (schedulingDeadline > earliest) earliest = schedulingDeadline;
  }
  const t1 = schedule.next(new Date(earliest))?.getTime();
  const t2 = t1 === undefined ? undefined : schedule.next(new Date(t1))?.getTime();
  if (t1 === undefined || now < t1) return { earliest, missed: 'none' };
  if (t2 === undefined || now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.trunc((now - t1) / 1000);
  const missedCount = Math.trunc(elapsed / between) + 1;
  let mostRecent: number | undefined;
  const potentialEarliest = t1 + (missedCount - 2) * between * 1000;
  for (let t = schedule.next(new Date(potentialEarliest))?.getTime(); t !== undefined && t <= now; t = schedule.next(new Date(t))?.getTime()) mostRecent = t;
  const missed: MissedSchedules = missedCount > tooManyMissed ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, mostRecent, missed };
}

/** How long until the controller should look at the CronJob again (nextScheduleTimeDuration), or undefined if the schedule never fires again. */
export function nextScheduleDelay(cj: CronJobObject, now: number, schedule: CronSchedule): number | undefined {
  const r = mostRecentScheduleTime(cj, now, schedule, false);
  let from: number;
  if (r.error) from = now;
  else if (r.mostRecent === undefined) from = r.missed === 'none' ? r.earliest : now;
  else from = r.mostRecent;
  const next = schedule.next(new Date(from))?.getTime();
  return next === undefined ? undefined : next + nextScheduleDeltaMs - now;
}

/** The schedule time to start a Job for now (nextScheduleTime), with whether too many were missed. */
export function nextScheduleTime(cj: CronJobObject, now: number, schedule: CronSchedule): { time?: number; tooManyMissed: boolean; error?: string } {
  const r = mostRecentScheduleTime(cj, now, schedule, true);
  if (r.mostRecent === undefined || r.mostRecent > now) return { tooManyMissed: false, error: r.error };
  return { time: r.mostRecent, tooManyMissed: r.missed === 'many', error: r.error };
}

/** A Job's name for a schedule time: the CronJob's, then the minutes since the epoch (the controller's granularity). */
export function jobName(cj: CronJobObject, scheduledTime: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduledTime / 60_000)}`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Go's time.RFC3339 of an instant in a zone: whole seconds, "Z" for a zero offset. */
export function formatRFC3339(instant: number, zone: string): string {
  const seconds = Math.floor(instant / 1000) * 1000;
  const wall = wallClock(seconds, zone);
  const offsetMin = Math.round((wall - seconds) / 60_000);
  const d = new Date(wall);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (offsetMin === 0) return `${date}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${date}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** metav1.Time's wire form of an instant: RFC 3339 in UTC, whole seconds. */
export function metaTime(instant: number): string {
  return new Date(Math.floor(instant / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * getJobFromTemplate2: the template's labels, annotations and spec, the
 * deterministic name, the CronJob as controller, and the scheduled-timestamp
 * annotation in the CronJob's zone (time.LoadLocation("") is UTC upstream too).
 */
export function jobFromTemplate(cj: CronJobObject, scheduledTime: number): JobObject {
  const template = cj.spec?.jobTemplate ?? {};
  const tz = cj.spec?.timeZone;
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
  annotations[scheduledTimestampAnnotation] = formatRFC3339(scheduledTime, tz ? tz : 'UTC');
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(cj, scheduledTime),
      namespace: cj.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      annotations,
      ownerReferences: [newControllerRef(cj, cronJobGVK)],
    },
    spec: structuredClone(template.spec ?? {}) as JobObject['spec'],
  } as JobObject;
}

/** The Job's terminal condition type (Complete or Failed), if it has finished. */
export function finishedCondition(job: JobObject): 'Complete' | 'Failed' | undefined {
  const c = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return c?.type as 'Complete' | 'Failed' | undefined;
}

/** byJobStartTime: started Jobs oldest first, then those not started; names break ties. */
export function byJobStartTime(a: JobObject, b: JobObject): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sa && sb) return 1;
  if (sa && !sb) return -1;
  const ta = sa ? ms(sa) : 0;
  const tb = sb ? ms(sb) : 0;
  if (ta === tb) return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
  return ta - tb;
}

/** The finished Jobs beyond the history limits, oldest first (cleanupFinishedJobs). */
export function jobsToTrim(cj: CronJobObject, jobs: JobObject[]): JobObject[] {
  const successLimit = cj.spec?.successfulJobsHistoryLimit;
  const failedLimit = cj.spec?.failedJobsHistoryLimit;
  if (successLimit == null && failedLimit == null) return [];
  const oldest = (list: JobObject[], limit: number | null | undefined) => (limit == null || list.length <= limit ? [] : [...list].sort(byJobStartTime).slice(0, list.length - limit));
  return [
    ...oldest(
      jobs.filter((j) => finishedCondition(j) === 'Complete'),
      successLimit,
    ),
    ...oldest(
      jobs.filter((j) => finishedCondition(j) === 'Failed'),
      failedLimit,
    ),
  ];
}
