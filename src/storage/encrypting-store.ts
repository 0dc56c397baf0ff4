// A Store that keeps the configured resources encrypted at rest (see
// ./encryption.ts): values are encrypted on create and update, and every
// read path decrypts — get, list (at any revision), the value a delete returns, and the value
// and prevValue of watch events (history and live alike). Keys, revisions
// and everything else pass through. A watch event that cannot be decrypted
// (history written with a key since removed) is logged and left out: the
// watcher cannot be handed bytes it would misread.
import { logger } from '../util/log.js';
import type { EncryptionConfig } from './encryption-config.js';
import { createTransformer } from './encryption.js';
import type { Store, StoredValue, WatchEvent } from './store.js';

const log = logger('storage');

export function encryptingStore(inner: Store, config: EncryptionConfig): Store {
  const t = createTransformer(config);
  const read = <S extends StoredValue>(s: S): S => ({ ...s, value: t.fromStorage(s.key, s.value) });

  function readEvent(e: WatchEvent): WatchEvent | undefined {
    try {
      const value = t.fromStorage(e.key, e.value);
      return e.prevValue === undefined ? { ...e, value } : { ...e, value, prevValue: t.fromStorage(e.key, e.prevValue) };
    } catch (err) {
      log.error('watch event left out: its value cannot be decrypted', { key: e.key, revision: e.revision, error: (err as Error).message });
      return undefined;
    }
  }

  return {
    async get(key) {
      const s = await inner.get(key);
      return s && read(s);
    },
    async list(prefix, range) {
      const r = await inner.list(prefix, range);
      return { ...r, items: r.items.map(read) };
    },
    count: (prefix) => inner.count(prefix),
    async create(key, value) {
      return { ...(await inner.create(key, t.toStorage(key, value))), value };
    },
    async update(key, value, expectedRevision) {
      return { ...(await inner.update(key, t.toStorage(key, value), expectedRevision)), value };
    },
    async delete(key, expectedRevision) {
      return read(await inner.delete(key, expectedRevision));
    },
    txn(compares, ops) {
      return inner.txn(compares, ops.map((op) => (op.type === 'put' ? { ...op, value: t.toStorage(op.key, op.value) } : op)));
    },
    watch(prefix, fromRevision, onEvent) {
      return inner.watch(prefix, fromRevision, (e) => {
        const plain = readEvent(e);
        if (plain) onEvent(plain);
      });
    },
    currentRevision: () => inner.currentRevision(),
    compact: (revision) => inner.compact(revision),
    check: () => inner.check(),
    close: () => inner.close(),
  };
}
