// The pure cores of the StatefulSet controller and of revision history: pod
// identity, one pass of the plan (OrderedReady and Parallel, scale down,
// RollingUpdate with partition, OnDelete), revision choice and hashing, and
// the status a pass reports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  fnv32,
  goJSON,
  hashControllerRevision,
  pastRevisionsToDelete,
  revisionsToTruncate,
  sortControllerRevisions,
  templateOfRevision,
  templatePatch,
  type ControllerRevisionObject,
} from '../../src/controllers/workloads/history.js';
import { safeEncodeString } from '../../src/controllers/workloads/hash.js';
import type { PodObject, PodTemplateSpec } from '../../src/controllers/workloads/types.js';
import { identityMatches, isMemberOf, newStatefulSetPod, newVersionedStatefulSetPod, parentAndOrdinal, storageMatches } from '../../src/controllers/statefulset/identity.js';
import { planStatefulSet, type StatefulSetPlan } from '../../src/controllers/statefulset/plan.js';
import { applyRevision, chooseUpdateRevision, newRevision } from '../../src/controllers/statefulset/revisions.js';
import { compactStatefulSetStatus, completeRollingUpdate, inconsistentStatus } from '../../src/controllers/statefulset/status.js';
import type { StatefulSetObject, StatefulSetSpec } from '../../src/controllers/statefulset/types.js';

const template = (image = 'nginx:1.25'): PodTemplateSpec => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'nginx', image, resources: {} }], restartPolicy: 'Always' },
});

function statefulSet(spec: Partial<StatefulSetSpec> = {}, status: StatefulSetObject['status'] = { replicas: 0 }): StatefulSetObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'set-uid', generation: 2 },
    spec: {
      replicas: 3,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'web' } },
      template: template(),
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      ...spec,
    },
    status,
  };
}

function revision(set: StatefulSetObject, number: number): ControllerRevisionObject {
  const rev = newRevision(set, number, 0);
  rev.metadata.creationTimestamp = `2026-01-01T00:00:0${number}Z`;
  return rev;
}

type PodState = 'running' | 'pending' | 'notReady' | 'failed' | 'succeeded' | 'deleting';

/** A pod the API server holds for `set` at `rev`, in the given state. */
function pod(set: StatefulSetObject, ordinal: number, rev: ControllerRevisionObject, state: PodState = 'running'): PodObject {
  const p = newVersionedStatefulSetPod(applyRevision(set, rev), applyRevision(set, rev), rev.metadata.name!, rev.metadata.name!, ordinal);
  p.metadata.uid = `uid-${ordinal}`;
  const phase = { running: 'Running', notReady: 'Running', deleting: 'Running', pending: 'Pending', failed: 'Failed', succeeded: 'Succeeded' }[state];
  const ready = state === 'running' || state === 'deleting';
  p.status = { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
  if (state === 'deleting') p.metadata.deletionTimestamp = '2026-01-01T00:01:00Z';
  return p;
}

const now = Date.parse('2026-01-01T01:00:00Z');
const plan = (set: StatefulSetObject, pods: PodObject[], current: ControllerRevisionObject, update = current): StatefulSetPlan => planStatefulSet(set, pods, current, update, 0, now);
const summary = (p: StatefulSetPlan) => [...p.replicas, ...p.condemned, ...(p.update ? [p.update] : [])].map((a) => `${a.type} ${a.pod.metadata.name}`);

describe('pod identity', () => {
  const set = statefulSet();
  it('names pods <set>-<ordinal> with hostname, subdomain, pod-name and pod-index labels, owned by the set', () => {
    const p = newStatefulSetPod(set, 2);
    assert.equal(p.metadata.name, 'web-2');
    assert.equal(p.metadata.generateName, undefined);
    assert.deepEqual(p.metadata.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-2', 'apps.kubernetes.io/pod-index': '2' });
    assert.equal(p.spec?.hostname, 'web-2');
    assert.equal(p.spec?.subdomain, 'nginx');
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }]);
    assert.ok(identityMatches(set, p));
  });

  it('parses ordinals as upstream: trailing digits within int32, else -1', () => {
    const named = (name: string) => ({ metadata: { name } }) as PodObject;
    assert.deepEqual(parentAndOrdinal(named('web-12')), { parent: 'web', ordinal: 12 });
    assert.deepEqual(parentAndOrdinal(named('my-web-0')), { parent: 'my-web', ordinal: 0 });
    assert.deepEqual(parentAndOrdinal(named('web-x')), { parent: '', ordinal: -1 });
    assert.equal(parentAndOrdinal(named('web-99999999999')).ordinal, -1);
    assert.ok(isMemberOf(set, named('web-3')));
    assert.ok(!isMemberOf(set, named('web2-3')));
  });

  it('mounts each volume claim template from the claim of its ordinal', () => {
    const withClaims = statefulSet({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] } }] });
    const p = newStatefulSetPod(withClaims, 1);
    assert.deepEqual(p.spec?.volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-1' } }]);
    assert.ok(storageMatches(withClaims, p));
    assert.ok(!storageMatches(withClaims, newStatefulSetPod(set, 1)));
  });

  it('makes ordinals below the partition at the current revision, the rest at the update revision', () => {
    const partitioned = statefulSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    const old = revision(partitioned, 1);
    const next = revision(statefulSet({ template: template('nginx:1.26') }), 2);
    const current = applyRevision(partitioned, old);
    const update = applyRevision(partitioned, next);
    const at = (ordinal: number) => newVersionedStatefulSetPod(current, update, old.metadata.name!, next.metadata.name!, ordinal);
    assert.equal(at(1).metadata.labels?.['controller-revision-hash'], old.metadata.name);
    assert.equal(at(1).spec?.containers[0]?.image, 'nginx:1.25');
    assert.equal(at(2).metadata.labels?.['controller-revision-hash'], next.metadata.name);
    assert.equal(at(2).spec?.containers[0]?.image, 'nginx:1.26');
  });
});

