// PodDisruptionBudgets, the eviction subresource and Leases through the real
// API server and the real kubectl: validation words, tables, the disruption
// controller's status, evictions allowed (201 Success, the budget spent and
// the pod recorded) and refused (429 with the DisruptionBudget cause), more
// than one budget, dry runs, unbudgeted pods; a node's own lease only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../src/api/object.js';
import type { Pod } from '../src/api/types.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { isNotFound, resourceTypes } from '../src/client/client.js';
import { addNode, startTestCluster, type TestCluster } from './helpers/cluster.js';
import { waitFor } from './helpers/apiserver.js';
import { startFakeKubelet, type FakeKubelet } from './helpers/fake-kubelet.js';
import { isPodReady as isReady } from '../src/controllers/workloads/pods.js';

type PodObject = Pod & KubeObject;
type BudgetObject = PodDisruptionBudget & KubeObject;

const ns = 'default';

function deployment(name: string, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } },
    },
  };
}

const evictionOf = (pod: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns }, ...extra });

describe('PodDisruptionBudgets and evictions', () => {
  let c: TestCluster;
  let kubelet: FakeKubelet;
  const pods = () => c.client.resource<PodObject>(resourceTypes.pods);
  const budgets = () => c.client.resource<BudgetObject>(resourceTypes.poddisruptionbudgets);
  const livePods = async (app: string) => (await pods().list(ns, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
  const evict = (pod: string, body: unknown = evictionOf(pod), query = '') => c.request('POST', `/api/v1/namespaces/${ns}/pods/${pod}/eviction${query}`, body);
  const budgetStatus = async (name: string) => (await budgets().get(ns, name)).status!;

  before(async () => {
    c = await startTestCluster({ only: ['deployment', 'replicaset', 'scheduler', 'garbage-collector', 'disruption'] });
    await addNode(c.client, 'node-1');
    kubelet = await startFakeKubelet(c.client, { readyAfterMs: 100 });
  });
  after(async () => {
    kubelet.stop();
    await c.stop();
  });

  test('validation: minAvailable and maxUnavailable are exclusive, percentages at most 100%, in upstream words', async () => {
    const both = await c.kubectl(['create', 'pdb', 'both', '--selector=app=x', '--min-available=1', '--max-unavailable=1']);
    // kubectl refuses the pair itself; the server's words come from a manifest with both.
    assert.notEqual(both.code, 0);
    const r = await c.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'both' }, spec: { minAvailable: 1, maxUnavailable: '10%', selector: { matchLabels: { app: 'x' } } } }),
    });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /The PodDisruptionBudget "both" is invalid: spec: Invalid value: policy\.PodDisruptionBudgetSpec\{MinAvailable:\(\*intstr\.IntOrString\)\(…\), Selector:\(\*v1\.LabelSelector\)\(…\), MaxUnavailable:\(\*intstr\.IntOrString\)\(…\), UnhealthyPodEvictionPolicy:\(\*policy\.UnhealthyPodEvictionPolicyType\)\(nil\)\}: minAvailable and maxUnavailable cannot be both set/,
    );
    const pct = await c.kubectl(['create', 'pdb', 'pct', '--selector=app=x', '--min-available=120%']);
    assert.match(pct.stderr, /spec\.minAvailable: Invalid value: intstr\.IntOrString\{Type:1, IntVal:0, StrVal:"120%"\}: must not be greater than 100%/);
    const policy = await c.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pol' }, spec: { minAvailable: 1, unhealthyPodEvictionPolicy: 'Never' } }),
    });
    assert.match(policy.stderr, /spec\.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"/);
  });

  test('a budget over a Deployment of 2: status from the controller, the table, then one eviction allowed and the next refused with 429', async () => {
    await c.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(deployment('web', 2)) });
    await c.kubectl.ok(['create', 'pdb', 'web', '--selector=app=web', '--min-available=1']);
    await waitFor('two ready web pods', async () => (await livePods('web')).filter(isReady).length === 2, 20_000);
    const status = await waitFor('the budget allowing one disruption', async () => {
      const s = await budgetStatus('web');
      return s.disruptionsAllowed === 1 && s.currentHealthy === 2 ? s : undefined;
    });
    assert.equal(status.desiredHealthy, 1);
    assert.equal(status.expectedPods, 2);
    assert.equal(status.observedGeneration, 1);
    const cond = status.conditions?.find((x) => x.type === 'DisruptionAllowed');
    assert.equal(cond?.status, 'True');
    assert.equal(cond?.reason, 'SufficientPods');

    const table = await c.kubectl.ok(['get', 'pdb', 'web']);
    assert.match(table, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\n/);
    assert.match(table, /\nweb\s+1\s+N\/A\s+1\s+\d+s\n/);

    // Discovery lists pods/eviction as policy/v1 Eviction, which kubectl drain looks for.
    const resources = await c.request('GET', '/api/v1');
    const entry = resources.json.resources.find((r: { name: string }) => r.name === 'pods/eviction');
    assert.deepEqual(entry, { name: 'pods/eviction', singularName: '', namespaced: true, kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' });

    const [first, second] = (await livePods('web')).map((p) => p.metadata.name!);
    const dry = await evict(first!, evictionOf(first!), '?dryRun=All');
    assert.equal(dry.status, 201, dry.text);
    assert.equal((await pods().get(ns, first!)).metadata.deletionTimestamp, undefined, 'a dry run deletes nothing');
    assert.equal((await budgetStatus('web')).disruptionsAllowed, 1, 'a dry run spends nothing');

    const ok = await evict(first!);
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const evicted = await pods()
      .get(ns, first!)
      .catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
    if (evicted) {
      assert.ok(evicted.metadata.deletionTimestamp, 'the evicted pod is being deleted');
      const target = evicted.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
      assert.equal(target?.reason, 'EvictionByEvictionAPI');
      assert.equal(target?.message, 'Eviction API: evicting');
    }
    const spent = await budgetStatus('web');
    assert.ok(spent.disruptionsAllowed === 0, 'the eviction spent the one disruption');

    const refused = await evict(second!);
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.reason, 'TooManyRequests');
    assert.equal(refused.json.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal(refused.json.details.causes[0].reason, 'DisruptionBudget');
    assert.match(refused.json.details.causes[0].message, /^The disruption budget web needs 1 healthy pods and has [01] currently$|^The disruption budget web is still being processed by the server\.$/);
    assert.equal((await pods().get(ns, second!)).metadata.deletionTimestamp, undefined, 'a refused eviction deletes nothing');

    // The replacement turns ready and the budget allows one again.
    await waitFor('the budget allowing one disruption again', async () => (await budgetStatus('web')).disruptionsAllowed === 1, 20_000);
    const again = await evict(second!);
    assert.equal(again.status, 201, again.text);
  });

  test('bad evictions: a name that differs, two budgets over one pod, a pod without a budget', async () => {
    await c.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(deployment('two', 1)) });
    await c.kubectl.ok(['create', 'pdb', 'two-a', '--selector=app=two', '--max-unavailable=1']);
    await c.kubectl.ok(['create', 'pdb', 'two-b', '--selector=app=two', '--min-available=50%']);
    const pod = await waitFor('a ready pod', async () => (await livePods('two')).find(isReady));
    const name = pod.metadata.name!;

    const mismatch = await evict(name, evictionOf('someone-else'));
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json.message, 'name in URL does not match name in Eviction object');

    const two = await evict(name);
    assert.equal(two.status, 500);
    assert.deepEqual(two.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      code: 500,
    });

    // No budget: evicted at once; a pod that is gone is a 404.
    await c.kubectl.ok(['delete', 'pdb', 'two-a', 'two-b']);
    const free = await evict(name);
    assert.equal(free.status, 201, free.text);
    const missing = await evict('no-such-pod');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.message, 'pods "no-such-pod" not found');
  });

  test('kubectl evicts through the subresource with create --raw', async () => {
    await c.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(deployment('raw', 1)) });
    const pod = await waitFor('a ready pod', async () => (await livePods('raw')).find(isReady));
    const out = await c.kubectl.ok(['create', '--raw', `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/eviction`, '-f', '-'], {
      input: JSON.stringify(evictionOf(pod.metadata.name!)),
    });
    assert.equal(JSON.parse(out).status, 'Success');
  });
});

