// The decisions behind PodDisruptionBudgets, without a server: the
// disruption controller's counts (pkg/controller/disruption), the eviction
// subresource's verify-and-decrement (EvictionREST.checkAndDecrement) and the
// budget's validation words.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { errorString } from '../../src/api/field-errors.js';
import { StatusError } from '../../src/api/status.js';
import { countHealthyPods, disruptedPodMap, expectedPodCount, failSafeStatus, nextBudgetStatus, type ScaleFinder } from '../../src/controllers/disruption/status.js';
import type { PodObject } from '../../src/controllers/workloads/types.js';
import { budgetsForPod, canIgnoreBudgets, spendDisruption, unhealthyPodMayGo } from '../../src/registry/poddisruptionbudgets/eviction-decision.js';
import { validatePodDisruptionBudget } from '../../src/registry/poddisruptionbudgets/validation.js';

const now = Date.parse('2026-03-01T12:00:00Z');

function pod(name: string, opts: { ready?: boolean; owner?: string; deleting?: boolean; phase?: string; labels?: Record<string, string> } = {}): PodObject {
  return {
    metadata: {
      name,
      namespace: 'default',
      labels: opts.labels ?? { app: 'web' },
      ownerReferences: opts.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner, uid: `uid-${opts.owner}`, controller: true }] : undefined,
      deletionTimestamp: opts.deleting ? '2026-03-01T11:59:00Z' : undefined,
    },
    status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  } as PodObject;
}

function budget(spec: PodDisruptionBudget['spec'], status?: Partial<NonNullable<PodDisruptionBudget['status']>>, generation = 1): PodDisruptionBudget {
  return {
    metadata: { name: 'web', namespace: 'default', generation },
    spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
    status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, observedGeneration: generation, ...status },
  };
}

const scales: Record<string, number> = { 'uid-rs': 4 };
const finder: ScaleFinder = (ref) => (ref.uid in scales ? { uid: ref.uid, scale: scales[ref.uid]! } : undefined);

describe('disruption controller counts', () => {
  test('an integer minAvailable counts the pods themselves; percentages and maxUnavailable the controllers scale', () => {
    const pods = [pod('a', { owner: 'rs' }), pod('b', { owner: 'rs' }), pod('c', { owner: 'rs' })];
    assert.deepEqual(expectedPodCount(budget({ minAvailable: 2 }), pods, finder), { expectedCount: 3, desiredHealthy: 2, unmanagedPods: [] });
    // 50% of the ReplicaSet's 4, rounded up.
    assert.deepEqual(expectedPodCount(budget({ minAvailable: '50%' }), pods, finder), { expectedCount: 4, desiredHealthy: 2, unmanagedPods: [] });
    // 4 expected, at most 25% (rounded up: 1) unavailable.
    assert.deepEqual(expectedPodCount(budget({ maxUnavailable: '25%' }), pods, finder), { expectedCount: 4, desiredHealthy: 3, unmanagedPods: [] });
    assert.deepEqual(expectedPodCount(budget({ maxUnavailable: 10 }), pods, finder).desiredHealthy, 0, 'never below zero');
  });

  test('unmanaged pods are reported; a controller that cannot be found fails the sync', () => {
    const withOrphan = [pod('a', { owner: 'rs' }), pod('lonely')];
    assert.deepEqual(expectedPodCount(budget({ maxUnavailable: 1 }), withOrphan, finder).unmanagedPods, ['lonely']);
    assert.throws(() => expectedPodCount(budget({ minAvailable: '50%' }), [pod('x', { owner: 'gone' })], finder), /found no controllers for pod "x"/);
  });

  test('healthy: ready, not deleting, not evicted within the deletion timeout', () => {
    const pods = [pod('a'), pod('b', { ready: false }), pod('c', { deleting: true }), pod('d'), pod('e')];
    const disrupted = { d: new Date(now - 30_000).toISOString(), e: new Date(now - 3 * 60_000).toISOString() };
    assert.equal(countHealthyPods(pods, disrupted, now), 2, 'a, and e whose eviction timed out');
    const map = disruptedPodMap(budget({ minAvailable: 1 }, { disruptedPods: { ...disrupted, c: disrupted.d } }), pods, now);
    assert.deepEqual(Object.keys(map.disruptedPods), ['d']);
    assert.deepEqual(map.overdue.map((p) => p.metadata.name), ['e']);
    assert.equal(map.recheckAt, now - 30_000 + 2 * 60_000);
  });

  test('the status: disruptions allowed, the DisruptionAllowed condition, and no write when nothing changed', () => {
    const at = new Date(now);
    const pdb = budget({ minAvailable: 1 }, {}, 2);
    pdb.status!.observedGeneration = 1;
    const status = nextBudgetStatus(pdb, { currentHealthy: 3, desiredHealthy: 1, expectedCount: 3, disruptedPods: {} }, at)!;
    assert.equal(status.disruptionsAllowed, 2);
    assert.equal(status.observedGeneration, 2);
    assert.deepEqual(status.conditions, [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: '2026-03-01T12:00:00Z' }]);
    assert.equal(nextBudgetStatus({ ...pdb, status }, { currentHealthy: 3, desiredHealthy: 1, expectedCount: 3, disruptedPods: {} }, at), undefined);
    const none = nextBudgetStatus(pdb, { currentHealthy: 1, desiredHealthy: 1, expectedCount: 0, disruptedPods: {} }, at)!;
    assert.equal(none.disruptionsAllowed, 0);
    assert.equal(none.conditions![0]!.reason, 'InsufficientPods');
    const failed = failSafeStatus({ ...pdb, status }, 'found no controllers for pod "x"', at);
    assert.equal(failed.disruptionsAllowed, 0);
    assert.deepEqual(failed.conditions![0], { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'found no controllers for pod "x"', observedGeneration: 2, lastTransitionTime: '2026-03-01T12:00:00Z' });
  });
});

