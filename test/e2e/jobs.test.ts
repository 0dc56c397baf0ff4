// Jobs on a real `kubesvc up` cluster: busybox pods run to completion under
// runc, the job controller counts them (finalizer tracking), retries failures
// with its back-off until backoffLimit, gives Indexed pods their
// JOB_COMPLETION_INDEX, and the TTL-after-finished controller removes a
// finished Job with its pods. kubectl drives everything (apply, wait, logs,
// get, describe).
//
// The Jobs are applied as manifests (`kubectl create job`, which sends
// protobuf, is tried in test/controllers/cronjob-kubectl.test.ts); CronJob
// schedules run in test/e2e/cronjob.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kubectl } from '../helpers/kubectl.js';
import { waitFor } from '../helpers/apiserver.js';
import { namespaceSkipReason } from '../helpers/root.js';
import { startUp, type UpCluster } from '../helpers/up.js';

const ns = 'jobs-e2e';

function job(name: string, spec: Record<string, unknown>, command: string[]) {
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: { ...spec, template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command }] } } },
  });
}

describe('Jobs under kubesvc up', { skip: namespaceSkipReason([]), timeout: 300_000 }, () => {
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  const get = async (name: string) => JSON.parse(await kubectl.ok(['get', 'job', name, '-n', ns, '-o', 'json']));
  const conditionOf = (j: { status?: { conditions?: { type: string; status: string; reason?: string }[] } }, type: string) =>
    j.status?.conditions?.find((c) => c.type === type && c.status === 'True');

  before(async () => {
    cluster = await startUp('jobs');
    ({ kubectl } = cluster);
    await kubectl.ok(['create', 'namespace', ns]);
  });

  after(async () => {
    await kubectl?.(['delete', 'namespace', ns, '--wait=false']);
    await cluster?.stop();
  });

  test('3 completions, 2 at a time: Complete, logs through kubectl logs job/…', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: job('three', { completions: 3, parallelism: 2 }, ['sh', '-c', 'echo done-$HOSTNAME']) });
    await kubectl.ok(['wait', '--for=condition=complete', 'job/three', '-n', ns, '--timeout=120s']);
    const j = await get('three');
    assert.equal(j.status.succeeded, 3);
    assert.equal(j.status.failed, undefined);
    assert.ok(j.status.completionTime);
    assert.match(await kubectl.ok(['get', 'job', 'three', '-n', ns]), /three\s+Complete\s+3\/3\s+\S+\s+\S+/);
    assert.match(await kubectl.ok(['logs', 'job/three', '-n', ns]), /^done-three-/);
    const pods = JSON.parse(await kubectl.ok(['get', 'pods', '-n', ns, '-l', 'batch.kubernetes.io/job-name=three', '-o', 'json'])).items;
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.equal(p.status.phase, 'Succeeded');
      assert.deepEqual(p.metadata.finalizers ?? [], [], 'counted and released');
    }
    assert.match(await kubectl.ok(['describe', 'job', 'three', '-n', ns]), /Pods Statuses:\s+0 Active \(0 Ready\) \/ 3 Succeeded \/ 0 Failed/);
  });

  test('a failing Job is retried after the back-off and Fails with BackoffLimitExceeded at backoffLimit 1', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: job('fails', { backoffLimit: 1 }, ['sh', '-c', 'exit 3']) });
    const failed = await waitFor(
      'Failed',
      async () => {
        const j = await get('fails');
        return conditionOf(j, 'Failed') ? j : undefined;
      },
      90_000,
    );
    assert.equal(conditionOf(failed, 'Failed')!.reason, 'BackoffLimitExceeded');
    assert.equal(failed.status.failed, 2);
    assert.match(await kubectl.ok(['get', 'job', 'fails', '-n', ns]), /fails\s+Failed\s+0\/1/);
    const events = await kubectl.ok(['get', 'events', '-n', ns, '--field-selector=involvedObject.name=fails']);
    assert.match(events, /BackoffLimitExceeded\s+job\/fails\s+Job has reached the specified backoff limit/);
  });

  test('an Indexed Job: each pod sees its JOB_COMPLETION_INDEX and hostname', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      input: job('indexed', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, ['sh', '-c', 'echo index=$JOB_COMPLETION_INDEX host=$(hostname)']),
    });
    await kubectl.ok(['wait', '--for=condition=complete', 'job/indexed', '-n', ns, '--timeout=120s']);
    assert.equal((await get('indexed')).status.completedIndexes, '0-2');
    const pods = JSON.parse(await kubectl.ok(['get', 'pods', '-n', ns, '-l', 'batch.kubernetes.io/job-name=indexed', '-o', 'json'])).items;
    const lines = await Promise.all(pods.map((p: { metadata: { name: string } }) => kubectl.ok(['logs', p.metadata.name, '-n', ns])));
    assert.deepEqual(lines.map((l) => l.trim()).sort(), ['index=0 host=indexed-0', 'index=1 host=indexed-1', 'index=2 host=indexed-2']);
  });

  test('ttlSecondsAfterFinished: 0 deletes the Job and its pods once it finished', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: job('brief', { ttlSecondsAfterFinished: 0 }, ['true']) });
    await waitFor('the Job is gone', async () => (await kubectl(['get', 'job', 'brief', '-n', ns])).stderr.includes('NotFound'), 90_000);
    await waitFor('its pod is gone', async () => (await kubectl.ok(['get', 'pods', '-n', ns, '-l', 'batch.kubernetes.io/job-name=brief', '-o', 'name'])).trim() === '', 60_000);
  });
});
