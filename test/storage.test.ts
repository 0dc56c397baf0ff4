// The Store contract (src/storage/store.ts), run against each implementation:
// SQLite, the embedded default, and etcd (a throwaway one, test/helpers/etcd.ts;
// skipped without etcd, failing under CI). Revisions are taken from the
// store, never assumed: etcd's first write is revision 2. The SQLite file's
// own concerns (reopening, formats, migrations) follow the contract.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import Database from 'better-sqlite3';
import { openSqliteStore, StoreFormatError } from '../src/storage/sqlite.js';
import { openEtcdStore } from '../src/storage/etcd/store.js';
import { CompactedError, FutureRevisionError, KeyExistsError, KeyNotFoundError, RevisionConflictError, type Store, type WatchEvent } from '../src/storage/store.js';
import { ContinueExpiredError, ListRequestError, readChunk } from '../src/storage/list-chunk.js';
import { etcdSkipReason, startEtcd, type TestEtcd } from './helpers/etcd.js';
import { waitFor } from './helpers/apiserver.js';

interface OpenStore {
  store: Store;
  cleanup(): Promise<void>;
}

function tempSqliteStore(): OpenStore {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-store-'));
  const store = openSqliteStore(join(dir, 'state.db'));
  return { store, cleanup: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** The events a watch delivers, as they come. */
async function collect(store: Store, prefix: string, from: number) {
  const events: WatchEvent[] = [];
  const w = await store.watch(prefix, from, (e) => events.push(e));
  return { events, stop: () => w.stop(), until: (n: number) => waitFor(`${n} events`, () => events.length >= n) };
}

/** key → value of a list, for comparing states. */
const state = async (store: Store, prefix: string, range = {}) => Object.fromEntries((await store.list(prefix, range)).items.map((i) => [i.key, i.value]));

/** The contract tests, for a store `open` gives (a fresh, empty key space each time). */
function contractTests(open: () => Promise<OpenStore>) {
  test('revisions grow on every write and CAS guards updates', async () => {
    const { store, cleanup } = await open();
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

  test('watch replays history after a revision, then goes live, filtered by prefix; a stopped watch hears nothing more', async () => {
    const { store, cleanup } = await open();
    const first = await store.create('/registry/services/default/a', '1');
    await store.create('/registry/pods/default/p', 'x');
    await store.update('/registry/services/default/a', '2');
    const w = await collect(store, '/registry/services/', first.modRevision);
    await store.create('/registry/services/other/b', '3');
    await store.delete('/registry/services/default/a');
    await w.until(3);
    w.stop();
    const later = await collect(store, '/registry/services/', await store.currentRevision());
    await store.create('/registry/services/default/c', '4');
    await later.until(1);
    later.stop();
    assert.deepEqual(
      w.events.map((e) => [e.type, e.key, e.value, e.prevValue]),
      [
        ['MODIFIED', '/registry/services/default/a', '2', '1'],
        ['ADDED', '/registry/services/other/b', '3', undefined],
        ['DELETED', '/registry/services/default/a', '2', '2'],
      ],
    );
    assert.deepEqual(later.events.map((e) => e.key), ['/registry/services/default/c']);
    await cleanup();
  });

  test('watching from before the compaction point is refused', async () => {
    const { store, cleanup } = await open();
    const base = await store.currentRevision();
    for (let i = 1; i <= 5; i++) await store.create(`/registry/x/${i}`, String(i));
    await store.compact(base + 4);
    await assert.rejects(store.watch('/registry/x/', base + 1, () => {}), (e: unknown) => e instanceof CompactedError && e.compacted === base + 4);
    const w = await collect(store, '/registry/x/', base + 4);
    await w.until(1);
    w.stop();
    assert.deepEqual(w.events.map((e) => [e.key, e.revision]), [['/registry/x/5', base + 5]]);
    await cleanup();
  });

  test('writes fail as the contract says: exists, not found, conflict', async () => {
    const { store, cleanup } = await open();
    const a = await store.create('/registry/x/a', '1');
    await assert.rejects(store.create('/registry/x/a', '2'), (e: unknown) => e instanceof KeyExistsError && e.key === '/registry/x/a');
    await assert.rejects(store.update('/registry/x/none', '1'), KeyNotFoundError);
    await assert.rejects(store.update('/registry/x/none', '1', a.modRevision), KeyNotFoundError);
    await assert.rejects(store.delete('/registry/x/none'), KeyNotFoundError);
    const b = await store.update('/registry/x/a', '2');
    await assert.rejects(store.delete('/registry/x/a', a.modRevision), (e: unknown) => e instanceof RevisionConflictError && e.actual === b.modRevision);
    assert.deepEqual(await store.get('/registry/x/a'), { key: '/registry/x/a', value: '2', createRevision: a.createRevision, modRevision: b.modRevision });
    const gone = await store.delete('/registry/x/a', b.modRevision);
    assert.deepEqual([gone.value, gone.createRevision, gone.modRevision, gone.deletedRevision > b.modRevision], ['2', a.createRevision, b.modRevision, true]);
    assert.equal(await store.currentRevision(), gone.deletedRevision);
    await store.check();
    await cleanup();
  });

  test('a list reads a range from a key, up to a limit, and says whether keys are left and how many there are', async () => {
    const { store, cleanup } = await open();
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
    const { store, cleanup } = await open();
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

  test('a chunk fills up past what the selection drops, reads later chunks at the first one\'s revision, and expires with compaction', async () => {
    const { store, cleanup } = await open();
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
}


/** The contract of txn: multi-key compare-and-swap, all or nothing, TTL'd keys. */
function txnContractTests(open: () => Promise<OpenStore>) {
  test('txn applies every op when every compare holds, none when one fails, and says where each compared key stands', async () => {
    const { store, cleanup } = await open();
    const range = await store.create('/registry/ranges/servicenodeports', 'r1');
    const ok = await store.txn(
      [
        { key: '/registry/services/specs/default/a', modRevision: 0 },
        { key: '/registry/ranges/servicenodeports', modRevision: range.modRevision },
      ],
      [
        { type: 'put', key: '/registry/services/specs/default/a', value: 'svc-a' },
        { type: 'put', key: '/registry/ipaddresses/10.96.0.5', value: 'ip' },
        { type: 'put', key: '/registry/ranges/servicenodeports', value: 'r2' },
        { type: 'delete', key: '/registry/ipaddresses/absent' },
      ],
    );
    assert.ok(ok.succeeded);
    const [svc, ip, r2, nothing] = ok.results;
    assert.equal(svc!.createRevision, svc!.modRevision);
    assert.ok(ip!.modRevision >= svc!.modRevision && r2!.modRevision >= ip!.modRevision);
    assert.equal(r2!.createRevision, range.createRevision);
    assert.deepEqual([nothing!.deleted, nothing!.modRevision], [undefined, 0]);
    assert.equal((await store.get('/registry/services/specs/default/a'))?.modRevision, svc!.modRevision);
    assert.equal((await store.get('/registry/ranges/servicenodeports'))?.value, 'r2');
    // A stale range revision: nothing of the transaction is written.
    const before = await store.currentRevision();
    const lost = await store.txn(
      [
        { key: '/registry/services/specs/default/b', modRevision: 0 },
        { key: '/registry/ranges/servicenodeports', modRevision: range.modRevision },
      ],
      [
        { type: 'put', key: '/registry/services/specs/default/b', value: 'svc-b' },
        { type: 'put', key: '/registry/ranges/servicenodeports', value: 'r3' },
      ],
    );
    assert.deepEqual(lost, {
      succeeded: false,
      current: [
        { key: '/registry/services/specs/default/b', modRevision: 0 },
        { key: '/registry/ranges/servicenodeports', modRevision: r2!.modRevision },
      ],
    });
    assert.equal(await store.get('/registry/services/specs/default/b'), undefined);
    assert.equal(await store.currentRevision(), before);
    // Deletes in a transaction, guarded by the object's revision.
    const del = await store.txn(
      [{ key: '/registry/services/specs/default/a', modRevision: svc!.modRevision }],
      [
        { type: 'delete', key: '/registry/services/specs/default/a' },
        { type: 'delete', key: '/registry/ipaddresses/10.96.0.5' },
      ],
    );
    assert.ok(del.succeeded && del.results.every((r) => r.deleted));
    assert.equal((await store.list('/registry/ipaddresses/')).items.length, 0);
    await cleanup();
  });

  test('concurrent transactions on one key: exactly one wins each round', async () => {
    const { store, cleanup } = await open();
    const r = await store.create('/registry/ranges/serviceips', '0');
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.txn([{ key: '/registry/ranges/serviceips', modRevision: r.modRevision }], [{ type: 'put', key: '/registry/ranges/serviceips', value: String(i + 1) }]),
      ),
    );
    assert.equal(attempts.filter((a) => a.succeeded).length, 1);
    await cleanup();
  });

  test("a transaction's writes reach a watcher as single writes do, and a key put with a TTL goes when it runs out", async () => {
    const { store, cleanup } = await open();
    const w = await collect(store, '/registry/', await store.currentRevision());
    const ok = await store.txn(
      [{ key: '/registry/masterleases/127.0.0.2', modRevision: 0 }],
      [
        { type: 'put', key: '/registry/masterleases/127.0.0.2', value: 'lease', ttlSeconds: 1 },
        { type: 'put', key: '/registry/ipaddresses/10.96.0.9', value: 'ip' },
      ],
    );
    assert.ok(ok.succeeded);
    await w.until(2);
    assert.deepEqual(w.events.slice(0, 2).map((e) => [e.type, e.key]), [
      ['ADDED', '/registry/masterleases/127.0.0.2'],
      ['ADDED', '/registry/ipaddresses/10.96.0.9'],
    ]);
    await waitFor('the lease key to expire', async () => (await store.get('/registry/masterleases/127.0.0.2')) === undefined, 10_000);
    await w.until(3);
    assert.deepEqual([w.events[2]!.type, w.events[2]!.key, w.events[2]!.value], ['DELETED', '/registry/masterleases/127.0.0.2', 'lease']);
    assert.ok(await store.get('/registry/ipaddresses/10.96.0.9'), 'a key put without a TTL stays');
    // Put again without a TTL, a key stays for good.
    await store.txn([], [{ type: 'put', key: '/registry/masterleases/127.0.0.3', value: 'l', ttlSeconds: 1 }]);
    await store.txn([], [{ type: 'put', key: '/registry/masterleases/127.0.0.3', value: 'kept' }]);
    // A marker put with the same TTL after it: once the marker is gone, the first TTL has run out too.
    await store.txn([], [{ type: 'put', key: '/registry/masterleases/127.0.0.4', value: 'marker', ttlSeconds: 1 }]);
    await waitFor('the marker to expire', async () => (await store.get('/registry/masterleases/127.0.0.4')) === undefined, 10_000);
    assert.equal((await store.get('/registry/masterleases/127.0.0.3'))?.value, 'kept');
    w.stop();
    await cleanup();
  });
}

describe('Store contract: SQLite', () => {
  contractTests(async () => tempSqliteStore());
  txnContractTests(async () => tempSqliteStore());
});

const etcdSkip = etcdSkipReason();
describe('Store contract: etcd', { skip: etcdSkip }, () => {
  let etcd: TestEtcd | undefined;
  let n = 0;
  before(async () => {
    etcd = await startEtcd();
  });
  after(() => etcd?.stop());
  // Each test its own key space in the one etcd (--etcd-prefix); revisions are etcd's, shared.
  contractTests(async () => {
    const store = openEtcdStore({ endpoints: [etcd!.url], prefix: `/kubesvc-test-${++n}/registry` });
    return { store, cleanup: () => store.close() };
  });
  txnContractTests(async () => {
    const store = openEtcdStore({ endpoints: [etcd!.url], prefix: `/kubesvc-test-${++n}/registry` });
    return { store, cleanup: () => store.close() };
  });

  test('a list at a future revision and a compacted one fail as the contract says; several endpoints fail over', async () => {
    const unreachable = 'http://127.0.0.1:1';
    const store = openEtcdStore({ endpoints: [unreachable, etcd!.url], prefix: `/kubesvc-test-${++n}/registry` });
    try {
      const a = await store.create('/registry/x/a', '1');
      const now = await store.currentRevision();
      await assert.rejects(store.list('/registry/x/', { revision: now + 10 }), (e: unknown) => e instanceof FutureRevisionError && e.requested === now + 10 && e.current === now);
      await store.compact(now);
      await assert.rejects(store.list('/registry/x/', { revision: a.modRevision - 1 }), (e: unknown) => e instanceof CompactedError && e.compacted === now);
      // Compacting again, or to where it already is, changes nothing.
      await store.compact(now);
      assert.equal((await store.get('/registry/x/a'))?.value, '1');
      // The keys are where the prefix puts them.
      const keys = await etcd!.etcdctl(['get', '--prefix', '--keys-only', `/kubesvc-test-${n}/registry/`]);
      assert.equal(keys.stdout.trim(), `/kubesvc-test-${n}/registry/x/a`);
    } finally {
      await store.close();
    }
  });

  test('history is compacted every interval up to where it stood an interval before, as kube-apiserver does', async () => {
    const store = openEtcdStore({ endpoints: [etcd!.url], prefix: `/kubesvc-test-${++n}/registry`, compactionIntervalMs: 200 });
    try {
      const a = await store.create('/registry/x/a', '1');
      await store.update('/registry/x/a', '2');
      const compacted = () => store.list('/registry/x/', { revision: a.modRevision }).then(() => false, (e: unknown) => e instanceof CompactedError);
      await waitFor('a compaction past the first write', compacted, 10_000);
      assert.equal((await store.get('/registry/x/a'))?.value, '2');
    } finally {
      await store.close();
    }
  });

  test('over https with a client certificate (--etcd-cafile, --etcd-certfile, --etcd-keyfile), and refused without one', async () => {
    const secure = await startEtcd({ tls: true });
    const store = openEtcdStore({ endpoints: [secure.url], ...secure.tls });
    const anonymous = openEtcdStore({ endpoints: [secure.url], caFile: secure.tls!.caFile });
    try {
      await store.create('/registry/x/a', 'over tls');
      assert.equal((await store.get('/registry/x/a'))?.value, 'over tls');
      assert.equal((await secure.etcdctl(['get', '/registry/x/a', '--print-value-only'])).stdout.trim(), 'over tls');
      await assert.rejects(anonymous.get('/registry/x/a'), /^Error: etcd https:\/\/127\.0\.0\.1:\d+: /);
    } finally {
      await store.close();
      await anonymous.close();
      await secure.stop();
    }
  });

  test('a watch whose connection breaks resumes from the last revision it delivered: nothing lost, nothing twice', async () => {
    // A TCP relay in front of etcd whose connections the test cuts.
    const sockets = new Set<Socket>();
    const relay = createServer((inbound) => {
      const outbound = connect(Number(new URL(etcd!.url).port), '127.0.0.1');
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => (sockets.delete(s), inbound.destroy(), outbound.destroy()));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const prefix = `/kubesvc-test-${++n}/registry`;
    const watched = openEtcdStore({ endpoints: [`http://127.0.0.1:${(relay.address() as AddressInfo).port}`], prefix });
    const writer = openEtcdStore({ endpoints: [etcd!.url], prefix });
    try {
      const from = await writer.currentRevision();
      const w = await collect(watched, '/registry/x/', from);
      await writer.create('/registry/x/a', '1');
      await w.until(1);
      for (const s of sockets) s.destroy();
      await writer.create('/registry/x/b', '2');
      await writer.update('/registry/x/a', '3');
      await w.until(3);
      w.stop();
      assert.deepEqual(w.events.map((e) => [e.type, e.key, e.value]), [
        ['ADDED', '/registry/x/a', '1'],
        ['ADDED', '/registry/x/b', '2'],
        ['MODIFIED', '/registry/x/a', '3'],
      ]);
    } finally {
      await watched.close();
      await writer.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => relay.close(r));
    }
  });

  test('no endpoint answering is a clear error naming each', async () => {
    const store = openEtcdStore({ endpoints: ['http://127.0.0.1:1', 'http://127.0.0.1:2'] });
    try {
      await assert.rejects(store.check(), /^Error: cannot reach etcd: http:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED 127\.0\.0\.1:1\); http:\/\/127\.0\.0\.1:2 \(connect ECONNREFUSED 127\.0\.0\.1:2\)$/);
    } finally {
      await store.close();
    }
  });
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
    assert.throws(() => openSqliteStore(newer), /written by a newer kubesvc \(data format 99; this version reads 2\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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


test("a data dir written with kubesvc's first key layout comes back whole under upstream's keys, revisions and history kept", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-store-'));
  const file = join(dir, 'state.db');
  try {
    // The old layout, written as the old kubesvc did: /registry/<group>/<resource>/… and core resources under their plural.
    const old = openSqliteStore(file);
    const svc = await old.create('/registry/services/default/web', 'svc');
    await old.create('/registry/endpoints/default/web', 'ep');
    await old.create('/registry/nodes/node-1', 'node');
    const deploy = await old.create('/registry/apps/deployments/default/web', 'd1');
    const then = await old.currentRevision();
    await old.update('/registry/apps/deployments/default/web', 'd2');
    await old.create('/registry/discovery.k8s.io/endpointslices/default/web-abc', 'slice');
    await old.create('/registry/rbac.authorization.k8s.io/clusterroles/admin', 'role');
    await old.create('/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com', 'crd');
    await old.create('/registry/example.com/widgets/default/w', 'cr');
    await old.create('/registry/secrets/default/s', 'secret');
    await old.delete('/registry/nodes/node-1');
    const last = await old.currentRevision();
    await old.close();
    const raw = new Database(file);
    raw.prepare("UPDATE meta SET value = 1 WHERE name = 'format'").run();
    raw.close();

    const store = openSqliteStore(file);
    assert.equal(await store.currentRevision(), last);
    assert.deepEqual(await state(store, '/registry/'), {
      '/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com': 'crd',
      '/registry/clusterroles/admin': 'role',
      '/registry/deployments/default/web': 'd2',
      '/registry/endpointslices/default/web-abc': 'slice',
      '/registry/example.com/widgets/default/w': 'cr',
      '/registry/secrets/default/s': 'secret',
      '/registry/services/endpoints/default/web': 'ep',
      '/registry/services/specs/default/web': 'svc',
    });
    assert.deepEqual(await store.get('/registry/services/specs/default/web'), { key: '/registry/services/specs/default/web', value: 'svc', createRevision: svc.createRevision, modRevision: svc.modRevision });
    // History moved too: a past list and a watch from the start see the new keys.
    assert.deepEqual(
      (await store.list('/registry/deployments/', { revision: then })).items.map((i) => [i.key, i.value, i.modRevision]),
      [['/registry/deployments/default/web', 'd1', deploy.modRevision]],
    );
    const w = await collect(store, '/registry/minions/', 0);
    w.stop();
    assert.deepEqual(w.events.map((e) => [e.type, e.key]), [['ADDED', '/registry/minions/node-1'], ['DELETED', '/registry/minions/node-1']]);
    await store.close();
    // Once moved, the file is format 2 and opens as it is.
    const again = openSqliteStore(file);
    assert.equal(Object.keys(await state(again, '/registry/')).length, 8);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
