// x-kubernetes-validations evaluated over a schema's values without a
// server: where each rule runs, how old values correlate (object
// properties, map-keyed lists, not atomic lists), runtime errors and cost
// budget wording, messageExpression, fieldPath with keys, ratcheting of
// unchanged values, and the CRD-time checks of the rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from '../../src/api/field-errors.js';
import type { JSONSchemaProps } from '../../src/apiextensions/types.js';
import { validateRules } from '../../src/apiextensions/cel/validator.js';
import { validateRuleDefinitions } from '../../src/apiextensions/cel/crd-rules.js';

const errors = (schema: JSONSchemaProps, obj: unknown, old?: unknown) => validateRules(schema, obj, old).map(errorString);
const root = (spec: JSONSchemaProps): JSONSchemaProps => ({ type: 'object', properties: { spec } });

describe('CEL rule validation', () => {
  it('reports runtime errors with the rule', () => {
    const schema = root({
      type: 'object',
      properties: { m: { type: 'object', additionalProperties: { type: 'integer' } }, n: { type: 'integer' } },
      'x-kubernetes-validations': [{ rule: "self.m['x'] > 0" }, { rule: 'self.n / self.m.y > 0', message: 'ratio' }, { rule: 'self.n > 0' }],
    });
    assert.deepEqual(errors(schema, { spec: { m: { y: 0 }, n: 1 } }), [
      `spec: Invalid value: "object": no such key: x evaluating rule: self.m['x'] > 0`,
      'spec: Invalid value: "object": division by zero evaluating rule: ratio',
    ]);
    assert.deepEqual(errors(schema, { spec: { m: { x: 1, y: 1 } } }), [
      'spec: Invalid value: "object": no such key: n evaluating rule: ratio',
      'spec: Invalid value: "object": no such key: n evaluating rule: self.n > 0',
    ]);
  });

  it('reports dynamic overload errors as upstream does', () => {
    const schema = root({ type: 'object', properties: { v: { 'x-kubernetes-int-or-string': true, 'x-kubernetes-validations': [{ rule: 'self + 1 > 0' }] } } });
    assert.deepEqual(errors(schema, { spec: { v: 'a' } }), [
      `spec.v: Invalid value: "": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self + 1 > 0`,
    ]);
    assert.deepEqual(errors(schema, { spec: { v: 1 } }), []);
  });

  it('uses messageExpression, falling back to the message when it fails', () => {
    const schema = root({
      type: 'object',
      properties: { n: { type: 'integer' } },
      'x-kubernetes-validations': [
        { rule: 'self.n < 10', messageExpression: "'n is ' + string(self.n) + ', more than 9'" },
        { rule: 'self.n < 5', message: 'small', messageExpression: "self.n > 100 ? 'huge' : ''" },
      ],
    });
    assert.deepEqual(errors(schema, { spec: { n: 20 } }), ['spec: Invalid value: "object": n is 20, more than 9', 'spec: Invalid value: "object": small']);
  });

  it('reports at fieldPath, with map keys in brackets', () => {
    const schema = root({
      type: 'object',
      properties: { limits: { type: 'object', additionalProperties: { type: 'string' } } },
      'x-kubernetes-validations': [{ rule: "!('cpu' in self.limits) || self.limits.cpu != ''", fieldPath: ".limits['cpu']", reason: 'FieldValueRequired', message: 'cpu must not be empty' }],
    });
    assert.deepEqual(errors(schema, { spec: { limits: { cpu: '' } } }), ['spec.limits[cpu]: Required value: cpu must not be empty']);
  });

  it('correlates old values through properties and map-keyed lists only', () => {
    const immutable = { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'immutable' }] };
    const item = { type: 'object', properties: { name: { type: 'string' }, v: immutable } };
    const schema = root({
      type: 'object',
      properties: {
        keyed: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: item },
        atomic: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, v: { type: 'string' } } } },
        v: immutable,
      },
    });
    const old = { spec: { v: 'a', keyed: [{ name: 'x', v: '1' }, { name: 'y', v: '2' }] } };
    assert.deepEqual(errors(schema, { spec: { v: 'b', keyed: [{ name: 'y', v: '2' }, { name: 'x', v: '3' }, { name: 'z', v: '9' }] } }, old).sort(), [
      'spec.keyed[1].v: Invalid value: "string": immutable',
      'spec.v: Invalid value: "string": immutable',
    ]);
    assert.deepEqual(errors(schema, { spec: { v: 'b' } }), [], 'transition rules do not run on create');
  });

  it('compares and concatenates set and map lists as upstream does', () => {
    const schema = root({
      type: 'object',
      properties: {
        set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'set changed' }] },
        atomic: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'list changed' }] },
        keyed: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' }, v: { type: 'integer' } } },
          'x-kubernetes-validations': [
            { rule: 'self == oldSelf', message: 'map list changed' },
            { rule: '(self + self).size() == self.size()', message: 'merge by key' },
          ],
        },
      },
      'x-kubernetes-validations': [{ rule: "(self.set + ['x', 'y']).size() <= 3", message: 'set union' }],
    });
    const old = { spec: { set: ['x', 'y'], atomic: ['x', 'y'], keyed: [{ name: 'a', v: 1 }, { name: 'b', v: 2 }] } };
    const reordered = { spec: { set: ['y', 'x'], atomic: ['y', 'x'], keyed: [{ name: 'b', v: 2 }, { name: 'a', v: 1 }] } };
    assert.deepEqual(errors(schema, reordered, old), ['spec.atomic: Invalid value: "array": list changed']);
  });

  it('ratchets errors of values unchanged since the old object', () => {
    const schema = root({ type: 'object', properties: { a: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self < 10' }] }, b: { type: 'integer' } } });
    assert.deepEqual(errors(schema, { spec: { a: 20, b: 2 } }, { spec: { a: 20, b: 1 } }), []);
    assert.deepEqual(errors(schema, { spec: { a: 21, b: 1 } }, { spec: { a: 20, b: 1 } }), ['spec.a: Invalid value: "integer": failed rule: self < 10']);
  });

  it('sees apiVersion, kind and metadata.name at the root', () => {
    const schema: JSONSchemaProps = { type: 'object', 'x-kubernetes-validations': [{ rule: "self.kind == 'Widget' && self.metadata.name.size() < 5" }] };
    assert.deepEqual(errors(schema, { apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'abc', labels: { a: 'b' } } }), []);
    assert.deepEqual(errors(schema, { apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'abcdef' } }), [
      `<nil>: Invalid value: "object": failed rule: self.kind == 'Widget' && self.metadata.name.size() < 5`,
    ]);
  });

  it('stops when the cost budget runs out', () => {
    const schema = root({
      type: 'array',
      items: { type: 'integer' },
      'x-kubernetes-validations': [{ rule: 'self.all(a, self.all(b, self.all(c, a + b + c >= 0)))' }],
    });
    const list = Array.from({ length: 120 }, (_, i) => i);
    assert.deepEqual(errors(schema, { spec: list }), [
      `spec: Invalid value: "array": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: self.all(a, self.all(b, self.all(c, a + b + c >= 0)))`,
    ]);
  });

  it('compiles once per schema', () => {
    const schema = root({ type: 'object', properties: { n: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.n > 0' }] });
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) validateRules(schema, { spec: { n: 1 } });
    assert.ok(performance.now() - t0 < 1000, 'a thousand validations take well under a second');
  });
});

describe('CRD-time checks of the rules', () => {
  const at = 'spec.versions[0].schema.openAPIV3Schema';
  const check = (schema: JSONSchemaProps) => validateRuleDefinitions(schema, at, true).map(errorString);

  it('checks the rule fields', () => {
    const schema = root({
      type: 'object',
      properties: { n: { type: 'integer' } },
      'x-kubernetes-validations': [
        { rule: '  ' },
        { rule: 'self.n > 0', message: 'two\nlines' },
        { rule: 'self.n > 0\n&& true' },
        { rule: 'self.n > 0', fieldPath: 'n' },
        { rule: 'self.n > 0', fieldPath: '.m' },
      ],
    });
    assert.deepEqual(check(schema), [
      `${at}.properties[spec].x-kubernetes-validations[0].rule: Required value: rule is not specified`,
      `${at}.properties[spec].x-kubernetes-validations[1].message: Invalid value: "two\\nlines": message must not contain line breaks`,
      `${at}.properties[spec].x-kubernetes-validations[2].message: Required value: message must be specified if rule contains line breaks`,
      `${at}.properties[spec].x-kubernetes-validations[3].fieldPath: Invalid value: "n": fieldPath must be a valid path`,
      `${at}.properties[spec].x-kubernetes-validations[4].fieldPath: Invalid value: ".m": fieldPath must be a valid path`,
    ]);
  });

  it('checks messageExpression and optionalOldSelf', () => {
    const schema = root({
      type: 'object',
      properties: { n: { type: 'integer' } },
      'x-kubernetes-validations': [
        { rule: 'self.n > 0', messageExpression: 'self.n' },
        { rule: 'self.n > 0', optionalOldSelf: true },
      ],
    });
    assert.deepEqual(check(schema), [
      `${at}.properties[spec].x-kubernetes-validations[0].messageExpression: Invalid value: apiextensions.ValidationRule{Rule:"self.n > 0", Message:"", MessageExpression:"self.n", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: messageExpression must evaluate to a string`,
      `${at}.properties[spec].x-kubernetes-validations[1].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule`,
    ]);
  });

  it('accepts the escaped names of properties', () => {
    const schema = root({
      type: 'object',
      properties: { 'x-y': { type: 'string' }, namespace: { type: 'string' }, 'a.b': { type: 'string' } },
      'x-kubernetes-validations': [{ rule: "self.x__dash__y == '' || self.__namespace__ == '' || self.a__dot__b == ''" }],
    });
    assert.deepEqual(check(schema), []);
    assert.deepEqual(errors(schema, { spec: { 'x-y': 'a', namespace: 'b', 'a.b': '' } }), []);
  });
});