describe('Leases', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster({ only: [] });
  });
  after(() => c.stop());

  const lease = (name: string, namespace: string, spec: Record<string, unknown>) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec });

  test('served with validation and the NAME HOLDER AGE table', async () => {
    await c.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(lease('lock', 'default', { holderIdentity: 'me', leaseDurationSeconds: 15 })) });
    await c.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(lease('free', 'default', {})) });
    const table = await c.kubectl.ok(['get', 'leases', '-n', 'default']);
    assert.match(table, /^NAME\s+HOLDER\s+AGE\n/);
    assert.match(table, /\nlock\s+me\s+\d+s\n/);
    assert.match(table, /\nfree\s+\d+s\n/);
    const bad = await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(lease('bad', 'default', { leaseDurationSeconds: 0, leaseTransitions: -1 })) });
    assert.match(bad.stderr, /spec\.leaseDurationSeconds: Invalid value: 0: must be greater than 0/);
    assert.match(bad.stderr, /spec\.leaseTransitions: Invalid value: -1: must be greater than or equal to 0/);
  });

  test('a node may keep its own lease in kube-node-lease and touch no other', async () => {
    const node = c.as({ name: 'system:node:node-1', groups: ['system:nodes'] });
    const asNode = (method: string, path: string, body?: unknown) => c.request(method, path, body, {}, node);
    const base = '/apis/coordination.k8s.io/v1/namespaces';
    const own = await asNode('POST', `${base}/kube-node-lease/leases`, lease('node-1', 'kube-node-lease', { holderIdentity: 'node-1', leaseDurationSeconds: 40 }));
    assert.equal(own.status, 201, own.text);
    const renewed = await asNode('PUT', `${base}/kube-node-lease/leases/node-1`, { ...own.json, spec: { ...own.json.spec, renewTime: '2026-01-01T00:00:00.000000Z' } });
    assert.equal(renewed.status, 200, renewed.text);

    const other = await asNode('POST', `${base}/kube-node-lease/leases`, lease('node-2', 'kube-node-lease', { holderIdentity: 'node-1' }));
    assert.equal(other.status, 403);
    assert.equal(other.json.message, 'leases.coordination.k8s.io "node-2" is forbidden: can only access node lease with the same name as the requesting node');
    await c.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(lease('node-2', 'kube-node-lease', { holderIdentity: 'node-2' })) });
    const steal = await asNode('DELETE', `${base}/kube-node-lease/leases/node-2`);
    assert.equal(steal.status, 403);
    assert.match(steal.json.message, /can only access node lease with the same name as the requesting node/);
    const elsewhere = await asNode('GET', `${base}/default/leases/node-1`);
    assert.equal(elsewhere.status, 403);
    assert.match(elsewhere.json.message, /can only access leases in the "kube-node-lease" system namespace/);
  });
});
