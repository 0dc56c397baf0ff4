// The garbage collector, the scheduler and the node lifecycle controller
// against a real API server over HTTP, driven by the real kubectl where a user
// would use it. The test plays the node agents: it posts heartbeats and pod
// status, and finishes graceful pod deletions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import type { Deployment, Event, Node, Pod, ReplicaSet } from '../../src/api/types.js';
import { isNotFound, resourceTypes, type Client, type ResourceClient } from '../../src/client/client.js';
import { addNode, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/apiserver.js';

type Obj<T> = T & KubeObject;
const ns = 'default';

function clients(client: Client) {
  return {
    pods: client.resource<Obj<Pod>>(resourceTypes.pods),
    nodes: client.resource<Obj<Node>>(resourceTypes.nodes),
    deployments: client.resource<Obj<Deployment>>(resourceTypes.deployments),
    replicasets: client.resource<Obj<ReplicaSet>>(resourceTypes.replicasets),
    events: client.resource<Obj<Event>>(resourceTypes.events),
  };
}

const ownerRef = (owner: KubeObject, kind: string, apiVersion: string, controller = true) => ({
  apiVersion,
  kind,
  name: owner.metadata.name!,
  uid: owner.metadata.uid!,
  controller,
  blockOwnerDeletion: controller,
});

const template = (app: string) => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] },
});

async function exists(rc: ResourceClient<KubeObject>, name: string): Promise<KubeObject | undefined> {
  try {
    return await rc.get(ns, name);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

const gone = (rc: ResourceClient<KubeObject>, name: string) => async () => !(await exists(rc, name));

/** Deployment → ReplicaSet → pods, linked by ownerReferences as the workload controllers link them. */
async function ownerChain(client: Client, app: string, podSpecs: Partial<NonNullable<Pod['spec']>>[]) {
  const c = clients(client);
  const deploy = await c.deployments.create(ns, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app },
    spec: { replicas: podSpecs.length, selector: { matchLabels: { app } }, template: template(app) },
  });
  const rs = await c.replicasets.create(ns, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${app}-rs`, labels: { app }, ownerReferences: [ownerRef(deploy, 'Deployment', 'apps/v1')] },
    spec: { replicas: podSpecs.length, selector: { matchLabels: { app } }, template: template(app) },
  });
  const pods: Obj<Pod>[] = [];
  for (const [i, spec] of podSpecs.entries()) {
    pods.push(
      await c.pods.create(ns, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${app}-${i}`, labels: { app }, ownerReferences: [ownerRef(rs, 'ReplicaSet', 'apps/v1')] },
        spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }], ...spec },
      }),
    );
  }
  return { deploy, rs, pods };
}

/** A pod no scheduler picks up, so deleting it is immediate. */
const unbound = { schedulerName: 'nobody' };

async function eventsFor(client: Client, name: string, reason: string) {
  const { items } = await clients(client).events.list(ns);
  return items.filter((e) => e.involvedObject?.name === name && e.reason === reason);
}

