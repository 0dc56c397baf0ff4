// The Store contract on etcd v3 (kube-apiserver's --etcd-servers): etcd's
// revisions are the resourceVersions, and every write is one etcd
// transaction —
//
//   create: if create_revision(key) == 0 then put
//   update: if mod_revision(key) == expected (or the key exists) then put, else read it
//   delete: likewise, deleting with the previous value
//
// so a conflicting writer (another API server on the same etcd) loses the
// compare and gets the Store's KeyExistsError / RevisionConflictError /
// KeyNotFoundError. Lists are ranges (at a revision, from a key, with a limit
// and etcd's count); watches are etcd watches from revision+1 with the
// previous values, resumed on the next endpoint from the last revision seen
// when a connection breaks. etcd's "required revision has been compacted"
// and "is a future revision" are the Store's CompactedError and
// FutureRevisionError. History is compacted as kube-apiserver does it
// (./compactor.ts).
//
// Keys are the Store's (/registry/…) with /registry replaced by the etcd
// prefix (--etcd-prefix, default /registry, as upstream). Values are the
// objects' JSON (kube-apiserver writes built-in kinds as protobuf; kubesvc
// writes JSON, which upstream uses for custom resources).
import { logger } from '../../util/log.js';
import { errorMessage } from '../../util/errors.js';
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionConflictError,
  type ListResult,
  type Store,
  type StoredValue,
  type TxnOp,
  type TxnOpResult,
  type Watch,
  type WatchEvent,
} from '../store.js';
import { defaultCompactionIntervalMs, startCompactor } from './compactor.js';
import { b64, createEtcdClient, EtcdError, num, toKeyValue, type EtcdClientOptions, type RawKeyValue, type ResponseHeader } from './client.js';

const log = logger('etcd');

export interface EtcdStoreOptions extends EtcdClientOptions {
  /** --etcd-prefix: where the keys live in etcd (default /registry). */
  prefix?: string;
  /** --etcd-compaction-interval: compact the history one interval old this often (default 5m; 0 never). */
  compactionIntervalMs?: number;
}

export const defaultEtcdPrefix = '/registry';
const storeRoot = '/registry';

interface RangeResponse {
  kvs?: RawKeyValue[];
  more?: boolean;
  count?: string;
}
interface TxnResponse {
  succeeded?: boolean;
  responses?: {
    response_range?: RangeResponse;
    response_put?: { prev_kv?: RawKeyValue };
    response_delete_range?: { prev_kvs?: RawKeyValue[] };
  }[];
}
interface RawEvent {
  type?: 'PUT' | 'DELETE';
  kv?: RawKeyValue;
  prev_kv?: RawKeyValue;
}

const compactedMessage = 'required revision has been compacted';
const futureMessage = 'required revision is a future revision';

