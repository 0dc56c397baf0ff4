import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore, StoreFormatError } from '../src/storage/sqlite.js';
import { CompactedError, FutureRevisionError, KeyExistsError, RevisionConflictError, type Store, type WatchEvent } from '../src/storage/store.js';
import { ContinueExpiredError, ListRequestError, readChunk } from '../src/storage/list-chunk.js';

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

/** key → value of a list, for comparing states. */
const state = async (store: Store, prefix: string, range = {}) => Object.fromEntries((await store.list(prefix, range)).items.map((i) => [i.key, i.value]));

test('a list reads a range from a key, up to a limit, and says whether keys are left and how many there are', async () => {
  const { store, cleanup } = tempStore();
  for (const k of ['a', 'a0', 'ab', 'b']) await store.create(`/registry/x/${k}`, k);
  await store.create('/registry/y/z', 'other prefix');
  const all = await store.list('/registry/x/');
  assert.deepEqual([all.more, all.count, all.items.length], [false, 4, 4]);
  // "a\0" sorts right after "a": the continue token's start key.
  const page = await store.list('/registry/x/', { fromKey: '/registry/x/a\x00', limit: 2 });
  assert.deepEqual(page.items.map((i) => i.value), ['a0', 'ab']);
  assert.deepEqual([page.more, page.count], [true, 3]);
  const last = await store.list('/registry/x/', { fromKey: '/registry/x/ab\x00', limit: 2 });
  assert.deepEqual([last.items.map((i) => i.value), last.more, last.count], [['b'], false, 1]);
  assert.equal(await store.count('/registry/x/'), 4);
  await cleanup();
});

test('a list at a past revision sees the keys as they were, with their revisions then', async () => {
  const { store, cleanup } = tempStore();
  const a = await store.create('/registry/x/a', 'a1');
  const b = await store.create('/registry/x/b', 'b1');
  await store.create('/registry/x/c', 'c1');
  const then = await store.currentRevision();
  await store.update('/registry/x/a', 'a2');
  await store.update('/registry/x/a', 'a3');
  await store.delete('/registry/x/b');
  await store.create('/registry/x/b', 'b-again');
  await store.create('/registry/x/d', 'd1');
  await store.delete('/registry/x/c');
  const past = await store.list('/registry/x/', { revision: then });
  assert.equal(past.revision, then);
  assert.deepEqual(past.items.map((i) => [i.key, i.value, i.createRevision, i.modRevision]), [
    ['/registry/x/a', 'a1', a.createRevision, a.modRevision],
    ['/registry/x/b', 'b1', b.createRevision, b.modRevision],
    ['/registry/x/c', 'c1', then, then],
  ]);
  const page = await store.list('/registry/x/', { revision: then, fromKey: '/registry/x/a\x00', limit: 1 });
  assert.deepEqual([page.items.map((i) => i.value), page.more, page.count], [['b1'], true, 2]);
  assert.deepEqual(await state(store, '/registry/x/'), { '/registry/x/a': 'a3', '/registry/x/b': 'b-again', '/registry/x/d': 'd1' });
  await assert.rejects(store.list('/registry/x/', { revision: (await store.currentRevision()) + 1 }), FutureRevisionError);
  // Compaction takes the history the past list was made from.
  await store.compact(then + 1);
  await assert.rejects(store.list('/registry/x/', { revision: then }), CompactedError);
  assert.equal((await store.list('/registry/x/', { revision: then + 1 })).items.length, 3);
  await cleanup();
});