describe('garbage collector and scheduler', () => {
  let cluster: TestCluster;
  let c: ReturnType<typeof clients>;

  before(async () => {
    // A long grace: the nodes of this cluster post one heartbeat only.
    cluster = await startTestCluster({ only: ['garbage-collector', 'scheduler', 'node-lifecycle'], options: { nodeMonitorGracePeriodMs: 600_000 } });
    c = clients(cluster.client);
  });
  after(async () => {
    await cluster?.stop();
  });

  test('background: kubectl delete deployment removes its ReplicaSet and pods', async () => {
    const { pods } = await ownerChain(cluster.client, 'bg', [unbound, unbound]);
    // A pod whose owner never existed is collected too, after the server confirms the owner is absent.
    await c.pods.create(ns, {
      metadata: { name: 'bg-stray', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'never-was', uid: '6a1a0e57-0000-4000-8000-000000000000' }] },
      spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }], ...unbound },
    });
    // A pod with a second, live owner loses only the dead reference.
    const keeper = await c.deployments.create(ns, {
      metadata: { name: 'bg-keeper' },
      spec: { selector: { matchLabels: { app: 'keeper' } }, template: template('keeper') },
    });
    await c.pods.patch(ns, pods[1].metadata.name!, { metadata: { ownerReferences: [...pods[1].metadata.ownerReferences!, ownerRef(keeper, 'Deployment', 'apps/v1', false)] } });

    const out = await cluster.kubectl.ok(['delete', 'deployment', 'bg']);
    assert.match(out, /deployment.apps "bg" deleted/);
    await waitFor('ReplicaSet bg-rs collected', gone(c.replicasets, 'bg-rs'));
    await waitFor('pod bg-0 collected', gone(c.pods, 'bg-0'));
    await waitFor('stray pod collected', gone(c.pods, 'bg-stray'));
    const survivor = await waitFor('bg-1 keeps only its live owner', async () => {
      const p = await c.pods.get(ns, 'bg-1');
      return p.metadata.ownerReferences?.length === 1 ? p : undefined;
    });
    assert.equal(survivor.metadata.ownerReferences![0].uid, keeper.metadata.uid);
    assert.equal(survivor.metadata.deletionTimestamp, undefined);
    await cluster.kubectl.ok(['delete', 'deployment', 'bg-keeper']);
    await waitFor('bg-1 collected with its last owner', gone(c.pods, 'bg-1'));
  });

  test('foreground: dependents go first, the owner last; bound pods are deleted gracefully', async () => {
    const { deploy, rs } = await ownerChain(cluster.client, 'fg', [unbound, { nodeName: 'far-away' }]);
    // Record the order of deletions by the store's revision.
    const deletedAt = new Map<string, number>();
    const watches = [c.replicasets, c.deployments, c.pods].map((rc) =>
      (rc as ResourceClient<KubeObject>).watch(
        ns,
        { resourceVersion: deploy.metadata.resourceVersion },
        (e) => {
          if (e.type === 'DELETED') deletedAt.set(`${e.object.kind}/${e.object.metadata.name}`, Number(e.object.metadata.resourceVersion));
        },
        () => {},
      ),
    );
    try {
      await cluster.kubectl.ok(['delete', 'deployment', 'fg', '--cascade=foreground', '--wait=false']);
      await waitFor('unbound pod deleted at once', gone(c.pods, 'fg-0'));
      const terminating = await waitFor('bound pod terminating gracefully', async () => {
        const p = await c.pods.get(ns, 'fg-1');
        return p.metadata.deletionTimestamp ? p : undefined;
      });
      assert.equal(terminating.metadata.deletionGracePeriodSeconds, 30);
      const rsDeleting = await waitFor('ReplicaSet deleting its dependents', async () => {
        const r = await c.replicasets.get(ns, 'fg-rs');
        return r.metadata.deletionTimestamp ? r : undefined;
      });
      assert.deepEqual(rsDeleting.metadata.finalizers, ['foregroundDeletion']);
      await cluster.controllers.idle();
      // The terminating pod blocks the ReplicaSet, which blocks the Deployment.
      const owner = await c.deployments.get(ns, 'fg');
      assert.deepEqual(owner.metadata.finalizers, ['foregroundDeletion']);
      assert.ok(await exists(c.replicasets as ResourceClient<KubeObject>, 'fg-rs'));

      // The node agent finishes the pod.
      await c.pods.delete(ns, 'fg-1', { gracePeriodSeconds: 0 });
      await waitFor('ReplicaSet gone', gone(c.replicasets, 'fg-rs'));
      await waitFor('Deployment gone', gone(c.deployments, 'fg'));
      await waitFor('all deletions observed', () => deletedAt.size === 4);
      const at = (k: string) => deletedAt.get(k)!;
      assert.ok(at('Pod/fg-0') < at('ReplicaSet/fg-rs') && at('Pod/fg-1') < at('ReplicaSet/fg-rs'), JSON.stringify([...deletedAt]));
      assert.ok(at('ReplicaSet/fg-rs') < at('Deployment/fg'), JSON.stringify([...deletedAt]));
      assert.ok(rs.metadata.uid);
    } finally {
      for (const w of watches) w.close();
    }
  });

  test('orphan: kubectl --cascade=orphan leaves dependents without the owner reference', async () => {
    const { rs } = await ownerChain(cluster.client, 'or', [unbound, unbound]);
    await cluster.kubectl.ok(['delete', 'deployment', 'or', '--cascade=orphan']);
    const orphanRs = await c.replicasets.get(ns, 'or-rs');
    assert.equal(orphanRs.metadata.ownerReferences, undefined);
    assert.equal(orphanRs.metadata.deletionTimestamp, undefined);
    for (const name of ['or-0', 'or-1']) assert.equal((await c.pods.get(ns, name)).metadata.ownerReferences?.[0].uid, rs.metadata.uid);

    await cluster.kubectl.ok(['delete', 'rs', 'or-rs', '--cascade=orphan']);
    assert.ok(!(await exists(c.replicasets as ResourceClient<KubeObject>, 'or-rs')));
    await cluster.controllers.idle();
    for (const name of ['or-0', 'or-1']) {
      const p = await c.pods.get(ns, name);
      assert.equal(p.metadata.ownerReferences, undefined);
      assert.equal(p.metadata.deletionTimestamp, undefined);
    }
    const table = await cluster.kubectl.ok(['get', 'pods', '-l', 'app=or', '-o', 'name']);
    assert.deepEqual(table.trim().split('\n').sort(), ['pod/or-0', 'pod/or-1']);
  });

  const scheduled = new Map<string, string>();

  test('scheduler spreads pods evenly over the nodes and records Scheduled', async () => {
    await addNode(cluster.client, 'node-1');
    await addNode(cluster.client, 'node-2', { disk: 'ssd' });
    await addNode(cluster.client, 'node-3');
    for (let i = 0; i < 6; i++) {
      await c.pods.create(ns, { metadata: { name: `spread-${i}`, labels: { app: 'spread' } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] } });
    }
    const bound = await waitFor('all six pods bound', async () => {
      const { items } = await c.pods.list(ns, { labelSelector: 'app=spread' });
      return items.every((p) => p.spec?.nodeName) && items.length === 6 ? items : undefined;
    });
    const perNode = new Map<string, number>();
    for (const p of bound) {
      perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
      scheduled.set(p.metadata.name!, p.spec!.nodeName!);
    }
    assert.deepEqual([...perNode].sort(), [['node-1', 2], ['node-2', 2], ['node-3', 2]]);
    const events = await waitFor('Scheduled event', async () => {
      const e = await eventsFor(cluster.client, 'spread-0', 'Scheduled');
      return e.length ? e : undefined;
    });
    assert.equal(events[0].message, `Successfully assigned default/spread-0 to ${scheduled.get('spread-0')}`);
    assert.equal(events[0].type, 'Normal');
    assert.equal(events[0].source?.component, 'default-scheduler');
    const cond = await waitFor('PodScheduled=True', async () => (await c.pods.get(ns, 'spread-0')).status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'True'));
    assert.ok(cond.lastTransitionTime);
  });

  test('scheduler honours nodeSelector and matchFields node affinity', async () => {
    await c.pods.create(ns, { metadata: { name: 'wants-ssd' }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] } });
    await c.pods.create(ns, {
      metadata: { name: 'wants-node-3' },
      spec: {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-3'] }] }] } } },
        containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }],
      },
    });
    for (const [name, node] of [['wants-ssd', 'node-2'], ['wants-node-3', 'node-3']]) {
      const p = await waitFor(`${name} bound`, async () => ((await c.pods.get(ns, name)).spec?.nodeName ? c.pods.get(ns, name) : undefined));
      assert.equal(p.spec?.nodeName, node);
      scheduled.set(name, node);
    }
  });

  test('a pod nothing fits stays Pending as Unschedulable, then binds when a matching node appears', async () => {
    await c.pods.create(ns, { metadata: { name: 'to-mars' }, spec: { nodeSelector: { zone: 'mars' }, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] } });
    const expected =
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
    const cond = await waitFor('PodScheduled=False', async () => (await c.pods.get(ns, 'to-mars')).status?.conditions?.find((x) => x.type === 'PodScheduled'));
    assert.deepEqual({ status: cond.status, reason: cond.reason, message: cond.message }, { status: 'False', reason: 'Unschedulable', message: expected });
    const failed = await waitFor('FailedScheduling event', async () => {
      const e = await eventsFor(cluster.client, 'to-mars', 'FailedScheduling');
      return e.length ? e : undefined;
    });
    assert.equal(failed[0].type, 'Warning');
    assert.equal(failed[0].message, expected);
    const describe = await cluster.kubectl.ok(['describe', 'pod', 'to-mars']);
    assert.match(describe, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available/);
    assert.equal((await c.pods.get(ns, 'to-mars')).spec?.nodeName, undefined);

    await addNode(cluster.client, 'node-4', { zone: 'mars' });
    const p = await waitFor('to-mars bound to the new node', async () => {
      const pod = await c.pods.get(ns, 'to-mars');
      return pod.spec?.nodeName ? pod : undefined;
    });
    assert.equal(p.spec?.nodeName, 'node-4');
    scheduled.set('to-mars', 'node-4');
    const cond2 = await waitFor('PodScheduled=True', async () => (await c.pods.get(ns, 'to-mars')).status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'True'));
    assert.equal(cond2.reason, undefined);
  });

  test('restarted controllers converge: no pod is bound twice, nothing is collected wrongly', async () => {
    await cluster.restartControllers();
    await cluster.controllers.idle();
    for (const [name, node] of scheduled) {
      assert.equal((await c.pods.get(ns, name)).spec?.nodeName, node, name);
      const events = await eventsFor(cluster.client, name, 'Scheduled');
      assert.equal(events.reduce((n, e) => n + (e.count ?? 1), 0), 1, `${name} was scheduled once`);
    }
    for (const name of ['or-0', 'or-1']) assert.ok(await exists(c.pods as ResourceClient<KubeObject>, name));
    // The restarted collector still works from fresh caches.
    await ownerChain(cluster.client, 'again', [unbound]);
    await cluster.kubectl.ok(['delete', 'deployment', 'again']);
    await waitFor('again-0 collected', gone(c.pods, 'again-0'));
  });
});

