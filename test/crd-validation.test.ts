// CustomResourceDefinition defaults and validation (upstream's
// apiextensions validation and structural schema checks), on the CRD
// objects directly: the messages are upstream's, word for word.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from '../src/api/field-errors.js';
import { defaultCRD, validateCRD, validateCRDUpdate } from '../src/apiextensions/crd-validation.js';
import { validateStructuralSchema } from '../src/apiextensions/structural.js';
import type { CustomResourceDefinition, JSONSchemaProps } from '../src/apiextensions/types.js';

function crd(overrides: Partial<CustomResourceDefinition['spec']> = {}, name = 'widgets.example.com'): CustomResourceDefinition {
  const c: CustomResourceDefinition = {
    metadata: { name },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } } }],
      ...overrides,
    },
  };
  defaultCRD(c);
  return c;
}

const messages = (c: CustomResourceDefinition) => validateCRD(c).map(errorString);

describe('CRD defaults', () => {
  it('defaults singular, listKind and the conversion strategy', () => {
    const c = crd();
    assert.equal(c.spec.names.singular, 'widget');
    assert.equal(c.spec.names.listKind, 'WidgetList');
    assert.deepEqual(c.spec.conversion, { strategy: 'None' });
    assert.deepEqual(messages(c), []);
  });
});

describe('CRD validation', () => {
  it('requires metadata.name to be <plural>.<group>', () => {
    assert.deepEqual(messages(crd({}, 'gadgets.example.com')), ['metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group']);
  });

  it('requires a group with a dot', () => {
    assert.deepEqual(messages(crd({ group: 'example' }, 'widgets.example')), ['spec.group: Invalid value: "example": should be a domain with at least one dot']);
  });

  it('requires the names and a known scope', () => {
    const c = crd({ names: {}, scope: 'Global' }, '.example.com');
    assert.deepEqual(messages(c), [
      'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
      'spec.names.plural: Required value',
      'spec.names.singular: Required value',
      'spec.names.kind: Required value',
      'spec.names.listKind: Required value',
    ]);
  });

  it('checks names as DNS-1035 labels, kinds in any case', () => {
    const c = crd({ names: { plural: 'widgets', kind: 'Wid_get', shortNames: ['W'] } });
    assert.deepEqual(messages(c), [
      `spec.names.singular: Invalid value: "wid_get": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      `spec.names.kind: Invalid value: "Wid_get": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      `spec.names.listKind: Invalid value: "Wid_getList": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      `spec.names.shortNames[0]: Invalid value: "W": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    ]);
  });

  it('requires exactly one storage version and unique version names', () => {
    const v = { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } };
    const errs = messages(crd({ versions: [v, { ...v }] }));
    assert.equal(errs.length, 2);
    const value =
      '[]apiextensions.CustomResourceDefinitionVersion{' +
      [1, 2]
        .map(
          () =>
            'apiextensions.CustomResourceDefinitionVersion{Name:"v1", Served:true, Storage:true, Deprecated:false, DeprecationWarning:(*string)(nil), ' +
            'Schema:(*apiextensions.CustomResourceValidation)(set), Subresources:(*apiextensions.CustomResourceSubresources)(nil), ' +
            'AdditionalPrinterColumns:[]apiextensions.CustomResourceColumnDefinition(nil), SelectableFields:[]apiextensions.SelectableField(nil)}',
        )
        .join(', ') +
      '}';
    assert.deepEqual(errs, [
      `spec.versions: Invalid value: ${value}: must contain unique version names`,
      `spec.versions: Invalid value: ${value}: must have exactly one version marked as storage version`,
    ]);
  });

  it('requires a schema for every version', () => {
    assert.deepEqual(messages(crd({ versions: [{ name: 'v1', served: true, storage: true }] })), [
      'spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required',
    ]);
  });

  it('refuses changing the group or plural of a CRD', () => {
    const old = crd();
    const next = crd({ names: { plural: 'gizmos', kind: 'Widget' } }, 'gizmos.example.com');
    assert.ok(validateCRDUpdate(next, old).map(errorString).includes('spec.names.plural: Invalid value: "gizmos": field is immutable'));
  });
});

describe('structural schemas', () => {
  const at = 'spec.versions[0].schema.openAPIV3Schema';
  const check = (s: JSONSchemaProps) => validateStructuralSchema(s, at).map(errorString);

  it('requires types of specified fields and items of arrays', () => {
    assert.deepEqual(check({ type: 'object', properties: { spec: { properties: { a: { type: 'array' } } } } }), [
      `${at}.properties[spec].properties[a].items: Required value: must be specified`,
      `${at}.properties[spec].type: Required value: must not be empty for specified object fields`,
    ]);
  });

  it('requires an object at the root', () => {
    assert.deepEqual(check({}), [`${at}.type: Required value: must not be empty at the root`]);
    assert.deepEqual(check({ type: 'string' }), [`${at}.type: Invalid value: "string": must be object at the root`]);
  });

  it('lets int-or-string and preserve-unknown-fields go without a type', () => {
    assert.deepEqual(check({ type: 'object', properties: { port: { 'x-kubernetes-int-or-string': true }, raw: { 'x-kubernetes-preserve-unknown-fields': true } } }), []);
  });

  it('forbids types under the logic junctors and metadata beyond name', () => {
    assert.deepEqual(
      check({
        type: 'object',
        properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } }, spec: { type: 'object', anyOf: [{ type: 'string' }] } },
      }),
      [
        `${at}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
        `${at}.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural`,
      ],
    );
  });

  it('requires defaults to be valid by their own schema', () => {
    assert.deepEqual(check({ type: 'object', properties: { size: { type: 'string', enum: ['small', 'large'], default: 'huge' } } }), [
      `${at}.properties[size].default: Unsupported value: "huge": supported values: "small", "large"`,
    ]);
  });

  it('forbids additionalProperties with properties, uniqueItems and $ref', () => {
    assert.deepEqual(
      check({
        type: 'object',
        properties: {
          a: { type: 'object', properties: { b: { type: 'string' } }, additionalProperties: { type: 'string' } },
          c: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          d: { type: 'object', $ref: '#/definitions/x' },
        },
      }),
      [
        `${at}.properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
        `${at}.properties[c].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
        `${at}.properties[d].$ref: Forbidden: $ref is not supported`,
      ],
    );
  });
});
