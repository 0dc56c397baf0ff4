// The embedded default store: SQLite in WAL mode, the kine idea reduced to two
// tables. `log` is the append-only revision history (revision = resourceVersion),
// `current` the latest value per key for fast get/list. Both change in one
// transaction, so a write acknowledged to a client survives kill -9.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync } from 'node:fs';
import {
  CompactedError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionConflictError,
  type ListResult,
  type Store,
  type StoredValue,
  type Watch,
  type WatchEvent,
} from './store.js';

interface CurrentRow {
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
}
interface LogRow {
  revision: number;
  key: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  value: string;
  prev_value: string | null;
}

interface Subscriber {
  prefix: string;
  onEvent: (e: WatchEvent) => void;
}

export interface SqliteStoreOptions {
  /** Keep at least this many revisions of history for watches (default 20,000). */
  historyRevisions?: number;
}

const prefixEnd = (prefix: string) => prefix + '\uffff';

/** The layout of state.db this code reads and writes; a data dir from a newer kubesvc is refused, not misread. */
export const storeFormat = 1;

/** A data dir kubesvc cannot use: not a kubesvc database, or written by an incompatible version. */
export class StoreFormatError extends Error {}

/**
 * Creates `file` readable and writable by its owner only (or makes it so):
 * SQLite gives its -wal and -shm files the database file's mode.
 */
