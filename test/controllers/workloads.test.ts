// The pure cores of the Deployment, ReplicaSet and DaemonSet controllers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimDecision, getControllerOf } from '../../src/controllers/workloads/controller-ref.js';
import {
  calculateDaemonSetStatus,
  nodeShouldRunDaemonPod,
  planNode,
  planRollingUpdate,
  unavailableCount,
} from '../../src/controllers/workloads/daemonset-util.js';
import {
  calculateStatus,
  findNewReplicaSet,
  isScalingEvent,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  planNewReplicaSet,
  planOldReplicaSets,
  planScale,
  replicaSetsToCleanUp,
  rolloutStatus,
  setNewReplicaSetAnnotations,
} from '../../src/controllers/workloads/deployment-util.js';
import { createExpectations, expectationsTimeoutMs } from '../../src/controllers/workloads/expectations.js';
import { computeHash, equalIgnoreHash, fnv32a, safeEncodeString } from '../../src/controllers/workloads/hash.js';
import { resolveFenceposts, scaledValue } from '../../src/controllers/workloads/intstr.js';
import { isPodAvailable, podFromTemplate, podsToDelete } from '../../src/controllers/workloads/pods.js';
import { calculateReplicaSetStatus } from '../../src/controllers/workloads/replicaset-util.js';
import type { DaemonSetObject, DeploymentObject, NodeObject, PodObject, PodTemplateSpec, ReplicaSetObject } from '../../src/controllers/workloads/types.js';

const template = (image = 'nginx:1.25'): PodTemplateSpec => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent' }], restartPolicy: 'Always' },
});

function deployment(replicas: number, spec: Partial<NonNullable<DeploymentObject['spec']>> = {}): DeploymentObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: template(),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
      ...spec,
    },
  };
}

let created = 0;
function replicaSet(name: string, replicas: number, available: number, extra: { revision?: number; image?: string; maxReplicas?: number; desired?: number } = {}): ReplicaSetObject {
  const annotations: Record<string, string> = {};
  if (extra.revision !== undefined) annotations['deployment.kubernetes.io/revision'] = String(extra.revision);
  if (extra.maxReplicas !== undefined) annotations['deployment.kubernetes.io/max-replicas'] = String(extra.maxReplicas);
  if (extra.desired !== undefined) annotations['deployment.kubernetes.io/desired-replicas'] = String(extra.desired);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', uid: `${name}-uid`, annotations, generation: 1, creationTimestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, created++)).toISOString().replace(/\.\d+Z$/, 'Z') },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: template(extra.image) },
    status: { replicas, readyReplicas: available, availableReplicas: available, observedGeneration: 1 },
  };
}

function pod(name: string, opts: { node?: string; phase?: string; ready?: boolean; readySince?: number; created?: number; restarts?: number; cost?: number; uid?: string } = {}): PodObject {
  const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: opts.uid ?? name,
      labels: { app: 'web' },
      creationTimestamp: at(opts.created ?? Date.UTC(2024, 0, 1)),
      annotations: opts.cost !== undefined ? { 'controller.kubernetes.io/pod-deletion-cost': String(opts.cost) } : undefined,
    },
    spec: { nodeName: opts.node, containers: [{ name: 'app', image: 'nginx' }] },
    status: {
      phase: opts.phase ?? 'Running',
      conditions: opts.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: at(opts.readySince ?? Date.UTC(2024, 0, 1)) }] : [],
      containerStatuses: [{ name: 'app', image: 'nginx', imageID: '', ready: !!opts.ready, restartCount: opts.restarts ?? 0 }],
    },
  };
}