describe('one pass, OrderedReady', () => {
  const set = statefulSet();
  const rev = revision(set, 1);

  it('creates web-0 first and waits for it to be Running and Ready before web-1', () => {
    assert.deepEqual(summary(plan(set, [], rev)), ['create web-0']);
    const waiting = plan(set, [pod(set, 0, rev, 'pending')], rev);
    assert.deepEqual(summary(waiting), []);
    assert.equal(waiting.waitingFor, 'Pod web-0 to be Running and Ready');
    assert.deepEqual(summary(plan(set, [pod(set, 0, rev, 'notReady')], rev)), []);
    assert.deepEqual(summary(plan(set, [pod(set, 0, rev)], rev)), ['create web-1']);
    assert.deepEqual(summary(plan(set, [pod(set, 0, rev), pod(set, 1, rev)], rev)), ['create web-2']);
  });

  it('waits minReadySeconds of readiness before the next ordinal', () => {
    const slow = statefulSet({ minReadySeconds: 3600 * 2 });
    assert.deepEqual(summary(plan(slow, [pod(slow, 0, rev)], rev)), []);
  });

  it('replaces a failed or succeeded pod before anything else, a terminating one is waited for', () => {
    const pods = [pod(set, 0, rev), pod(set, 1, rev, 'failed'), pod(set, 2, rev)];
    assert.deepEqual(summary(plan(set, pods, rev)), ['delete web-1']);
    assert.deepEqual(summary(plan(set, [pod(set, 0, rev, 'succeeded')], rev)), ['delete web-0']);
    assert.deepEqual(summary(plan(set, [pod(set, 0, rev, 'deleting')], rev)), []);
  });

  it('scales down from the highest ordinal, one at a time, only while the rest are healthy', () => {
    const one = statefulSet({ replicas: 1 });
    const pods = [pod(one, 0, rev), pod(one, 1, rev), pod(one, 2, rev)];
    assert.deepEqual(summary(plan(one, pods, rev)), ['delete web-2']);
    assert.deepEqual(summary(plan(one, [pods[0]!, pods[1]!, pod(one, 2, rev, 'deleting')], rev)), []);
    assert.deepEqual(summary(plan(one, pods.slice(0, 2), rev)), ['delete web-1']);
    // An unhealthy pod goes only if it is the first unhealthy one: web-2 waits while web-1 is unhealthy too.
    assert.deepEqual(summary(plan(one, [pods[0]!, pod(one, 1, rev), pod(one, 2, rev, 'notReady')], rev)), ['delete web-2']);
    assert.deepEqual(summary(plan(one, [pods[0]!, pod(one, 1, rev, 'notReady'), pod(one, 2, rev, 'notReady')], rev)), []);
  });

  it('repairs a pod whose pod-name label drifted', () => {
    const drifted = pod(set, 0, rev);
    delete drifted.metadata.labels!['statefulset.kubernetes.io/pod-name'];
    const p = plan(set, [drifted, pod(set, 1, rev), pod(set, 2, rev)], rev);
    assert.deepEqual(summary(p), ['update web-0']);
    assert.equal(p.replicas[0]!.pod.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'web-0');
  });
});

