// The embedded default store: SQLite in WAL mode, the kine idea reduced to two
// tables. `log` is the append-only revision history (revision = resourceVersion),
// `current` the latest value per key for fast get/list. Both change in one
// transaction, so a write acknowledged to a client survives kill -9.
//
// A list at an older revision (etcd's WithRev, what a continued list reads)
// is the current rows with the writes since undone: a key written after that
// revision had the value its first later write replaced (prev_value,
// prev_revision) or, if that write created it, did not exist. So it needs
// the log after the revision — exactly what a watch from there needs.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { upstreamKeyOfLegacy } from '../registry/keys.js';
import { logger } from '../util/log.js';
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionConflictError,
  type ListRange,
  type ListResult,
  type Store,
  type StoredValue,
  type TxnCompare,
  type TxnOp,
  type TxnOpResult,
  type TxnResult,
  type Watch,
  type WatchEvent,
} from './store.js';

interface CurrentRow {
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
}
/** A key's row as of a past revision; the revisions are null for log rows written before they were recorded. */
interface PastRow {
  key: string;
  value: string;
  create_revision: number | null;
  mod_revision: number | null;
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
  /**
   * A value as it must be stored once its key moves (keys of the first
   * layout moved to upstream's): the encryption transformer's moveKey, since
   * an encrypted value is bound to its key. Default: unchanged.
   */
  moveValue?: (from: string, to: string, value: string) => string;
}

const prefixEnd = (prefix: string) => prefix + '\uffff';
const log = logger('storage');

/** The named parameters of a read at a past revision. */
interface RangeAt {
  rev: number;
  from: string;
  end: string;
  limit: number;
}

/**
 * The layout of state.db this code reads and writes; a data dir from a newer
 * kubesvc is refused, not misread. 2: keys in upstream's layout
 * (src/registry/keys.ts); format 1 data dirs are moved to it when opened.
 */
export const storeFormat = 2;

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

/**
 * A format 1 data dir's keys (/registry/apps/deployments/…, /registry/services/…)
 * renamed to upstream's (/registry/deployments/…, /registry/services/specs/…)
 * in the current rows and the history alike, revisions kept, values moved
 * with them (encrypted ones sealed again for their new key), in one
 * transaction with the format's bump: a crash leaves the old layout whole.
 * Old and new keys cannot collide (a renamed key has another segment count
 * or another first segment than any key of the old layout).
 */