/** The key just after every key starting with `prefix` (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix);
  let i = bytes.length - 1;
  while (i >= 0 && bytes[i] === 0xff) i--;
  if (i < 0) return b64(Buffer.from([0]));
  const end = bytes.subarray(0, i + 1);
  end[i]! += 1;
  return b64(end);
}

export function openEtcdStore(options: EtcdStoreOptions): Store {
  const client = createEtcdClient(options);
  const root = (options.prefix ?? defaultEtcdPrefix).replace(/\/+$/, '');
  if (!root.startsWith('/')) throw new Error(`--etcd-prefix ${options.prefix}: must start with /`);
  const toEtcd = (key: string) => (key.startsWith(storeRoot) ? root + key.slice(storeRoot.length) : key);
  const fromEtcd = (key: string) => (key.startsWith(root) ? storeRoot + key.slice(root.length) : key);
  const stored = (kv: RawKeyValue): StoredValue => {
    const v = toKeyValue(kv);
    return { ...v, key: fromEtcd(v.key) };
  };
  const watches = new Set<Watch>();
  const compactionIntervalMs = options.compactionIntervalMs ?? defaultCompactionIntervalMs;
  const stopCompactor = compactionIntervalMs > 0 ? startCompactor(client, compactionIntervalMs) : () => undefined;

  const range = (body: Record<string, unknown>) => client.call<RangeResponse>('/v3/kv/range', body);
  const txn = (body: Record<string, unknown>) => client.call<TxnResponse>('/v3/kv/txn', body, true);
  const revisionOf = (h: ResponseHeader | undefined) => num(h?.revision);

  async function currentRevision(): Promise<number> {
    return revisionOf((await range({ key: b64(root), count_only: true })).header);
  }

  /**
   * etcd does not say how far it compacted; a watch from revision 1 is
   * cancelled with that revision (etcd checks its watchers every 100ms).
   */
  function compactedRevision(): Promise<number> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => (stream.stop(), resolve(0)), 2000);
      const stream = client.watch(
        { key: b64(`${root}/\u0000compaction-probe`), start_revision: '1' },
        (m) => {
          if (m.compact_revision !== undefined || m.canceled) {
            clearTimeout(timer);
            stream.stop();
            resolve(num(m.compact_revision as string | undefined));
          }
        },
        () => (clearTimeout(timer), resolve(0)),
      );
    });
  }

  /** etcd's revision errors as the Store's. */
  async function revisionError(e: unknown, requested: number): Promise<unknown> {
    if (!(e instanceof EtcdError)) return e;
    if (e.message.includes(compactedMessage)) return new CompactedError(requested, await compactedRevision());
    if (e.message.includes(futureMessage)) return new FutureRevisionError(requested, await currentRevision());
    return e;
  }

  /** The key's current state for a failed compare: absent, or its mod revision. */
  function failure(key: string, r: TxnResponse): never {
    const kv = r.responses?.[0]?.response_range?.kvs?.[0];
    if (!kv) throw new KeyNotFoundError(key);
    throw new RevisionConflictError(key, num(kv.mod_revision));
  }

  /** The compare of a write to an existing key: its mod revision is the one expected, or it merely exists. */
  const existing = (key: string, expected?: number) =>
    expected !== undefined
      ? { key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: String(expected) }
      : { key: b64(key), target: 'CREATE', result: 'GREATER', create_revision: '0' };

  function openWatch(prefix: string, fromRevision: number, onEvent: (e: WatchEvent) => void): Watch {
    let last = fromRevision;
    let stopped = false;
    let stream: { stop(): void } | undefined;
    let retry: NodeJS.Timeout | undefined;
    /** The pause before resuming: doubled per failure in a row (to 5s), reset by any message. */
    let backoffMs = 0;
    const start = () => {
      // Events at or below the revision this stream resumes after were delivered by the one before;
      // several events of one revision (a transaction's) all pass.
      const resumedAfter = last;
      stream = client.watch(
        { key: b64(toEtcd(prefix)), range_end: prefixEnd(toEtcd(prefix)), start_revision: String(last + 1), prev_kv: true },
        (m) => {
          backoffMs = 0;
          if (m.canceled) {
            const compacted = num(m.compact_revision as string | undefined);
            log.error('etcd cancelled a watch; its watcher sees no more events', { prefix, from: last, compactRevision: compacted, reason: m.cancel_reason });
            stream?.stop();
            return;
          }
          for (const e of (m.events as RawEvent[] | undefined) ?? []) {
            const kv = e.kv!;
            const revision = num(kv.mod_revision);
            if (revision <= resumedAfter) continue;
            last = revision;
            const key = fromEtcd(Buffer.from(kv.key ?? '', 'base64').toString('utf8'));
            const prev = e.prev_kv ? toKeyValue(e.prev_kv).value : undefined;
            if (e.type === 'DELETE') {
              if (prev === undefined) {
                log.error('etcd sent a deletion without the deleted value; left out', { key, revision });
                continue;
              }
              onEvent({ type: 'DELETED', key, value: prev, prevValue: prev, revision });
            } else {
              const value = toKeyValue(kv).value;
              const created = num(kv.create_revision) === revision;
              onEvent(created ? { type: 'ADDED', key, value, revision } : { type: 'MODIFIED', key, value, prevValue: prev, revision });
            }
          }
        },
        (why) => {
          if (stopped) return;
          // The connection broke: resume from the last revision delivered, on the next endpoint.
          if (!backoffMs) log.warn('etcd watch interrupted; resuming', { prefix, from: last, error: errorMessage(why) });
          backoffMs = Math.min(5000, backoffMs ? backoffMs * 2 : 250);
          retry = setTimeout(start, backoffMs);
        },
      );
    };
    start();
    const w: Watch = {
      stop() {
        stopped = true;
        if (retry) clearTimeout(retry);
        stream?.stop();
        watches.delete(w);
      },
    };
    watches.add(w);
    return w;
  }

  return {
    async get(key) {
      const kv = (await range({ key: b64(toEtcd(key)) })).kvs?.[0];
      return kv && stored(kv);
    },
    async list(prefix, r = {}) {
      const from = r.fromKey !== undefined && r.fromKey > prefix ? r.fromKey : prefix;
      const body: Record<string, unknown> = { key: b64(toEtcd(from)), range_end: prefixEnd(toEtcd(prefix)) };
      if (r.limit !== undefined && r.limit > 0) body.limit = String(r.limit);
      if (r.revision !== undefined) body.revision = String(r.revision);
      let res: RangeResponse & { header?: ResponseHeader };
      try {
        res = await range(body);
      } catch (e) {
        throw await revisionError(e, r.revision ?? 0);
      }
      const items = (res.kvs ?? []).map(stored);
      const result: ListResult = { items, revision: r.revision ?? revisionOf(res.header), more: !!res.more, count: num(res.count) };
      return result;
    },
    async count(prefix) {
      return num((await range({ key: b64(toEtcd(prefix)), range_end: prefixEnd(toEtcd(prefix)), count_only: true })).count);
    },
    async create(key, value) {
      const k = b64(toEtcd(key));
      const r = await txn({
        compare: [{ key: k, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
        success: [{ request_put: { key: k, value: b64(value) } }],
      });
      if (!r.succeeded) throw new KeyExistsError(key);
      const rev = revisionOf(r.header);
      return { key, value, createRevision: rev, modRevision: rev };
    },
    async update(key, value, expectedRevision) {
      const k = b64(toEtcd(key));
      const r = await txn({
        compare: [{ ...existing(toEtcd(key), expectedRevision) }],
        success: [{ request_put: { key: k, value: b64(value), prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      });
      if (!r.succeeded) failure(key, r);
      const prev = r.responses?.[0]?.response_put?.prev_kv;
      const rev = revisionOf(r.header);
      return { key, value, createRevision: num(prev?.create_revision) || rev, modRevision: rev };
    },
    async delete(key, expectedRevision) {
      const k = b64(toEtcd(key));
      const r = await txn({
        compare: [{ ...existing(toEtcd(key), expectedRevision) }],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      });
      if (!r.succeeded) failure(key, r);
      const prev = r.responses?.[0]?.response_delete_range?.prev_kvs?.[0];
      if (!prev) throw new KeyNotFoundError(key);
      return { ...stored(prev), deletedRevision: revisionOf(r.header) };
    },
    async txn(compares, ops) {
      // A TTL is a lease granted for it, the key attached (kube-apiserver's etcd3 store: one lease per TTL'd write).
      const leases = new Map<number, string>();
      for (const op of ops) {
        if (op.type === 'put' && op.ttlSeconds !== undefined && !leases.has(op.ttlSeconds)) {
          const granted = await client.call<{ ID?: string }>('/v3/lease/grant', { TTL: String(op.ttlSeconds) }, true);
          leases.set(op.ttlSeconds, granted.ID ?? '0');
        }
      }
      const request = (op: TxnOp) =>
        op.type === 'put'
          ? { request_put: { key: b64(toEtcd(op.key)), value: b64(op.value), prev_kv: true, ...(op.ttlSeconds !== undefined ? { lease: leases.get(op.ttlSeconds) } : {}) } }
          : { request_delete_range: { key: b64(toEtcd(op.key)), prev_kv: true } };
      const r = await txn({
        compare: compares.map((c) => ({ key: b64(toEtcd(c.key)), target: 'MOD', result: 'EQUAL', mod_revision: String(c.modRevision) })),
        success: ops.map(request),
        failure: compares.map((c) => ({ request_range: { key: b64(toEtcd(c.key)), keys_only: true } })),
      });
      if (!r.succeeded) {
        return { succeeded: false, current: compares.map((c, i) => ({ key: c.key, modRevision: num(r.responses?.[i]?.response_range?.kvs?.[0]?.mod_revision) })) };
      }
      const rev = revisionOf(r.header);
      const results = ops.map((op, i): TxnOpResult => {
        const res = r.responses?.[i];
        if (op.type === 'put') return { key: op.key, createRevision: num(res?.response_put?.prev_kv?.create_revision) || rev, modRevision: rev };
        const prev = res?.response_delete_range?.prev_kvs?.[0];
        return prev ? { key: op.key, createRevision: num(prev.create_revision), modRevision: rev, deleted: true } : { key: op.key, createRevision: 0, modRevision: 0 };
      });
      return { succeeded: true, results };
    },
    async watch(prefix, fromRevision, onEvent) {
      // The history must still be there: what a list at fromRevision needs (revision 0 is etcd's "now", so 1 stands for it).
      try {
        await range({ key: b64(toEtcd(prefix)), range_end: prefixEnd(toEtcd(prefix)), count_only: true, revision: String(Math.max(fromRevision, 1)) });
      } catch (e) {
        const mapped = await revisionError(e, fromRevision);
        // A watch from a revision not reached yet waits for it, as etcd's does.
        if (!(mapped instanceof FutureRevisionError)) throw mapped;
      }
      return openWatch(prefix, fromRevision, onEvent);
    },
    currentRevision,
    async compact(revision) {
      try {
        await client.call('/v3/kv/compaction', { revision: String(revision) }, true);
      } catch (e) {
        const mapped = await revisionError(e, revision);
        // Compacted already up to there or beyond: nothing to do.
        if (mapped instanceof CompactedError) return;
        throw mapped;
      }
    },
    async check() {
      // Upstream's etcd check reads the key "health".
      await range({ key: b64('health') });
    },
    async close() {
      stopCompactor();
      for (const w of [...watches]) w.stop();
      client.close();
    },
  };
}
