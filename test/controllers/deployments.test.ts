// Deployments, ReplicaSets and DaemonSets end to end: the real API server, the
// controllers over HTTP, the real kubectl, and a fake kubelet that turns bound
// pods Ready after a short delay and finishes graceful deletions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import type { DaemonSet, Deployment, Node, Pod, ReplicaSet } from '../../src/api/types.js';
import { resourceTypes, type WatchEventOf } from '../../src/client/client.js';
import { addNode, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/apiserver.js';
import { startFakeKubelet, type FakeKubelet } from '../helpers/fake-kubelet.js';
import { isPodReady as isReady } from '../../src/controllers/workloads/pods.js';

type DeploymentObject = Deployment & KubeObject;
type ReplicaSetObject = ReplicaSet & KubeObject;
type DaemonSetObject = DaemonSet & KubeObject;
type PodObject = Pod & KubeObject;
type NodeObject = Node & KubeObject;

const ns = 'default';

function deployment(name: string, spec: Record<string, unknown> = {}, image = 'nginx:1.25') {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
      ...spec,
    },
  };
}

const live = (p: PodObject) => !p.metadata.deletionTimestamp;

describe('workload controllers', () => {
  let c: TestCluster;
  let kubelet: FakeKubelet;
  const deployments = () => c.client.resource<DeploymentObject>(resourceTypes.deployments);
  const replicasets = () => c.client.resource<ReplicaSetObject>(resourceTypes.replicasets);
  const daemonsets = () => c.client.resource<DaemonSetObject>(resourceTypes.daemonsets);
  const pods = () => c.client.resource<PodObject>(resourceTypes.pods);
  const nodes = () => c.client.resource<NodeObject>(resourceTypes.nodes);
  const podsOf = async (app: string) => (await pods().list(ns, { labelSelector: `app=${app}` })).items;
  const rsOf = async (app: string) => (await replicasets().list(ns, { labelSelector: `app=${app}` })).items;
  const apply = (obj: unknown) => c.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(obj) });

  /** The rollout is complete as `kubectl rollout status` judges it. */
  async function rolledOut(name: string, replicas: number, timeoutMs = 15_000) {
    return waitFor(
      `deployment ${name} rolled out with ${replicas}`,
      async () => {
        const d = await deployments().get(ns, name);
        const s = d.status ?? {};
        const done =
          (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
          (s.updatedReplicas ?? 0) === replicas &&
          (s.replicas ?? 0) === replicas &&
          (s.availableReplicas ?? 0) === replicas &&
          s.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable');
        return done && d;
      },
      timeoutMs,
    );
  }

  /** Watches an app's pods and reports, at every change, how many are Ready and not being deleted. */
  function watchReady(app: string) {
    const state = new Map<string, PodObject>();
    let min = Infinity;
    let max = 0;
    let started = false;
    const events: WatchEventOf<PodObject>[] = [];
    const w = pods().watch(
      ns,
      { labelSelector: `app=${app}` },
      (e) => {
        if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
        events.push(e);
        if (e.type === 'DELETED') state.delete(e.object.metadata.uid!);
        else state.set(e.object.metadata.uid!, e.object);
        if (!started) return;
        min = Math.min(min, [...state.values()].filter((p) => live(p) && isReady(p)).length);
        max = Math.max(max, [...state.values()].filter(live).length);
      },
      () => undefined,
    );
    return {
      state,
      events,
      start: () => (started = true),
      min: () => min,
      /** The most pods (not being deleted) that existed at once. */
      max: () => max,
      close: () => w.close(),
    };
  }

  before(async () => {
    c = await startTestCluster({ only: ['deployment', 'replicaset', 'daemonset', 'scheduler', 'garbage-collector'] });
    for (const n of ['node-1', 'node-2', 'node-3']) await addNode(c.client, n);
    kubelet = await startFakeKubelet(c.client, { readyAfterMs: 150 });
  });
  after(async () => {
    kubelet?.stop();
    await c?.stop();
  });

  test('a Deployment makes a ReplicaSet that makes labelled, owned pods; rollout status, get and describe read as upstream', async () => {
    await apply(deployment('web'));
    const out = await c.kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=20s']);
    assert.match(out, /deployment "web" successfully rolled out/);

    const d = await rolledOut('web', 3);
    const [rs] = await rsOf('web');
    const hash = rs.metadata.labels!['pod-template-hash'];
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.deepEqual(rs.spec?.selector?.matchLabels, { app: 'web', 'pod-template-hash': hash });
    assert.equal(rs.spec?.template?.metadata?.labels?.['pod-template-hash'], hash);
    assert.deepEqual(rs.metadata.ownerReferences, [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '4');
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.deepEqual(
      { replicas: rs.status?.replicas, fullyLabeledReplicas: rs.status?.fullyLabeledReplicas, readyReplicas: rs.status?.readyReplicas, availableReplicas: rs.status?.availableReplicas, observedGeneration: rs.status?.observedGeneration },
      { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 },
    );

    const ps = (await podsOf('web')).filter(live);
    assert.equal(ps.length, 3);
    for (const p of ps) {
      assert.equal(p.metadata.generateName, `web-${hash}-`);
      assert.match(p.metadata.name!, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.equal(p.metadata.labels?.['pod-template-hash'], hash);
      assert.deepEqual(p.metadata.ownerReferences, [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
    }

    const available = d.status?.conditions?.find((x) => x.type === 'Available');
    const progressing = d.status?.conditions?.find((x) => x.type === 'Progressing');
    assert.equal(available?.status, 'True');
    assert.equal(available?.reason, 'MinimumReplicasAvailable');
    assert.equal(available?.message, 'Deployment has minimum availability.');
    assert.equal(progressing?.reason, 'NewReplicaSetAvailable');
    assert.equal(progressing?.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
    assert.equal(d.status?.observedGeneration, 1);

    assert.match(await c.kubectl.ok(['get', 'deploy', 'web']), /^web\s+3\/3\s+3\s+3\s+\S+$/m);
    assert.match(await c.kubectl.ok(['get', 'rs']), new RegExp(`^web-${hash}\\s+3\\s+3\\s+3\\s+\\S+$`, 'm'));
    const describe = await waitFor('describe shows the scaling event', async () => {
      const text = await c.kubectl.ok(['describe', 'deploy', 'web']);
      return /ScalingReplicaSet/.test(text) && text;
    });
    assert.match(describe, new RegExp(`NewReplicaSet:\\s+web-${hash} \\(3/3 replicas created\\)`));
    assert.match(describe, /OldReplicaSets:\s+<none>/);
    assert.match(describe, new RegExp(`Normal\\s+ScalingReplicaSet\\s+\\S+\\s+\\S+\\s+Scaled up replica set web-${hash} from 0 to 3`));
    assert.match(describe, /Available\s+True\s+MinimumReplicasAvailable/);
    assert.match(describe, /Progressing\s+True\s+NewReplicaSetAvailable/);
    const rsDescribe = await waitFor('describe rs shows pod creation', async () => {
      const text = await c.kubectl.ok(['describe', 'rs', `web-${hash}`]);
      return /SuccessfulCreate/.test(text) && text;
    });
    assert.match(rsDescribe, new RegExp(`SuccessfulCreate\\s+\\S+\\s+\\S+\\s+Created pod: web-${hash}-`));
  });

  test('kubectl scale up and down resizes the ReplicaSet and records the scaling events', async () => {
    await c.kubectl.ok(['scale', 'deployment/web', '--replicas=5']);
    await rolledOut('web', 5);
    assert.equal((await podsOf('web')).filter(live).length, 5);
    const [rs] = await rsOf('web');
    assert.equal(rs.spec?.replicas, 5);
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '5');

    await c.kubectl.ok(['scale', 'deployment/web', '--replicas=2']);
    await rolledOut('web', 2);
    await waitFor('2 pods left', async () => (await podsOf('web')).filter(live).length === 2);
    const text = await waitFor('scale-down event', async () => {
      const t = await c.kubectl.ok(['describe', 'deploy', 'web']);
      return /Scaled down/.test(t) && t;
    });
    assert.match(text, /Scaled up replica set web-\S+ from 3 to 5/);
    assert.match(text, /Scaled down replica set web-\S+ from 5 to 2/);
    assert.match(await c.kubectl.ok(['get', 'deploy', 'web']), /^web\s+2\/2\s+2\s+2\s/m);
  });

  test('a rolling update keeps replicas − maxUnavailable Ready throughout, ends on the new ReplicaSet, and rollout undo goes back', async () => {
    await apply(deployment('roll', { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    await rolledOut('roll', 4);
    const [first] = await rsOf('roll');
    const w = watchReady('roll');
    await waitFor('watch caught up', () => [...w.state.values()].filter((p) => live(p) && isReady(p)).length === 4);
    w.start();
    await c.kubectl.ok(['set', 'image', 'deployment/roll', 'app=nginx:1.26']);
    const out = await c.kubectl.ok(['rollout', 'status', 'deployment/roll', '--timeout=20s']);
    assert.match(out, /deployment "roll" successfully rolled out/);
    const d = await rolledOut('roll', 4);
    await waitFor('old pods gone', async () => (await podsOf('roll')).length === 4);
    w.close();
    assert.equal(w.min(), 3, `Ready pods dropped to ${w.min()} (replicas − maxUnavailable = 3, and the rollout should use that budget)`);
    assert.equal(w.max(), 5, 'at most replicas + maxSurge pods at once, and the surge is used');
    const rss = await rsOf('roll');
    const second = rss.find((rs) => rs.metadata.uid !== first.metadata.uid)!;
    assert.equal(rss.length, 2);
    assert.equal(second.spec?.replicas, 4);
    assert.equal(second.status?.availableReplicas, 4);
    assert.equal(rss.find((rs) => rs.metadata.uid === first.metadata.uid)!.spec?.replicas, 0);
    assert.equal(second.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.equal(d.status?.updatedReplicas, 4);
    const describe = await c.kubectl.ok(['describe', 'deploy', 'roll']);
    assert.match(describe, new RegExp(`NewReplicaSet:\\s+${second.metadata.name} \\(4/4 replicas created\\)`));
    assert.match(describe, new RegExp(`OldReplicaSets:\\s+${first.metadata.name} \\(0/0 replicas created\\)`));
    assert.match(await c.kubectl.ok(['rollout', 'history', 'deployment/roll']), /^1\s+<none>\n2\s+<none>/m);

    // kubectl rollout undo copies the revision-1 template back; that ReplicaSet becomes revision 3.
    assert.match(await c.kubectl.ok(['rollout', 'undo', 'deployment/roll']), /deployment.apps\/roll rolled back/);
    await waitFor('undo rolled out', async () => {
      const back = await replicasets().get(ns, first.metadata.name!);
      const dd = await deployments().get(ns, 'roll');
      return (
        back.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3' &&
        back.metadata.annotations?.['deployment.kubernetes.io/revision-history'] === '1' &&
        back.status?.availableReplicas === 4 &&
        (await replicasets().get(ns, second.metadata.name!)).spec?.replicas === 0 &&
        dd.spec?.template?.spec?.containers?.[0]?.image === 'nginx:1.25' &&
        dd.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3'
      );
    });
    await rolledOut('roll', 4);
    assert.equal((await rsOf('roll')).length, 2, 'undo reuses the old ReplicaSet');
  });

  test('Recreate removes every old pod before the first new one is created', async () => {
    await apply(deployment('rec', { replicas: 2, strategy: { type: 'Recreate' } }));
    await rolledOut('rec', 2);
    const [oldRS] = await rsOf('rec');
    const oldHash = oldRS.metadata.labels!['pod-template-hash'];
    const w = watchReady('rec');
    await waitFor('watch caught up', () => w.state.size === 2);
    let overlap = 0;
    const seen = new Set<string>();
    const check = setInterval(() => {
      for (const p of w.state.values()) {
        if (p.metadata.labels?.['pod-template-hash'] === oldHash || seen.has(p.metadata.uid!)) continue;
        seen.add(p.metadata.uid!);
        // At the watch event creating a new pod, no old pod may still exist.
        const idx = w.events.findIndex((e) => e.type === 'ADDED' && e.object.metadata.uid === p.metadata.uid);
        const before = new Map<string, PodObject>();
        for (const e of w.events.slice(0, idx)) {
          if (e.type === 'DELETED') before.delete(e.object.metadata.uid!);
          else before.set(e.object.metadata.uid!, e.object);
        }
        overlap = Math.max(overlap, [...before.values()].filter((o) => o.metadata.labels?.['pod-template-hash'] === oldHash).length);
      }
    }, 20);
    await c.kubectl.ok(['set', 'image', 'deployment/rec', 'app=nginx:1.26']);
    await rolledOut('rec', 2);
    await waitFor('new pods only', async () => (await podsOf('rec')).every((p) => p.metadata.labels?.['pod-template-hash'] !== oldHash));
    clearInterval(check);
    w.close();
    assert.equal(seen.size, 2);
    assert.equal(overlap, 0, 'a new pod was created while old pods existed');
  });

  test('revisionHistoryLimit removes the oldest scaled-down ReplicaSets; a paused Deployment does not roll', async () => {
    await apply(deployment('hist', { replicas: 1, revisionHistoryLimit: 1 }));
    await rolledOut('hist', 1);
    for (const image of ['nginx:1.26', 'nginx:1.27']) {
      await c.kubectl.ok(['set', 'image', 'deployment/hist', `app=${image}`]);
      await rolledOut('hist', 1);
    }
    const rss = await waitFor('history trimmed to one old ReplicaSet', async () => {
      const list = await rsOf('hist');
      return list.length === 2 && list;
    });
    const revisions = rss.map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision']).sort();
    assert.deepEqual(revisions, ['2', '3']);

    await c.kubectl.ok(['rollout', 'pause', 'deployment/hist']);
    await c.kubectl.ok(['set', 'image', 'deployment/hist', 'app=nginx:1.28']);
    const paused = await waitFor('paused condition', async () => {
      const d = await deployments().get(ns, 'hist');
      return d.status?.conditions?.find((x) => x.type === 'Progressing' && x.reason === 'DeploymentPaused') && (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && d;
    });
    assert.equal(paused.status?.conditions?.find((x) => x.type === 'Progressing')?.status, 'Unknown');
    await c.controllers.idle();
    const whilePaused = await rsOf('hist');
    assert.ok(!whilePaused.some((rs) => rs.spec?.template?.spec?.containers?.[0]?.image === 'nginx:1.28'), 'no ReplicaSet for the new template while paused');
    assert.equal(whilePaused.find((rs) => rs.spec?.template?.spec?.containers?.[0]?.image === 'nginx:1.27')?.status?.availableReplicas, 1);
    await c.kubectl.ok(['rollout', 'resume', 'deployment/hist']);
    const d = await rolledOut('hist', 1);
    assert.equal(d.spec?.template?.spec?.containers?.[0]?.image, 'nginx:1.28');
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '4');
  });

  test('a rollout that makes no progress within progressDeadlineSeconds is reported as ProgressDeadlineExceeded', async () => {
    // No node matches, so the pods stay Pending and never become Ready.
    const stuck = deployment('stuck', { replicas: 2, progressDeadlineSeconds: 1 });
    (stuck.spec.template.spec as Record<string, unknown>).nodeSelector = { pool: 'none' };
    await apply(stuck);
    const d = await waitFor(
      'deadline exceeded',
      async () => {
        const x = await deployments().get(ns, 'stuck');
        return x.status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded') && x;
      },
      10_000,
    );
    const [rs] = await rsOf('stuck');
    const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.status, 'False');
    assert.equal(progressing?.message, `ReplicaSet "${rs.metadata.name}" has timed out progressing.`);
    const available = d.status?.conditions?.find((c) => c.type === 'Available');
    assert.deepEqual([available?.status, available?.reason, available?.message], ['False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.']);
    assert.equal(d.status?.unavailableReplicas, 2);
    const r = await c.kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=10s']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /deployment "stuck" exceeded its progress deadline/);
    await c.kubectl.ok(['delete', 'deployment', 'stuck']);
  });

  test('a ReplicaSet adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    const orphan = await pods().create(ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stray', labels: { app: 'solo' } },
      spec: { containers: [{ name: 'app', image: 'nginx' }] },
    });
    await replicasets().create(ns, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'solo' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'solo' } }, template: { metadata: { labels: { app: 'solo' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
    });
    const rs = await waitFor('solo has 2 ready replicas', async () => {
      const r = await replicasets().get(ns, 'solo');
      return r.status?.readyReplicas === 2 && r.status?.replicas === 2 && r;
    });
    const adopted = await pods().get(ns, 'stray');
    assert.equal(adopted.metadata.uid, orphan.metadata.uid);
    assert.equal(adopted.metadata.ownerReferences?.[0]?.uid, rs.metadata.uid);
    assert.equal((await podsOf('solo')).length, 2, 'only one pod was created next to the adopted one');

    await pods().patch(ns, 'stray', { metadata: { labels: { app: 'elsewhere' } } }, 'merge');
    await waitFor('stray released and replaced', async () => {
      const p = await pods().get(ns, 'stray');
      return !p.metadata.ownerReferences?.length && (await podsOf('solo')).filter(live).length === 2;
    });
  });

  test('a DaemonSet runs one pod per eligible Ready node, recreates a deleted pod and rolls within maxUnavailable', async () => {
    // A node that is not Ready gets no daemon pod.
    const sick = await nodes().create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-sick' }, spec: {} });
    sick.status = { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'not ready' }] };
    await nodes().updateStatus(sick);
    await apply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'busybox:1.36' }] } },
      },
    });
    const out = await c.kubectl.ok(['rollout', 'status', 'daemonset/agent', '--timeout=20s']);
    assert.match(out, /daemon set "agent" successfully rolled out/);
    const ds = await waitFor('agent status', async () => {
      const d = await daemonsets().get(ns, 'agent');
      return d.status?.numberAvailable === 3 && d.status.observedGeneration === 1 && d;
    });
    assert.deepEqual(
      {
        desired: ds.status?.desiredNumberScheduled,
        current: ds.status?.currentNumberScheduled,
        ready: ds.status?.numberReady,
        updated: ds.status?.updatedNumberScheduled,
        misscheduled: ds.status?.numberMisscheduled,
      },
      { desired: 3, current: 3, ready: 3, updated: 3, misscheduled: 0 },
    );
    let list = (await podsOf('agent')).filter(live);
    assert.deepEqual(list.map((p) => p.spec?.nodeName).sort(), ['node-1', 'node-2', 'node-3']);
    const hash = list[0].metadata.labels?.['controller-revision-hash'];
    assert.ok(hash);
    for (const p of list) {
      assert.equal(p.metadata.labels?.['controller-revision-hash'], hash);
      assert.equal(p.metadata.generateName, 'agent-');
      assert.deepEqual(p.metadata.ownerReferences?.[0], { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true });
      assert.deepEqual(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec?.nodeName] }] },
      ]);
      assert.ok(p.spec?.tolerations?.some((t) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoExecute' && t.operator === 'Exists'));
    }
    assert.match(await c.kubectl.ok(['get', 'ds', 'agent']), /^agent\s+3\s+3\s+3\s+3\s+3\s+<none>\s+\S+$/m);

    // A deleted pod comes back on its node.
    const victim = list.find((p) => p.spec?.nodeName === 'node-2')!;
    await c.kubectl.ok(['delete', 'pod', victim.metadata.name!, '--wait=false']);
    await waitFor('pod recreated on node-2', async () => {
      const now = (await podsOf('agent')).filter(live);
      return now.length === 3 && now.some((p) => p.spec?.nodeName === 'node-2' && p.metadata.uid !== victim.metadata.uid && isReady(p));
    });

    // A template change replaces the pods node by node, at most one node without an available pod.
    const w = watchReady('agent');
    await waitFor('watch caught up', () => [...w.state.values()].filter((p) => live(p) && isReady(p)).length === 3);
    w.start();
    await c.kubectl.ok(['set', 'image', 'daemonset/agent', 'agent=busybox:1.37']);
    await c.kubectl.ok(['rollout', 'status', 'daemonset/agent', '--timeout=20s']);
    list = await waitFor('all pods replaced', async () => {
      const now = await podsOf('agent');
      return now.length === 3 && now.every((p) => p.metadata.labels?.['controller-revision-hash'] !== hash && isReady(p)) && now;
    });
    w.close();
    assert.equal(w.min(), 2, `available daemon pods dropped to ${w.min()} (maxUnavailable 1 of 3)`);
    assert.equal(w.max(), 3, 'no surge pods with maxSurge 0');
    assert.equal(new Set(list.map((p) => p.metadata.labels?.['controller-revision-hash'])).size, 1);
    const after = await daemonsets().get(ns, 'agent');
    assert.equal(after.status?.updatedNumberScheduled, 3);
    assert.equal(after.status?.observedGeneration, 2);

    // The sick node recovers and gets its pod.
    const recovered = await nodes().get(undefined, 'node-sick');
    recovered.status = { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }] };
    await nodes().updateStatus(recovered);
    await waitFor('pod on the recovered node', async () => (await podsOf('agent')).some((p) => p.spec?.nodeName === 'node-sick'));
    await nodes().delete(undefined, 'node-sick');
  });

  test('a DaemonSet follows its nodeSelector as node labels change', async () => {
    await nodes().patch(undefined, 'node-2', { metadata: { labels: { disk: 'ssd' } } }, 'merge');
    await apply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'ssd' },
      spec: {
        selector: { matchLabels: { app: 'ssd' } },
        template: { metadata: { labels: { app: 'ssd' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'agent', image: 'busybox' }] } },
      },
    });
    const onNodes = async () => (await podsOf('ssd')).filter(live).map((p) => p.spec?.nodeName).sort();
    await waitFor('one pod on node-2', async () => JSON.stringify(await onNodes()) === '["node-2"]');
    await nodes().patch(undefined, 'node-3', { metadata: { labels: { disk: 'ssd' } } }, 'merge');
    await waitFor('pods on node-2 and node-3', async () => JSON.stringify(await onNodes()) === '["node-2","node-3"]');
    await nodes().patch(undefined, 'node-2', { metadata: { labels: { disk: null } } }, 'merge');
    await waitFor('pod left node-2', async () => JSON.stringify(await onNodes()) === '["node-3"]');
    const ds = await waitFor('status desired 1', async () => {
      const d = await daemonsets().get(ns, 'ssd');
      return d.status?.desiredNumberScheduled === 1 && d.status.numberMisscheduled === 0 && (await podsOf('ssd')).length === 1 && d;
    });
    assert.equal(ds.status?.currentNumberScheduled, 1);
  });

  test('restarted controllers converge without creating duplicates', async () => {
    await apply(deployment('steady', { replicas: 3 }));
    await rolledOut('steady', 3);
    const names = async (app: string) => (await podsOf(app)).map((p) => p.metadata.name).sort();
    const before = { steady: await names('steady'), agent: await names('agent'), web: await names('web') };
    const rsBefore = (await replicasets().list(ns)).items.map((rs) => rs.metadata.name).sort();
    await c.restartControllers();
    await c.controllers.idle();
    assert.deepEqual({ steady: await names('steady'), agent: await names('agent'), web: await names('web') }, before);
    assert.deepEqual((await replicasets().list(ns)).items.map((rs) => rs.metadata.name).sort(), rsBefore);
    // And they still work.
    await c.kubectl.ok(['scale', 'deployment/steady', '--replicas=4']);
    await rolledOut('steady', 4);
    await c.controllers.idle();
    assert.equal((await podsOf('steady')).length, 4);
  });
});