function node(name: string, opts: { labels?: Record<string, string>; ready?: boolean; taints?: { key: string; effect: string; value?: string }[] } = {}): NodeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: { taints: opts.taints },
    status: { conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

// ---- pod-template-hash --------------------------------------------------------

test('fnv32a and SafeEncodeString match their Go definitions', () => {
  assert.equal(fnv32a(Buffer.from('')), 0x811c9dc5);
  assert.equal(fnv32a(Buffer.from('a')), 0xe40c292c);
  assert.equal(fnv32a(Buffer.from('foobar')), 0xbf9cf968);
  // Digits map through the alphabet by byte value: '0' is 48, 48 % 27 = 21 → '4'.
  assert.equal(safeEncodeString('0123456789'), '456789bcdf');
});

test('pod-template-hash is stable for one template, whatever the key order, and changes with it and with collisionCount', () => {
  const a = computeHash(template());
  assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.equal(computeHash(template()), a);
  const reordered: PodTemplateSpec = { spec: { restartPolicy: 'Always', containers: [{ imagePullPolicy: 'IfNotPresent', image: 'nginx:1.25', name: 'app' }] }, metadata: { labels: { app: 'web' } } };
  assert.equal(computeHash(reordered), a);
  // An empty map is no map, as apimachinery's semantic equality has it.
  assert.equal(computeHash({ ...template(), metadata: { labels: { app: 'web' }, annotations: {} } }), a);
  assert.notEqual(computeHash(template('nginx:1.26')), a);
  assert.notEqual(computeHash(template(), 1), a);
  assert.equal(computeHash(template(), 1), computeHash(template(), 1));
  assert.notEqual(computeHash(template(), 1), computeHash(template(), 2));
});

test('equalIgnoreHash ignores only the pod-template-hash label', () => {
  const withHash = template();
  withHash.metadata!.labels!['pod-template-hash'] = 'abc';
  assert.ok(equalIgnoreHash(withHash, template()));
  assert.ok(!equalIgnoreHash(withHash, template('nginx:1.26')));
  const otherLabel = template();
  otherLabel.metadata!.labels!.tier = 'x';
  assert.ok(!equalIgnoreHash(otherLabel, template()));
});

// ---- surge and unavailability ----------------------------------------------

test('maxSurge rounds percentages up, maxUnavailable down; both zero means one unavailable', () => {
  assert.deepEqual(resolveFenceposts('25%', '25%', 4), { surge: 1, unavailable: 1 });
  assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
  assert.deepEqual(resolveFenceposts('25%', '25%', 1), { surge: 1, unavailable: 0 });
  assert.deepEqual(resolveFenceposts(0, 0, 5), { surge: 0, unavailable: 1 });
  assert.deepEqual(resolveFenceposts(2, '50%', 3), { surge: 2, unavailable: 1 });
  assert.throws(() => scaledValue('5', 10, true), /not a percentage/);
  assert.equal(maxUnavailable(deployment(2, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 5 } } })), 2);
  assert.equal(maxUnavailable(deployment(4, { strategy: { type: 'Recreate' } })), 0);
  assert.equal(maxSurge(deployment(4, { strategy: { type: 'Recreate' } })), 0);
  assert.equal(maxUnavailable(deployment(0)), 0);
});

// ---- rolling update ----------------------------------------------------------

test('the new ReplicaSet grows up to replicas + maxSurge', () => {
  const d = deployment(4); // surge 1, unavailable 1
  const old = replicaSet('web-old', 4, 4);
  const fresh = replicaSet('web-new', 0, 0, { image: 'nginx:1.26' });
  assert.equal(newRSNewReplicas(d, [old, fresh], fresh), 1);
  assert.equal(planNewReplicaSet([old, fresh], fresh, d), 1);
  const grown = replicaSet('web-new', 1, 0, { image: 'nginx:1.26' });
  assert.equal(planNewReplicaSet([old, grown], grown, d), undefined, 'at the surge limit');
  const over = replicaSet('web-new', 6, 6);
  assert.equal(planNewReplicaSet([over], over, d), 4, 'scaled down to replicas');
  assert.equal(newRSNewReplicas(deployment(4, { strategy: { type: 'Recreate' } }), [old, fresh], fresh), 4);
});

