// kubectl drain on a real two-node `kubesvc up` cluster: a Deployment of 2
// guarded by a PodDisruptionBudget (minAvailable 1) sits on node-1; draining
// node-1 cordons it and evicts the pods one at a time — the second eviction
// is refused (429) until the first pod's replacement is Ready on node-2 — so
// at least one Ready pod is there throughout. The node agents keep their
// heartbeat Leases in kube-node-lease renewed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/object.js';
import type { Pod } from '../../src/api/types.js';
import { createClient, resourceTypes, type Client } from '../../src/client/client.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { createTransport } from '../../src/client/transport.js';
import type { Kubectl } from '../helpers/kubectl.js';
import { waitFor } from '../helpers/apiserver.js';
import { namespaceSkipReason } from '../helpers/root.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { isPodReady as isReady } from '../../src/controllers/workloads/pods.js';

type PodObject = Pod & KubeObject;

const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: registry.k8s.io/e2e-test-images/agnhost:2.39
        args: [netexec, --http-port=80]
        readinessProbe:
          httpGet: {path: /hostname, port: 80}
          periodSeconds: 1
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: web}
`;


describe('kubectl drain honours a PodDisruptionBudget under kubesvc up', { skip: namespaceSkipReason(), timeout: 400_000 }, () => {
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  let client: Client;
  let watch: { close(): void } | undefined;
  /** The web pods as the watch last saw them, and the fewest ready-and-not-deleting once two were. */
  const live = new Map<string, PodObject>();
  let fewestAvailable = Infinity;
  let watching = false;
  const available = () => [...live.values()].filter((p) => isReady(p) && !p.metadata.deletionTimestamp).length;

  before(async () => {
    cluster = await startUp('drain', ['--nodes', '2']);
    kubectl = cluster.kubectl;
    client = createClient(createTransport(loadKubeconfig(join(cluster.dataDir, 'kubeconfig'))), 'drain-e2e');
    watch = client.resource<PodObject>(resourceTypes.pods).watch(
      'default',
      { labelSelector: 'app=web' },
      (e) => {
        if (e.type === 'DELETED') live.delete(e.object.metadata.uid!);
        else if (e.type === 'ADDED' || e.type === 'MODIFIED') live.set(e.object.metadata.uid!, e.object);
        if (watching) fewestAvailable = Math.min(fewestAvailable, available());
      },
      () => undefined,
    );
  });

  after(async () => {
    watch?.close();
    client?.close();
    await cluster?.stop();
  });

  test('each node keeps a Lease in kube-node-lease, held by it, owned by its Node, and renews it', async () => {
    const leases = client.resource(resourceTypes.leases);
    const first = await waitFor('node-1 lease', () => leases.get('kube-node-lease', 'node-1').catch(() => undefined), 30_000);
    const spec = first.spec as { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
    assert.equal(spec.holderIdentity, 'node-1');
    assert.equal(spec.leaseDurationSeconds, 40);
    const node = await client.resource(resourceTypes.nodes).get(undefined, 'node-1');
    assert.deepEqual(first.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: node.metadata.uid }]);
    await waitFor(
      'node-1 lease renewed',
      async () => {
        const now = (await leases.get('kube-node-lease', 'node-1')).spec as { renewTime?: string };
        return Date.parse(now.renewTime!) > Date.parse(spec.renewTime!);
      },
      30_000,
    );
    assert.match(await kubectl.ok(['get', 'leases', '-n', 'kube-node-lease']), /^NAME\s+HOLDER\s+AGE\nnode-1\s+node-1\s+\S+\nnode-2\s+node-2\s+\S+\n$/);
  });

  test('drain node-1: cordoned, pods evicted one at a time, never fewer than 1 available', async () => {
    // Both pods on node-1: node-2 is cordoned while they start.
    await kubectl.ok(['cordon', 'node-2']);
    await kubectl.ok(['apply', '-f', '-'], { input: manifest });
    await kubectl.ok(['rollout', 'status', 'deploy/web', '--timeout=120s']);
    assert.deepEqual([...live.values()].map((p) => p.spec?.nodeName), ['node-1', 'node-1']);
    await waitFor('the budget allowing one disruption', async () => /\nweb\s+1\s+N\/A\s+1\s/.test(await kubectl.ok(['get', 'pdb', 'web'])), 30_000);
    await kubectl.ok(['uncordon', 'node-2']);

    watching = true;
    fewestAvailable = available();
    const drained = await kubectl(['drain', 'node-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=240s']);
    watching = false;
    assert.equal(drained.code, 0, drained.stderr);
    const out = drained.stdout;
    // The second eviction waited for the budget: kubectl reports the 429 and retries.
    assert.match(drained.stderr, /error when evicting pods\/"web-\S+" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    assert.match(out, /node\/node-1 cordoned/);
    assert.match(out, /node\/node-1 drained/);
    const evicted = [...out.matchAll(/pod\/(web-\S+) evicted/g)].map((m) => m[1]);
    assert.equal(evicted.length, 2, out);
    assert.ok(fewestAvailable >= 1, `at least one pod available throughout (fewest: ${fewestAvailable})`);
    assert.match(await kubectl.ok(['get', 'node', 'node-1', '-o', 'jsonpath={.spec.unschedulable}']), /^true$/);
    await kubectl.ok(['rollout', 'status', 'deploy/web', '--timeout=120s']);
    const nodes = (await kubectl.ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.nodeName}'])).split(' ');
    assert.deepEqual(nodes, ['node-2', 'node-2']);
    await kubectl.ok(['uncordon', 'node-1']);
    await kubectl.ok(['delete', '-f', '-'], { input: manifest });
  });
});
