// StatefulSets and ControllerRevisions end to end: the real API server, the
// controllers over HTTP, the real kubectl (apply, scale, rollout status /
// history / undo, describe, get), and a fake kubelet that turns bound pods
// Ready after a short delay and finishes graceful deletions. A pod watch
// records the order things happened in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import type { Pod } from '../../src/api/types.js';
import { resourceTypes } from '../../src/client/client.js';
import type { ControllerRevisionObject } from '../../src/controllers/workloads/history.js';
import type { StatefulSetObject } from '../../src/controllers/statefulset/types.js';
import { addNode, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/apiserver.js';
import { startFakeKubelet, type FakeKubelet } from '../helpers/fake-kubelet.js';
import { isPodReady as isReady } from '../../src/controllers/workloads/pods.js';

type PodObject = Pod & KubeObject;

const ns = 'default';

function statefulSet(name: string, spec: Record<string, unknown> = {}, image = 'nginx:1.25') {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
      ...spec,
    },
  };
}

/** What the pod watch saw, in order: additions, readiness, deletion requests and removals. */
interface Happening {
  what: 'added' | 'ready' | 'deleting' | 'deleted';
  pod: string;
  image?: string;
}

describe('StatefulSets', () => {
  let c: TestCluster;
  let kubelet: FakeKubelet;
  const sets = () => c.client.resource<StatefulSetObject>(resourceTypes.statefulsets);
  const pods = () => c.client.resource<PodObject>(resourceTypes.pods);
  const revisions = () => c.client.resource<ControllerRevisionObject>(resourceTypes.controllerrevisions);
  const podsOf = async (app: string) => (await pods().list(ns, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
  const podNames = async (app: string) => (await podsOf(app)).map((p) => p.metadata.name).sort();
  const apply = (obj: unknown) => c.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(obj) });

  /** Watches an app's pods from now on. */
  function watchPods(app: string) {
    const seen: Happening[] = [];
    const ready = new Set<string>();
    const deleting = new Set<string>();
    const w = pods().watch(
      ns,
      { labelSelector: `app=${app}` },
      (e) => {
        if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
        const p = e.object;
        const name = p.metadata.name!;
        const image = p.spec?.containers?.[0]?.image;
        if (e.type === 'ADDED') seen.push({ what: 'added', pod: name, image });
        if (e.type === 'DELETED') {
          seen.push({ what: 'deleted', pod: name, image });
          ready.delete(p.metadata.uid!);
          deleting.delete(p.metadata.uid!);
          return;
        }
        if (p.metadata.deletionTimestamp && !deleting.has(p.metadata.uid!)) {
          deleting.add(p.metadata.uid!);
          seen.push({ what: 'deleting', pod: name, image });
        }
        if (isReady(p) && !ready.has(p.metadata.uid!)) {
          ready.add(p.metadata.uid!);
          seen.push({ what: 'ready', pod: name, image });
        }
      },
      () => undefined,
    );
    const indexOf = (what: Happening['what'], pod: string, image?: string) => seen.findIndex((h) => h.what === what && h.pod === pod && (image === undefined || h.image === image));
    return { seen, indexOf, close: () => w.close() };
  }

  /** The set is settled as `kubectl rollout status` judges it, with every pod at the update revision. */
  async function rolledOut(name: string, replicas: number, timeoutMs = 30_000) {
    return waitFor(
      `statefulset ${name} settled with ${replicas} replicas`,
      async () => {
        const s = await sets().get(ns, name);
        const st = s.status;
        const done =
          (st?.observedGeneration ?? 0) >= (s.metadata.generation ?? 0) &&
          st?.replicas === replicas &&
          (st.readyReplicas ?? 0) === replicas &&
          (st.updatedReplicas ?? 0) === replicas &&
          st.currentRevision === st.updateRevision;
        return done && s;
      },
      timeoutMs,
    );
  }

  before(async () => {
    c = await startTestCluster({ only: ['statefulset', 'daemonset', 'scheduler', 'garbage-collector'] });
    await addNode(c.client, 'node-1');
    kubelet = await startFakeKubelet(c.client, { readyAfterMs: 150 });
  });
  after(async () => {
    kubelet?.stop();
    await c?.stop();
  });

  test('OrderedReady: web-0, web-1, web-2 come up in order, each after the one before is Ready, with stable identities', async () => {
    const w = watchPods('web');
    await apply(statefulSet('web'));
    assert.match(await c.kubectl.ok(['rollout', 'status', 'sts/web', '--timeout=30s']), /partitioned roll out complete: 3 new pods have been updated\.\.\./);
    w.close();
    for (const [prev, next] of [['web-0', 'web-1'], ['web-1', 'web-2']] as const) {
      assert.ok(w.indexOf('ready', prev) >= 0 && w.indexOf('ready', prev) < w.indexOf('added', next), `${next} only after ${prev} is Ready: ${JSON.stringify(w.seen)}`);
    }

    const set = await rolledOut('web', 3);
    const rev = set.status!.updateRevision!;
    assert.match(rev, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.deepEqual(
      { ...set.status },
      { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: rev, updateRevision: rev, collisionCount: 0, availableReplicas: 3 },
    );
    for (const p of await podsOf('web')) {
      const ordinal = p.metadata.name!.slice('web-'.length);
      assert.deepEqual(p.metadata.labels, { app: 'web', 'controller-revision-hash': rev, 'statefulset.kubernetes.io/pod-name': p.metadata.name, 'apps.kubernetes.io/pod-index': ordinal });
      assert.equal(p.spec?.hostname, p.metadata.name);
      assert.equal(p.spec?.subdomain, 'web');
      assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }

    assert.match(await c.kubectl.ok(['get', 'sts', 'web']), /^NAME\s+READY\s+AGE\nweb\s+3\/3\s+\S+\n$/);
    assert.match(await c.kubectl.ok(['get', 'sts', 'web', '-o', 'wide']), /^NAME\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\nweb\s+3\/3\s+\S+\s+app\s+nginx:1\.25\n$/);
    assert.match(await c.kubectl.ok(['get', 'controllerrevisions']), new RegExp(`^NAME\\s+CONTROLLER\\s+REVISION\\s+AGE\\n${rev}\\s+statefulset\\.apps/web\\s+1\\s+\\S+\\n$`));
    const [history] = (await revisions().list(ns)).items;
    assert.deepEqual(history!.metadata.labels, { app: 'web', 'controller-revision-hash': rev.slice('web-'.length) });
    assert.deepEqual(history!.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);

    const text = await waitFor('describe shows the three creations', async () => {
      const t = await c.kubectl.ok(['describe', 'sts', 'web']);
      return /create Pod web-2 in StatefulSet web successful/.test(t) && t;
    });
    assert.match(text, /^Replicas:\s+3 desired \| 3 total$/m);
    assert.match(text, /^Update Strategy:\s+RollingUpdate\n\s+Partition:\s+0$/m);
    assert.match(text, /^Pods Status:\s+3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    for (const i of [0, 1, 2]) assert.match(text, new RegExp(`Normal\\s+SuccessfulCreate\\s+\\S+\\s+statefulset-controller\\s+create Pod web-${i} in StatefulSet web successful`));
  });

  test('kubectl scale down removes web-2 before web-1; scaling up brings them back in order', async () => {
    const w = watchPods('web');
    assert.match(await c.kubectl.ok(['scale', 'sts', 'web', '--replicas=1']), /statefulset.apps\/web scaled/);
    await rolledOut('web', 1);
    await waitFor('one pod left', async () => (await podNames('web')).join() === 'web-0');
    w.close();
    assert.ok(w.indexOf('deleted', 'web-2') >= 0 && w.indexOf('deleted', 'web-2') < w.indexOf('deleting', 'web-1'), `web-1 goes after web-2 is gone: ${JSON.stringify(w.seen)}`);
    assert.match(await c.kubectl.ok(['get', 'sts', 'web', '-o', 'jsonpath={.spec.replicas} {.status.replicas}']), /^1 1$/);
    const text = await waitFor('describe shows the deletions', async () => {
      const t = await c.kubectl.ok(['describe', 'sts', 'web']);
      return /delete Pod web-1 in StatefulSet web successful/.test(t) && t;
    });
    assert.match(text, /Normal\s+SuccessfulDelete\s+\S+\s+statefulset-controller\s+delete Pod web-2 in StatefulSet web successful/);

    await c.kubectl.ok(['scale', 'sts', 'web', '--replicas=3']);
    await rolledOut('web', 3);
    assert.deepEqual(await podNames('web'), ['web-0', 'web-1', 'web-2']);
  });

  test('a new image rolls from the highest ordinal down, one Ready pod at a time; rollout history and undo', async () => {
    const w = watchPods('web');
    await c.kubectl.ok(['set', 'image', 'sts/web', 'app=nginx:1.26']);
    assert.match(await c.kubectl.ok(['rollout', 'status', 'sts/web', '--timeout=30s']), /partitioned roll out complete: 3 new pods have been updated/);
    const set = await rolledOut('web', 3);
    w.close();
    const deleted = w.seen.filter((h) => h.what === 'deleting').map((h) => h.pod);
    assert.deepEqual(deleted, ['web-2', 'web-1', 'web-0']);
    for (const [updated, next] of [['web-2', 'web-1'], ['web-1', 'web-0']] as const) {
      assert.ok(w.indexOf('ready', updated, 'nginx:1.26') < w.indexOf('deleting', next), `${next} goes after the new ${updated} is Ready: ${JSON.stringify(w.seen)}`);
    }
    for (const p of await podsOf('web')) assert.equal(p.spec?.containers[0]?.image, 'nginx:1.26');

    assert.match(await c.kubectl.ok(['rollout', 'history', 'sts/web']), /^statefulset\.apps\/web \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n\n$/);
    assert.match(await c.kubectl.ok(['rollout', 'history', 'sts/web', '--revision=1']), /Image:\s+nginx:1\.25/);

    assert.equal(await c.kubectl.ok(['rollout', 'undo', 'sts/web']), 'statefulset.apps/web rolled back\n');
    await waitFor('the undo observed', async () => (await sets().get(ns, 'web')).status?.updateRevision !== set.status?.updateRevision);
    const back = await rolledOut('web', 3);
    for (const p of await podsOf('web')) assert.equal(p.spec?.containers[0]?.image, 'nginx:1.25');
    // The first revision is the newest again: renumbered, not copied.
    const history = (await revisions().list(ns, { labelSelector: 'app=web' })).items;
    assert.deepEqual(history.map((r) => [r.metadata.name, r.revision]).sort(), [[back.status!.updateRevision, 3], [set.status!.updateRevision, 2]].sort());
    assert.equal(await c.kubectl.ok(['rollout', 'undo', 'sts/web', '--to-revision=3']), 'statefulset.apps/web skipped rollback (current template already matches revision 3)\n');
  });

  test('a partition updates only the ordinals at or above it; lowering it finishes the rollout', async () => {
    await c.kubectl.ok(['patch', 'sts', 'web', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}']);
    await c.kubectl.ok(['set', 'image', 'sts/web', 'app=nginx:1.27']);
    await waitFor('web-2 updated', async () => (await pods().get(ns, 'web-2').catch(() => undefined))?.spec?.containers[0]?.image === 'nginx:1.27' && isReady(await pods().get(ns, 'web-2')), 30_000);
    const status = await c.kubectl.ok(['rollout', 'status', 'sts/web', '--timeout=30s']);
    assert.match(status, /partitioned roll out complete: 1 new pods have been updated/);
    const set = await sets().get(ns, 'web');
    assert.equal(set.status?.updatedReplicas, 1);
    assert.equal(set.status?.currentReplicas, 2);
    assert.notEqual(set.status?.currentRevision, set.status?.updateRevision);
    assert.deepEqual((await podsOf('web')).map((p) => `${p.metadata.name}=${p.spec?.containers[0]?.image}`).sort(), ['web-0=nginx:1.25', 'web-1=nginx:1.25', 'web-2=nginx:1.27']);

    await c.kubectl.ok(['patch', 'sts', 'web', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
    await rolledOut('web', 3);
    for (const p of await podsOf('web')) assert.equal(p.spec?.containers[0]?.image, 'nginx:1.27');
  });

  test('OnDelete leaves pods alone until they are deleted; a deleted pod comes back at the update revision', async () => {
    await apply(statefulSet('ondelete', { replicas: 2, updateStrategy: { type: 'OnDelete' } }));
    await rolledOut('ondelete', 2);
    await c.kubectl.ok(['set', 'image', 'sts/ondelete', 'app=nginx:1.26']);
    await waitFor('the new revision observed', async () => {
      const s = await sets().get(ns, 'ondelete');
      return s.status?.observedGeneration === 2 && s.status.updateRevision !== s.status.currentRevision;
    });
    assert.deepEqual((await podsOf('ondelete')).map((p) => p.spec?.containers[0]?.image), ['nginx:1.25', 'nginx:1.25']);
    const rollout = await c.kubectl(['rollout', 'status', 'sts/ondelete']);
    assert.equal(rollout.code, 1);
    assert.match(rollout.stderr, /rollout status is only available for RollingUpdate strategy type/);

    await c.kubectl.ok(['delete', 'pod', 'ondelete-1']);
    await waitFor('ondelete-1 back at the new image', async () => (await pods().get(ns, 'ondelete-1').catch(() => undefined))?.spec?.containers[0]?.image === 'nginx:1.26', 20_000);
    const s = await waitFor('status counts it', async () => {
      const x = await sets().get(ns, 'ondelete');
      return x.status?.updatedReplicas === 1 && x.status.currentReplicas === 1 && x;
    });
    assert.notEqual(s.status?.currentRevision, s.status?.updateRevision);
    assert.equal((await pods().get(ns, 'ondelete-0')).spec?.containers[0]?.image, 'nginx:1.25');
  });

  test('Parallel creates every pod without waiting for readiness and removes surplus pods together', async () => {
    kubelet.stop();
    try {
      await apply(statefulSet('par', { podManagementPolicy: 'Parallel' }));
      await waitFor('three pods before any is Ready', async () => (await podNames('par')).join() === 'par-0,par-1,par-2', 15_000);
      assert.ok((await podsOf('par')).every((p) => !isReady(p)));
    } finally {
      kubelet = await startFakeKubelet(c.client, { readyAfterMs: 150 });
    }
    await rolledOut('par', 3);
    await c.kubectl.ok(['scale', 'sts', 'par', '--replicas=0']);
    await waitFor('no pods', async () => (await podsOf('par')).length === 0, 15_000);
    assert.match(await c.kubectl.ok(['get', 'sts', 'par']), /^par\s+0\/0\s/m);
  });

  test('bad specs and forbidden updates are refused with upstream messages', async () => {
    const bad = await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(statefulSet('bad', { selector: { matchLabels: { app: 'other' } } })) });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The StatefulSet "bad" is invalid: spec\.template\.metadata\.labels: Invalid value: map\[string\]string\{"app":"bad"\}: `selector` does not match template `labels`/);
    const policy = await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(statefulSet('bad', { podManagementPolicy: 'Fast' })) });
    assert.match(policy.stderr, /spec\.podManagementPolicy: Invalid value: "Fast": must be 'OrderedReady' or 'Parallel'/);

    const immutable = await c.kubectl(['patch', 'sts', 'web', '-p', '{"spec":{"serviceName":"other"}}']);
    assert.notEqual(immutable.code, 0);
    assert.match(
      immutable.stderr,
      /The StatefulSet "web" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden/,
    );
    const scale = await c.kubectl(['scale', 'sts', 'web', '--replicas=-1']);
    assert.notEqual(scale.code, 0);
  });

  test('volume claim templates: claims are not served here, so the pod is not created and the failure is reported', async () => {
    await apply(
      statefulSet('claims', {
        replicas: 1,
        volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      }),
    );
    const text = await waitFor('describe shows the failed claim', async () => {
      const t = await c.kubectl.ok(['describe', 'sts', 'claims']);
      return /FailedCreate/.test(t) && t;
    });
    assert.match(text, /Warning\s+FailedCreate\s+.*statefulset-controller\s+create Claim www-claims-0 for Pod claims-0 in StatefulSet claims failed error: the server could not find the requested resource/);
    assert.match(text, /create Pod claims-0 in StatefulSet claims failed error: failed to create PVC www-claims-0: /);
    assert.match(text, /Volume Claims:\n\s+Name:\s+www\n/);
    assert.deepEqual(await podNames('claims'), []);
    await c.kubectl.ok(['delete', 'sts', 'claims']);
  });

  test('DaemonSets record ControllerRevisions too: rollout history and undo', async () => {
    const ds = (image: string) => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image }] } } },
    });
    await apply(ds('busybox:1.36'));
    await c.kubectl.ok(['rollout', 'status', 'ds/agent', '--timeout=30s']);
    await apply(ds('busybox:1.37'));
    await c.kubectl.ok(['rollout', 'status', 'ds/agent', '--timeout=30s']);
    const history = (await revisions().list(ns, { labelSelector: 'app=agent' })).items;
    assert.deepEqual(history.map((r) => r.revision).sort(), [1, 2]);
    const [pod] = await podsOf('agent');
    const current = history.find((r) => r.revision === 2)!;
    assert.equal(current.metadata.name, `agent-${pod!.metadata.labels!['controller-revision-hash']}`);
    assert.match(await c.kubectl.ok(['get', 'controllerrevisions', '-l', 'app=agent']), /daemonset\.apps\/agent\s+2\s/);
    assert.match(await c.kubectl.ok(['rollout', 'history', 'ds/agent']), /^daemonset\.apps\/agent \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    assert.equal(await c.kubectl.ok(['rollout', 'undo', 'ds/agent']), 'daemonset.apps/agent rolled back\n');
    await c.kubectl.ok(['rollout', 'status', 'ds/agent', '--timeout=30s']);
    await waitFor('the agent back on busybox:1.36', async () => (await podsOf('agent')).every((p) => p.spec?.containers[0]?.image === 'busybox:1.36' && isReady(p)), 20_000);
    const after = (await revisions().list(ns, { labelSelector: 'app=agent' })).items;
    assert.deepEqual(after.map((r) => r.revision).sort(), [2, 3]);
    await c.kubectl.ok(['delete', 'ds', 'agent']);
  });

  test('deleting a StatefulSet removes its pods and revisions', async () => {
    await c.kubectl.ok(['delete', 'sts', 'web', 'ondelete', 'par']);
    await waitFor('pods and revisions collected', async () => (await pods().list(ns)).items.length === 0 && (await revisions().list(ns)).items.length === 0, 20_000);
  });
});