test('old ReplicaSets shrink only as far as replicas − maxUnavailable stay available, unhealthy pods first', () => {
  const d = deployment(4);
  // New RS surged to 1, nothing available there yet: one old pod may go.
  let old = replicaSet('web-old', 4, 4);
  let fresh = replicaSet('web-new', 1, 0, { image: 'nginx:1.26' });
  assert.deepEqual(
    planOldReplicaSets([old, fresh], [old], fresh, d).map((s) => [s.rs.metadata.name, s.replicas]),
    [['web-old', 3]],
  );
  // New RS at 2 with none available: nothing may go.
  old = replicaSet('web-old', 3, 3);
  fresh = replicaSet('web-new', 2, 0, { image: 'nginx:1.26' });
  assert.deepEqual(planOldReplicaSets([old, fresh], [old], fresh, d), []);
  // Two new available: two more old may go.
  fresh = replicaSet('web-new', 2, 2, { image: 'nginx:1.26' });
  assert.deepEqual(
    planOldReplicaSets([old, fresh], [old], fresh, d).map((s) => s.replicas),
    [1],
  );
  // An old RS with unavailable replicas loses those first, even without availability headroom.
  old = replicaSet('web-old', 4, 2);
  fresh = replicaSet('web-new', 1, 1, { image: 'nginx:1.26' });
  assert.deepEqual(
    planOldReplicaSets([old, fresh], [old], fresh, d).map((s) => s.replicas),
    [2],
  );
  // A stale status (more available than wanted) is an error, as upstream, so the sync retries.
  old = replicaSet('web-old', 3, 4);
  fresh = replicaSet('web-new', 2, 1, { image: 'nginx:1.26' });
  assert.throws(() => planOldReplicaSets([old, fresh], [old], fresh, d), /invalid request to scale down/);
});