function migrateKeys(db: Database.Database, moveValue: (from: string, to: string, value: string) => string): void {
  const renamed = db.transaction(() => {
    let n = 0;
    const updateCurrent = db.prepare<[string, string, string]>('UPDATE current SET key = ?, value = ? WHERE key = ?');
    for (const { key, value } of db.prepare<[], { key: string; value: string }>('SELECT key, value FROM current').all()) {
      const moved = upstreamKeyOfLegacy(key);
      if (moved !== key) n += updateCurrent.run(moved, moveValue(key, moved, value), key).changes;
    }
    const updateLog = db.prepare<[string, string, string | null, number]>('UPDATE log SET key = ?, value = ?, prev_value = ? WHERE revision = ?');
    const rows = db.prepare<[], { revision: number; key: string; value: string; prev_value: string | null }>('SELECT revision, key, value, prev_value FROM log').all();
    for (const { revision, key, value, prev_value: prev } of rows) {
      const moved = upstreamKeyOfLegacy(key);
      if (moved !== key) updateLog.run(moved, moveValue(key, moved, value), prev === null ? null : moveValue(key, moved, prev), revision);
    }
    db.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES ('format', 2)").run();
    return n;
  })();
  if (renamed) log.info("storage keys moved to upstream's layout", { keys: renamed });
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
  /** The format the file was written in: none yet for a new file, 1 for one from before the format was recorded. */
  let writtenFormat: number;
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
    const format = tables.includes('meta') ? db.prepare<[], { value: number }>("SELECT value FROM meta WHERE name = 'format'").get()?.value : undefined;
    if (tables.length && !tables.includes('log')) {
      throw new StoreFormatError(`${file} is an SQLite database but not kubesvc's (tables: ${tables.join(', ')}); use another --data-dir`);
    }
    if (format !== undefined && format > storeFormat) {
      throw new StoreFormatError(`${file} was written by a newer kubesvc (data format ${format}; this version reads ${storeFormat}); upgrade kubesvc or use another --data-dir`);
    }
    writtenFormat = tables.length ? (format ?? 1) : storeFormat;
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
      prev_value TEXT,
      prev_revision INTEGER,
      prev_create_revision INTEGER
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
    CREATE TABLE IF NOT EXISTS expiry (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
  `);
  // Data dirs from before lists at a revision: the log gains the revisions
  // of the value each write replaced. Older kubesvc versions write on
  // without them (their rows read as unknown), so the format stays.
  const logColumns = db.prepare<[], { name: string }>('PRAGMA table_info(log)').all().map((c) => c.name);
  for (const column of ['prev_revision', 'prev_create_revision']) {
    if (!logColumns.includes(column)) db.exec(`ALTER TABLE log ADD COLUMN ${column} INTEGER`);
  }

  if (writtenFormat < 2) migrateKeys(db, options.moveValue ?? ((_from, _to, value) => value));

  const historyRevisions = options.historyRevisions ?? 20_000;
  /**
   * The keys in [@from, @end) as they were at revision @rev: current rows
   * of keys not written since, and for keys written since, what their first
   * later write replaced (nothing, when that write created the key).
   */
  const stateAt = `
    WITH changed AS (
      SELECT key, MIN(revision) AS first FROM log WHERE revision > @rev AND key >= @from AND key < @end GROUP BY key
    ),
    state AS (
      SELECT key, value, create_revision, mod_revision FROM current
        WHERE key >= @from AND key < @end AND key NOT IN (SELECT key FROM changed)
      UNION ALL
      SELECT l.key, l.prev_value, l.prev_create_revision, l.prev_revision FROM changed JOIN log l ON l.revision = changed.first
        WHERE l.type != 'ADDED'
    )`;
  const stmt = {
    get: db.prepare<[string], CurrentRow>('SELECT key, value, create_revision, mod_revision FROM current WHERE key = ?'),
    list: db.prepare<[string, string, number], CurrentRow>(
      'SELECT key, value, create_revision, mod_revision FROM current WHERE key >= ? AND key < ? ORDER BY key LIMIT ?',
    ),
    count: db.prepare<[string, string], { n: number }>('SELECT COUNT(*) AS n FROM current WHERE key >= ? AND key < ?'),
    listAt: db.prepare<RangeAt, PastRow>(`${stateAt} SELECT key, value, create_revision, mod_revision FROM state ORDER BY key LIMIT @limit`),
    countAt: db.prepare<Omit<RangeAt, 'limit'>, { n: number }>(`${stateAt} SELECT COUNT(*) AS n FROM state`),
    lastWriteAt: db.prepare<[string, number], { mod: number | null; created: number | null }>(
      "SELECT MAX(revision) AS mod, MAX(CASE WHEN type = 'ADDED' THEN revision END) AS created FROM log WHERE key = ? AND revision <= ?",
    ),
    append: db.prepare<[string, string, string, string | null, number | null, number | null]>(
      'INSERT INTO log (key, type, value, prev_value, prev_revision, prev_create_revision) VALUES (?, ?, ?, ?, ?, ?)',
    ),
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
    setExpiry: db.prepare<[string, number]>('INSERT OR REPLACE INTO expiry (key, at) VALUES (?, ?)'),
    clearExpiry: db.prepare<[string]>('DELETE FROM expiry WHERE key = ?'),
    expired: db.prepare<[number], { key: string }>('SELECT key FROM expiry WHERE at <= ?'),
    nextExpiry: db.prepare<[], { at: number | null }>('SELECT MIN(at) AS at FROM expiry'),
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
    const rev = Number(stmt.append.run(key, 'ADDED', value, null, null, null).lastInsertRowid);
    stmt.insertCurrent.run(key, value, rev, rev);
    return { key, value, createRevision: rev, modRevision: rev };
  });

  const updateTx = db.transaction((key: string, value: string, expected?: number): [StoredValue, string] => {
    const old = stmt.get.get(key);
    if (!old) throw new KeyNotFoundError(key);
    if (expected !== undefined && old.mod_revision !== expected) throw new RevisionConflictError(key, old.mod_revision);
    const rev = Number(stmt.append.run(key, 'MODIFIED', value, old.value, old.mod_revision, old.create_revision).lastInsertRowid);
    stmt.updateCurrent.run(value, rev, key);
    return [{ key, value, createRevision: old.create_revision, modRevision: rev }, old.value];
  });

  const deleteTx = db.transaction((key: string, expected?: number): StoredValue & { deletedRevision: number } => {
    const old = stmt.get.get(key);
    if (!old) throw new KeyNotFoundError(key);
    if (expected !== undefined && old.mod_revision !== expected) throw new RevisionConflictError(key, old.mod_revision);
    const rev = Number(stmt.append.run(key, 'DELETED', old.value, old.value, old.mod_revision, old.create_revision).lastInsertRowid);
    stmt.deleteCurrent.run(key);
    return { ...toStored(old), deletedRevision: rev };
  });

  /** One put or delete inside a transaction; its event, published once the transaction commits. */
  function applyOp(op: TxnOp, now: number): [TxnOpResult, WatchEvent | undefined] {
    const old = stmt.get.get(op.key);
    if (op.type === 'delete') {
      if (!old) return [{ key: op.key, createRevision: 0, modRevision: 0 }, undefined];
      const rev = Number(stmt.append.run(op.key, 'DELETED', old.value, old.value, old.mod_revision, old.create_revision).lastInsertRowid);
      stmt.deleteCurrent.run(op.key);
      if (ttlKeys) stmt.clearExpiry.run(op.key);
      const e: WatchEvent = { type: 'DELETED', key: op.key, value: old.value, prevValue: old.value, revision: rev };
      return [{ key: op.key, createRevision: old.create_revision, modRevision: rev, deleted: true }, e];
    }
    let result: TxnOpResult;
    let e: WatchEvent;
    if (old) {
      const rev = Number(stmt.append.run(op.key, 'MODIFIED', op.value, old.value, old.mod_revision, old.create_revision).lastInsertRowid);
      stmt.updateCurrent.run(op.value, rev, op.key);
      result = { key: op.key, createRevision: old.create_revision, modRevision: rev };
      e = { type: 'MODIFIED', key: op.key, value: op.value, prevValue: old.value, revision: rev };
    } else {
      const rev = Number(stmt.append.run(op.key, 'ADDED', op.value, null, null, null).lastInsertRowid);
      stmt.insertCurrent.run(op.key, op.value, rev, rev);
      result = { key: op.key, createRevision: rev, modRevision: rev };
      e = { type: 'ADDED', key: op.key, value: op.value, revision: rev };
    }
    if (op.ttlSeconds !== undefined) {
      stmt.setExpiry.run(op.key, now + op.ttlSeconds * 1000);
      ttlKeys = true;
    } else if (ttlKeys) {
      stmt.clearExpiry.run(op.key);
    }
    return [result, e];
  }

  const txnTx = db.transaction((compares: TxnCompare[], ops: TxnOp[]): [TxnResult, WatchEvent[]] => {
    const current = compares.map((c) => ({ key: c.key, modRevision: stmt.get.get(c.key)?.mod_revision ?? 0 }));
    if (current.some((c, i) => c.modRevision !== compares[i]!.modRevision)) return [{ succeeded: false, current }, []];
    const now = Date.now();
    const results: TxnOpResult[] = [];
    const events: WatchEvent[] = [];
    for (const op of ops) {
      const [r, e] = applyOp(op, now);
      results.push(r);
      if (e) events.push(e);
    }
    return [{ succeeded: true, results }, events];
  });

  let closed = false;
  // Keys put with a TTL (the API servers' leases): removed, as etcd's expired
  // leases remove theirs, by a sweep once a second while any is held.
  let ttlKeys = stmt.nextExpiry.get()?.at != null;
  const sweepExpired = db.transaction((now: number): WatchEvent[] => {
    const events: WatchEvent[] = [];
    for (const { key } of stmt.expired.all(now)) {
      const [, e] = applyOp({ type: 'delete', key }, now);
      stmt.clearExpiry.run(key);
      if (e) events.push(e);
    }
    ttlKeys = stmt.nextExpiry.get()?.at != null;
    return events;
  });
  const sweeper = setInterval(() => {
    if (!ttlKeys || closed) return;
    for (const e of sweepExpired(Date.now())) publish(e);
  }, 1000);
  sweeper.unref();

  /** A past row from a log row that did not record revisions: they are found in the log, if it still holds them. */
  function withRevisions(row: PastRow, revision: number, compacted: number): CurrentRow {
    if (row.mod_revision !== null && row.create_revision !== null) return row as CurrentRow;
    const found = stmt.lastWriteAt.get(row.key, revision);
    if (!found?.mod) throw new CompactedError(revision, compacted);
    return { key: row.key, value: row.value, mod_revision: found.mod, create_revision: found.created ?? 0 };
  }

  const readRange = db.transaction((prefix: string, range: ListRange): ListResult => {
    const now = currentRevision();
    const revision = range.revision ?? now;
    if (revision > now) throw new FutureRevisionError(revision, now);
    const compacted = stmt.compacted.get()?.value ?? 0;
    if (revision < now && revision < compacted) throw new CompactedError(revision, compacted);
    const from = range.fromKey !== undefined && range.fromKey > prefix ? range.fromKey : prefix;
    const end = prefixEnd(prefix);
    // SQLite reads a negative LIMIT as none.
    const limit = range.limit !== undefined && range.limit > 0 ? range.limit : -1;
    let rows: CurrentRow[];
    let count: number;
    if (revision === now) {
      rows = stmt.list.all(from, end, limit);
      count = limit < 0 || rows.length < limit ? rows.length : stmt.count.get(from, end)!.n;
    } else {
      rows = stmt.listAt.all({ rev: revision, from, end, limit }).map((r) => withRevisions(r, revision, compacted));
      count = limit < 0 || rows.length < limit ? rows.length : stmt.countAt.get({ rev: revision, from, end })!.n;
    }
    return { items: rows.map(toStored), revision, more: count > rows.length, count };
  });

  return {
    async get(key) {
      const r = stmt.get.get(key);
      return r ? toStored(r) : undefined;
    },
    async list(prefix, range = {}) {
      return readRange(prefix, range);
    },
    async count(prefix) {
      return stmt.count.get(prefix, prefixEnd(prefix))!.n;
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
    async txn(compares, ops) {
      const [result, events] = txnTx(compares, ops);
      for (const e of events) publish(e);
      return result;
    },
    async watch(prefix, fromRevision, onEvent): Promise<Watch> {
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
    async check() {
      if (closed) throw new Error('the store is closed');
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      subscribers.clear();
      db.close();
    },
  };
}
