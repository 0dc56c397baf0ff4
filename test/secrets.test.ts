// core/v1 Secrets through the API server with the real kubectl: the
// generators (generic, tls, docker-registry, which send protobuf), the table,
// stringData merged into data, immutability, the per-type validation of
// upstream's ValidateSecret and the base64 decoding of data.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as yamlParse } from 'yaml';
import { createCertificate } from '../src/apiserver/pki/x509.js';
import { x509KeyPairError } from '../src/registry/secrets/tls.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

const secrets = '/api/v1/namespaces/default/secrets';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A self-signed serving certificate and its key, PEM-encoded. */
function keyPair(curve = 'prime256v1') {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const now = Date.now();
  const cert = createCertificate({
    commonName: 'web.example',
    isCA: false,
    serial: randomBytes(8),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3600_000),
    publicKey,
    privateKey,
    dnsNames: ['web.example'],
  });
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

describe('Secrets', () => {
  let t: TestApiServer;
  let dir: string;
  before(async () => {
    t = await startTestApiServer();
    dir = mkdtempSync(join(tmpdir(), 'kubesvc-secrets-'));
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const kubectlError = async (args: string[], input?: string) => {
    const r = await t.kubectl(args, { input });
    assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should fail`);
    return r.stderr.trim();
  };
  const getYaml = async (name: string) => yamlParse(await t.kubectl.ok(['get', 'secret', name, '-o', 'yaml']));

  test('discovery: namespaced, no short names, the standard verbs', async () => {
    const list = (await t.request('GET', '/api/v1')).json;
    const entry = list.resources.find((r: any) => r.name === 'secrets');
    assert.deepEqual(entry, {
      name: 'secrets',
      singularName: 'secret',
      namespaced: true,
      kind: 'Secret',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    });
    const out = await t.kubectl.ok(['api-resources', '--api-group=']);
    assert.match(out, /^secrets {2,}v1 {2,}true {2,}Secret$/m);
  });

  test('kubectl create secret generic: Opaque, data base64, no stringData; get, describe', async () => {
    assert.equal((await t.kubectl.ok(['create', 'secret', 'generic', 's', '--from-literal=a=b', '--from-literal=pw=s3cr3t!'])).trim(), 'secret/s created');
    const s = await getYaml('s');
    assert.equal(s.type, 'Opaque');
    assert.deepEqual(s.data, { a: 'Yg==', pw: b64('s3cr3t!') });
    assert.equal(s.stringData, undefined);

    const table = (await t.kubectl.ok(['get', 'secrets'])).trimEnd().split('\n');
    assert.match(table[0]!, /^NAME\s+TYPE\s+DATA\s+AGE$/);
    assert.match(table.find((l) => l.startsWith('s '))!, /^s\s+Opaque\s+2\s+\d+s$/);

    const describe = await t.kubectl.ok(['describe', 'secret', 's']);
    assert.match(describe, /^Type:\s+Opaque$/m);
    assert.match(describe, /^a:\s+1 bytes$/m);
    assert.match(describe, /^pw:\s+7 bytes$/m);
    assert.doesNotMatch(describe, /s3cr3t/);
  });

  test('kubectl create secret tls and docker-registry; the type field selector', async () => {
    const { cert, key } = keyPair();
    writeFileSync(join(dir, 'tls.crt'), cert);
    writeFileSync(join(dir, 'tls.key'), key);
    const created = await t.kubectl(['create', 'secret', 'tls', 'web-tls', `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stderr, '', 'a matching pair draws no warning');
    const tls = await getYaml('web-tls');
    assert.equal(tls.type, 'kubernetes.io/tls');
    assert.equal(Buffer.from(tls.data['tls.crt'], 'base64').toString(), cert);
    assert.equal(Buffer.from(tls.data['tls.key'], 'base64').toString(), key);

    await t.kubectl.ok(['create', 'secret', 'docker-registry', 'reg', '--docker-server=registry.example', '--docker-username=u', '--docker-password=p']);
    const reg = await getYaml('reg');
    assert.equal(reg.type, 'kubernetes.io/dockerconfigjson');
    const config = JSON.parse(Buffer.from(reg.data['.dockerconfigjson'], 'base64').toString());
    assert.deepEqual(config.auths['registry.example'], { username: 'u', password: 'p', auth: b64('u:p') });

    const rows = (await t.kubectl.ok(['get', 'secrets', '--field-selector', 'type=kubernetes.io/tls'])).trimEnd().split('\n');
    assert.equal(rows.length, 2);
    assert.match(rows[1]!, /^web-tls\s+kubernetes\.io\/tls\s+2\s+\S+$/);
    assert.match(await t.kubectl.ok(['get', 'secret', 'reg']), /^reg\s+kubernetes\.io\/dockerconfigjson\s+1\s+\S+$/m);
  });

  test('stringData is merged into data on create and update, overwriting, and never stored', async () => {
    const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'merged' }, data: { a: b64('from-data'), b: b64('kept') }, stringData: { a: 'from-stringData', c: 'plain' } };
    await t.kubectl.ok(['create', '-f', '-'], { input: JSON.stringify(manifest) });
    let s = await getYaml('merged');
    assert.deepEqual(s.data, { a: b64('from-stringData'), b: b64('kept'), c: b64('plain') });
    assert.equal(s.stringData, undefined);
    assert.equal(s.type, 'Opaque');

    await t.kubectl.ok(['patch', 'secret', 'merged', '-p', JSON.stringify({ stringData: { b: 'patched', d: '' } })]);
    s = await getYaml('merged');
    assert.deepEqual(s.data, { a: b64('from-stringData'), b: b64('patched'), c: b64('plain'), d: '' });
    assert.equal(s.stringData, undefined);

    // The response to the write shows the merged form too.
    const put = await t.request('PUT', `${secrets}/merged`, { metadata: { name: 'merged' }, stringData: { only: 'this' } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual([put.json.data, put.json.stringData, put.json.type], [{ only: b64('this') }, undefined, 'Opaque']);
  });

  test('an immutable secret keeps its data and its immutability; the type never changes', async () => {
    await t.kubectl.ok(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'imm' }, immutable: true, stringData: { a: 'b' } }),
    });
    assert.equal(
      await kubectlError(['patch', 'secret', 'imm', '-p', '{"data":{"a":"Yw=="}}']),
      'The Secret "imm" is invalid: data: Forbidden: field is immutable when `immutable` is set',
    );
    assert.equal(
      await kubectlError(['patch', 'secret', 'imm', '-p', '{"stringData":{"x":"y"}}']),
      'The Secret "imm" is invalid: data: Forbidden: field is immutable when `immutable` is set',
    );
    assert.equal(
      await kubectlError(['patch', 'secret', 'imm', '-p', '{"immutable":false}']),
      'The Secret "imm" is invalid: immutable: Forbidden: field is immutable when `immutable` is set',
    );
    // Metadata may still change, and stringData equal to the data is no change.
    await t.kubectl.ok(['label', 'secret', 'imm', 'tier=web']);
    await t.kubectl.ok(['patch', 'secret', 'imm', '-p', '{"stringData":{"a":"b"}}']);

    assert.equal(
      await kubectlError(['patch', 'secret', 's', '-p', '{"type":"kubernetes.io/basic-auth"}']),
      'The Secret "s" is invalid: \n* type: Invalid value: "kubernetes.io/basic-auth": field is immutable\n* data[username]: Required value\n* data[password]: Required value',
    );
    // A PUT without a type is defaulted to Opaque, which is a change for a TLS secret.
    const put = await t.request('PUT', `${secrets}/web-tls`, { metadata: { name: 'web-tls' }, data: { 'tls.crt': '', 'tls.key': '' } });
    assert.equal(put.status, 422);
    assert.equal(put.json.message, 'Secret "web-tls" is invalid: type: Invalid value: "Opaque": field is immutable');
  });

  test('per-type validation as ValidateSecret, with upstream messages', async () => {
    const create = async (name: string, body: Record<string, unknown>) => {
      const r = await t.request('POST', secrets, { metadata: { name }, ...body });
      return r.status === 201 ? 'created' : `${r.status} ${r.json.message}`;
    };
    const cases: [string, Record<string, unknown>, string][] = [
      ['sa', { type: 'kubernetes.io/service-account-token' }, '422 Secret "sa" is invalid: metadata.annotations[kubernetes.io/service-account.name]: Required value'],
      ['dc', { type: 'kubernetes.io/dockercfg' }, '422 Secret "dc" is invalid: data[.dockercfg]: Required value'],
      ['dc', { type: 'kubernetes.io/dockercfg', stringData: { '.dockercfg': '[]' } }, '422 Secret "dc" is invalid: data[.dockercfg]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}'],
      ['dcj', { type: 'kubernetes.io/dockerconfigjson' }, '422 Secret "dcj" is invalid: data[.dockerconfigjson]: Required value'],
      ['dcj', { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":' } }, '422 Secret "dcj" is invalid: data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": unexpected end of JSON input'],
      ['dcj', { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{},}' } }, `422 Secret "dcj" is invalid: data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character '}' looking for beginning of object key string`],
      ['ba', { type: 'kubernetes.io/basic-auth', stringData: { user: 'u' } }, '422 Secret "ba" is invalid: [data[username]: Required value, data[password]: Required value]'],
      ['ssh', { type: 'kubernetes.io/ssh-auth', data: { 'ssh-privatekey': '' } }, '422 Secret "ssh" is invalid: data[ssh-privatekey]: Required value'],
      ['tls', { type: 'kubernetes.io/tls', stringData: { 'tls.key': 'k' } }, '422 Secret "tls" is invalid: data[tls.crt]: Required value'],
      ['keys', { data: { 'a/b': '', '..x': '' } }, `422 Secret "keys" is invalid: [data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+'), data[..x]: Invalid value: "..x": must not start with '..']`],
      ['sa', { type: 'kubernetes.io/service-account-token', metadata: { name: 'sa', annotations: { 'kubernetes.io/service-account.name': 'default' } } }, 'created'],
      ['dcj', { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } }, 'created'],
      ['ba', { type: 'kubernetes.io/basic-auth', data: { password: '' } }, 'created'],
      ['custom', { type: 'example.com/anything' }, 'created'],
    ];
    for (const [name, body, want] of cases) assert.equal(await create(name, body), want, `${name} ${JSON.stringify(body)}`);

    // Through kubectl, several causes print one a line.
    assert.equal(
      await kubectlError(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad-tls' }, type: 'kubernetes.io/tls' })),
      'The Secret "bad-tls" is invalid: \n* data[tls.crt]: Required value\n* data[tls.key]: Required value',
    );
  });

  test('the data of all keys is at most 1 MiB', async () => {
    const at = (n: number) => ({ metadata: { name: 'big' }, data: { a: Buffer.alloc(n - 1).toString('base64'), b: 'AA==' } });
    const over = await t.request('POST', secrets, at(1024 * 1024 + 1));
    assert.equal(over.status, 422);
    assert.equal(over.json.message, 'Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes');
    assert.equal((await t.request('POST', secrets, at(1024 * 1024))).status, 201);
  });

  test('data values must be base64: a 400 in encoding/json words, nothing stored', async () => {
    const bad = await t.request('POST', secrets, { metadata: { name: 'b64' }, data: { a: 'abc*' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3');
    const short = await t.request('POST', secrets, { metadata: { name: 'b64' }, data: { a: 'YWJjZA' } });
    assert.equal(short.json.message, 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 4');
    const wrongType = await t.request('POST', secrets, { metadata: { name: 'b64' }, data: { a: 1 } });
    assert.equal(wrongType.json.message, 'Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal number into Go struct field Secret.data of type []uint8');
    assert.equal((await t.request('GET', `${secrets}/b64`)).status, 404);
    const patched = await t.request('PATCH', `${secrets}/s`, { data: { a: '!!!!' } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patched.status, 400);
    assert.equal(patched.json.message, 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0');
    // Line breaks inside base64 are skipped, and the value is stored as Go writes it back.
    const wrapped = await t.request('POST', secrets, { metadata: { name: 'wrapped' }, data: { a: 'YWJj\r\nZA==' } });
    assert.equal(wrapped.status, 201, wrapped.text);
    assert.deepEqual(wrapped.json.data, { a: 'YWJjZA==' });
  });

  test('a TLS secret whose key is not its certificate\'s is stored with the X509KeyPair warning', async () => {
    const a = keyPair();
    const b = keyPair();
    const r = await t.request('POST', secrets, { metadata: { name: 'mismatch' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': a.cert, 'tls.key': b.key } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('warning'), '299 - "tls: private key does not match public key"');
    const empty = await t.request('POST', secrets, { metadata: { name: 'empty-tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } });
    assert.equal(empty.headers.get('warning'), '299 - "tls: failed to find any PEM data in certificate input"');
  });

  test('X509KeyPair errors', () => {
    const a = keyPair();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const err = (cert: string, key: string) => x509KeyPairError(Buffer.from(cert), Buffer.from(key));
    assert.equal(err(a.cert, a.key), undefined);
    assert.equal(err(`junk before\n${a.cert}`, `${a.cert}${a.key}`), undefined);
    assert.equal(err(a.key, a.key), 'tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched');
    assert.equal(err(a.cert, ''), 'tls: failed to find any PEM data in key input');
    assert.equal(err(a.cert, a.cert), 'tls: found a certificate rather than a key in the PEM for the private key');
    assert.equal(err(a.cert, rsa), 'tls: private key type does not match public key type');
    assert.equal(err(a.cert, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), 'tls: failed to parse private key');
    assert.equal(err('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', a.key), 'x509: malformed certificate');
  });
});
