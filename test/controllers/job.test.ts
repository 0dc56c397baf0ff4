// Jobs end to end without nodes: the real API server, the job and
// TTL-after-finished controllers (and the garbage collector) over HTTP, the
// real kubectl (apply, get, describe, wait, patch, set image), and the test
// itself playing the kubelet by writing pod phases.
//
// The objects are applied as JSON here; kubectl's generator commands
// (`create job`, `create cronjob`, `create job --from`), which send
// protobuf, are tried in ./cronjob-kubectl.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import type { Pod } from '../../src/api/types.js';
import { isNotFound, resourceTypes } from '../../src/client/client.js';
import type { JobObject } from '../../src/controllers/job/types.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/apiserver.js';

type PodObject = Pod & KubeObject;
const ns = 'default';

describe('Jobs through the API', () => {
  let c: TestCluster;
  const pods = () => c.client.resource<PodObject>(resourceTypes.pods);
  const jobs = () => c.client.resource<JobObject>(resourceTypes.jobs);
  const podsOf = async (job: string) => (await pods().list(ns, { labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
  const apply = (obj: unknown) => c.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(obj) });

  /** Finishes a pod as the kubelet would: its container exits with `code`. */
  async function finish(pod: PodObject, code: number) {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const fresh = await pods().get(ns, pod.metadata.name!);
    fresh.status = {
      phase: code === 0 ? 'Succeeded' : 'Failed',
      startTime: now,
      containerStatuses: (fresh.spec?.containers ?? []).map((ctr) => ({
        name: ctr.name,
        image: ctr.image ?? '',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now } },
      })),
    };
    await pods().updateStatus(fresh);
  }

  const running = async (job: string) => (await podsOf(job)).filter((p) => !p.status?.phase || p.status.phase === 'Pending' || p.status.phase === 'Running');
  const condition = (job: JobObject, type: string) => job.status?.conditions?.find((cond) => cond.type === type && cond.status === 'True');

  before(async () => {
    c = await startTestCluster({ only: ['job', 'ttl-after-finished', 'garbage-collector'] });
  });
  after(async () => {
    await c?.stop();
  });

  test('a Job: defaults, generated selector and labels, a tracked pod, Complete after it succeeds', async () => {
    // What `kubectl create job hello --image=busybox -- echo hi` sends.
    assert.match(
      await c.kubectl.ok(['create', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'hello' },
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'hello', image: 'busybox', command: ['echo', 'hi'] }] } } },
        }),
      }),
      /job.batch\/hello created/,
    );
    const job = await jobs().get(ns, 'hello');
    const uid = job.metadata.uid!;
    assert.equal(job.spec!.completions, 1);
    assert.equal(job.spec!.parallelism, 1);
    assert.equal(job.spec!.backoffLimit, 6);
    assert.equal(job.spec!.completionMode, 'NonIndexed');
    assert.equal(job.spec!.suspend, false);
    assert.equal(job.spec!.manualSelector, false);
    assert.equal(job.spec!.podReplacementPolicy, 'TerminatingOrFailed');
    assert.deepEqual(job.spec!.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    assert.deepEqual(job.spec!.template!.metadata!.labels, {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'hello',
      'controller-uid': uid,
      'job-name': 'hello',
    });
    const [pod] = await waitFor('the job pod', async () => ((await podsOf('hello')).length === 1 ? podsOf('hello') : undefined));
    assert.deepEqual(pod!.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
    assert.equal(pod!.metadata.ownerReferences?.[0]?.kind, 'Job');
    await waitFor('active 1', async () => (await jobs().get(ns, 'hello')).status?.active === 1);
    assert.match(await c.kubectl.ok(['get', 'job', 'hello']), /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nhello\s+Running\s+0\/1\s+/);
    await finish(pod!, 0);
    const done = await waitFor('Complete', async () => {
      const j = await jobs().get(ns, 'hello');
      return condition(j, 'Complete') ? j : undefined;
    });
    assert.equal(done.status!.succeeded, 1);
    assert.equal(done.status!.active, undefined);
    assert.equal(done.status!.ready, 0);
    assert.equal(done.status!.terminating, 0);
    assert.deepEqual(done.status!.uncountedTerminatedPods, {});
    assert.ok(done.status!.completionTime);
    const met = condition(done, 'SuccessCriteriaMet')!;
    assert.equal(met.reason, 'CompletionsReached');
    assert.equal(met.message, 'Reached expected number of succeeded pods');
    assert.equal(condition(done, 'Complete')!.reason, 'CompletionsReached');
    await waitFor('finalizer released', async () => !(await pods().get(ns, pod!.metadata.name!)).metadata.finalizers?.length);
    await c.kubectl.ok(['wait', '--for=condition=complete', 'job/hello', '--timeout=10s']);
    assert.match(await c.kubectl.ok(['get', 'job', 'hello']), /hello\s+Complete\s+1\/1\s+\S+\s+\S+/);
    await waitFor('the Completed event', async () => (await c.kubectl.ok(['get', 'events', '--field-selector=involvedObject.name=hello'])).includes('Job completed'));
    const described = await c.kubectl.ok(['describe', 'job', 'hello']);
    assert.match(described, /Normal\s+Completed\s+\S+\s+job-controller\s+Job completed/);
    assert.match(described, /Normal\s+SuccessfulCreate\s+\S+\s+job-controller\s+Created pod: hello-/);
    assert.match(described, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed/);
  });

  test('a failing Job stops at backoffLimit: FailureTarget then Failed, BackoffLimitExceeded', async () => {
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'flaky' },
      spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['false'] }] } } },
    });
    const [pod] = await waitFor('the pod', async () => ((await running('flaky')).length === 1 ? running('flaky') : undefined));
    await finish(pod!, 1);
    const failed = await waitFor('Failed', async () => {
      const j = await jobs().get(ns, 'flaky');
      return condition(j, 'Failed') ? j : undefined;
    });
    assert.equal(failed.status!.failed, 1);
    assert.equal(condition(failed, 'FailureTarget')!.reason, 'BackoffLimitExceeded');
    assert.equal(condition(failed, 'Failed')!.message, 'Job has reached the specified backoff limit');
    assert.equal(failed.status!.completionTime, undefined);
    assert.match(await c.kubectl.ok(['get', 'job', 'flaky']), /flaky\s+Failed\s+0\/1/);
    assert.equal((await podsOf('flaky')).length, 1, 'no retry past the limit');
  });

  test('parallel completions: 3 completions 2 at a time', async () => {
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'par' },
      spec: { completions: 3, parallelism: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const first = await waitFor('two pods', async () => ((await running('par')).length === 2 ? running('par') : undefined));
    for (const p of first) await finish(p, 0);
    const [last] = await waitFor('the third pod only', async () => {
      const r = await running('par');
      return r.length === 1 && (await podsOf('par')).length === 3 ? r : undefined;
    });
    await finish(last!, 0);
    const done = await waitFor('Complete', async () => {
      const j = await jobs().get(ns, 'par');
      return condition(j, 'Complete') ? j : undefined;
    });
    assert.equal(done.status!.succeeded, 3);
    assert.equal((await podsOf('par')).length, 3);
  });

  test('Indexed: index annotation, label, hostname and JOB_COMPLETION_INDEX; completedIndexes', async () => {
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'idx' },
      spec: { completions: 3, parallelism: 3, completionMode: 'Indexed', template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const all = await waitFor('three pods', async () => ((await running('idx')).length === 3 ? running('idx') : undefined));
    const byIndex = new Map(all.map((p) => [p.metadata.annotations!['batch.kubernetes.io/job-completion-index']!, p]));
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2']);
    for (const [ix, p] of byIndex) {
      assert.equal(p.metadata.labels!['batch.kubernetes.io/job-completion-index'], ix);
      assert.equal(p.spec!.hostname, `idx-${ix}`);
      assert.ok(p.metadata.name!.startsWith(`idx-${ix}-`));
      assert.deepEqual(p.spec!.containers[0]!.env, [
        { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
      ]);
    }
    await finish(byIndex.get('0')!, 0);
    await finish(byIndex.get('2')!, 0);
    await waitFor('completedIndexes 0,2', async () => (await jobs().get(ns, 'idx')).status?.completedIndexes === '0,2');
    await finish(byIndex.get('1')!, 0);
    const done = await waitFor('Complete', async () => {
      const j = await jobs().get(ns, 'idx');
      return condition(j, 'Complete') ? j : undefined;
    });
    assert.equal(done.status!.completedIndexes, '0-2');
    assert.equal(done.status!.succeeded, 3);
  });

  test('suspend deletes the pods and resume starts again', async () => {
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pause' },
      spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const suspended = await waitFor('Suspended', async () => {
      const j = await jobs().get(ns, 'pause');
      return condition(j, 'Suspended') ? j : undefined;
    });
    assert.equal(condition(suspended, 'Suspended')!.reason, 'JobSuspended');
    assert.equal(suspended.status!.startTime, undefined);
    assert.equal((await podsOf('pause')).length, 0);
    assert.match(await c.kubectl.ok(['get', 'job', 'pause']), /pause\s+Suspended\s+0\/1/);
    await c.kubectl.ok(['patch', 'job', 'pause', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    const resumed = await waitFor('resumed', async () => {
      const j = await jobs().get(ns, 'pause');
      return j.status?.conditions?.find((cond) => cond.type === 'Suspended' && cond.status === 'False') && j.status.startTime ? j : undefined;
    });
    assert.equal(resumed.status!.conditions!.find((cond) => cond.type === 'Suspended')!.reason, 'JobResumed');
    await waitFor('a pod', async () => (await podsOf('pause')).length === 1);
  });

  test('ttlSecondsAfterFinished: 0 deletes the finished Job and its pods', async () => {
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'brief' },
      spec: { ttlSecondsAfterFinished: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const [pod] = await waitFor('the pod', async () => ((await running('brief')).length === 1 ? running('brief') : undefined));
    await finish(pod!, 0);
    await waitFor('the job is gone', async () => jobs().get(ns, 'brief').then(() => false, (e: unknown) => isNotFound(e)), 15_000);
    await waitFor('its pod is gone', async () => (await podsOf('brief')).length === 0, 15_000);
  });

  test('validation words and immutable template', async () => {
    const bad = await c.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bad' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }),
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The Job "bad" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"/);
    const always = await c.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bad' }, spec: { completionMode: 'Sometimes', template: { spec: { restartPolicy: 'Nope', containers: [{ name: 'c', image: 'busybox' }] } } } }),
    });
    assert.match(always.stderr, /spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"/);
    assert.match(always.stderr, /spec.template.spec.restartPolicy: Unsupported value: "Nope": supported values: "OnFailure", "Never"/);
    const changed = await c.kubectl(['set', 'image', 'job/hello', 'hello=busybox:2']);
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /spec.template: Invalid value: .*: field is immutable/);
  });

  test('CronJobs: defaults, table, schedule and time zone validation', async () => {
    // What `kubectl create cronjob tick --image=busybox --schedule="*/1 * * * *" -- date` sends.
    const cronJob = (name: string, schedule: string, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name },
      spec: { schedule, ...extra, jobTemplate: { metadata: { name }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name, image: 'busybox', command: ['date'] }] } } } } },
    });
    const create = (obj: unknown) => c.kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
    assert.match((await create(cronJob('tick', '*/1 * * * *'))).stdout, /cronjob.batch\/tick created/);
    const cj = JSON.parse(await c.kubectl.ok(['get', 'cronjob', 'tick', '-o', 'json']));
    assert.equal(cj.spec.concurrencyPolicy, 'Allow');
    assert.equal(cj.spec.suspend, false);
    assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
    assert.equal(cj.spec.failedJobsHistoryLimit, 1);
    assert.equal(cj.spec.jobTemplate.spec.backoffLimit, undefined, 'only the pod template is defaulted');
    assert.match(await c.kubectl.ok(['get', 'cronjob', 'tick']), /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\ntick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+/);
    assert.match(await c.kubectl.ok(['get', 'cj', 'tick', '-o', 'wide']), /CONTAINERS\s+IMAGES\s+SELECTOR\n.*tick\s+busybox\s+<none>/);
    assert.match((await create(cronJob('bad', '61 * * * *'))).stderr, /spec.schedule: Invalid value: "61 \* \* \* \*": end of range \(61\) above maximum \(59\): 61/);
    assert.match((await create(cronJob('bad', '* * *'))).stderr, /spec.schedule: Invalid value: "\* \* \*": expected exactly 5 fields, found 3: \[\* \* \*\]/);
    assert.match(
      (await create(cronJob('bad', 'TZ=UTC 0 * * * *'))).stderr,
      /spec.schedule: Invalid value: "TZ=UTC 0 \* \* \* \*": cannot use TZ or CRON_TZ in schedule, use timeZone field instead/,
    );
    assert.match((await create(cronJob('bad', '@hourly', { timeZone: 'Mars/Olympus' }))).stderr, /spec.timeZone: Invalid value: "Mars\/Olympus": unknown time zone Mars\/Olympus/);
    assert.match((await create(cronJob('bad', '@hourly', { concurrencyPolicy: 'Sometimes' }))).stderr, /spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"/);
    assert.match((await create(cronJob('zoned', '0 9 * * mon-fri', { timeZone: 'Europe/Berlin' }))).stdout, /created/);
    assert.match(await c.kubectl.ok(['get', 'cronjob', 'zoned']), /zoned\s+0 9 \* \* mon-fri\s+Europe\/Berlin\s+False/);
    await c.kubectl.ok(['delete', 'cronjob', 'tick', 'zoned']);
  });
});
