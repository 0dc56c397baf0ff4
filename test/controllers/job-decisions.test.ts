// The job controller's decisions (plan.ts, backoff.ts, indexes.ts) and the
// Job/CronJob defaults and validation words, without a server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from '../../src/api/field-errors.js';
import type { KubeObject } from '../../src/api/object.js';
import { backoffRecord, remainingBackoffMs } from '../../src/controllers/job/backoff.js';
import { firstPendingIndexes, formatIndexes, generateNameWithIndex, parseIndexes } from '../../src/controllers/job/indexes.js';
import { planJob } from '../../src/controllers/job/plan.js';
import { timeLeft } from '../../src/controllers/job/ttl-after-finished.js';
import type { JobObject } from '../../src/controllers/job/types.js';
import type { PodObject } from '../../src/controllers/workloads/types.js';
import { setCronJobDefaults, type CronJob } from '../../src/registry/cronjobs/defaults.js';
import { validateCronJob } from '../../src/registry/cronjobs/validation.js';
import { generateJobSelector, setJobDefaults, type Job } from '../../src/registry/jobs/defaults.js';
import { validateJob, validateJobUpdate } from '../../src/registry/jobs/validation.js';

const t0 = Date.parse('2025-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function job(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): JobObject {
  const obj = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
    status,
  } as unknown as JobObject;
  setJobDefaults(obj as unknown as KubeObject);
  generateJobSelector(obj as unknown as KubeObject);
  return obj;
}

let n = 0;
function pod(phase: string | undefined, opts: { finishedAt?: number; tracked?: boolean; index?: number; deleting?: boolean; ready?: boolean } = {}): PodObject {
  const uid = `pod-${++n}`;
  const p = {
    metadata: { name: uid, namespace: 'default', uid, finalizers: opts.tracked === false ? [] : ['batch.kubernetes.io/job-tracking'], creationTimestamp: iso(t0) },
    spec: { containers: [{ name: 'c' }] },
    status: { phase },
  } as unknown as PodObject;
  if (opts.index !== undefined) p.metadata.annotations = { 'batch.kubernetes.io/job-completion-index': String(opts.index) };
  if (opts.deleting) p.metadata.deletionTimestamp = iso(t0);
  if (opts.finishedAt !== undefined) p.status!.containerStatuses = [{ name: 'c', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt: iso(opts.finishedAt) } } }];
  if (opts.ready) p.status!.conditions = [{ type: 'Ready', status: 'True' }];
  return p;
}

const plan = (j: JobObject, pods: PodObject[], now = t0) => planJob({ job: j, pods, now, pendingFinalizerRemovals: new Set(), expectationsSatisfied: true });

