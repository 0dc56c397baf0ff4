// The response encoder and its decoder on objects with every special type,
// the byte layout of the envelope and the watch frame, and Accept negotiation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeObject, decodeWatchFrames, encodeObject, encodeWatchFrame } from '../src/apiserver/protobuf/wire.js';
import { negotiate, notAcceptableMessage } from '../src/apiserver/protobuf/negotiate.js';
import { ProtobufEncodeError } from '../src/apiserver/protobuf/codec.js';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '7', generation: 0,
    creationTimestamp: '2024-05-06T07:08:09Z', labels: { b: '', a: 'x' },
    managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2024-05-06T07:08:09Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }],
  },
  spec: {
    containers: [{
      name: 'c', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }],
      resources: { limits: { cpu: '500m', memory: '64Mi' } },
      readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 0 },
      livenessProbe: { tcpSocket: { port: 8080 } },
    }],
    volumes: [{ name: 'v', emptyDir: {} }, { name: 'cm', configMap: { name: 'cfg', defaultMode: 420 } }],
    terminationGracePeriodSeconds: 0,
    securityContext: { runAsUser: -1 },
  },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-05-06T07:08:10Z' }] },
};

const dropNulls = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(dropNulls) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)])) : v;

test('a pod round-trips: Time, Quantity, IntOrString, inline volume sources and probes, FieldsV1, zero pointers, negative ints', () => {
  const bytes = encodeObject(pod);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]);
  assert.deepEqual(decodeObject(bytes), dropNulls(pod));
});

test('the envelope is runtime.Unknown with every field, as Go writes it', () => {
  const bytes = encodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
  // typeMeta{apiVersion "v1", kind "ConfigMap"}, raw{metadata{name "a"}}, contentEncoding "", contentType ""
  assert.equal(bytes.toString('hex'), '6b387300' + '0a0f0a0276311209436f6e6669674d6170' + '12050a030a0161' + '1a00' + '2200');
});

test('maps are written sorted by key; secret data is bytes', () => {
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { z: Buffer.from([0, 255]).toString('base64'), a: '' }, type: 'Opaque' };
  const bytes = encodeObject(secret);
  assert.ok(bytes.indexOf(Buffer.from('0a0161', 'hex')) < bytes.indexOf(Buffer.from('0a017a', 'hex')));
  assert.deepEqual(decodeObject(bytes), secret);
});

test('MicroTime keeps microseconds (Lease, Event)', () => {
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'n', leaseDurationSeconds: 40, renewTime: '2024-05-06T07:08:09.123456Z' } };
  assert.deepEqual(decodeObject(encodeObject(lease)), lease);
});

test('a list: items lose their own apiVersion/kind, as upstream lists carry none', () => {
  const list = { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '9' }, items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } }] };
  assert.deepEqual(decodeObject(encodeObject(list)), { ...list, items: [{ metadata: { name: 'a' }, data: { k: 'v' } }] });
});

test('ExtraValue (a []string in Go, a message of items in protobuf) is a list in JSON: a CertificateSigningRequest round-trips', () => {
  const csr = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'node-csr-a' },
    spec: {
      request: Buffer.from('-----BEGIN CERTIFICATE REQUEST-----').toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'client auth'],
      username: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': ['x509:abc'], empty: [] },
    },
  };
  assert.deepEqual(decodeObject(encodeObject(csr)), csr);
  assert.throws(() => encodeObject({ ...csr, spec: { ...csr.spec, extra: { k: 'not a list' } } }), /spec.extra.k is not a list of strings/);
});

test('a key with no field is refused, never dropped', () => {
  assert.throws(() => encodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, extra: 1 }), ProtobufEncodeError);
  assert.throws(() => encodeObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: { containers: [{ name: 'c', bogus: true }] } }), /spec.containers\[0\].bogus/);
  assert.throws(() => encodeObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: { priority: 'high' } }), /not an integer/);
});

test('watch frames: 4-byte big-endian length, then a WatchEvent whose object is an enveloped object', () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', resourceVersion: '3' } };
  const frame = encodeWatchFrame('ADDED', cm);
  assert.equal(frame.readUInt32BE(0), frame.length - 4);
  const two = Buffer.concat([frame, encodeWatchFrame('DELETED', cm)]);
  const { events, rest } = decodeWatchFrames(Buffer.concat([two, frame.subarray(0, 5)]));
  assert.deepEqual(events, [{ type: 'ADDED', object: cm }, { type: 'DELETED', object: cm }]);
  assert.equal(rest.length, 5);
});

test('negotiation: q-values, order, wildcards, conversions and streams as kube-apiserver negotiates', () => {
  const obj = { protobuf: true };
  assert.equal(negotiate('application/vnd.kubernetes.protobuf, application/json', obj), 'application/vnd.kubernetes.protobuf');
  assert.equal(negotiate('application/json, application/vnd.kubernetes.protobuf', obj), 'application/json');
  assert.equal(negotiate('application/json;q=0.5, application/vnd.kubernetes.protobuf', obj), 'application/vnd.kubernetes.protobuf');
  assert.equal(negotiate('*/*', obj), 'application/json');
  assert.equal(negotiate('application/*', obj), 'application/json');
  assert.equal(negotiate('*/*, application/vnd.kubernetes.protobuf', obj), 'application/vnd.kubernetes.protobuf', 'the specific range before the wildcard');
  assert.equal(negotiate('application/vnd.kubernetes.protobuf', { protobuf: false }), undefined);
  assert.equal(negotiate('application/vnd.kubernetes.protobuf, application/json', { protobuf: false }), 'application/json');
  assert.equal(negotiate('application/vnd.kubernetes.protobuf, application/yaml', { protobuf: false }), 'application/yaml');
  assert.equal(negotiate('application/yaml, application/vnd.kubernetes.protobuf', { ...obj, stream: true }), 'application/vnd.kubernetes.protobuf');
  assert.equal(negotiate('application/vnd.kubernetes.protobuf;stream=watch', { ...obj, stream: true }), 'application/vnd.kubernetes.protobuf');
  const table = 'application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io, application/json';
  assert.equal(negotiate(table, { protobuf: false, converted: 'Table' }), 'application/json');
  const partial = 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
  assert.equal(negotiate(partial, { protobuf: true, converted: 'PartialObjectMetadataList' }), 'application/vnd.kubernetes.protobuf');
  assert.equal(notAcceptableMessage(false), 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
  assert.equal(notAcceptableMessage(true), 'only the following media types are accepted: application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch');
});
