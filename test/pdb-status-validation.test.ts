// A PodDisruptionBudget's status writes are validated as upstream's
// ValidatePodDisruptionBudgetStatusUpdate: status.conditions are metav1
// Conditions (metav1validation.ValidateConditions) and the counts are never
// negative; the errors read as kube-apiserver's, through the status
// endpoint with the real kubectl and raw requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from '../src/api/field-errors.js';
import { validatePodDisruptionBudgetStatus } from '../src/registry/poddisruptionbudgets/validation.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { toolSkipReason } from './helpers/root.js';

const reasonFormat =
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' " +
  "(e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')";

const counts = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
const ok = { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' };
const errorsOf = (conditions: object[]) => validatePodDisruptionBudgetStatus({ ...counts, conditions } as never).map(errorString);

describe('PodDisruptionBudget status conditions (ValidateConditions)', () => {
  test('a valid condition passes', () => {
    assert.deepEqual(errorsOf([ok, { ...ok, type: 'example.com/Ready', status: 'Unknown', reason: 'A:B,C_d', observedGeneration: 3 }]), []);
  });

  test('type, status, observedGeneration, lastTransitionTime and reason, each with upstream words', () => {
    assert.deepEqual(errorsOf([{ type: 'not a name!', status: 'Maybe', observedGeneration: -1, reason: '' }]), [
      `status.conditions[0].type: Invalid value: "not a name!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      'status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
      'status.conditions[0].observedGeneration: Invalid value: -1: must be greater than or equal to zero',
      'status.conditions[0].lastTransitionTime: Required value: must be set',
      'status.conditions[0].reason: Required value: must be set',
    ]);
  });

  test('an empty status and the zero time are refused', () => {
    assert.deepEqual(errorsOf([{ ...ok, status: '', lastTransitionTime: '0001-01-01T00:00:00Z' }]), [
      'status.conditions[0].status: Unsupported value: "": supported values: "False", "True", "Unknown"',
      'status.conditions[0].lastTransitionTime: Required value: must be set',
    ]);
  });

  test('reason format and lengths; message length', () => {
    assert.deepEqual(errorsOf([{ ...ok, reason: '1Bad-' }]), [`status.conditions[0].reason: Invalid value: "1Bad-": ${reasonFormat}`]);
    assert.deepEqual(errorsOf([{ ...ok, reason: 'R'.repeat(1025), message: 'm'.repeat(32 * 1024) }]), ['status.conditions[0].reason: Too long: may not be more than 1024 bytes']);
    // Lengths are bytes, as Go's len: 16385 two-byte characters are over 32768 bytes.
    assert.deepEqual(errorsOf([{ ...ok, reason: 'R'.repeat(1024), message: 'é'.repeat(16385) }]), ['status.conditions[0].message: Too long: may not be more than 32768 bytes']);
  });

  test('a type seen before is a duplicate at its own index', () => {
    assert.deepEqual(errorsOf([ok, { ...ok, status: 'False' }, { ...ok, type: 'Other' }]), ['status.conditions[1].type: Duplicate value: "DisruptionAllowed"']);
  });

  test('conditions come before the counts', () => {
    const errs = validatePodDisruptionBudgetStatus({ ...counts, expectedPods: -1, conditions: [{ ...ok, reason: '' }] } as never).map(errorString);
    assert.deepEqual(errs, ['status.conditions[0].reason: Required value: must be set', 'status.expectedPods: Invalid value: -1: must be greater than or equal to 0']);
  });
});

describe('PodDisruptionBudget status writes through the API', { skip: toolSkipReason(['kubectl']) }, () => {
  let t: TestApiServer;
  const path = '/apis/policy/v1/namespaces/default/poddisruptionbudgets/web';
  before(async () => {
    t = await startTestApiServer();
    await t.kubectl.ok(['create', 'poddisruptionbudget', 'web', '--selector=app=web', '--min-available=1']);
  });
  after(async () => {
    await t?.stop();
  });

  test('kubectl patch of the status subresource with a bad condition is refused with upstream words, a good one is taken', async () => {
    const bad = await t.kubectl(['patch', 'pdb', 'web', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [{ ...ok, status: 'Yes', reason: 'no good' }] } })]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The PodDisruptionBudget "web" is invalid: /);
    assert.match(bad.stderr, /status\.conditions\[0\]\.status: Unsupported value: "Yes": supported values: "False", "True", "Unknown"/);
    assert.match(bad.stderr, /status\.conditions\[0\]\.reason: Invalid value: "no good": a condition reason must start with alphabetic character/);

    const raw = await t.request('PATCH', `${path}/status`, JSON.stringify({ status: { conditions: [{ ...ok, lastTransitionTime: null }] } }), {
      'Content-Type': 'application/merge-patch+json',
    });
    assert.equal(raw.status, 422, raw.text);
    assert.equal(raw.json.reason, 'Invalid');
    assert.equal(raw.json.message, 'PodDisruptionBudget.policy "web" is invalid: status.conditions[0].lastTransitionTime: Required value: must be set');
    assert.deepEqual(raw.json.details.causes, [{ reason: 'FieldValueRequired', message: 'Required value: must be set', field: 'status.conditions[0].lastTransitionTime' }]);

    await t.kubectl.ok(['patch', 'pdb', 'web', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [ok] } })]);
    const pdb = JSON.parse(await t.kubectl.ok(['get', 'pdb', 'web', '-o', 'json']));
    assert.deepEqual(
      pdb.status.conditions.map((c: { type: string; status: string; reason: string }) => [c.type, c.status, c.reason]),
      [['DisruptionAllowed', 'True', 'SufficientPods']],
    );
  });
});