describe('one pass, Parallel', () => {
  const set = statefulSet({ podManagementPolicy: 'Parallel' });
  const rev = revision(set, 1);

  it('creates every missing pod at once and deletes every surplus one at once', () => {
    assert.deepEqual(summary(plan(set, [], rev)), ['create web-0', 'create web-1', 'create web-2']);
    const one = statefulSet({ podManagementPolicy: 'Parallel', replicas: 1 });
    assert.deepEqual(summary(plan(one, [pod(one, 0, rev, 'pending'), pod(one, 1, rev, 'notReady'), pod(one, 2, rev)], rev)), ['delete web-2', 'delete web-1']);
  });
});

describe('updates', () => {
  const v1 = statefulSet();
  const v2 = statefulSet({ template: template('nginx:1.26') });
  const r1 = revision(v1, 1);
  const r2 = revision(v2, 2);
  const old = () => [0, 1, 2].map((i) => pod(v1, i, r1));

  it('RollingUpdate replaces the highest ordinal first and waits for it to be available again', () => {
    assert.deepEqual(summary(plan(v2, old(), r1, r2)), ['delete web-2']);
    const [p0, p1] = old();
    assert.deepEqual(summary(plan(v2, [p0!, p1!, pod(v2, 2, r2, 'notReady')], r1, r2)), []);
    assert.deepEqual(summary(plan(v2, [p0!, p1!, pod(v2, 2, r2)], r1, r2)), ['delete web-1']);
  });

  it('a pod deleted for the update comes back at the update revision', () => {
    const [p0, p1] = old();
    const p = plan(v2, [p0!, p1!], r1, r2);
    assert.deepEqual(summary(p), ['create web-2']);
    assert.equal(p.replicas[0]!.pod.spec?.containers[0]?.image, 'nginx:1.26');
    assert.equal(p.replicas[0]!.pod.metadata.labels?.['controller-revision-hash'], r2.metadata.name);
  });

  it('a partition keeps ordinals below it at the current revision', () => {
    const partitioned = statefulSet({ template: template('nginx:1.26'), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    assert.deepEqual(summary(plan(partitioned, old(), r1, r2)), ['delete web-2']);
    const [p0, p1] = old();
    assert.deepEqual(summary(plan(partitioned, [p0!, p1!, pod(v2, 2, r2)], r1, r2)), []);
  });

  it('OnDelete never deletes for an update', () => {
    const onDelete = statefulSet({ template: template('nginx:1.26'), updateStrategy: { type: 'OnDelete' } });
    assert.deepEqual(summary(plan(onDelete, old(), r1, r2)), []);
  });

  it('status counts current and updated replicas, and a complete rollout makes the update revision current', () => {
    const done = plan(v2, [0, 1, 2].map((i) => pod(v2, i, r2)), r1, r2);
    assert.deepEqual(
      { ...done.status },
      { observedGeneration: 2, currentRevision: r1.metadata.name, updateRevision: r2.metadata.name, collisionCount: 0, replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 0, updatedReplicas: 3 },
    );
    completeRollingUpdate(v2, done.status);
    assert.equal(done.status.currentRevision, r2.metadata.name);
    assert.equal(done.status.currentReplicas, 3);
    assert.ok(inconsistentStatus(v2, done.status));
    assert.deepEqual(Object.keys(compactStatefulSetStatus(done.status)), [
      'observedGeneration', 'replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'currentRevision', 'updateRevision', 'collisionCount', 'availableReplicas',
    ]);
    assert.deepEqual(compactStatefulSetStatus({ replicas: 0 }), { replicas: 0, availableReplicas: 0 });
  });

  it('a set being deleted only reports', () => {
    const deleting = statefulSet({}, { replicas: 0 });
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    assert.deepEqual(summary(plan(deleting, [], r1)), []);
  });
});

describe('revisions', () => {
  it('FNV-1 (not 1a) over the data, then the collision count in decimal, safe-encoded', () => {
    assert.equal(fnv32(Buffer.from('')), 0x811c9dc5);
    assert.equal(fnv32(Buffer.from('a')), 0x050c5d7e);
    assert.equal(fnv32(Buffer.from('foobar')), 0x31f0b262);
    const data = { spec: { template: { $patch: 'replace' } } };
    assert.equal(hashControllerRevision(data), safeEncodeString(String(fnv32(Buffer.from('{"spec":{"template":{"$patch":"replace"}}}')))));
    assert.equal(hashControllerRevision(data, 0), safeEncodeString(String(fnv32(Buffer.from('0'), fnv32(Buffer.from(goJSON(data)))))));
    assert.notEqual(hashControllerRevision(data, 1), hashControllerRevision(data, 0));
  });

  it('the data is the restoring patch, encoded as Go encodes it: sorted keys, creationTimestamp null, HTML escaped', () => {
    const t: PodTemplateSpec = { spec: { containers: [{ name: 'c', image: 'busybox', args: ['a<b & c>d'] }] }, metadata: { labels: { z: '1', a: '2' } } };
    assert.equal(
      goJSON(templatePatch(t)),
      '{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"a":"2","z":"1"}},"spec":{"containers":[{"args":["a\\u003cb \\u0026 c\\u003ed"],"image":"busybox","name":"c","resources":{}}]}}}}',
    );
    const rev = revision(statefulSet({ template: t }), 1);
    assert.deepEqual(templateOfRevision(rev), { metadata: { creationTimestamp: null, labels: { a: '2', z: '1' } }, spec: { containers: [{ args: ['a<b & c>d'], image: 'busybox', name: 'c', resources: {} }] } });
  });

  it('names a revision <set>-<hash>, labels it like the template plus the hash, copies the set annotations', () => {
    const set = statefulSet();
    set.metadata.annotations = { 'kubernetes.io/change-cause': 'first' };
    const rev = newRevision(set, 1, 0);
    const hash = hashControllerRevision(rev.data, 0);
    assert.equal(rev.metadata.name, `web-${hash}`);
    assert.deepEqual(rev.metadata.labels, { app: 'web', 'controller-revision-hash': hash });
    assert.deepEqual(rev.metadata.annotations, { 'kubernetes.io/change-cause': 'first' });
    assert.equal(rev.revision, 1);
  });

  it('reuses the newest revision, renumbers an older equal one (rollback), or creates a new one', () => {
    const v1 = statefulSet();
    const v2 = statefulSet({ template: template('nginx:1.26') });
    const history = sortControllerRevisions([revision(v2, 2), revision(v1, 1)]);
    assert.deepEqual(chooseUpdateRevision(v2, history), { action: 'reuse', revision: history[1] });
    const back = chooseUpdateRevision(v1, history);
    assert.equal(back.action, 'renumber');
    assert.equal(back.revision, history[0]);
    assert.equal((back as { to: number }).to, 3);
    const fresh = chooseUpdateRevision(statefulSet({ template: template('nginx:1.27') }), history);
    assert.equal(fresh.action, 'create');
    assert.equal(fresh.revision.revision, 3);
  });

  it('history beyond the limit goes oldest first; live revisions stay', () => {
    const revs = [1, 2, 3, 4].map((n) => revision(statefulSet({ template: template(`nginx:1.${n}`) }), n));
    const names = (rs: ControllerRevisionObject[]) => rs.map((r) => r.revision);
    assert.deepEqual(names(revisionsToTruncate(revs, 1, (r) => r.revision === 4)), [1, 2]);
    assert.deepEqual(names(revisionsToTruncate(revs, 1, (r) => r.revision === 1 || r.revision === 4)), [2]);
    assert.deepEqual(names(revisionsToTruncate(revs, -1, () => false)), []);
    // The DaemonSet controller counts live past revisions against the limit but keeps them.
    assert.deepEqual(names(pastRevisionsToDelete(revs.slice(0, 3), 1, (r) => r.revision === 1)), [2, 3]);
  });
});
