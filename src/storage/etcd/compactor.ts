// etcd's history compacted as kube-apiserver compacts it
// (--etcd-compaction-interval, default 5m): every interval, the revision
// seen one interval ago is compacted, so watches and lists may resume from
// anything younger than an interval. API servers sharing an etcd take turns
// through one key, compact_rev_key: a server compacts only when the key's
// version is the one it last saw (it bumps the version in the same txn);
// otherwise another server just did, and it adopts that version instead.
import { logger } from '../../util/log.js';
import { errorMessage } from '../../util/errors.js';
import { b64, num, type EtcdClient } from './client.js';

const log = logger('etcd');
const compactRevKey = b64('compact_rev_key');

export const defaultCompactionIntervalMs = 5 * 60_000;

interface CompactTxn {
  succeeded?: boolean;
  responses?: { response_range?: { kvs?: { version?: string }[] } }[];
}

/** Starts compacting every intervalMs; returns the stop. */
export function startCompactor(client: EtcdClient, intervalMs: number): () => void {
  /** The version of compact_rev_key this server last saw, and the revision it found then. */
  let version = 0;
  let revision = 0;
  const tick = async () => {
    const r = await client.call<CompactTxn>(
      '/v3/kv/txn',
      {
        compare: [{ key: compactRevKey, target: 'VERSION', result: 'EQUAL', version: String(version) }],
        success: [{ request_put: { key: compactRevKey, value: b64(String(revision)) } }],
        failure: [{ request_range: { key: compactRevKey } }],
      },
      true,
    );
    const now = num(r.header?.revision);
    if (!r.succeeded) {
      // Another API server compacted since: take its turn as seen, compact next time if none does.
      version = num(r.responses?.[0]?.response_range?.kvs?.[0]?.version);
      revision = now;
      return;
    }
    version += 1;
    const target = revision;
    revision = now;
    // The first turn only records where history stands.
    if (target === 0) return;
    try {
      await client.call('/v3/kv/compaction', { revision: String(target) }, true);
      log.info('compacted etcd', { revision: target });
    } catch (e) {
      if (!errorMessage(e).includes('required revision has been compacted')) throw e;
    }
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick()
      .catch((e: unknown) => log.warn('etcd compaction failed; trying again next interval', { error: errorMessage(e) }))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
