// CronJobs on a real `kubesvc up` cluster: a "* * * * *" CronJob gets its Job
// within the next minute, the Job's busybox pod runs to completion under runc,
// the CronJob records lastScheduleTime and lastSuccessfulTime, and with
// successfulJobsHistoryLimit 1 only the newest finished Job stays after the
// second run. The two waits for the minute boundary are the only long waits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kubectl } from '../helpers/kubectl.js';
import { waitFor } from '../helpers/apiserver.js';
import { namespaceSkipReason } from '../helpers/root.js';
import { startUp, type UpCluster } from '../helpers/up.js';

const ns = 'cronjob-e2e';

interface JobJson {
  metadata: { name: string; uid: string; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

describe('CronJobs under kubesvc up', { skip: namespaceSkipReason([]), timeout: 360_000 }, () => {
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  const jobsOf = async (cj: string): Promise<JobJson[]> =>
    (JSON.parse(await kubectl.ok(['get', 'jobs', '-n', ns, '-o', 'json'])).items as JobJson[]).filter((j) => j.metadata.ownerReferences?.some((r) => r.kind === 'CronJob' && r.name === cj && r.controller));
  const getCronJob = async (name: string) => JSON.parse(await kubectl.ok(['get', 'cronjob', name, '-n', ns, '-o', 'json']));

  before(async () => {
    cluster = await startUp('cronjob');
    ({ kubectl } = cluster);
    await kubectl.ok(['create', 'namespace', ns]);
  });

  after(async () => {
    await kubectl?.(['delete', 'namespace', ns, '--wait=false']);
    await cluster?.stop();
  });

  test('every minute: the Job is created, completes, is recorded, and only the newest finished Job is kept', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'tick', namespace: ns },
        spec: {
          schedule: '* * * * *',
          successfulJobsHistoryLimit: 1,
          jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['echo', 'tick'] }] } } } },
        },
      }),
    });
    const cj = await getCronJob('tick');

    // The next minute boundary, plus the controller's 100 ms and the create.
    const [first] = await waitFor('the first Job', async () => ((await jobsOf('tick')).length ? await jobsOf('tick') : undefined), 75_000);
    assert.match(first!.metadata.name, /^tick-\d+$/);
    const minute = Number(first!.metadata.name.slice('tick-'.length));
    assert.equal(first!.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(minute * 60_000).toISOString().replace('.000Z', 'Z'));
    assert.deepEqual(first!.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);

    await kubectl.ok(['wait', '--for=condition=complete', `job/${first!.metadata.name}`, '-n', ns, '--timeout=120s']);
    assert.match(await kubectl.ok(['logs', `job/${first!.metadata.name}`, '-n', ns]), /^tick/);
    const recorded = await waitFor(
      'lastScheduleTime and lastSuccessfulTime',
      async () => {
        const c = await getCronJob('tick');
        return c.status?.lastSuccessfulTime && !(c.status.active ?? []).some((r: { name: string }) => r.name === first!.metadata.name) ? c : undefined;
      },
      30_000,
    );
    assert.equal(recorded.status.lastScheduleTime, new Date(minute * 60_000).toISOString().replace('.000Z', 'Z'));
    const events = await kubectl.ok(['get', 'events', '-n', ns, '--field-selector=involvedObject.name=tick']);
    assert.match(events, new RegExp(`SuccessfulCreate\\s+cronjob/tick\\s+Created job ${first!.metadata.name}`));
    assert.match(events, new RegExp(`SawCompletedJob\\s+cronjob/tick\\s+Saw completed job: ${first!.metadata.name}, condition: Complete`));

    // The second run: a new Job the next minute; once it completes the first is trimmed.
    const second = `tick-${minute + 1}`;
    await waitFor('the second Job', async () => (await jobsOf('tick')).some((j) => j.metadata.name === second), 75_000);
    await kubectl.ok(['wait', '--for=condition=complete', `job/${second}`, '-n', ns, '--timeout=120s']);
    await waitFor(
      'only the newest finished Job kept',
      async () => {
        const finished = (await jobsOf('tick')).filter((j) => j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'));
        return finished.length === 1 && finished[0]!.metadata.name === second;
      },
      30_000,
    );
    assert.match(await kubectl.ok(['get', 'events', '-n', ns, '--field-selector=involvedObject.name=tick']), new RegExp(`SuccessfulDelete\\s+cronjob/tick\\s+Deleted job ${first!.metadata.name}`));
  });
});
