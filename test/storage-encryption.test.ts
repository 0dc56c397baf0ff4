// Secrets encrypted at rest: the EncryptionConfiguration file the data dir
// gets (0600, one aesgcm key, identity after it), the Store wrapper over the
// real SQLite store (nothing secret in the database files, every read path
// decrypted, old clear values still read, key rotation, tampering caught),
// and the configuration errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../src/storage/sqlite.js';
import type { Store, WatchEvent } from '../src/storage/store.js';
import { encryptingStore } from '../src/storage/encrypting-store.js';
import { aesgcmPrefix, createTransformer, DecryptionError } from '../src/storage/encryption.js';
import { ensureEncryptionConfig, EncryptionConfigError, loadEncryptionConfig, parseEncryptionConfig, type EncryptionConfig } from '../src/storage/encryption-config.js';

const password = 'hunter2-correct-horse-battery';
const secretKey = '/registry/secrets/default/db';
const secretValue = (p = password) =>
  JSON.stringify({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from(p).toString('base64') } });
const configMapKey = '/registry/configmaps/default/settings';
const configMapValue = JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'settings', namespace: 'default' }, data: { marker: 'plain-control-marker' } });

const key = (name: string, byte: number, length = 32) => ({ name, secret: Buffer.alloc(length, byte).toString('base64') });
const configYaml = (providers: unknown[], resources = ['secrets']) =>
  JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] });
const aesgcm = (...keys: { name: string; secret: string }[]) => ({ aesgcm: { keys } });
const config = (...providers: unknown[]): EncryptionConfig => parseEncryptionConfig(configYaml(providers));

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-encryption-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The SQLite store in a temp dir, closed when the test ends. */
function sqlite(t: { after(fn: () => Promise<void>): void }, dir: string): Store {
  const store = openSqliteStore(join(dir, 'state.db'));
  t.after(() => store.close());
  return store;
}

const fileBytes = (dir: string) => Buffer.concat(['state.db', 'state.db-wal'].map((f) => join(dir, f)).filter(existsSync).map((f) => readFileSync(f)));

