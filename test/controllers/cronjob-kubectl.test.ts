// kubectl 1.32's batch generator commands against the real API server: they
// send application/vnd.kubernetes.protobuf (never JSON), so the server must
// decode batch/v1 Job and CronJob from protobuf.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, resourceTypes, type Client } from '../../src/client/client.js';
import { createTransport } from '../../src/client/transport.js';
import type { CronJobObject } from '../../src/controllers/cronjob/types.js';
import type { JobObject } from '../../src/controllers/job/types.js';
import { startTestApiServer, type TestApiServer } from '../helpers/apiserver.js';

describe('kubectl create job|cronjob (protobuf bodies)', () => {
  let api: TestApiServer;
  let client: Client;
  const ns = 'default';
  before(async () => {
    api = await startTestApiServer();
    client = createClient(createTransport(api.admin), 'cronjob-kubectl-test');
  });
  after(async () => {
    client?.close();
    await api?.stop();
  });

  /** Runs kubectl at -v=8 and checks the POST went as protobuf; returns stdout. */
  async function createSendingProtobuf(args: string[]): Promise<string> {
    const r = await api.kubectl(['-v=8', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /POST https:\S*\/apis\/batch\/v1\/namespaces\/default\/(jobs|cronjobs)/);
    assert.match(r.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/);
    return r.stdout;
  }

  it('kubectl create job x --image=busybox -- echo hi', async () => {
    assert.match(await createSendingProtobuf(['create', 'job', 'x', '--image=busybox', '--', 'echo', 'hi']), /job.batch\/x created/);
    const job = await client.resource<JobObject>(resourceTypes.jobs).get(ns, 'x');
    const pod = job.spec!.template!.spec!;
    assert.equal(pod.restartPolicy, 'Never');
    assert.deepEqual(
      pod.containers.map((c) => ({ name: c.name, image: c.image, command: c.command })),
      [{ name: 'x', image: 'busybox', command: ['echo', 'hi'] }],
    );
    // Server defaults, not zero values from the wire.
    assert.equal(job.spec!.completions, 1);
    assert.equal(job.spec!.parallelism, 1);
    assert.equal(job.spec!.backoffLimit, 6);
    assert.equal(job.spec!.suspend, false);
    assert.deepEqual(job.spec!.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid } });
  });

  it('kubectl create cronjob x --image=busybox --schedule="*/1 * * * *" -- date, then create job y --from=cronjob/x', async () => {
    assert.match(await createSendingProtobuf(['create', 'cronjob', 'x', '--image=busybox', '--schedule=*/1 * * * *', '--', 'date']), /cronjob.batch\/x created/);
    const cj = await client.resource<CronJobObject>(resourceTypes.cronjobs).get(ns, 'x');
    assert.equal(cj.spec!.schedule, '*/1 * * * *');
    assert.equal(cj.spec!.concurrencyPolicy, 'Allow');
    assert.equal(cj.spec!.suspend, false);
    assert.equal(cj.spec!.successfulJobsHistoryLimit, 3);
    assert.equal(cj.spec!.failedJobsHistoryLimit, 1);
    assert.equal(cj.spec!.timeZone, undefined);
    assert.equal(cj.spec!.startingDeadlineSeconds, undefined);
    assert.equal(cj.spec!.jobTemplate.metadata?.name, 'x');
    const tpl = cj.spec!.jobTemplate.spec!.template!.spec!;
    assert.equal(tpl.restartPolicy, 'OnFailure');
    assert.deepEqual(
      tpl.containers.map((c) => ({ name: c.name, image: c.image, command: c.command })),
      [{ name: 'x', image: 'busybox', command: ['date'] }],
    );

    assert.match(await createSendingProtobuf(['create', 'job', 'y', '--from=cronjob/x']), /job.batch\/y created/);
    const job = await client.resource<JobObject>(resourceTypes.jobs).get(ns, 'y');
    assert.equal(job.metadata.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.deepEqual(job.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'x', uid: cj.metadata.uid, controller: true }]);
    assert.deepEqual(
      job.spec!.template!.spec!.containers.map((c) => ({ name: c.name, image: c.image, command: c.command })),
      [{ name: 'x', image: 'busybox', command: ['date'] }],
    );
    assert.equal(job.spec!.template!.spec!.restartPolicy, 'OnFailure');
    assert.equal(job.spec!.backoffLimit, 6);
  });
});
