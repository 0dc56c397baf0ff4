// The CronJob controller's decisions: the pure schedule arithmetic
// (schedule.ts) with fixed instants, then the controller itself against the
// real API server with a fake clock the test moves — Job naming and contents,
// missed schedules and startingDeadlineSeconds, Forbid and Replace, history
// trimming, lastScheduleTime/lastSuccessfulTime and the events upstream writes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resourceTypes, createClient, type Client } from '../../src/client/client.js';
import { createEventRecorder, type EventRecorder } from '../../src/client/events.js';
import { createInformerFactory, type InformerFactory } from '../../src/client/informer-factory.js';
import { createTransport } from '../../src/client/transport.js';
import { defaultControllerOptions, type Controller } from '../../src/controllers/controller.js';
import { createCronJobController, formatRFC1123Z } from '../../src/controllers/cronjob/controller.js';
import { formatRFC3339, jobFromTemplate, jobName, jobsToTrim, mostRecentScheduleTime, nextScheduleDelay, nextScheduleTime, parseSchedule } from '../../src/controllers/cronjob/schedule.js';
import type { CronJobObject } from '../../src/controllers/cronjob/types.js';
import type { JobObject } from '../../src/controllers/job/types.js';
import type { KubeObject } from '../../src/api/object.js';
import { startTestApiServer, waitFor, type TestApiServer } from '../helpers/apiserver.js';

const at = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function cronJob(spec: Partial<NonNullable<CronJobObject['spec']>>, meta: Partial<CronJobObject['metadata']> = {}, status: CronJobObject['status'] = {}): CronJobObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'cj', namespace: 'default', uid: 'cj-uid', creationTimestamp: '2024-03-09T00:00:00Z', ...meta },
    spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec },
    status,
  } as CronJobObject;
}