describe('the encryption configuration file', () => {
  test('made once in the pki dir, 0600, with a fresh 32-byte aesgcm key and identity after it', (t) => {
    const pki = join(tempDir(t), 'pki');
    const path = ensureEncryptionConfig(pki);
    assert.equal(path, join(pki, 'encryption-config.yaml'));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(pki).mode & 0o777, 0o700);
    const doc = parseYaml(readFileSync(path, 'utf8'));
    assert.equal(doc.apiVersion, 'apiserver.config.k8s.io/v1');
    assert.equal(doc.kind, 'EncryptionConfiguration');
    assert.deepEqual(doc.resources[0].resources, ['secrets']);
    assert.equal(doc.resources[0].providers[0].aesgcm.keys[0].name, 'key1');
    assert.equal(Buffer.from(doc.resources[0].providers[0].aesgcm.keys[0].secret, 'base64').length, 32);
    assert.deepEqual(doc.resources[0].providers[1], { identity: {} });
    const text = readFileSync(path, 'utf8');
    ensureEncryptionConfig(pki);
    assert.equal(readFileSync(path, 'utf8'), text, 'an existing file is kept');
    const loaded = loadEncryptionConfig(path);
    assert.deepEqual(loaded.resources[0]!.prefixes, ['/registry/secrets/']);
    assert.deepEqual(
      loaded.resources[0]!.providers.map((p) => p.type),
      ['aesgcm', 'identity'],
    );
    // A file made looser by hand is owner-only again.
    writeFileSync(path, text, { mode: 0o644 });
    ensureEncryptionConfig(pki);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('resource names map to storage prefixes', () => {
    const c = parseEncryptionConfig(configYaml([{ identity: {} }], ['secrets', 'services', 'deployments.apps', '*.apps', 'widgets.example.com', '*.example.com', '*.*']));
    // Upstream's keys: built-in groups without the group, services under services/specs, custom groups with it.
    assert.deepEqual(c.resources[0]!.prefixes, [
      '/registry/secrets/',
      '/registry/services/specs/',
      '/registry/deployments/',
      ...['controllerrevisions', 'daemonsets', 'deployments', 'replicasets', 'statefulsets'].map((r) => `/registry/${r}/`),
      '/registry/example.com/widgets/',
      '/registry/example.com/',
      '/registry/',
    ]);
  });

  test('unsupported providers and malformed files are refused with the field that is wrong', () => {
    const refused = (text: string, message: RegExp) => assert.throws(() => parseEncryptionConfig(text, 'enc.yaml'), (e: unknown) => e instanceof EncryptionConfigError && message.test(e.message));
    refused(configYaml([{ secretbox: { keys: [key('k', 1)] } }]), /^enc\.yaml: resources\[0\]\.providers\[0\]\.secretbox: Unsupported value: kubesvc implements the aesgcm and identity providers only$/);
    refused(configYaml([{ aescbc: { keys: [key('k', 1)] } }]), /providers\[0\]\.aescbc: Unsupported value/);
    refused(configYaml([{ kms: {} }]), /providers\[0\]\.kms: Unsupported value/);
    refused(configYaml([{ rot13: {} }]), /providers\[0\]: Invalid value: unknown provider "rot13"/);
    refused(configYaml([{ aesgcm: { keys: [key('k', 1)] }, identity: {} }]), /providers\[0\]: Invalid value: provider does not contain exactly one of/);
    refused(configYaml([aesgcm(key('k', 1, 20))]), /keys\[0\]\.secret: Invalid value: REDACTED: secret is not of the expected length, got 20, expected one of \[16 24 32\]/);
    refused(configYaml([aesgcm({ name: 'k', secret: 'not base64!' })]), /keys\[0\]\.secret: Invalid value: REDACTED: secrets must be base64 encoded/);
    refused(configYaml([aesgcm(key('a:b', 1))]), /keys\[0\]\.name: Invalid value: "a:b": should not contain ':'/);
    refused(configYaml([aesgcm(key('k', 1), key('k', 2))]), /keys\[1\]\.name: Duplicate value: "k"/);
    refused(configYaml([{ aesgcm: { keys: [] } }]), /aesgcm\.keys: Required value: at least one key is required/);
    refused(configYaml([]), /resources\[0\]\.providers: Required value/);
    refused(configYaml([{ identity: {} }], []), /resources\[0\]\.resources: Required value/);
    refused(configYaml([{ identity: {} }], ['*.']), /every resource of the core group/);
    refused('apiVersion: v1\nkind: ConfigMap\n', /expected apiVersion apiserver\.config\.k8s\.io\/v1, kind EncryptionConfiguration; got v1, ConfigMap/);
    refused('resources: [unclosed', /^enc\.yaml: not YAML: /);
    refused('- a list\n', /expected an EncryptionConfiguration object/);
  });
});

describe('the encrypting store over SQLite', () => {
  test('Secrets round trip, encrypted in storage and absent from the database files; other kinds stay clear', async (t) => {
    const dir = tempDir(t);
    const inner = sqlite(t, dir);
    const store = encryptingStore(inner, config(aesgcm(key('key1', 7)), { identity: {} }));

    const created = await store.create(secretKey, secretValue());
    assert.equal(created.value, secretValue());
    await store.create(configMapKey, configMapValue);
    assert.equal((await store.get(secretKey))?.value, secretValue());
    assert.deepEqual(
      (await store.list('/registry/secrets/')).items.map((i) => i.value),
      [secretValue()],
    );
    assert.deepEqual(
      (await store.list('/registry/')).items.map((i) => i.value),
      [configMapValue, secretValue()],
    );

    // As stored: the aesgcm prefix, then base64 of nonce (12) + ciphertext + tag (16).
    const raw = (await inner.get(secretKey))!.value;
    assert.ok(raw.startsWith(`${aesgcmPrefix}key1:`), raw.slice(0, 40));
    const body = Buffer.from(raw.slice(`${aesgcmPrefix}key1:`.length), 'base64');
    assert.equal(body.length, 12 + Buffer.byteLength(secretValue()) + 16);
    assert.equal((await inner.get(configMapKey))!.value, configMapValue);

    const updated = await store.update(secretKey, secretValue('second-password-value'), created.modRevision);
    assert.equal(updated.value, secretValue('second-password-value'));
    assert.equal((await store.get(secretKey))?.value, secretValue('second-password-value'));
    const deleted = await store.delete(secretKey);
    assert.equal(deleted.value, secretValue('second-password-value'));

    const bytes = fileBytes(dir);
    assert.ok(bytes.includes(Buffer.from('plain-control-marker')), 'the control value is found in the files (the check sees what is stored)');
    for (const p of [password, 'second-password-value']) {
      assert.equal(bytes.includes(Buffer.from(p)), false, `${p} in clear`);
      assert.equal(bytes.includes(Buffer.from(Buffer.from(p).toString('base64'))), false, `${p} as base64`);
    }
  });

  test('watch events are decrypted: history and live, value and prevValue, deletions', async (t) => {
    const dir = tempDir(t);
    const store = encryptingStore(sqlite(t, dir), config(aesgcm(key('key1', 7)), { identity: {} }));
    const first = await store.create(secretKey, secretValue('one'));
    await store.update(secretKey, secretValue('two'));
    const seen: WatchEvent[] = [];
    const w = await store.watch('/registry/secrets/', first.modRevision - 1, (e) => seen.push(e));
    t.after(() => w.stop());
    await store.update(secretKey, secretValue('three'));
    await store.delete(secretKey);
    assert.deepEqual(
      seen.map((e) => [e.type, e.value, e.prevValue]),
      [
        ['ADDED', secretValue('one'), undefined],
        ['MODIFIED', secretValue('two'), secretValue('one')],
        ['MODIFIED', secretValue('three'), secretValue('two')],
        ['DELETED', secretValue('three'), secretValue('three')],
      ],
    );
  });

  test('values stored before encryption was turned on still read (identity), and are encrypted when written again', async (t) => {
    const dir = tempDir(t);
    const inner = sqlite(t, dir);
    await inner.create(secretKey, secretValue());
    const store = encryptingStore(inner, config(aesgcm(key('key1', 7)), { identity: {} }));
    assert.equal((await store.get(secretKey))?.value, secretValue());
    await store.update(secretKey, secretValue());
    assert.ok((await inner.get(secretKey))!.value.startsWith(`${aesgcmPrefix}key1:`));
    // Without identity in the list, a clear value is an error, not data.
    const strict = encryptingStore(inner, config(aesgcm(key('key1', 7))));
    await inner.create('/registry/secrets/default/old', secretValue());
    await assert.rejects(strict.get('/registry/secrets/default/old'), (e: unknown) => e instanceof DecryptionError && /stored unencrypted and the encryption configuration lists no identity provider for secrets/.test(e.message));
  });

  test('key rotation: a new first key writes, the old key still reads; a removed key is a clear error', async (t) => {
    const dir = tempDir(t);
    const inner = sqlite(t, dir);
    const before = encryptingStore(inner, config(aesgcm(key('key1', 7)), { identity: {} }));
    await before.create(secretKey, secretValue('old'));
    const rotated = encryptingStore(inner, config(aesgcm(key('key2', 9, 16), key('key1', 7)), { identity: {} }));
    assert.equal((await rotated.get(secretKey))?.value, secretValue('old'));
    await rotated.create('/registry/secrets/default/new', secretValue('new'));
    assert.ok((await inner.get('/registry/secrets/default/new'))!.value.startsWith(`${aesgcmPrefix}key2:`));
    assert.ok((await inner.get(secretKey))!.value.startsWith(`${aesgcmPrefix}key1:`), 'what was not written again keeps its key');
    const removed = encryptingStore(inner, config(aesgcm(key('key2', 9, 16)), { identity: {} }));
    assert.equal((await removed.get('/registry/secrets/default/new'))?.value, secretValue('new'));
    await assert.rejects(removed.get(secretKey), (e: unknown) => e instanceof DecryptionError && e.message === `cannot decrypt ${secretKey}: it was written with the aesgcm key "key1", which the encryption configuration does not list for it`);
    const seen: string[] = [];
    (await removed.watch('/registry/secrets/', 0, (e) => seen.push(`${e.type} ${e.key}`))).stop();
    assert.deepEqual(seen, ['ADDED /registry/secrets/default/new'], 'history written with the removed key is left out (and logged)');
    // Identity first: new writes are clear, encrypted values still read.
    const off = encryptingStore(inner, config({ identity: {} }, aesgcm(key('key2', 9, 16), key('key1', 7))));
    await off.update(secretKey, secretValue('clear again'));
    assert.equal((await inner.get(secretKey))!.value, secretValue('clear again'));
    assert.equal((await off.get('/registry/secrets/default/new'))?.value, secretValue('new'));
  });

  test('a tampered, truncated or moved ciphertext is refused with a clear error', async (t) => {
    const dir = tempDir(t);
    const inner = sqlite(t, dir);
    const store = encryptingStore(inner, config(aesgcm(key('key1', 7)), { identity: {} }));
    await store.create(secretKey, secretValue());
    const raw = (await inner.get(secretKey))!.value;
    const prefix = `${aesgcmPrefix}key1:`;
    const body = Buffer.from(raw.slice(prefix.length), 'base64');
    body[20] = body[20]! ^ 1;
    await inner.update(secretKey, prefix + body.toString('base64'));
    await assert.rejects(store.get(secretKey), (e: unknown) => e instanceof DecryptionError && e.message === `cannot decrypt ${secretKey} (aesgcm key "key1"): message authentication failed (the value was altered, or the key is not the one it was written with)`);
    await inner.update(secretKey, prefix + 'AAAA');
    await assert.rejects(store.get(secretKey), /cannot decrypt \/registry\/secrets\/default\/db \(aesgcm key "key1"\): the stored value is malformed/);
    // The storage key is authenticated: the same ciphertext under another key does not decrypt.
    await inner.create('/registry/secrets/default/copy', raw);
    await assert.rejects(store.get('/registry/secrets/default/copy'), /message authentication failed/);
    await inner.create('/registry/secrets/default/other', 'k8s:enc:secretbox:v1:key1:xxxx');
    await assert.rejects(store.get('/registry/secrets/default/other'), /stored with the provider "secretbox", which kubesvc does not implement/);
    // A list fails as a whole rather than hand out ciphertext.
    await assert.rejects(store.list('/registry/secrets/'), DecryptionError);
  });

  test('a data dir whose keys move to upstream\'s layout keeps its encrypted values readable: each is sealed again for its new key', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'state.db');
    const everything = parseEncryptionConfig(configYaml([aesgcm(key('key1', 7)), { identity: {} }], ['*.*']));
    const service = JSON.stringify({ kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' } });
    // The first layout: a Service under /registry/services/<ns>/<name>, encrypted (bound to that key), with history.
    const old = openSqliteStore(file);
    const oldStore = encryptingStore(old, everything);
    await oldStore.create('/registry/services/default/web', service);
    await oldStore.update('/registry/services/default/web', service.replace('web"', 'web","labels":{"a":"b"}'));
    await old.close();
    const raw = new Database(file);
    raw.prepare("UPDATE meta SET value = 1 WHERE name = 'format'").run();
    raw.close();
    const moved = openSqliteStore(file, { moveValue: createTransformer(everything).moveKey });
    t.after(() => moved.close());
    const store = encryptingStore(moved, everything);
    assert.ok((await moved.get('/registry/services/specs/default/web'))!.value.startsWith(`${aesgcmPrefix}key1:`), 'still encrypted');
    assert.equal(JSON.parse((await store.get('/registry/services/specs/default/web'))!.value).metadata.labels.a, 'b');
    const seen: WatchEvent[] = [];
    (await store.watch('/registry/services/specs/', 0, (e) => seen.push(e))).stop();
    assert.deepEqual(seen.map((e) => [e.type, JSON.parse(e.value).metadata.labels?.a, e.prevValue && JSON.parse(e.prevValue).metadata.name]), [
      ['ADDED', undefined, undefined],
      ['MODIFIED', 'b', 'web'],
    ]);
  });
});