test('a scaling event during a rollout is spread proportionally, leftovers to the largest ReplicaSet', () => {
  const d = deployment(20, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
  const old = replicaSet('web-old', 5, 5, { maxReplicas: 11, desired: 10 });
  const fresh = replicaSet('web-new', 5, 0, { image: 'nginx:1.26', maxReplicas: 11, desired: 10 });
  d.spec!.template = template('nginx:1.26');
  assert.ok(isScalingEvent(d, fresh, [old]));
  const steps = planScale(d, fresh, [old]);
  assert.deepEqual(
    steps.map((s) => [s.rs.metadata.name, s.replicas, s.operation]),
    [
      ['web-new', 11, 'up'],
      ['web-old', 10, 'up'],
    ],
  );
  // One active ReplicaSet simply takes the new size.
  const only = replicaSet('web-only', 3, 3, { desired: 3 });
  assert.deepEqual(
    planScale(deployment(5), only, []).map((s) => [s.rs.metadata.name, s.replicas]),
    [['web-only', 5]],
  );
});

test('the new ReplicaSet is the oldest with the template; a rollback keeps the revision history', () => {
  const d = deployment(3);
  const a = replicaSet('web-a', 0, 0, { revision: 1 });
  const b = replicaSet('web-b', 3, 3, { revision: 2, image: 'nginx:1.26' });
  assert.equal(findNewReplicaSet(d, [b, a])?.metadata.name, 'web-a');
  d.metadata.annotations = { 'kubernetes.io/change-cause': 'undo', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
  const copy = structuredClone(a);
  assert.ok(setNewReplicaSetAnnotations(d, copy, '3', true));
  assert.equal(copy.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
  assert.equal(copy.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
  assert.equal(copy.metadata.annotations?.['kubernetes.io/change-cause'], 'undo');
  assert.equal(copy.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  assert.ok(!setNewReplicaSetAnnotations(d, copy, '3', true), 'nothing left to change');
  const fresh = replicaSet('web-c', 3, 0);
  delete fresh.metadata.annotations;
  setNewReplicaSetAnnotations(deployment(3), fresh, '1', false);
  assert.deepEqual(fresh.metadata.annotations, {
    'deployment.kubernetes.io/revision': '1',
    'deployment.kubernetes.io/desired-replicas': '3',
    'deployment.kubernetes.io/max-replicas': '4',
  });
});

test('status and conditions: minimum availability, progressing, complete, timed out', () => {
  const d = deployment(4);
  const now = '2024-01-01T00:10:00Z';
  const old = replicaSet('web-old', 3, 3);
  const fresh = replicaSet('web-new', 2, 0, { image: 'nginx:1.26' });
  d.spec!.template = template('nginx:1.26');
  const s = calculateStatus([old, fresh], fresh, d, now);
  assert.equal(s.replicas, 5);
  assert.equal(s.updatedReplicas, 2);
  assert.equal(s.availableReplicas, 3);
  assert.equal(s.unavailableReplicas, 2);
  assert.equal(s.observedGeneration, 1);
  assert.deepEqual(s.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [['Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.']]);

  d.status = { replicas: 4, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: 'Created new replica set "web-new"', lastUpdateTime: '2024-01-01T00:00:00Z', lastTransitionTime: '2024-01-01T00:00:00Z' }] };
  const progressing = rolloutStatus([old, fresh], fresh, d, now, Date.parse(now));
  const p = progressing.conditions?.find((c) => c.type === 'Progressing');
  assert.deepEqual([p?.reason, p?.message, p?.lastUpdateTime, p?.lastTransitionTime], ['ReplicaSetUpdated', 'ReplicaSet "web-new" is progressing.', now, '2024-01-01T00:00:00Z']);

  const done = replicaSet('web-new', 4, 4, { image: 'nginx:1.26' });
  const complete = rolloutStatus([replicaSet('web-old', 0, 0), done], done, d, now, Date.parse(now));
  assert.equal(complete.conditions?.find((c) => c.type === 'Progressing')?.message, 'ReplicaSet "web-new" has successfully progressed.');
  assert.equal(complete.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetAvailable');

  // No progress for longer than progressDeadlineSeconds.
  d.status = { ...calculateStatus([old, fresh], fresh, d, now), conditions: d.status.conditions };
  const late = Date.parse('2024-01-01T00:10:01Z');
  const timedOut = rolloutStatus([old, fresh], fresh, d, '2024-01-01T00:10:01Z', late);
  const t = timedOut.conditions?.find((c) => c.type === 'Progressing');
  assert.deepEqual([t?.status, t?.reason, t?.message], ['False', 'ProgressDeadlineExceeded', 'ReplicaSet "web-new" has timed out progressing.']);

  // Not enough available.
  const low = calculateStatus([replicaSet('web-new', 4, 2)], undefined, deployment(4), now);
  assert.deepEqual(low.conditions?.map((c) => [c.status, c.reason]), [['False', 'MinimumReplicasUnavailable']]);
});

test('revisionHistoryLimit cleans the oldest fully scaled-down ReplicaSets', () => {
  const d = deployment(1, { revisionHistoryLimit: 1 });
  const r1 = replicaSet('r1', 0, 0, { revision: 1 });
  const r2 = replicaSet('r2', 0, 0, { revision: 2 });
  const r3 = replicaSet('r3', 1, 1, { revision: 3 });
  // Old ReplicaSets beyond the limit go, lowest revision first.
  assert.deepEqual(replicaSetsToCleanUp([r2, r1], d).map((rs) => rs.metadata.name), ['r1']);
  assert.deepEqual(replicaSetsToCleanUp([r2], d), []);
  // One that still has replicas is never deleted, even past the limit.
  assert.deepEqual(replicaSetsToCleanUp([r3, r2, r1], deployment(1, { revisionHistoryLimit: 0 })).map((rs) => rs.metadata.name), ['r1', 'r2']);
  // Nor one whose latest spec the ReplicaSet controller has not yet observed.
  const unobserved = replicaSet('r0', 0, 0, { revision: 0 });
  unobserved.metadata.generation = 2;
  assert.deepEqual(replicaSetsToCleanUp([r2, unobserved], d), []);
  assert.deepEqual(replicaSetsToCleanUp([r2, r1], deployment(1, { revisionHistoryLimit: undefined })), []);
});

// ---- pods ----------------------------------------------------------------------

test('availability waits minReadySeconds after readiness', () => {
  const since = Date.UTC(2024, 0, 1);
  const p = pod('a', { ready: true, readySince: since });
  assert.ok(isPodAvailable(p, 0, since));
  assert.ok(!isPodAvailable(p, 10, since + 5_000));
  assert.ok(isPodAvailable(p, 10, since + 10_001));
  assert.ok(!isPodAvailable(pod('b'), 0, since));
});

test('pods from a template: generateName, labels, controller reference', () => {
  const rs = replicaSet('web-5d4f8b7c9', 1, 0);
  const tpl = template();
  tpl.metadata!.labels!['pod-template-hash'] = '5d4f8b7c9';
  tpl.metadata!.annotations = { note: 'x' };
  const p = podFromTemplate(tpl, rs, { apiVersion: 'apps/v1', kind: 'ReplicaSet' });
  assert.equal(p.metadata.generateName, 'web-5d4f8b7c9-');
  assert.equal(p.metadata.namespace, 'default');
  assert.deepEqual(p.metadata.labels, { app: 'web', 'pod-template-hash': '5d4f8b7c9' });
  assert.deepEqual(p.metadata.annotations, { note: 'x' });
  assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d4f8b7c9', uid: 'web-5d4f8b7c9-uid', controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(p.spec, tpl.spec);
  assert.notEqual(p.spec, tpl.spec, 'a copy, not the template');
});

test('scale-down victims follow upstream ranking', () => {
  const t0 = Date.UTC(2024, 0, 1);
  const now = t0 + 3_600_000;
  const ranked = (pods: PodObject[], related: PodObject[] = []) => podsToDelete(pods, related, pods.length - 1, now).map((p) => p.metadata.name);
  // Unassigned before assigned.
  assert.deepEqual(ranked([pod('bound', { node: 'n1', ready: true }), pod('unbound', { phase: 'Pending' })]), ['unbound']);
  // Pending < Unknown < Running.
  assert.deepEqual(podsToDelete([pod('run', { node: 'n' }), pod('unk', { node: 'n', phase: 'Unknown' }), pod('pend', { node: 'n', phase: 'Pending' })], [], 2, now).map((p) => p.metadata.name), ['pend', 'unk']);
  // Not ready before ready.
  assert.deepEqual(ranked([pod('ready', { node: 'n', ready: true }), pod('notready', { node: 'n' })]), ['notready']);
  // Lower pod-deletion-cost first.
  assert.deepEqual(ranked([pod('expensive', { node: 'n', ready: true, cost: 100 }), pod('cheap', { node: 'n', ready: true, cost: -1 })]), ['cheap']);
  // Doubled up on a node before alone.
  const related = [pod('x1', { node: 'busy' }), pod('x2', { node: 'busy' }), pod('x3', { node: 'quiet' })];
  assert.deepEqual(ranked([pod('alone', { node: 'quiet', ready: true }), pod('crowded', { node: 'busy', ready: true })], related), ['crowded']);
  // Ready for less time first (log-scale buckets).
  assert.deepEqual(ranked([pod('old', { node: 'n', ready: true, readySince: t0 }), pod('recent', { node: 'n', ready: true, readySince: now - 1_000 })]), ['recent']);
  // More restarts first.
  assert.deepEqual(ranked([pod('calm', { node: 'n', ready: true }), pod('flaky', { node: 'n', ready: true, restarts: 4 })]), ['flaky']);
  // Newer before older.
  assert.deepEqual(ranked([pod('older', { node: 'n', created: t0 }), pod('newer', { node: 'n', created: now - 10_000 })]), ['newer']);
  // Asking for all of them returns all of them.
  assert.equal(podsToDelete([pod('a'), pod('b')], [], 5).length, 2);
});

test('ReplicaSet status counts active pods, fully labelled, ready and available ones, and reports failures', () => {
  const rs = replicaSet('web-x', 3, 0);
  rs.spec!.template!.metadata!.labels = { app: 'web', tier: 'front' };
  rs.spec!.minReadySeconds = 30;
  const now = Date.UTC(2024, 0, 1, 1);
  const pods = [
    { ...pod('a', { ready: true, readySince: now - 60_000 }), metadata: { ...pod('a').metadata, labels: { app: 'web', tier: 'front' } } },
    pod('b', { ready: true, readySince: now - 1_000 }),
    pod('c'),
  ];
  const s = calculateReplicaSetStatus(rs, pods, undefined, now, '2024-01-01T01:00:00Z');
  assert.deepEqual([s.replicas, s.fullyLabeledReplicas, s.readyReplicas, s.availableReplicas], [3, 1, 2, 1]);
  const failed = calculateReplicaSetStatus(rs, pods.slice(0, 1), new Error('pods "x" is forbidden'), now, '2024-01-01T01:00:00Z');
  assert.deepEqual(failed.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [['ReplicaFailure', 'True', 'FailedCreate', 'pods "x" is forbidden']]);
  const healed = calculateReplicaSetStatus({ ...rs, status: failed }, pods, undefined, now, '2024-01-01T01:00:00Z');
  assert.equal(healed.conditions, undefined);
});

// ---- ownership -----------------------------------------------------------------

test('claiming: keep owned matches, adopt matching orphans, release non-matching, ignore others', () => {
  const owner = replicaSet('web-x', 1, 1);
  const ours = { ...pod('ours'), metadata: { ...pod('ours').metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-x', uid: 'web-x-uid', controller: true }] } };
  const theirs = { ...pod('theirs'), metadata: { ...pod('theirs').metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'other', uid: 'other', controller: true }] } };
  assert.equal(getControllerOf(ours)?.uid, 'web-x-uid');
  assert.equal(claimDecision(owner, ours, true), 'owned');
  assert.equal(claimDecision(owner, ours, false), 'release');
  assert.equal(claimDecision(owner, theirs, true), 'ignore');
  assert.equal(claimDecision(owner, pod('orphan'), true), 'adopt');
  assert.equal(claimDecision(owner, pod('orphan'), false), 'ignore');
  const dying = pod('dying');
  dying.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
  assert.equal(claimDecision(owner, dying, true), 'ignore');
  const deletedOwner = { ...owner, metadata: { ...owner.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
  assert.equal(claimDecision(deletedOwner, pod('orphan'), true), 'ignore');
  assert.equal(claimDecision(deletedOwner, ours, false), 'ignore');
});

test('expectations hold until every creation and deletion is observed, once per pod, or they expire', () => {
  let now = 0;
  const e = createExpectations(() => now);
  assert.ok(e.satisfied('default/web'));
  e.expect('default/web', 2, []);
  assert.ok(!e.satisfied('default/web'));
  e.creationObserved('default/web');
  assert.ok(!e.satisfied('default/web'));
  e.creationObserved('default/web');
  assert.ok(e.satisfied('default/web'));
  e.expect('default/web', 0, ['default/a', 'default/b']);
  e.deletionObserved('default/web', 'default/a');
  e.deletionObserved('default/web', 'default/a');
  assert.ok(!e.satisfied('default/web'), 'a pod seen terminating and then gone counts once');
  e.deletionObserved('default/web', 'default/b');
  assert.ok(e.satisfied('default/web'));
  e.expect('default/web', 1, []);
  now += expectationsTimeoutMs + 1;
  assert.ok(e.satisfied('default/web'), 'expired');
});

// ---- DaemonSets ----------------------------------------------------------------

function daemonSet(spec: Partial<NonNullable<DaemonSetObject['spec']>> = {}): DaemonSetObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'busybox' }] } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      ...spec,
    },
  };
}

