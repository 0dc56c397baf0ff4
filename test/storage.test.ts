import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../src/storage/sqlite.js';
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
