import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore, StoreFormatError } from '../src/storage/sqlite.js';
import { CompactedError, KeyExistsError, RevisionConflictError, type WatchEvent } from '../src/storage/store.js';

function tempStore() {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-store-'));
  const store = openSqliteStore(join(dir, 'state.db'));
  return { store, dir, cleanup: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('revisions grow on every write and CAS guards updates', async () => {
  const { store, cleanup } = tempStore();
  const a = await store.create('/registry/services/default/a', '{"v":1}');
  await assert.rejects(store.create('/registry/services/default/a', '{}'), KeyExistsError);
  const b = await store.update('/registry/services/default/a', '{"v":2}', a.modRevision);
  assert.ok(b.modRevision > a.modRevision);
  assert.equal(b.createRevision, a.createRevision);
  await assert.rejects(store.update('/registry/services/default/a', '{"v":3}', a.modRevision), RevisionConflictError);
  const list = await store.list('/registry/services/');
  assert.equal(list.items.length, 1);
  assert.equal(list.revision, b.modRevision);
  await store.delete('/registry/services/default/a');
  assert.equal(await store.get('/registry/services/default/a'), undefined);
  await cleanup();
});

test('watch replays history after a revision, then goes live, filtered by prefix', async () => {
  const { store, cleanup } = tempStore();
  const first = await store.create('/registry/services/default/a', '1');
  await store.create('/registry/pods/default/p', 'x');
  await store.update('/registry/services/default/a', '2');
  const seen: WatchEvent[] = [];
  const w = store.watch('/registry/services/', first.modRevision, (e) => seen.push(e));
  await store.create('/registry/services/other/b', '3');
  await store.delete('/registry/services/default/a');
  w.stop();
  await store.create('/registry/services/default/c', '4');
  assert.deepEqual(
    seen.map((e) => [e.type, e.key, e.value]),
    [
      ['MODIFIED', '/registry/services/default/a', '2'],
      ['ADDED', '/registry/services/other/b', '3'],
      ['DELETED', '/registry/services/default/a', '2'],
    ],
  );
  await cleanup();
});

test('watching from before the compaction point is refused', async () => {
  const { store, cleanup } = tempStore();
  for (let i = 0; i < 5; i++) await store.create(`/registry/x/${i}`, String(i));
  await store.compact(4);
  assert.throws(() => store.watch('/registry/x/', 1, () => {}), CompactedError);
  const events: WatchEvent[] = [];
  store.watch('/registry/x/', 4, (e) => events.push(e)).stop();
  assert.deepEqual(events.map((e) => e.key), ['/registry/x/4']);
  await cleanup();
});

test('data survives reopening the database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-store-'));
  const s1 = openSqliteStore(join(dir, 'state.db'));
  await s1.create('/registry/a', 'kept');
  const rev = await s1.currentRevision();
  await s1.close();
  const s2 = openSqliteStore(join(dir, 'state.db'));
  assert.equal((await s2.get('/registry/a'))?.value, 'kept');
  assert.equal(await s2.currentRevision(), rev);
  const next = await s2.create('/registry/b', 'new');
  assert.ok(next.modRevision > rev);
  await s2.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a data dir kubesvc cannot use is refused with a clear message, never misread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-format-'));
  try {
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'this is not SQLite at all, just some text that is long enough to have a header........');
    assert.throws(() => openSqliteStore(garbage), (e: Error) => e instanceof StoreFormatError && /is not a kubesvc state database/.test(e.message));
    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE users (id INTEGER)');
    db.close();
    assert.throws(() => openSqliteStore(other), /an SQLite database but not kubesvc's \(tables: users\)/);
    const newer = join(dir, 'newer.db');
    const store = openSqliteStore(newer);
    await store.close();
    const raw = new Database(newer);
    raw.prepare("UPDATE meta SET value = 99 WHERE name = 'format'").run();
    raw.close();
    assert.throws(() => openSqliteStore(newer), /written by a newer kubesvc \(data format 99; this version reads 1\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