test('which nodes run a daemon pod: selector, affinity, taints, readiness', () => {
  const ds = daemonSet();
  assert.deepEqual(nodeShouldRunDaemonPod(node('n1'), ds), { shouldRun: true, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n1', { ready: false }), ds), { shouldRun: false, shouldContinueRunning: true }, 'not Ready: keep, do not add');
  assert.deepEqual(nodeShouldRunDaemonPod(node('n1', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] }), ds), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n1', { taints: [{ key: 'gpu', effect: 'NoExecute' }] }), ds), { shouldRun: false, shouldContinueRunning: false });
  // Daemon pods tolerate the node-problem taints by default.
  assert.deepEqual(nodeShouldRunDaemonPod(node('n1', { taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }), ds).shouldRun, true);
  const tolerant = daemonSet();
  tolerant.spec!.template.spec!.tolerations = [{ key: 'gpu', operator: 'Exists' }];
  assert.equal(nodeShouldRunDaemonPod(node('n1', { taints: [{ key: 'gpu', effect: 'NoSchedule', value: 'yes' }] }), tolerant).shouldRun, true);
  const selective = daemonSet();
  selective.spec!.template.spec!.nodeSelector = { disk: 'ssd' };
  assert.equal(nodeShouldRunDaemonPod(node('n1'), selective).shouldRun, false);
  assert.equal(nodeShouldRunDaemonPod(node('n1', { labels: { disk: 'ssd' } }), selective).shouldRun, true);
  const affine = daemonSet();
  affine.spec!.template.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['special'] }] }] } } };
  assert.equal(nodeShouldRunDaemonPod(node('n1', { labels: { zone: 'b' } }), affine).shouldRun, true);
  assert.equal(nodeShouldRunDaemonPod(node('special'), affine).shouldRun, true);
  assert.equal(nodeShouldRunDaemonPod(node('n1', { labels: { zone: 'c' } }), affine).shouldRun, false);
});

