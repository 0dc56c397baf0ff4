// The pure decisions of the scheduler, the node lifecycle controller and the
// garbage collector, without a server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import type { Node, Pod } from '../../src/api/types.js';
import { effectiveTaints, filterNode, fitErrorMessage, needsScheduling, noNodesAvailable, schedulePod, toleratesTaint } from '../../src/controllers/scheduler.js';
import { desiredTaints, podNotReadyStatus, staleNodeConditions } from '../../src/controllers/node-lifecycle.js';
import { decide, typeForReference } from '../../src/controllers/garbage-collector.js';

type Obj<T> = T & KubeObject;
const now = '2026-01-01T00:00:00Z';

function node(name: string, opts: { labels?: Record<string, string>; ready?: string; unschedulable?: boolean; taints?: NonNullable<Node['spec']>['taints'] } = {}): Obj<Node> {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: { unschedulable: opts.unschedulable, taints: opts.taints },
    status: { conditions: [{ type: 'Ready', status: opts.ready ?? 'True', lastHeartbeatTime: now }] },
  };
}
const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}): Obj<Pod> => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], ...spec } });

describe('scheduler filters', () => {
  test('tolerations match taints as v1.Toleration.ToleratesTaint', () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    assert.ok(toleratesTaint({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, taint));
    assert.ok(toleratesTaint({ key: 'dedicated', value: 'gpu' }, taint));
    assert.ok(toleratesTaint({ key: 'dedicated', operator: 'Exists' }, taint));
    assert.ok(toleratesTaint({ operator: 'Exists' }, taint));
    assert.ok(!toleratesTaint({ key: 'dedicated', value: 'cpu' }, taint));
    assert.ok(!toleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint));
  });

  test('each filter names its upstream reason, in upstream order', () => {
    assert.equal(filterNode(pod(), node('n', { unschedulable: true })), 'node(s) were unschedulable');
    assert.equal(filterNode(pod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }), node('n', { unschedulable: true })), undefined);
    assert.equal(filterNode(pod(), node('n', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] })), 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }');
    assert.equal(filterNode(pod(), node('n', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] })), 'node(s) had untolerated taint {dedicated: gpu}');
    assert.equal(filterNode(pod(), node('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] })), undefined);
    assert.equal(filterNode(pod({ nodeSelector: { disk: 'ssd' } }), node('n')), "node(s) didn't match Pod's node affinity/selector");
    assert.equal(filterNode(pod({ nodeSelector: { disk: 'ssd' } }), node('n', { labels: { disk: 'ssd' } })), undefined);
  });

  test('a node that is not Ready is treated as carrying the not-ready/unreachable taint', () => {
    assert.equal(filterNode(pod(), node('n', { ready: 'False' })), 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }');
    assert.equal(filterNode(pod(), node('n', { ready: 'Unknown' })), 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }');
    const tainted = node('n', { ready: 'Unknown', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: now }] });
    assert.equal(effectiveTaints(tainted).length, 1);
    assert.equal(filterNode(pod({ tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }] }), tainted), undefined);
  });

  test('required node affinity: expressions, fields (DaemonSet style) and ORed terms', () => {
    const affinity = (terms: object[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } }) as NonNullable<Pod['spec']>['affinity'];
    const n = node('node-2', { labels: { zone: 'a', gen: '5' } });
    const fits = (terms: object[]) => filterNode(pod({ affinity: affinity(terms) }), n) === undefined;
    assert.ok(fits([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-2'] }] }]));
    assert.ok(!fits([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }]));
    assert.ok(fits([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, { key: 'gpu', operator: 'DoesNotExist' }] }]));
    assert.ok(!fits([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }]));
    assert.ok(fits([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, { matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }]));
    assert.ok(!fits([{ matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['4'] }] }]));
    assert.ok(fits([{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }]));
    assert.ok(!fits([{}]), 'an empty term matches nothing');
  });

  test('the FitError message: a sorted histogram, then the preemption verdict', () => {
    assert.equal(
      fitErrorMessage(pod(), 3, ["node(s) didn't match Pod's node affinity/selector", 'node(s) had untolerated taint {a: }', "node(s) didn't match Pod's node affinity/selector"]),
      "0/3 nodes are available: 1 node(s) had untolerated taint {a: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    assert.equal(fitErrorMessage(pod({ preemptionPolicy: 'Never' }), 1, ['node(s) were unschedulable']), '0/1 nodes are available: 1 node(s) were unschedulable. preemption: not eligible due to preemptionPolicy=Never.');
    assert.deepEqual(schedulePod(pod(), [], () => ({ siblings: 0, pods: 0 })), { message: noNodesAvailable });
  });

  test('the fewest pods win; ties go to the smaller name', () => {
    const nodes = [node('c'), node('b'), node('a', { unschedulable: true })];
    const counts: Record<string, number> = { a: 0, b: 2, c: 1 };
    const load = (n: string) => ({ siblings: 0, pods: counts[n]! });
    assert.deepEqual(schedulePod(pod(), nodes, load), { node: 'c' });
    counts.c = 2;
    assert.deepEqual(schedulePod(pod(), nodes, load), { node: 'b' });
  });

  test('pods of the same controller spread first, whatever else the nodes run', () => {
    const nodes = [node('a'), node('b'), node('c')];
    // a runs coredns and one replica, b one replica, c two unrelated pods: the third replica goes to c.
    const loads: Record<string, { siblings: number; pods: number }> = { a: { siblings: 1, pods: 3 }, b: { siblings: 1, pods: 2 }, c: { siblings: 0, pods: 4 } };
    assert.deepEqual(schedulePod(pod(), nodes, (n) => loads[n]!), { node: 'c' });
  });

  test('only unbound, live pods for the default scheduler are scheduled', () => {
    assert.ok(needsScheduling(pod()));
    assert.ok(needsScheduling(pod({ schedulerName: 'default-scheduler' })));
    assert.ok(!needsScheduling(pod({ schedulerName: 'other' })));
    assert.ok(!needsScheduling(pod({ nodeName: 'n' })));
    assert.ok(!needsScheduling({ ...pod(), status: { phase: 'Failed' } }));
  });
});