describe('eviction decisions', () => {
  const at = new Date(now);
  test('a disruption is spent and the pod recorded; none left is 429 with the cause; an unobserved generation too', () => {
    const spent = spendDisruption(budget({ minAvailable: 1 }, { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1 }), 'web-a', false, at);
    assert.equal(spent.disruptionsAllowed, 0);
    assert.deepEqual(spent.disruptedPods, { 'web-a': '2026-03-01T12:00:00Z' });
    assert.equal(spent.conditions![0]!.reason, 'InsufficientPods');
    const dry = spendDisruption(budget({ minAvailable: 1 }, { disruptionsAllowed: 1 }), 'web-a', true, at);
    assert.equal(dry.disruptedPods, undefined, 'a dry run records nothing');

    const refuse = (pdb: PodDisruptionBudget) => {
      try {
        spendDisruption(pdb, 'web-b', false, at);
      } catch (e) {
        return (e as StatusError).status;
      }
      assert.fail('expected a refusal');
    };
    const none = refuse(budget({ minAvailable: 1 }, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1 }));
    assert.equal(none.code, 429);
    assert.equal(none.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(none.details, { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 1 currently' }] });
    const stale = refuse({ ...budget({ minAvailable: 1 }, { disruptionsAllowed: 3 }), metadata: { name: 'web', namespace: 'default', generation: 2 } });
    assert.equal(stale.code, 429);
    assert.deepEqual(stale.details, { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' }], retryAfterSeconds: 10 });
    const negative = refuse(budget({ minAvailable: 1 }, { disruptionsAllowed: -1 }));
    assert.equal(negative.message, 'poddisruptionbudget.policy "web" is forbidden: pdb disruptions allowed is negative');
  });

  test('which pods skip the budget, which budgets guard a pod, unready pods under each policy', () => {
    const p = (phase: string, deleting = false) => pod('x', { phase, deleting }) as unknown as Pod;
    assert.equal(canIgnoreBudgets(p('Pending')), true);
    assert.equal(canIgnoreBudgets(p('Succeeded')), true);
    assert.equal(canIgnoreBudgets(p('Running', true)), true);
    assert.equal(canIgnoreBudgets(p('Running')), false);

    const empty = { ...budget({}), spec: { selector: {} } };
    const other = { ...budget({}), metadata: { name: 'o', namespace: 'other' } };
    const matching = budget({ minAvailable: 1 });
    assert.deepEqual(budgetsForPod([empty, other, matching, { ...budget({}), spec: {} }], pod('a') as unknown as Pod), [matching]);

    const unready = pod('u', { ready: false }) as unknown as Pod;
    assert.equal(unhealthyPodMayGo(unready, budget({ minAvailable: 1 }, { currentHealthy: 2, desiredHealthy: 1 })), true, 'the budget is met anyway');
    assert.equal(unhealthyPodMayGo(unready, budget({ minAvailable: 2 }, { currentHealthy: 1, desiredHealthy: 2 })), false);
    assert.equal(unhealthyPodMayGo(unready, budget({ minAvailable: 2, unhealthyPodEvictionPolicy: 'AlwaysAllow' }, { currentHealthy: 1, desiredHealthy: 2 })), true);
    assert.equal(unhealthyPodMayGo(pod('r') as unknown as Pod, budget({ minAvailable: 1 }, { currentHealthy: 2, desiredHealthy: 1 })), false, 'a ready pod always spends');
  });
});

describe('PodDisruptionBudget validation', () => {
  const words = (spec: PodDisruptionBudget['spec']) => validatePodDisruptionBudget({ spec }).map(errorString);
  test('upstream words', () => {
    assert.deepEqual(words({ minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { a: 'b' } } }), [
      'spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:(*intstr.IntOrString)(…), Selector:(*v1.LabelSelector)(…), MaxUnavailable:(*intstr.IntOrString)(…), UnhealthyPodEvictionPolicy:(*policy.UnhealthyPodEvictionPolicyType)(nil)}: minAvailable and maxUnavailable cannot be both set',
    ]);
    assert.deepEqual(words({ minAvailable: -1 }), ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(words({ maxUnavailable: '101%' }), ['spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"101%"}: must not be greater than 100%']);
    assert.deepEqual(words({ minAvailable: 'half' }), ['spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"half"}: a valid percent string must be a numeric string followed by an ending \'%\' (e.g. \'1%\',  or \'93%\', regex used for validation is \'[0-9]+%\')']);
    assert.deepEqual(words({ minAvailable: 0, selector: {} }), []);
  });
});