test('history written before writes recorded the replaced revisions still serves a past list', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-store-'));
  const file = join(dir, 'state.db');
  try {
    const s1 = openSqliteStore(file);
    const a = await s1.create('/registry/x/a', 'a1');
    const then = await s1.currentRevision();
    await s1.update('/registry/x/a', 'a2');
    await s1.close();
    // A data dir from before: the log has no columns for the replaced value's revisions.
    const raw = new Database(file);
    raw.exec('ALTER TABLE log DROP COLUMN prev_revision; ALTER TABLE log DROP COLUMN prev_create_revision');
    raw.close();
    const s2 = openSqliteStore(file);
    const past = await s2.list('/registry/x/', { revision: then });
    assert.deepEqual(past.items.map((i) => [i.value, i.createRevision, i.modRevision]), [['a1', a.createRevision, a.modRevision]]);
    await s2.update('/registry/x/a', 'a3');
    assert.deepEqual(await state(s2, '/registry/x/', { revision: then + 1 }), { '/registry/x/a': 'a2' });
    await s2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chunk fills up past what the selection drops, reads later chunks at the first one\'s revision, and expires with compaction', async () => {
  const { store, cleanup } = tempStore();
  for (let i = 0; i < 20; i++) await store.create(`/registry/x/k${String(i).padStart(2, '0')}`, String(i));
  const all = (v: { value: string }) => v.value;
  const first = await readChunk(store, '/registry/x/', { limit: 5 }, false, all);
  assert.deepEqual([first.items, first.remainingItemCount], [['0', '1', '2', '3', '4'], 15]);
  // Writes after the first chunk do not show in the next one.
  await store.delete('/registry/x/k05');
  await store.create('/registry/x/k05a', 'new');
  const second = await readChunk(store, '/registry/x/', { limit: 5, continue: first.continue }, false, all);
  assert.deepEqual([second.items, second.revision, second.remainingItemCount], [['5', '6', '7', '8', '9'], first.revision, 10]);
  // Only multiples of 7 kept: reads go on past the dropped ones; no remaining count, it would not be exact.
  const sevens = (v: { value: string }) => (Number(v.value) % 7 === 0 ? v.value : undefined);
  const selective = await readChunk(store, '/registry/x/', { limit: 2 }, true, sevens);
  assert.deepEqual([selective.items, selective.remainingItemCount], [['0', '7'], undefined]);
  const rest = await readChunk(store, '/registry/x/', { limit: 2, continue: selective.continue }, true, sevens);
  assert.deepEqual([rest.items, rest.continue], [['14'], undefined]);
  await assert.rejects(readChunk(store, '/registry/x/', { limit: 2, continue: first.continue, resourceVersion: '3' }, false, all), (e: Error) => e instanceof ListRequestError && e.message === 'specifying resource version is not allowed when using continue');
  await assert.rejects(readChunk(store, '/registry/x/', { continue: 'garbage' }, false, all), ListRequestError);
  // A paged read parses the resourceVersion first, as the storage versioner does.
  await assert.rejects(readChunk(store, '/registry/x/', { limit: 2, continue: 'garbage', resourceVersion: 'x1' }, false, all), (e: Error) => e instanceof ListRequestError && e.message === 'invalid resource version: resourceVersion: Invalid value: "x1": strconv.ParseUint: parsing "x1": invalid syntax');
  // Unpaged, the resourceVersion is not read here (the watch cache serves those lists).
  assert.equal((await readChunk(store, '/registry/x/', { resourceVersion: 'x1' }, false, all)).items.length, 20);
  // A limited list at a resourceVersion reads exactly that revision.
  const atFirst = await readChunk(store, '/registry/x/', { limit: 100, resourceVersion: String(first.revision) }, false, all);
  assert.deepEqual([atFirst.revision, atFirst.items.includes('new'), atFirst.items.includes('5')], [first.revision, false, true]);
  // Compacted: the token cannot go on consistently; the error carries one that goes on at the latest revision.
  await store.compact(await store.currentRevision());
  const expired = await readChunk(store, '/registry/x/', { limit: 5, continue: second.continue }, false, all).catch((e: unknown) => e);
  assert.ok(expired instanceof ContinueExpiredError);
  const inconsistent = await readChunk(store, '/registry/x/', { limit: 100, continue: expired.restart }, false, all);
  assert.deepEqual(inconsistent.items, ['10', '11', '12', '13', '14', '15', '16', '17', '18', '19']);
  assert.equal(inconsistent.revision, await store.currentRevision());
  await cleanup();
});
