// A small application's manifests, applied as a user would: one directory
// (test/fixtures/app) with `kubectl apply -f app/` and then `kubectl apply
// --server-side -f app/`, on `kubesvc up --nodes 2`. Everything reaches its
// upstream state: the Deployment serves through its Service, the migration
// Job completes, the StatefulSet's pods come up in order and resolve by
// their per-pod names, the CronJob makes its Job on schedule, the custom
// resource is served with its printer column; `kubectl drain` of a node
// keeps the PodDisruptionBudget; every kind lists whole in chunks of 2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Kubectl } from '../helpers/kubectl.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { namespaceSkipReason, onNode } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { fixtures } from '../helpers/fixtures.js';

const app = join(fixtures, 'app');

describe('an application directory applied with kubectl', { skip: namespaceSkipReason(['iptables-restore', 'kubectl', 'dig']), timeout: 300_000 }, () => {
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  let dataDir: string;
  const json = async (args: string[]) => JSON.parse(await kubectl.ok([...args, '-o', 'json']));

  before(async () => {
    cluster = await startUp('app', ['--nodes', '2']);
    ({ dataDir, kubectl } = cluster);
  });
  after(() => cluster?.stop());

  test('kubectl apply -f app/: a custom object waits for its CRD as on any cluster, then everything applies', async () => {
    const first = await kubectl(['apply', '-f', app]);
    if (first.code !== 0) {
      // The directory holds the CRD and an object of it: until the CRD is established the object's kind is unknown to
      // kubectl (upstream: "ensure CRDs are installed first"), and a user applies again.
      assert.match(first.stderr, /ensure CRDs are installed first/, first.stderr);
      await kubectl.ok(['wait', '--for=condition=Established', 'crd/coupons.shop.example.com', '--timeout=30s']);
      await kubectl.ok(['apply', '-f', app]);
    }
    const again = await kubectl.ok(['apply', '-f', app]);
    assert.match(again, /deployment\.apps\/web unchanged/);
    const ssa = await kubectl.ok(['apply', '--server-side', '-f', app]);
    assert.match(ssa, /deployment\.apps\/web serverside-applied/);
    assert.match(ssa, /coupon\.shop\.example\.com\/welcome serverside-applied/);
  });

  test('the Deployment serves through its Service; the Job completes', async () => {
    await kubectl.ok(['rollout', 'status', 'deployment/web', '-n', 'shop', '--timeout=90s']);
    const ip = (await kubectl.ok(['get', 'svc', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    await waitFor('the Service answering', async () => /^web-/.test((await onNode(dataDir, ['curl', '-s', '-m', '2', `http://${ip}/hostname`])).stdout), 30_000);
    await kubectl.ok(['wait', '--for=condition=complete', 'job/migrate', '-n', 'shop', '--timeout=90s']);
    assert.match(await kubectl.ok(['logs', 'job/migrate', '-n', 'shop']), /migrated/);
  });

  test('the StatefulSet: pods Ready in order, each resolvable by its own name', async () => {
    await kubectl.ok(['rollout', 'status', 'statefulset/db', '-n', 'shop', '--timeout=90s']);
    const pods = (await json(['get', 'pods', '-n', 'shop', '-l', 'app=db'])).items as { metadata: { name: string; creationTimestamp: string }; status: { podIP: string } }[];
    const byName = new Map(pods.map((p) => [p.metadata.name, p]));
    assert.deepEqual([...byName.keys()].sort(), ['db-0', 'db-1']);
    assert.ok(byName.get('db-0')!.metadata.creationTimestamp <= byName.get('db-1')!.metadata.creationTimestamp, 'db-1 after db-0');
    const events = await kubectl.ok(['get', 'events', '-n', 'shop', '--field-selector', 'involvedObject.kind=StatefulSet,reason=SuccessfulCreate', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
    assert.match(events, /create Pod db-0 in StatefulSet db successful\n(.*\n)*create Pod db-1 in StatefulSet db successful/);
    for (const name of ['db-0', 'db-1']) {
      const answer = await waitFor(`${name}'s DNS name`, async () => {
        // A busy machine may briefly have no ready DNS pod behind 10.96.0.10 (dig then prints "connection refused" and
        // exits 9): only an address is an answer.
        const r = await onNode(dataDir, ['dig', '@10.96.0.10', '+short', `${name}.db.shop.svc.cluster.local`]);
        const answer = r.stdout.trim();
        return r.code === 0 && /^\d+\.\d+\.\d+\.\d+$/.test(answer) ? answer : undefined;
      }, 20_000);
      assert.equal(answer, byName.get(name)!.status.podIP);
    }
  });

  test('the custom resource: served, validated, with its printer column', async () => {
    // The CRD names its columns, so there is no Age column (upstream defaults one only when a CRD names none).
    assert.match(await kubectl.ok(['get', 'coupons', '-n', 'shop']), /^NAME\s+PERCENT\nwelcome\s+10\n$/);
    const bad = await kubectl(['apply', '-n', 'shop', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'shop.example.com/v1', kind: 'Coupon', metadata: { name: 'greedy' }, spec: { code: 'ALL', percent: 100 } }),
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.percent: Invalid value: 100: spec\.percent in body should be less than or equal to 90/);
  });

  test('the CronJob makes its Job on schedule', async () => {
    const owned = async () =>
      ((await json(['get', 'jobs', '-n', 'shop'])).items as { metadata: { ownerReferences?: { kind: string; name: string }[] } }[]).some((j) =>
        j.metadata.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === 'report'),
      );
    // "* * * * *": the next minute starts within 60 s.
    await waitFor('a Job of the CronJob', owned, 75_000);
    await waitFor('its last schedule time', async () => (await kubectl.ok(['get', 'cronjob', 'report', '-n', 'shop', '-o', 'jsonpath={.status.lastScheduleTime}'])).trim() || undefined, 10_000);
  });

  test('kubectl get --chunk-size=2 lists every object of each kind', async () => {
    for (const kind of ['configmaps', 'secrets', 'serviceaccounts', 'services', 'pods', 'deployments', 'replicasets', 'statefulsets', 'jobs', 'cronjobs', 'poddisruptionbudgets', 'roles', 'rolebindings', 'events', 'coupons']) {
      const whole = (await kubectl.ok(['get', kind, '-A', '-o', 'name'])).trim().split('\n').sort();
      const chunked = (await kubectl.ok(['get', kind, '-A', '-o', 'name', '--chunk-size=2'])).trim().split('\n').sort();
      assert.deepEqual(chunked, whole, kind);
    }
  });

  test('kubectl drain of a node keeps the PodDisruptionBudget', async () => {
    const node = (await kubectl.ok(['get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'jsonpath={.items[0].spec.nodeName}'])).trim();
    const r = await kubectl(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=120s']);
    assert.equal(r.code, 0, r.stderr);
    const pdb = await json(['get', 'pdb', 'web', '-n', 'shop']);
    assert.ok(pdb.status.currentHealthy >= 1, 'never below the budget');
    await kubectl.ok(['rollout', 'status', 'deployment/web', '-n', 'shop', '--timeout=90s']);
    const nodes = (await kubectl.ok(['get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.nodeName}'])).trim().split(' ');
    assert.ok(!nodes.includes(node), `no web pod left on the drained ${node}`);
    await kubectl.ok(['uncordon', node]);
  });
});