function daemonPod(name: string, nodeName: string, hash: string, opts: { ready?: boolean; created?: number } = {}): PodObject {
  const p = pod(name, { node: nodeName, ready: opts.ready ?? true, created: opts.created });
  p.metadata.labels = { app: 'agent', 'controller-revision-hash': hash };
  return p;
}

test('per node: create the missing pod, keep the oldest of duplicates, delete where it may not run', () => {
  const ds = daemonSet();
  const now = Date.UTC(2024, 0, 2);
  assert.deepEqual(planNode(node('n1'), undefined, ds, 'h1', now), { create: true, delete: [], failed: [] });
  const older = daemonPod('older', 'n1', 'h1', { created: Date.UTC(2024, 0, 1) });
  const newer = daemonPod('newer', 'n1', 'h1', { created: Date.UTC(2024, 0, 1, 1) });
  assert.deepEqual(planNode(node('n1'), [newer, older], ds, 'h1', now).delete.map((p) => p.metadata.name), ['newer']);
  const failed = daemonPod('failed', 'n1', 'h1');
  failed.status!.phase = 'Failed';
  assert.deepEqual(planNode(node('n1'), [failed], ds, 'h1', now).failed.map((p) => p.metadata.name), ['failed']);
  assert.deepEqual(planNode(node('n1', { taints: [{ key: 'x', effect: 'NoExecute' }] }), [older], ds, 'h1', now).delete.map((p) => p.metadata.name), ['older']);
});