describe('node lifecycle decisions', () => {
  test('a stale node turns Unknown with upstream reason and message; posted pressure conditions too', () => {
    const n = node('n');
    n.status!.conditions!.push({ type: 'MemoryPressure', status: 'False' }, { type: 'NetworkUnavailable', status: 'False' });
    const conds = staleNodeConditions(n, now)!;
    assert.deepEqual(
      conds.map((c) => [c.type, c.status, c.reason, c.message]),
      [
        ['Ready', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
        ['MemoryPressure', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
        ['NetworkUnavailable', 'False', undefined, undefined],
      ],
    );
    assert.equal(conds[0].lastHeartbeatTime, now, 'the last heartbeat stays as the agent posted it');
    assert.equal(staleNodeConditions({ ...n, status: { conditions: conds } }, now), undefined, 'nothing more to change');
    const never: Obj<Node> = { metadata: { name: 'x', creationTimestamp: now }, status: {} };
    assert.deepEqual(
      staleNodeConditions(never, now)!.map((c) => [c.type, c.status, c.reason, c.message]),
      [['Ready', 'Unknown', 'NodeStatusNeverUpdated', 'Kubelet never posted node status.']],
    );
  });

  test('condition taints follow the conditions; other taints are left alone', () => {
    const n = node('n', { ready: 'Unknown', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    const taints = desiredTaints(n, now)!;
    assert.deepEqual(taints, [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: now },
    ]);
    n.spec!.taints = taints;
    assert.equal(desiredTaints(n, now), undefined);
    n.status!.conditions![0].status = 'False';
    assert.deepEqual(desiredTaints(n, now)!.map((t) => t.key), ['dedicated', 'node.kubernetes.io/not-ready']);
    n.status!.conditions![0].status = 'True';
    n.spec!.unschedulable = true;
    assert.deepEqual(desiredTaints(n, now)!.map((t) => t.key), ['dedicated', 'node.kubernetes.io/unschedulable']);
  });

  test('MarkPodsNotReady changes only a Ready condition that is not already False', () => {
    const p = { ...pod(), status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] } };
    assert.deepEqual(podNotReadyStatus(p, now)?.conditions, [{ type: 'Ready', status: 'False', lastTransitionTime: now }, { type: 'PodScheduled', status: 'True' }]);
    assert.equal(podNotReadyStatus({ ...pod(), status: { conditions: [{ type: 'Ready', status: 'False' }] } }, now), undefined);
    assert.equal(podNotReadyStatus({ ...pod(), status: {} }, now), undefined);
  });
});

describe('garbage collector decisions', () => {
  const ref = (uid: string) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid });
  const obj = (finalizers?: string[]): KubeObject => ({ metadata: { name: 'x', finalizers } });

  test('attemptToDeleteItem: keep, drop dangling references, or delete with the right policy', () => {
    assert.deepEqual(decide(obj(), { solid: [ref('a')], dangling: [], waiting: [] }, false), { action: 'none' });
    assert.deepEqual(decide(obj(), { solid: [ref('a')], dangling: [ref('b')], waiting: [ref('c')] }, false), { action: 'removeRefs', uids: ['b', 'c'] });
    assert.deepEqual(decide(obj(), { solid: [], dangling: [ref('b')], waiting: [] }, true), { action: 'delete', policy: 'Background' });
    assert.deepEqual(decide(obj(), { solid: [], dangling: [], waiting: [ref('c')] }, true), { action: 'delete', policy: 'Foreground' });
    assert.deepEqual(decide(obj(), { solid: [], dangling: [], waiting: [ref('c')] }, false), { action: 'delete', policy: 'Background' });
    assert.deepEqual(decide(obj(['orphan']), { solid: [], dangling: [ref('b')], waiting: [] }, true), { action: 'delete', policy: 'Orphan' });
  });

  test('owner references resolve by group and kind', () => {
    assert.equal(typeForReference('apps/v1', 'ReplicaSet')?.resource, 'replicasets');
    assert.equal(typeForReference('v1', 'Node')?.resource, 'nodes');
    assert.equal(typeForReference('example.com/v1', 'Widget'), undefined);
  });
});