describe('Job defaults and validation', () => {
  it('defaults as SetDefaults_Job and a selector on the uid, labels from the template', () => {
    const j = job({ template: { metadata: { labels: { app: 'pi' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } });
    assert.deepEqual(
      [j.spec!.completions, j.spec!.parallelism, j.spec!.backoffLimit, j.spec!.completionMode, j.spec!.suspend, j.spec!.manualSelector, j.spec!.podReplacementPolicy],
      [1, 1, 6, 'NonIndexed', false, false, 'TerminatingOrFailed'],
    );
    assert.deepEqual(j.metadata.labels, { app: 'pi' });
    assert.deepEqual(j.spec!.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } });
    assert.equal(job({ parallelism: 3 }).spec!.completions, undefined, 'only both unset defaults completions');
    assert.equal(job({ completionMode: 'Indexed', completions: 2, backoffLimitPerIndex: 1 }).spec!.backoffLimit, 2147483647);
    assert.deepEqual(validateJob(j as unknown as Job), []);
  });

  it('restartPolicy, completionMode, negative counts, Indexed hostnames, user labels against the generated ones', () => {
    const errs = (spec: Record<string, unknown>, name = 'pi') => {
      const j = job(spec);
      j.metadata.name = name;
      return validateJob(j as unknown as Job).map(errorString);
    };
    assert.deepEqual(errs({ template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } }), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
    assert.deepEqual(errs({ backoffLimit: -1, parallelism: -2 }), ['spec.parallelism: Invalid value: -2: must be greater than or equal to 0', 'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(errs({ completionMode: 'Indexed', completions: 10 }, 'a'.repeat(62)).filter((e) => e.startsWith('metadata.name')), [`metadata.name: Invalid value: "${'a'.repeat(62)}": will not able to create pod with invalid DNS label: ${'a'.repeat(62)}-9`]);
    assert.deepEqual(errs({ completionMode: 'Indexed', parallelism: 1 }).slice(0, 1), ['spec.completions: Required value: when completion mode is Indexed']);
    assert.deepEqual(errs({ podReplacementPolicy: 'Sometimes' }), ['spec.podReplacementPolicy: Unsupported value: "Sometimes": supported values: "Failed", "TerminatingOrFailed"']);
    const wrong = job({ template: { metadata: { labels: { 'job-name': 'other' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } });
    assert.deepEqual(validateJob(wrong as unknown as Job).map(errorString).slice(0, 1), [
      `spec.template.metadata.labels[job-name]: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"job-uid", "batch.kubernetes.io/job-name":"pi", "controller-uid":"job-uid", "job-name":"other"}: must be 'pi'`,
    ]);
  });

  it('completions, selector and template are immutable; parallelism is not', () => {
    const old = job({ completions: 3, parallelism: 1 });
    const next = structuredClone(old);
    next.spec!.parallelism = 2;
    assert.deepEqual(validateJobUpdate(next as unknown as Job, old as unknown as Job), []);
    next.spec!.completions = 4;
    next.spec!.template!.spec!.containers[0]!.image = 'busybox:2';
    assert.deepEqual(validateJobUpdate(next as unknown as Job, old as unknown as Job).map(errorString), [
      'spec.completions: Invalid value: 4: field is immutable',
      'spec.template: Invalid value: core.PodTemplateSpec{…}: field is immutable',
    ]);
  });

  it('CronJob defaults and validation', () => {
    const cj = { metadata: { name: 'tick' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } } } as unknown as CronJob;
    setCronJobDefaults(cj as unknown as KubeObject);
    assert.deepEqual([cj.spec!.concurrencyPolicy, cj.spec!.suspend, cj.spec!.successfulJobsHistoryLimit, cj.spec!.failedJobsHistoryLimit], ['Allow', false, 3, 1]);
    assert.deepEqual(validateCronJob(cj), []);
    const bad = structuredClone(cj);
    bad.metadata!.name = 'x'.repeat(53);
    bad.spec!.schedule = 'CRON_TZ=UTC 0 0 31 2 *';
    bad.spec!.timeZone = 'Local';
    bad.spec!.startingDeadlineSeconds = -1;
    bad.spec!.jobTemplate.spec!.selector = { matchLabels: { a: 'b' } };
    assert.deepEqual(validateCronJob(bad).map(errorString), [
      'spec.schedule: Invalid value: "CRON_TZ=UTC 0 0 31 2 *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
      'spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
      'spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated',
      `metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`,
    ]);
  });
});

describe('job controller decisions', () => {
  it('a new Job starts: startTime, min(parallelism, completions) pods', () => {
    const p = plan(job({ completions: 5, parallelism: 2 }), []);
    assert.equal(p.createCount, 2);
    assert.equal(p.status.startTime, iso(t0));
    assert.equal(p.status.active, 2);
  });

  it('finished pods are recorded uncounted first, then counted once their finalizers are released', () => {
    const done = pod('Succeeded', { finishedAt: t0 });
    const p = plan(job({ completions: 2, parallelism: 2 }, { startTime: iso(t0) }), [done, pod('Running')]);
    assert.deepEqual(p.uncountedStatus?.uncountedTerminatedPods, { succeeded: [done.metadata.uid], failed: [] });
    assert.deepEqual(p.releaseFinalizers, [done]);
    assert.equal(p.status.succeeded, 1);
    assert.deepEqual(p.status.uncountedTerminatedPods, {});
    assert.equal(p.createCount, 0, 'one running, one left to do');
    // Being released: not looked at again.
    const again = planJob({ job: job({ completions: 2, parallelism: 2 }, { startTime: iso(t0), succeeded: 1 }), pods: [done], now: t0, pendingFinalizerRemovals: new Set([done.metadata.uid!]), expectationsSatisfied: true });
    assert.equal(again.uncountedStatus, undefined);
    assert.equal(again.status.succeeded, 1);
  });

  it('success: SuccessCriteriaMet, then Complete with completionTime once no pod is left terminating', () => {
    const p = plan(job({}, { startTime: iso(t0) }), [pod('Succeeded', { finishedAt: t0 })], t0 + 5000);
    const types = p.status.conditions!.map((c) => [c.type, c.reason, c.message]);
    assert.deepEqual(types, [
      ['SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ['Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'],
    ]);
    assert.equal(p.status.completionTime, iso(t0 + 5000));
    assert.deepEqual(p.events, [{ type: 'Normal', reason: 'Completed', message: 'Job completed' }]);
  });

  it('failures past backoffLimit: FailureTarget, running pods deleted, Failed only after they are gone', () => {
    const running = pod('Running');
    const p = plan(job({ parallelism: 2, completions: 4, backoffLimit: 1 }, { startTime: iso(t0), failed: 1 }), [pod('Failed', { finishedAt: t0 }), running]);
    assert.deepEqual(p.deletePods, [running]);
    assert.deepEqual(p.status.conditions!.map((c) => c.type), ['FailureTarget']);
    assert.equal(p.status.conditions![0]!.reason, 'BackoffLimitExceeded');
    assert.equal(p.status.terminating, 1);
    const later = plan(job({ parallelism: 2, completions: 4, backoffLimit: 1 }, { startTime: iso(t0), failed: 2, conditions: p.status.conditions }), []);
    assert.deepEqual(later.status.conditions!.map((c) => [c.type, c.reason]), [['FailureTarget', 'BackoffLimitExceeded'], ['Failed', 'BackoffLimitExceeded']]);
    assert.deepEqual(later.events, [{ type: 'Warning', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }]);
    assert.equal(later.status.completionTime, undefined);
  });

  it('activeDeadlineSeconds: DeadlineExceeded when past, a requeue for when it will be', () => {
    const j = job({ activeDeadlineSeconds: 30 }, { startTime: iso(t0) });
    const early = plan(j, [pod('Running')], t0 + 10_000);
    assert.equal(early.requeueAfterMs, 20_010);
    const late = plan(j, [pod('Running')], t0 + 30_000);
    assert.equal(late.status.conditions![0]!.reason, 'DeadlineExceeded');
    assert.equal(late.status.conditions![0]!.message, 'Job was active longer than specified deadline');
  });

  it('a pod deleted before finishing counts as failed; with TerminatingOrFailed it is replaced at once', () => {
    const gone = pod('Running', { deleting: true });
    const p = plan(job({}, { startTime: iso(t0) }), [gone]);
    assert.deepEqual(p.uncountedStatus?.uncountedTerminatedPods?.failed, [gone.metadata.uid]);
    assert.equal(p.status.failed, 1);
    assert.equal(p.createCount, 0, 'a failure: the back-off applies first');
    const later = t0 + 11_000;
    const failedPolicy = plan(job({ podReplacementPolicy: 'Failed' }, { startTime: iso(t0), failed: 1 }), [pod('Running', { deleting: true, tracked: false })], later);
    assert.equal(failedPolicy.createCount, 0, 'Failed waits for the terminating pod');
    const terminating = plan(job({}, { startTime: iso(t0), failed: 1 }), [pod('Running', { deleting: true, tracked: false })], later);
    assert.equal(terminating.createCount, 1, 'once the back-off is over');
  });

  it('back-off: 10s after one failure, doubling, counted from the last failure, reset by a success', () => {
    const f = (at: number) => pod('Failed', { finishedAt: at, tracked: false });
    assert.equal(remainingBackoffMs(backoffRecord([f(t0)], t0 + 4000), t0 + 4000), 6000);
    assert.equal(remainingBackoffMs(backoffRecord([f(t0), f(t0 + 1000)], t0 + 1000), t0 + 1000), 20_000);
    assert.equal(remainingBackoffMs(backoffRecord([f(t0), pod('Succeeded', { finishedAt: t0 + 1, tracked: false })], t0), t0), 0);
    assert.equal(remainingBackoffMs(backoffRecord(Array.from({ length: 12 }, () => f(t0)), t0), t0), 600_000);
    const p = plan(job({ backoffLimit: 3 }, { startTime: iso(t0), failed: 1 }), [f(t0)], t0 + 2000);
    assert.equal(p.createCount, 0);
    assert.equal(p.requeueAfterMs, 8000);
  });

  it('Indexed: lowest free indexes, successes go to completedIndexes', () => {
    const j = job({ completionMode: 'Indexed', completions: 5, parallelism: 3 }, { startTime: iso(t0), completedIndexes: '0' });
    const p = plan(j, [pod('Running', { index: 1 }), pod('Succeeded', { index: 3, finishedAt: t0 })]);
    assert.deepEqual(p.createIndexes, [2, 4]);
    assert.equal(p.status.completedIndexes, '0,3');
    assert.equal(p.status.succeeded, 2);
    assert.equal(p.uncountedStatus?.completedIndexes, '0,3');
    assert.deepEqual(firstPendingIndexes(parseIndexes('0-2,4', 6), [], 3, 6), [3, 5]);
    assert.equal(formatIndexes([7, 1, 3, 4, 5]), '1,3-5,7');
    assert.equal(generateNameWithIndex('x'.repeat(60), 12), `${'x'.repeat(54)}-12-`);
  });

  it('suspend: pods deleted, Suspended condition and event, startTime cleared', () => {
    const running = pod('Running', { ready: true });
    const p = plan(job({ suspend: true }, { startTime: iso(t0) }), [running]);
    assert.deepEqual(p.deletePods, [running]);
    assert.equal(p.status.startTime, undefined);
    assert.equal(p.status.active, 0);
    assert.equal(p.status.ready, 0);
    assert.deepEqual(p.status.conditions!.map((c) => [c.type, c.status, c.reason, c.message]), [['Suspended', 'True', 'JobSuspended', 'Job suspended']]);
    assert.deepEqual(p.events, [{ type: 'Normal', reason: 'Suspended', message: 'Job suspended' }]);
  });

  it('TTL: due ttlSecondsAfterFinished after the terminal condition', () => {
    const finished = job({ ttlSecondsAfterFinished: 10 }, { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: iso(t0) }] });
    assert.equal(timeLeft(finished, t0 + 4000), 6000);
    assert.equal(timeLeft(job({ ttlSecondsAfterFinished: 10 }), t0), undefined);
    assert.equal(timeLeft(job({}, finished.status), t0), undefined);
  });
});