test('DaemonSet rolling update replaces within maxUnavailable (rounded up) and counts status', () => {
  const ds = daemonSet();
  const now = Date.UTC(2024, 0, 2);
  const nodes = [node('n1'), node('n2'), node('n3')];
  const byNode = new Map(nodes.map((n) => [n.metadata.name!, [daemonPod(`p-${n.metadata.name}`, n.metadata.name!, 'old')]]));
  let plan = planRollingUpdate(ds, nodes, byNode, 'new', now);
  assert.equal(plan.deletePods.length, 1);
  assert.deepEqual(plan.createOn, []);
  // One node already replaced but not yet available: no further deletions.
  byNode.set('n1', [daemonPod('p-n1-new', 'n1', 'new', { ready: false })]);
  plan = planRollingUpdate(ds, nodes, byNode, 'new', now);
  assert.equal(plan.deletePods.length, 0);
  // Percentages round up for DaemonSets: 34% of 3 is 2.
  assert.equal(unavailableCount(daemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '34%' } } }), 3), 2);
  // Surge: a new pod is added next to an available old one, and the old goes when the new is available.
  const surge = daemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
  const byNode2 = new Map(nodes.map((n) => [n.metadata.name!, [daemonPod(`p-${n.metadata.name}`, n.metadata.name!, 'old')]]));
  plan = planRollingUpdate(surge, nodes, byNode2, 'new', now);
  assert.equal(plan.createOn.length, 1);
  byNode2.set('n2', [daemonPod('p-n2', 'n2', 'old'), daemonPod('p-n2-new', 'n2', 'new')]);
  plan = planRollingUpdate(surge, nodes, byNode2, 'new', now);
  assert.deepEqual(plan.deletePods.map((p) => p.metadata.name), ['p-n2']);

  const status = calculateDaemonSetStatus(ds, [...nodes, node('n4', { ready: false }), node('n5', { taints: [{ key: 'x', effect: 'NoExecute' }] })], new Map([...byNode, ['n5', [daemonPod('p-n5', 'n5', 'new')]]]), 'new', now);
  assert.deepEqual(status, {
    desiredNumberScheduled: 3,
    currentNumberScheduled: 3,
    numberMisscheduled: 1,
    numberReady: 2,
    updatedNumberScheduled: 1,
    numberAvailable: 2,
    numberUnavailable: 1,
  });
});