export function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): Store {
  let db: Database.Database;
  try {
    ownerOnly(file);
    db = new Database(file);
    db.pragma('journal_mode = WAL');
  } catch (e) {
    throw new StoreFormatError(`${file} is not a kubesvc state database (${(e as Error).message}); use another --data-dir or remove it`);
  }
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
    const format = tables.includes('meta') ? db.prepare<[], { value: number }>("SELECT value FROM meta WHERE name = 'format'").get()?.value : undefined;
    if (tables.length && !tables.includes('log')) {
      throw new StoreFormatError(`${file} is an SQLite database but not kubesvc's (tables: ${tables.join(', ')}); use another --data-dir`);
    }
    if (format !== undefined && format > storeFormat) {
      throw new StoreFormatError(`${file} was written by a newer kubesvc (data format ${format}; this version reads ${storeFormat}); upgrade kubesvc or use another --data-dir`);
    }
  } catch (e) {
    db.close();
    throw e;
  }
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a committed transaction survives a process crash (kill -9);
  // only a power loss can roll back the last transactions.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS log (
      revision INTEGER PRIMARY KEY AUTOINCREMENT,
      key TEXT NOT NULL,
      type TEXT NOT NULL,
      value TEXT NOT NULL,
      prev_value TEXT
    );
    CREATE INDEX IF NOT EXISTS log_key ON log (key, revision);
    CREATE TABLE IF NOT EXISTS current (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      create_revision INTEGER NOT NULL,
      mod_revision INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT OR IGNORE INTO meta (name, value) VALUES ('compacted', 0);
    INSERT OR IGNORE INTO meta (name, value) VALUES ('format', ${storeFormat});
  `);

  const historyRevisions = options.historyRevisions ?? 20_000;
  const stmt = {
    get: db.prepare<[string], CurrentRow>('SELECT key, value, create_revision, mod_revision FROM current WHERE key = ?'),
    list: db.prepare<[string, string], CurrentRow>(
      'SELECT key, value, create_revision, mod_revision FROM current WHERE key >= ? AND key < ? ORDER BY key',
    ),
    append: db.prepare<[string, string, string, string | null]>('INSERT INTO log (key, type, value, prev_value) VALUES (?, ?, ?, ?)'),
    insertCurrent: db.prepare<[string, string, number, number]>(
      'INSERT INTO current (key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?)',
    ),
    updateCurrent: db.prepare<[string, number, string]>('UPDATE current SET value = ?, mod_revision = ? WHERE key = ?'),
    deleteCurrent: db.prepare<[string]>('DELETE FROM current WHERE key = ?'),
    revision: db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'log'"),
    history: db.prepare<[number, string, string], LogRow>(
      'SELECT revision, key, type, value, prev_value FROM log WHERE revision > ? AND key >= ? AND key < ? ORDER BY revision',
    ),
    compacted: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE name = 'compacted'"),
    setCompacted: db.prepare<[number]>("UPDATE meta SET value = ? WHERE name = 'compacted'"),
    deleteHistory: db.prepare<[number]>('DELETE FROM log WHERE revision < ?'),
  };

  const subscribers = new Set<Subscriber>();
  let writesSinceCompaction = 0;

  const currentRevision = () => stmt.revision.get()?.seq ?? 0;
  const toStored = (r: CurrentRow): StoredValue => ({
    key: r.key,
    value: r.value,
    createRevision: r.create_revision,
    modRevision: r.mod_revision,
  });

  function publish(e: WatchEvent) {
    for (const s of subscribers) {
      if (e.key.startsWith(s.prefix)) s.onEvent(e);
    }
    if (++writesSinceCompaction >= 1000) {
      writesSinceCompaction = 0;
      compactSync(currentRevision() - historyRevisions);
    }
  }

  function compactSync(revision: number) {
    const compacted = stmt.compacted.get()?.value ?? 0;
    if (revision <= compacted) return;
    db.transaction(() => {
      stmt.deleteHistory.run(revision);
      stmt.setCompacted.run(revision);
    })();
  }

  const createTx = db.transaction((key: string, value: string): StoredValue => {
    if (stmt.get.get(key)) throw new KeyExistsError(key);
    const rev = Number(stmt.append.run(key, 'ADDED', value, null).lastInsertRowid);
    stmt.insertCurrent.run(key, value, rev, rev);
    return { key, value, createRevision: rev, modRevision: rev };
  });

  const updateTx = db.transaction((key: string, value: string, expected?: number): [StoredValue, string] => {
    const old = stmt.get.get(key);
    if (!old) throw new KeyNotFoundError(key);
    if (expected !== undefined && old.mod_revision !== expected) throw new RevisionConflictError(key, old.mod_revision);
    const rev = Number(stmt.append.run(key, 'MODIFIED', value, old.value).lastInsertRowid);
    stmt.updateCurrent.run(value, rev, key);
    return [{ key, value, createRevision: old.create_revision, modRevision: rev }, old.value];
  });

  const deleteTx = db.transaction((key: string, expected?: number): StoredValue & { deletedRevision: number } => {
    const old = stmt.get.get(key);
    if (!old) throw new KeyNotFoundError(key);
    if (expected !== undefined && old.mod_revision !== expected) throw new RevisionConflictError(key, old.mod_revision);
    const rev = Number(stmt.append.run(key, 'DELETED', old.value, old.value).lastInsertRowid);
    stmt.deleteCurrent.run(key);
    return { ...toStored(old), deletedRevision: rev };
  });

  let closed = false;

  return {
    async get(key) {
      const r = stmt.get.get(key);
      return r ? toStored(r) : undefined;
    },
    async list(prefix): Promise<ListResult> {
      const read = db.transaction(() => ({
        items: stmt.list.all(prefix, prefixEnd(prefix)).map(toStored),
        revision: currentRevision(),
      }));
      return read();
    },
    async create(key, value) {
      const stored = createTx(key, value);
      publish({ type: 'ADDED', key, value, revision: stored.modRevision });
      return stored;
    },
    async update(key, value, expectedRevision) {
      const [stored, prev] = updateTx(key, value, expectedRevision);
      publish({ type: 'MODIFIED', key, value, prevValue: prev, revision: stored.modRevision });
      return stored;
    },
    async delete(key, expectedRevision) {
      const deleted = deleteTx(key, expectedRevision);
      publish({ type: 'DELETED', key, value: deleted.value, prevValue: deleted.value, revision: deleted.deletedRevision });
      return deleted;
    },
    watch(prefix, fromRevision, onEvent): Watch {
      const compacted = stmt.compacted.get()?.value ?? 0;
      // History from fromRevision+1 must still be there: anything at or below
      // the compaction point may have been dropped.
      if (fromRevision < compacted) throw new CompactedError(fromRevision, compacted);
      // Replay and subscription happen in one synchronous step: no write can
      // slip between them, so there is neither a gap nor a duplicate.
      for (const r of stmt.history.iterate(fromRevision, prefix, prefixEnd(prefix))) {
        onEvent({ type: r.type, key: r.key, value: r.value, prevValue: r.prev_value ?? undefined, revision: r.revision });
      }
      const sub: Subscriber = { prefix, onEvent };
      subscribers.add(sub);
      return { stop: () => subscribers.delete(sub) };
    },
    async currentRevision() {
      return currentRevision();
    },
    async compact(revision) {
      compactSync(revision);
    },
    async close() {
      if (closed) return;
      closed = true;
      subscribers.clear();
      db.close();
    },
  };
}
