// Every kind answered in protobuf must carry every field the kind can hold:
// each property of its published OpenAPI schema (and of every schema below it)
// needs a field of the same shape in the message declarations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingFields } from '../src/apiserver/protobuf/completeness.js';
import { protobufKindNames, protobufMessageOf } from '../src/apiserver/protobuf/wire.js';
import { schemaNameOf } from '../src/apiserver/openapi/schemas.js';

const REQUIRED = [
  'v1/Pod', 'v1/Service', 'v1/Endpoints', 'v1/Node', 'v1/Namespace', 'v1/ConfigMap', 'v1/Secret', 'v1/ServiceAccount', 'v1/Event',
  'discovery.k8s.io/v1/EndpointSlice', 'apps/v1/Deployment', 'apps/v1/ReplicaSet', 'apps/v1/DaemonSet', 'apps/v1/StatefulSet',
  'coordination.k8s.io/v1/Lease', 'batch/v1/Job', 'batch/v1/CronJob',
];

const split = (k: string) => {
  const i = k.lastIndexOf('/');
  const apiVersion = k.slice(0, i);
  const slash = apiVersion.indexOf('/');
  return { apiVersion, kind: k.slice(i + 1), group: slash < 0 ? '' : apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
};

test('every protobuf kind and its list: each schema property has a field of its shape', () => {
  for (const name of protobufKindNames()) {
    const { apiVersion, kind, group, version } = split(name);
    const schema = kind === 'Status' ? 'io.k8s.apimachinery.pkg.apis.meta.v1.Status' : schemaNameOf({ group, version, kind });
    assert.ok(schema, `${name} has a published schema`);
    assert.deepEqual(missingFields(schema, schema), [], `${name}'s declaration lacks fields`);
    assert.equal(protobufMessageOf(apiVersion, kind), schema, `${name} is answered in protobuf`);
  }
});

test('the kinds the issue names (and their lists) are all answered in protobuf', () => {
  for (const name of REQUIRED) {
    const { apiVersion, kind } = split(name);
    assert.ok(protobufMessageOf(apiVersion, kind), name);
    assert.ok(protobufMessageOf(apiVersion, `${kind}List`), `${name}List`);
  }
  assert.ok(protobufMessageOf('meta.k8s.io/v1', 'PartialObjectMetadataList'));
});

test('the check finds a gap: a schema against a message that lacks its fields', () => {
  const gaps = missingFields('io.k8s.api.core.v1.Service', 'io.k8s.api.core.v1.ConfigMap');
  assert.deepEqual(gaps, ['Service.spec', 'Service.status']);
  // Shapes too: Endpoints.subsets is a list, ConfigMap's data a map.
  assert.ok(missingFields('io.k8s.api.core.v1.Endpoints', 'io.k8s.api.core.v1.ConfigMap').includes('Endpoints.subsets'));
});

test('kinds without a declaration (custom resources, CRDs) stay JSON only', () => {
  assert.equal(protobufMessageOf('stable.example.com/v1', 'CronTab'), undefined);
  assert.equal(protobufMessageOf('apiextensions.k8s.io/v1', 'CustomResourceDefinition'), undefined);
  assert.equal(protobufMessageOf('meta.k8s.io/v1', 'Table'), undefined);
});
