// Typed decoding as kube-apiserver does it: a body whose fields have the
// wrong JSON type is refused with 400 and Go's encoding/json wording before
// defaulting or validation run, through every way a body arrives (create,
// update, the three patch types, apply), and nothing is stored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson } from '../src/api/json.js';
import { quantityError } from '../src/api/quantity.js';
import { decodeTyped } from '../src/apiserver/openapi/typed-decode.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

const POD = { group: '', version: 'v1', kind: 'Pod' };
const SERVICE = { group: '', version: 'v1', kind: 'Service' };

/** decodeTyped over JSON text, as the server reads a body. */
function decodeText(gvk: typeof POD, text: string) {
  const parsed = parseJson(text);
  const obj = parsed.value as Record<string, unknown>;
  return { ...decodeTyped(gvk, obj, parsed.literals), obj };
}

const pod = (container: object) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox', ...container }] } });

describe('the upstream messages of the common mismatches', () => {
  test('string for an int: the innermost struct, the path without indices, the Go type', () => {
    assert.equal(
      decodeText(POD, pod({ readinessProbe: { periodSeconds: 'x' } })).error,
      'json: cannot unmarshal string into Go struct field Probe.spec.containers.readinessProbe.periodSeconds of type int32',
    );
  });

  test('integers as Go parses them: 1.0, 1e3 and past int32 are refused with the literal', () => {
    for (const literal of ['1.0', '1e3', '2147483648', '1.5']) {
      assert.equal(
        decodeText(POD, pod({ readinessProbe: { periodSeconds: '§' } }).replace('"§"', literal)).error,
        `json: cannot unmarshal number ${literal} into Go struct field Probe.spec.containers.readinessProbe.periodSeconds of type int32`,
      );
    }
    assert.equal(decodeText(POD, pod({ readinessProbe: { periodSeconds: 2147483647 } })).error, undefined);
    // Past 2^53 a JS number rounds: int64 fields hold what rounds inside int64 (2^63 - 1024 at most).
    const seconds = (literal: string) => `{"metadata":{"name":"p"},"spec":{"activeDeadlineSeconds":${literal},"containers":[]}}`;
    assert.equal(decodeText(POD, seconds('9223372036854774784')).error, undefined);
    assert.equal(
      decodeText(POD, seconds('9223372036854775808')).error,
      'json: cannot unmarshal number 9223372036854775808 into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64',
    );
  });

  test('object or string for a list, number for a string, number in a map of strings', () => {
    assert.equal(decodeText(POD, pod({ command: 'sh' })).error, 'json: cannot unmarshal string into Go struct field Container.spec.containers.command of type []string');
    assert.equal(decodeText(POD, pod({ command: [1] })).error, 'json: cannot unmarshal number into Go struct field Container.spec.containers.command of type string');
    assert.equal(decodeText(POD, pod({ ports: { containerPort: 80 } })).error, 'json: cannot unmarshal object into Go struct field Container.spec.containers.ports of type []v1.ContainerPort');
    assert.equal(decodeText(POD, pod({ image: 5 })).error, 'json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string');
    assert.equal(decodeText(POD, pod({ env: [{ name: 'A', value: 5 }] })).error, 'json: cannot unmarshal number into Go struct field EnvVar.spec.containers.env.value of type string');
    assert.equal(
      decodeText(POD, JSON.stringify({ metadata: { name: 'p', labels: { a: 1 } } })).error,
      'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
    );
    assert.equal(decodeText(POD, JSON.stringify({ spec: 'x' })).error, 'json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec');
    assert.equal(decodeText(SERVICE, JSON.stringify({ spec: { ipFamilies: 'IPv4' } })).error, 'json: cannot unmarshal string into Go struct field ServiceSpec.spec.ipFamilies of type []string');
    assert.equal(decodeText(SERVICE, JSON.stringify({ spec: { publishNotReadyAddresses: 'yes' } })).error, 'json: cannot unmarshal string into Go struct field ServiceSpec.spec.publishNotReadyAddresses of type bool');
  });

  test('bad quantities answer as resource.ParseQuantity does', () => {
    assert.equal(
      decodeText(POD, pod({ resources: { limits: { cpu: 'lots' } } })).error,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
    assert.equal(decodeText(POD, pod({ resources: { limits: { memory: '5Qi' } } })).error, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    assert.equal(decodeText(POD, pod({ resources: { limits: { memory: '5Mii' } } })).error, "unable to parse quantity's suffix");
    assert.equal(decodeText(POD, pod({ resources: { limits: { cpu: 0.5, memory: '128Mi' }, requests: { cpu: '100m', memory: '1e3' } } })).error, undefined);
    for (const ok of ['0', '1', '+1.5', '.5', '5.', '100m', '1Ki', '2E', '1e-3', '3E+6']) assert.equal(quantityError(ok), undefined, ok);
    for (const bad of ['', '+', '.', 'm', '1 m', '1..2']) assert.ok(quantityError(bad), bad);
  });

  test('bad int-or-string: anything but a string goes into an int32, with no field context', () => {
    const targetPort = (v: string) => decodeText(SERVICE, `{"spec":{"ports":[{"port":80,"targetPort":${v}}]}}`).error;
    assert.equal(targetPort('true'), 'json: cannot unmarshal bool into Go value of type int32');
    assert.equal(targetPort('1.5'), 'json: cannot unmarshal number 1.5 into Go value of type int32');
    assert.equal(targetPort('{"a":1}'), 'json: cannot unmarshal object into Go value of type int32');
    assert.equal(targetPort('4294967296'), 'json: cannot unmarshal number 4294967296 into Go value of type int32');
    assert.equal(targetPort('"http"'), undefined);
    assert.equal(targetPort('8080'), undefined);
  });

  test('times are RFC 3339', () => {
    const at = (v: string) => decodeText(POD, `{"metadata":{"creationTimestamp":${v}}}`).error;
    assert.equal(at('"2026-12-05T10:00:00Z"'), undefined);
    assert.equal(at('"2026-12-05T10:00:00.5+01:00"'), undefined);
    assert.equal(at('"yesterday"'), 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"');
    assert.equal(at('"2026-13-05T10:00:00Z"'), 'parsing time "2026-13-05T10:00:00Z": month out of range');
    assert.equal(at('5'), 'json: cannot unmarshal number into Go value of type string');
  });

  test('nulls decode as in Go: an absent field, or the zero value inside lists and maps', () => {
    const r = decodeText(POD, '{"metadata":{"name":"p","labels":{"a":null}},"spec":{"nodeName":null,"containers":[null],"tolerations":null}}');
    assert.equal(r.error, undefined);
    assert.deepEqual(r.obj, { metadata: { name: 'p', labels: { a: '' } }, spec: { containers: [{}] } });
  });

  test('duplicate keys are found with their paths; the later value wins', () => {
    const parsed = parseJson('{"spec":{"ports":[{"port":80,"port":81}],"type":"A","type":"B"},"metadata":{}}');
    assert.deepEqual(parsed.duplicates, ['spec.ports[0].port', 'spec.type']);
    assert.deepEqual(parsed.value, { spec: { ports: [{ port: 81 }], type: 'B' }, metadata: {} });
  });
});

describe('the API server refuses wrong types on every write path and stores nothing', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
  });
  after(() => t.stop());

  const periodString = 'json: cannot unmarshal string into Go struct field Probe.spec.containers.readinessProbe.periodSeconds of type int32';
  const body = (periodSeconds: unknown) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'typed' }, spec: { containers: [{ name: 'c', image: 'busybox', readinessProbe: { exec: { command: ['true'] }, periodSeconds } }] } });
  const expectRefused = (r: { status: number; json: any }, message: string) => {
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.kind, 'Status');
    assert.equal(r.json.reason, 'BadRequest');
    assert.equal(r.json.message, `Pod in version "v1" cannot be handled as a Pod: ${message}`);
  };

  test('create: 400 with the decoder\'s words; nothing stored', async () => {
    expectRefused(await t.request('POST', '/api/v1/namespaces/default/pods', body('x')), periodString);
    assert.equal((await t.request('GET', '/api/v1/namespaces/default/pods/typed')).status, 404);
  });

  test('update, merge, strategic and JSON patch, apply: the patched result is decoded', async () => {
    assert.equal((await t.request('POST', '/api/v1/namespaces/default/pods', body(5))).status, 201);
    const live = (await t.request('GET', '/api/v1/namespaces/default/pods/typed')).json;
    expectRefused(await t.request('PUT', '/api/v1/namespaces/default/pods/typed', { ...live, spec: { ...live.spec, containers: [{ ...live.spec.containers[0], readinessProbe: { ...live.spec.containers[0].readinessProbe, periodSeconds: 'x' } }] } }), periodString);
    const patch = { spec: { containers: [{ name: 'c', readinessProbe: { periodSeconds: 'x' } }] } };
    expectRefused(await t.request('PATCH', '/api/v1/namespaces/default/pods/typed', patch, { 'Content-Type': 'application/strategic-merge-patch+json' }), periodString);
    expectRefused(
      await t.request('PATCH', '/api/v1/namespaces/default/pods/typed', { metadata: { labels: { a: 1 } } }, { 'Content-Type': 'application/merge-patch+json' }),
      'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
    );
    expectRefused(
      await t.request('PATCH', '/api/v1/namespaces/default/pods/typed', [{ op: 'replace', path: '/spec/containers/0/command', value: 'sh' }], { 'Content-Type': 'application/json-patch+json' }),
      'json: cannot unmarshal string into Go struct field Container.spec.containers.command of type []string',
    );
    expectRefused(
      await t.request('PATCH', '/api/v1/namespaces/default/pods/typed?fieldManager=test', JSON.stringify(body('x')), { 'Content-Type': 'application/apply-patch+yaml' }),
      periodString,
    );
    const after = (await t.request('GET', '/api/v1/namespaces/default/pods/typed')).json;
    assert.equal(after.metadata.resourceVersion, live.metadata.resourceVersion, 'nothing was written');
    assert.equal(after.spec.containers[0].readinessProbe.periodSeconds, 5);
  });

  test('strict field validation names unknown and duplicate fields; Warn returns them as warnings', async () => {
    const text = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup"},"data":{"a":"1"},"extra":1}';
    const strict = await t.request('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', text);
    assert.equal(strict.status, 400);
    assert.equal(strict.json.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "extra", duplicate field "metadata.name"');
    const warn = await t.request('POST', '/api/v1/namespaces/default/configmaps', text);
    assert.equal(warn.status, 201);
    assert.equal(warn.headers.get('warning'), '299 - "unknown field \\"extra\\"", 299 - "duplicate field \\"metadata.name\\""');
  });

  test('kubectl shows the message for a manifest with a wrong type', async () => {
    const r = await t.kubectl(['create', '-f', '-'], { input: JSON.stringify(body('x')) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error from server \(BadRequest\).*Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Probe\.spec\.containers\.readinessProbe\.periodSeconds of type int32/);
  });
});
