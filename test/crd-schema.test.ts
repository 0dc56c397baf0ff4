// Custom objects against their structural schema: validation messages
// (go-openapi's, wrapped as upstream's field errors), pruning of unknown
// fields and defaulting, and the printer columns' JSONPath.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from '../src/api/field-errors.js';
import { validateValue } from '../src/apiextensions/value-validation.js';
import { applyDefaults, prune } from '../src/apiextensions/pruning.js';
import { findResults } from '../src/apiextensions/jsonpath.js';
import { printerColumnsTable } from '../src/apiextensions/printer-columns.js';
import type { JSONSchemaProps } from '../src/apiextensions/types.js';

const spec: JSONSchemaProps = {
  type: 'object',
  required: ['host'],
  properties: {
    host: { type: 'string', pattern: '^[a-z.]+$', maxLength: 10 },
    replicas: { type: 'integer', minimum: 1, maximum: 5, default: 1 },
    ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true },
    size: { type: 'string', enum: ['small', 'large'], default: 'small' },
    tags: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'string', minLength: 2 } },
    port: { 'x-kubernetes-int-or-string': true },
    note: { type: 'string', nullable: true },
    email: { type: 'string', format: 'email' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
  },
};
const schema: JSONSchemaProps = { type: 'object', properties: { spec } };
const errs = (value: unknown) => validateValue(schema, value, '').map(errorString);

describe('custom object validation', () => {
  it('accepts a valid object', () => {
    assert.deepEqual(errs({ spec: { host: 'a.b', replicas: 2, size: 'large', tags: ['ab'], port: 'http', note: null, email: 'a@b.c' } }), []);
  });

  it('reports wrong types with the actual type', () => {
    assert.deepEqual(errs({ spec: { host: 'a', replicas: 'string' } }), [
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
    ]);
    assert.deepEqual(errs({ spec: { host: 'a', replicas: 1.5 } }), ['spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"']);
    assert.deepEqual(errs({ spec: { host: 'a', labels: { x: 1 } } }), ['spec.labels.x: Invalid value: "integer": spec.labels.x in body must be of type string: "integer"']);
  });

  it('reports required fields, enums in declared order, patterns and lengths', () => {
    assert.deepEqual(errs({ spec: { size: 'huge' } }), ['spec.host: Required value', 'spec.size: Unsupported value: "huge": supported values: "small", "large"']);
    assert.deepEqual(errs({ spec: { host: 'A_B' } }), [`spec.host: Invalid value: "A_B": spec.host in body should match '^[a-z.]+$'`]);
    assert.deepEqual(errs({ spec: { host: 'abcdefghijk' } }), ['spec.host: Too long: may not be more than 10 bytes']);
    assert.deepEqual(errs({ spec: { host: 'a', tags: ['x'] } }), ['spec.tags[0]: Invalid value: "x": spec.tags[0] in body should be at least 2 chars long']);
  });

  it('reports numeric bounds, exclusive or not', () => {
    assert.deepEqual(errs({ spec: { host: 'a', replicas: 0 } }), ['spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1']);
    assert.deepEqual(errs({ spec: { host: 'a', replicas: 6 } }), ['spec.replicas: Invalid value: 6: spec.replicas in body should be less than or equal to 5']);
    assert.deepEqual(errs({ spec: { host: 'a', ratio: 0 } }), ['spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0']);
    assert.deepEqual(errs({ spec: { host: 'a', ratio: 1 } }), ['spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1']);
  });

  it('reports item counts', () => {
    assert.deepEqual(errs({ spec: { host: 'a', tags: [] } }), ['spec.tags: Invalid value: []interface {}{}: spec.tags in body should have at least 1 items']);
    assert.deepEqual(errs({ spec: { host: 'a', tags: ['ab', 'cd', 'ef'] } }), ['spec.tags: Too many: 3: must have at most 2 items']);
  });

  it('checks formats, int-or-string, nullable and embedded resources', () => {
    assert.deepEqual(errs({ spec: { host: 'a', email: 'nobody' } }), ['spec.email: Invalid value: "nobody": spec.email in body must be of type email: "nobody"']);
    assert.deepEqual(errs({ spec: { host: 'a', port: true } }), ['spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"']);
    assert.deepEqual(errs({ spec: { host: 'a', port: 8080, note: null } }), []);
    assert.deepEqual(errs({ spec: { host: 'a', size: null } }), ['spec.size: Invalid value: "null": spec.size in body must be of type string: "null"']);
    assert.deepEqual(errs({ spec: { host: 'a', template: { metadata: {} } } }), [
      'spec.template.apiVersion: Required value: must not be empty',
      'spec.template.kind: Required value: must not be empty',
    ]);
  });
});