describe('node lifecycle', () => {
  let cluster: TestCluster;
  let c: ReturnType<typeof clients>;
  const beating = new Map<string, NodeJS.Timeout>();

  /** What an agent does: post Ready=True with a fresh heartbeat. */
  async function beat(name: string) {
    try {
      const node = await c.nodes.get(undefined, name);
      const now = new Date().toISOString();
      const others = (node.status?.conditions ?? []).filter((x) => x.type !== 'Ready');
      const old = node.status?.conditions?.find((x) => x.type === 'Ready');
      node.status!.conditions = [
        ...others,
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : now },
      ];
      await c.nodes.updateStatus(node);
    } catch {
      /* a lost race with the controller: the next beat wins */
    }
  }
  function startBeating(name: string) {
    void beat(name);
    beating.set(
      name,
      setInterval(() => void beat(name), 150),
    );
  }
  function stopBeating(name: string) {
    clearInterval(beating.get(name));
    beating.delete(name);
  }

  async function runningPod(name: string, node: string) {
    const p = await c.pods.create(ns, { metadata: { name, labels: { app: 'lc' } }, spec: { nodeName: node, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] } });
    p.status = { ...p.status, phase: 'Running', podIP: '10.244.0.9', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] };
    return c.pods.updateStatus(p);
  }

  before(async () => {
    cluster = await startTestCluster({ only: ['scheduler', 'node-lifecycle'], options: { nodeMonitorGracePeriodMs: 1000 } });
    c = clients(cluster.client);
    for (const name of ['lc-1', 'lc-2']) {
      await addNode(cluster.client, name);
      startBeating(name);
    }
  });
  after(async () => {
    for (const name of [...beating.keys()]) stopBeating(name);
    await cluster?.stop();
  });

  test('a node whose heartbeats stop turns Unknown, is tainted, and its pods become not Ready; it recovers on the next heartbeat', async () => {
    await runningPod('lc-a', 'lc-1');
    await runningPod('lc-b', 'lc-2');
    await runningPod('lc-c', 'lc-2');
    const started = Date.now();
    stopBeating('lc-1');

    const ready = await waitFor('lc-1 Ready=Unknown', async () => {
      const cond = (await c.nodes.get(undefined, 'lc-1')).status?.conditions?.find((x) => x.type === 'Ready');
      return cond?.status === 'Unknown' ? cond : undefined;
    });
    assert.ok(Date.now() - started >= 1000, 'not before the grace period');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    const node = await waitFor('unreachable taint', async () => {
      const n = await c.nodes.get(undefined, 'lc-1');
      return n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule') ? n : undefined;
    });
    assert.ok(node.spec!.taints!.find((t) => t.key === 'node.kubernetes.io/unreachable')!.timeAdded);
    const podCond = await waitFor('lc-a not Ready', async () => (await c.pods.get(ns, 'lc-a')).status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'False'));
    assert.ok(podCond);
    const table = await cluster.kubectl.ok(['get', 'nodes']);
    assert.match(table, /^lc-1\s+NotReady\b/m);
    assert.match(table, /^lc-2\s+Ready\b/m);
    await waitFor('NodeNotReady event on the pod', async () => (await eventsFor(cluster.client, 'lc-a', 'NodeNotReady')).find((e) => e.type === 'Warning' && e.message === 'Node is not ready'));
    await waitFor('NodeNotReady event on the node', async () =>
      (await eventsFor(cluster.client, 'lc-1', 'NodeNotReady')).find((e) => e.message === 'Node lc-1 status is now: NodeNotReady' && e.source?.component === 'node-controller'),
    );
    // Pods on the healthy node are untouched and it never flapped.
    assert.equal((await c.pods.get(ns, 'lc-b')).status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
    assert.deepEqual(await eventsFor(cluster.client, 'lc-2', 'NodeNotReady'), []);

    // The scheduler keeps new pods off the unreachable node, although it has the fewest pods.
    await c.pods.create(ns, { metadata: { name: 'lc-new' }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] } });
    const placed = await waitFor('lc-new bound', async () => (await c.pods.get(ns, 'lc-new')).spec?.nodeName);
    assert.equal(placed, 'lc-2');

    startBeating('lc-1');
    await waitFor('lc-1 Ready and untainted', async () => {
      const n = await c.nodes.get(undefined, 'lc-1');
      return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' && !n.spec?.taints?.length;
    });
    await cluster.controllers.idle();
    assert.equal((await c.nodes.get(undefined, 'lc-1')).spec?.taints, undefined);
  });

  test("a node whose Lease is renewed stays Ready while its status heartbeats pause; without either it goes Unknown", async () => {
    const leases = cluster.client.resource<KubeObject & { spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string } }>(resourceTypes.leases);
    const micro = () => new Date().toISOString().replace(/Z$/, '000Z');
    await leases.create('kube-node-lease', { metadata: { name: 'lc-1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'lc-1', leaseDurationSeconds: 40, renewTime: micro() } });
    let renewals = 0;
    const renew = setInterval(() => {
      void leases
        .get('kube-node-lease', 'lc-1')
        .then((l) => leases.update({ ...l, spec: { ...l.spec, renewTime: micro() } }))
        .then(() => renewals++, () => undefined);
    }, 150);
    try {
      stopBeating('lc-1');
      // Twice the 1 s grace period of renewals alone.
      await waitFor('20 lease renewals', () => renewals >= 20, 20_000);
      assert.equal((await c.nodes.get(undefined, 'lc-1')).status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True', 'the Lease kept it healthy');
    } finally {
      clearInterval(renew);
    }
    await waitFor('lc-1 Unknown without either heartbeat', async () => (await c.nodes.get(undefined, 'lc-1')).status?.conditions?.find((x) => x.type === 'Ready')?.status === 'Unknown');
    startBeating('lc-1');
    await waitFor('lc-1 recovers', async () => !(await c.nodes.get(undefined, 'lc-1')).spec?.taints?.length);
  });

  test('a pod on an unready node that reports Ready again is marked not Ready again', async () => {
    stopBeating('lc-2');
    await waitFor('lc-2 Unknown', async () => (await c.nodes.get(undefined, 'lc-2')).status?.conditions?.find((x) => x.type === 'Ready')?.status === 'Unknown');
    await waitFor('lc-b not Ready', async () => (await c.pods.get(ns, 'lc-b')).status?.conditions?.find((x) => x.type === 'Ready')?.status === 'False');
    const p = await c.pods.get(ns, 'lc-b');
    p.status!.conditions = p.status!.conditions!.map((x) => (x.type === 'Ready' ? { ...x, status: 'True' } : x));
    await c.pods.updateStatus(p);
    await waitFor('lc-b marked not Ready again', async () => (await c.pods.get(ns, 'lc-b')).status?.conditions?.find((x) => x.type === 'Ready')?.status === 'False');
    startBeating('lc-2');
    await waitFor('lc-2 recovers', async () => !(await c.nodes.get(undefined, 'lc-2')).spec?.taints?.length);
  });
});