describe('cronjob schedule decisions', () => {
  it('the most recent unmet time, in the CronJob zone across a DST change', () => {
    // 09:00 in New York: EST (UTC-5) before 10 March 2024, EDT (UTC-4) after.
    const cj = cronJob({ schedule: '0 9 * * *', timeZone: 'America/New_York' }, {}, { lastScheduleTime: '2024-03-09T14:00:00Z' });
    const sched = parseSchedule(cj);
    assert.equal(nextScheduleTime(cj, at('2024-03-10T12:59:59Z'), sched).time, undefined, 'not yet 09:00 EDT');
    assert.equal(iso(nextScheduleTime(cj, at('2024-03-10T13:00:30Z'), sched).time!), '2024-03-10T13:00:00Z');
    // Without a zone the controller's (UTC) applies.
    const utc = cronJob({ schedule: '0 9 * * *' }, {}, { lastScheduleTime: '2024-03-09T09:00:00Z' });
    assert.equal(iso(nextScheduleTime(utc, at('2024-03-10T09:00:30Z'), parseSchedule(utc)).time!), '2024-03-10T09:00:00Z');
    // A TZ= prefix in the schedule overrides both.
    const prefixed = cronJob({ schedule: 'TZ=Asia/Tokyo 0 9 * * *' }, {}, { lastScheduleTime: '2024-03-09T00:00:00Z' });
    assert.equal(iso(nextScheduleTime(prefixed, at('2024-03-10T00:00:30Z'), parseSchedule(prefixed)).time!), '2024-03-10T00:00:00Z');
  });

  it('missed schedules: the latest is taken, many are flagged, the starting deadline bounds the search', () => {
    const cj = cronJob({ schedule: '*/10 * * * *' }, { creationTimestamp: '2024-03-10T00:00:05Z' });
    const sched = parseSchedule(cj);
    const few = mostRecentScheduleTime(cj, at('2024-03-10T01:05:00Z'), sched, true);
    assert.equal(iso(few.mostRecent!), '2024-03-10T01:00:00Z');
    assert.equal(few.missed, 'few');
    const many = nextScheduleTime(cj, at('2024-03-11T12:00:00Z'), sched);
    assert.equal(iso(many.time!), '2024-03-11T12:00:00Z');
    assert.equal(many.tooManyMissed, true, '> 100 missed: TooManyMissedTimes');
    // startingDeadlineSeconds: the search starts no earlier than now - deadline, so old misses are not counted.
    const bounded = cronJob({ schedule: '*/10 * * * *', startingDeadlineSeconds: 300 }, { creationTimestamp: '2024-03-10T00:00:05Z' });
    const r = nextScheduleTime(bounded, at('2024-03-11T12:03:00Z'), sched);
    assert.equal(iso(r.time!), '2024-03-11T12:00:00Z');
    assert.equal(r.tooManyMissed, false);
    assert.equal(nextScheduleTime(bounded, at('2024-03-11T12:06:00Z'), sched).time, undefined, 'past the deadline: nothing to start');
    // The requeue: the next activation plus 100 ms.
    assert.equal(nextScheduleDelay(cj, at('2024-03-10T00:00:10Z'), sched), 9 * 60_000 + 50_000 + 100);
    assert.equal(nextScheduleDelay(cj, at('2024-03-10T01:05:00Z'), sched), 5 * 60_000 + 100);
  });

  it('a schedule that never fires starts nothing', () => {
    const cj = cronJob({ schedule: '59 23 31 2 *' }, { creationTimestamp: '2024-03-10T00:00:05Z' });
    assert.equal(nextScheduleTime(cj, at('2024-03-11T00:00:00Z'), parseSchedule(cj)).time, undefined);
  });

  it('the Job: name in minutes since the epoch, template labels and annotations, scheduled timestamp in the zone, controller reference', () => {
    const t = at('2024-03-10T13:00:00Z');
    assert.equal(jobName(cronJob({}), t), `cj-${t / 60_000}`);
    assert.equal(jobName(cronJob({}), t), 'cj-28501260');
    const cj = cronJob({ timeZone: 'Asia/Tokyo', jobTemplate: { metadata: { labels: { a: 'b' }, annotations: { x: 'y' } }, spec: { backoffLimit: 2, template: {} } } });
    const job = jobFromTemplate(cj, t);
    assert.equal(job.metadata.name, 'cj-28501260');
    assert.deepEqual(job.metadata.labels, { a: 'b' });
    assert.deepEqual(job.metadata.annotations, { x: 'y', 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2024-03-10T22:00:00+09:00' });
    assert.deepEqual(job.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: 'cj-uid', controller: true, blockOwnerDeletion: true }]);
    assert.equal(job.spec!.backoffLimit, 2);
    assert.equal(jobFromTemplate(cronJob({}), t).metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2024-03-10T13:00:00Z');
    assert.equal(formatRFC3339(t, 'America/St_Johns'), '2024-03-10T10:30:00-02:30');
    assert.equal(formatRFC1123Z(t), 'Sun, 10 Mar 2024 13:00:00 +0000');
  });

  it('history: the oldest finished Jobs beyond each limit, by start time then name', () => {
    const job = (name: string, type: 'Complete' | 'Failed' | undefined, startTime?: string): JobObject =>
      ({ metadata: { name }, status: { startTime, conditions: type ? [{ type, status: 'True' }] : [] } }) as JobObject;
    const jobs = [job('c3', 'Complete', '2024-01-03T00:00:00Z'), job('c1', 'Complete', '2024-01-01T00:00:00Z'), job('c0', 'Complete'), job('c2', 'Complete', '2024-01-02T00:00:00Z'), job('f1', 'Failed', '2024-01-01T00:00:00Z'), job('f2', 'Failed', '2024-01-02T00:00:00Z'), job('r', undefined, '2024-01-01T00:00:00Z')];
    const names = (l: JobObject[]) => l.map((j) => j.metadata.name);
    assert.deepEqual(names(jobsToTrim(cronJob({ successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }), jobs)), ['c1', 'c2', 'f1']);
    assert.deepEqual(names(jobsToTrim(cronJob({ successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 0 }), jobs)), ['c1', 'c2', 'c3', 'c0', 'f1', 'f2']);
    assert.deepEqual(names(jobsToTrim(cronJob({}), jobs)), [], 'no limits: nothing trimmed');
  });
});

describe('the cronjob controller with a fake clock', () => {
  let api: TestApiServer;
  let client: Client;
  let factory: InformerFactory;
  let events: EventRecorder;
  let controller: Controller;
  let clock = 0;
  const ns = 'default';
  const cronJobs = () => client.resource<CronJobObject>(resourceTypes.cronjobs);
  const jobs = () => client.resource<JobObject>(resourceTypes.jobs);
  const jobsOf = async (cj: string) => (await jobs().list(ns)).items.filter((j) => j.metadata.ownerReferences?.some((r) => r.name === cj)).map((j) => j.metadata.name!).sort();
  const eventsOf = async (name: string) => {
    await events.flush();
    const list = await client.resource<KubeObject & { involvedObject: { name: string }; reason: string; message: string }>(resourceTypes.events).list(ns);
    return list.items.filter((e) => e.involvedObject.name === name).map((e) => `${e.reason}: ${e.message}`);
  };
  /** Moves the clock and wakes the controller as an edit of the CronJob would. */
  async function tick(name: string, toMs: number) {
    clock = toMs;
    const cj = await cronJobs().get(ns, name);
    cj.metadata.annotations = { ...cj.metadata.annotations, tick: String(toMs) };
    await cronJobs().update(cj);
  }
  async function complete(name: string, type: 'Complete' | 'Failed', startTime: string) {
    const job = await jobs().get(ns, name);
    const now = iso(Math.floor(Date.now() / 1000) * 1000);
    job.status = { startTime, ...(type === 'Complete' ? { completionTime: now, succeeded: 1 } : { failed: 1 }), conditions: [{ type, status: 'True', lastTransitionTime: now, lastProbeTime: now }] };
    await jobs().updateStatus(job);
  }
  async function create(name: string, spec: Partial<NonNullable<CronJobObject['spec']>>) {
    const cj = cronJob(spec, { name, uid: undefined, creationTimestamp: undefined, namespace: ns });
    delete (cj as { status?: unknown }).status;
    const created = await cronJobs().create(ns, cj);
    return Date.parse(created.metadata.creationTimestamp!);
  }

  before(async () => {
    api = await startTestApiServer();
    client = createClient(createTransport(api.admin), 'cronjob-test');
    factory = createInformerFactory(client);
    events = createEventRecorder(client, 'cronjob-controller');
    controller = createCronJobController({ factory, client, events, options: defaultControllerOptions }, { now: () => clock });
    controller.setup();
    await factory.start();
    controller.run();
  });
  after(async () => {
    controller?.stop();
    factory?.stop();
    await events?.flush();
    client?.close();
    await api?.stop();
  });

  it('creates the Job for the latest missed time, records it, and does not start it twice', async () => {
    const created = await create('every5', { schedule: '*/5 * * * *' });
    clock = created;
    await waitFor('the CronJob is seen', async () => (await controller.idle(), true));
    assert.deepEqual(await jobsOf('every5'), [], 'nothing due at creation');
    // 17 minutes later: three activations were missed; only the latest starts.
    const due = Math.floor((created + 17 * 60_000) / 300_000) * 300_000;
    await tick('every5', created + 17 * 60_000);
    const name = `every5-${due / 60_000}`;
    await waitFor('the Job', async () => (await jobsOf('every5')).includes(name) && name);
    const cj = await waitFor('status', async () => {
      const c = await cronJobs().get(ns, 'every5');
      return c.status?.lastScheduleTime && c.status.active?.length ? c : undefined;
    });
    assert.equal(cj.status!.lastScheduleTime, iso(due));
    const job = await jobs().get(ns, name);
    assert.deepEqual(cj.status!.active, [{ kind: 'Job', namespace: ns, name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: cj.status!.active![0]!.resourceVersion }]);
    assert.equal(job.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], iso(due));
    assert.deepEqual(job.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'every5', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    // The same time again (another wake-up): no second Job.
    await tick('every5', created + 17 * 60_000 + 1000);
    await controller.idle();
    assert.deepEqual(await jobsOf('every5'), [name]);
    assert.deepEqual(await eventsOf('every5'), [`SuccessfulCreate: Created job ${name}`]);
  });

  it('startingDeadlineSeconds: a schedule time missed by longer is skipped; the next one within it starts', async () => {
    const created = await create('late', { schedule: '0 * * * *', startingDeadlineSeconds: 30 });
    const hour = Math.ceil(created / 3_600_000) * 3_600_000;
    // 45 s late with a 30 s deadline: the search starts at now - 30 s, past the missed hour (as upstream's v2
    // controller, which thereby never gets to its MissSchedule event); the next hour is the requeue.
    await tick('late', hour + 45_000);
    await controller.idle();
    await waitFor('the CronJob synced', async () => (await cronJobs().get(ns, 'late')).metadata.annotations?.['tick'] === String(hour + 45_000));
    await controller.idle();
    assert.deepEqual(await jobsOf('late'), []);
    assert.equal((await cronJobs().get(ns, 'late')).status?.lastScheduleTime, undefined);
    // Within the deadline of the next hour it starts.
    await tick('late', hour + 3_600_000 + 20_000);
    await waitFor('the Job', async () => (await jobsOf('late')).length === 1);
    assert.deepEqual(await jobsOf('late'), [`late-${(hour + 3_600_000) / 60_000}`]);
  });

  it('Forbid skips while a Job runs; Replace deletes it and starts the new one', async () => {
    const created = await create('single', { schedule: '* * * * *', concurrencyPolicy: 'Forbid' });
    const m1 = Math.ceil(created / 60_000) * 60_000;
    await tick('single', m1 + 5_000);
    const first = `single-${m1 / 60_000}`;
    await waitFor('first Job in status', async () => (await cronJobs().get(ns, 'single')).status?.active?.length === 1);
    await tick('single', m1 + 65_000);
    await waitFor('JobAlreadyActive', async () => (await eventsOf('single')).some((e) => e.startsWith('JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid')));
    assert.deepEqual(await jobsOf('single'), [first]);

    const cj = await cronJobs().get(ns, 'single');
    cj.spec!.concurrencyPolicy = 'Replace';
    await cronJobs().update(cj);
    const second = `single-${m1 / 60_000 + 1}`;
    await waitFor('the replacement', async () => {
      const c = await cronJobs().get(ns, 'single');
      return c.status?.active?.length === 1 && c.status.active[0]!.name === second;
    });
    const evs = await eventsOf('single');
    assert.ok(evs.includes(`SuccessfulDelete: Deleted job ${first}`), evs.join('\n'));
    assert.ok(evs.includes(`SuccessfulCreate: Created job ${second}`), evs.join('\n'));
    await waitFor('the first Job gone', async () => !(await jobsOf('single')).includes(first));
  });

  it('finished Jobs: SawCompletedJob, lastSuccessfulTime, and only successfulJobsHistoryLimit kept', async () => {
    const created = await create('hist', { schedule: '* * * * *', successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 });
    const m1 = Math.ceil(created / 60_000) * 60_000;
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const t = m1 + i * 60_000;
      await tick('hist', t + 2_000);
      const name = `hist-${t / 60_000}`;
      names.push(name);
      await waitFor(`Job ${name} active`, async () => (await cronJobs().get(ns, 'hist')).status?.active?.some((r) => r.name === name));
      await complete(name, 'Complete', iso(t + (i === 0 ? 1_000 : 2_000)));
      await waitFor(`${name} seen completed`, async () => (await eventsOf('hist')).includes(`SawCompletedJob: Saw completed job: ${name}, condition: Complete`));
    }
    await waitFor('one finished Job kept', async () => {
      const left = await jobsOf('hist');
      return left.length === 1 && left[0] === names[2];
    });
    const evs = await eventsOf('hist');
    assert.ok(evs.includes(`SuccessfulDelete: Deleted job ${names[0]}`), evs.join('\n'));
    assert.ok(evs.includes(`SuccessfulDelete: Deleted job ${names[1]}`), evs.join('\n'));
    const cj = await cronJobs().get(ns, 'hist');
    assert.ok(cj.status?.lastSuccessfulTime);
    assert.equal(cj.status?.active, undefined);
  });

  it('a Job it controls but did not record: UnexpectedJob', async () => {
    const created = await create('stray', { schedule: '0 0 1 1 *' });
    clock = created;
    const cj = await cronJobs().get(ns, 'stray');
    await jobs().create(ns, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'stray-manual', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'stray', uid: cj.metadata.uid!, controller: true }] },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    } as JobObject);
    await waitFor('UnexpectedJob', async () => (await eventsOf('stray')).includes('UnexpectedJob: Saw a job that the controller did not create or forgot: stray-manual'));
  });
});