describe('pruning and defaulting', () => {
  it('drops unknown fields and reports their paths, keeping preserved and embedded ones', () => {
    const obj = {
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'a' },
      spec: { host: 'a', foo: 1, raw: { anything: { goes: true } }, labels: { k: 'v' }, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} } },
      extra: true,
    };
    assert.deepEqual(prune(obj, schema), ['spec.foo', 'extra']);
    assert.deepEqual(obj.spec, { host: 'a', raw: { anything: { goes: true } }, labels: { k: 'v' }, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} } });
    assert.equal(obj.apiVersion, 'x/v1');
  });

  it('prunes inside arrays of objects', () => {
    const s: JSONSchemaProps = { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } } } } };
    const obj = { items: [{ a: 'x', b: 'y' }] };
    assert.deepEqual(prune(obj, s), ['items[0].b']);
  });

  it('fills absent fields and nulls of non-nullable ones with defaults', () => {
    const obj: Record<string, any> = { spec: { host: 'a', size: null } };
    applyDefaults(obj, schema);
    assert.deepEqual(obj.spec, { host: 'a', replicas: 1, size: 'small' });
  });
});

describe('printer columns', () => {
  const obj = {
    metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { replicas: 3, ports: [{ name: 'http', port: 80 }] },
    status: { conditions: [{ type: 'Synced', status: 'False' }, { type: 'Ready', status: 'True' }] },
  };

  it('evaluates simple JSONPath with filters and indexes', () => {
    assert.deepEqual(findResults(obj, '.status.conditions[?(@.type=="Ready")].status'), ['True']);
    assert.deepEqual(findResults(obj, '.spec.ports[0].port'), [80]);
    assert.deepEqual(findResults(obj, '.spec.ports[*].name'), ['http']);
    assert.deepEqual(findResults(obj, '.spec.missing'), []);
  });

  it('prints Name and the columns, Age when none are given', () => {
    const now = new Date('2026-01-01T00:05:00Z');
    const defaults = printerColumnsTable(undefined);
    assert.deepEqual(defaults.columns.map((c) => c.name), ['Name', 'Age']);
    assert.deepEqual(defaults.cells(obj, now), ['web', '5m']);
    const custom = printerColumnsTable([
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', priority: 1 },
      { name: 'Missing', type: 'string', jsonPath: '.status.nothing' },
    ]);
    assert.deepEqual(custom.columns.map((c) => [c.name, c.type, c.priority]), [['Name', 'string', 0], ['Replicas', 'integer', 0], ['Ready', 'string', 1], ['Missing', 'string', 0]]);
    assert.deepEqual(custom.cells(obj, now), ['web', 3, 'True', null]);
    const typed = printerColumnsTable([
      { name: 'Created', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'Bad', type: 'date', jsonPath: '.metadata.name' },
      { name: 'Wrong', type: 'integer', jsonPath: '.metadata.name' },
      { name: 'Ports', type: 'string', jsonPath: '.spec.ports[0]' },
    ]);
    assert.deepEqual(typed.cells(obj, now), ['web', '5m', '<invalid>', null, '{"name":"http","port":80}']);
  });
});
