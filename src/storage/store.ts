// The storage contract: etcd's, reduced to what the API server needs.
// Keys are etcd-style paths (/registry/services/specs/default/web, see
// src/registry/keys.ts); values are JSON text; every write bumps one global
// revision, which is the resourceVersion. Two implementations: SQLite
// (./sqlite.ts, the embedded default) and etcd (./etcd/).

export interface StoredValue {
  key: string;
  value: string;
  /** Revision of the write that created the key (etcd create_revision). */
  createRevision: number;
  /** Revision of the last write to the key (etcd mod_revision). */
  modRevision: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  key: string;
  /** For DELETED, the last value before deletion. */
  value: string;
  /** Value before this event, if any. */
  prevValue?: string;
  revision: number;
}

/** Which part of a prefix to read, and as of when: etcd's range options. */
export interface ListRange {
  /** Read the keys as they were at this revision (etcd's WithRev); default the current one. */
  revision?: number;
  /** Start at this key (inclusive) rather than at the prefix. */
  fromKey?: string;
  /** At most this many items (etcd's WithLimit). */
  limit?: number;
}

export interface ListResult {
  items: StoredValue[];
  /** The revision the list was read at: the current one unless the range asked for another. */
  revision: number;
  /** Keys in the range were left out by the limit. */
  more: boolean;
  /** Keys in the range at that revision, returned or not (etcd's count). */
  count: number;
}

export class KeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
  }
}
export class KeyNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}
/** Compare-and-swap failed: the key's modRevision is not the one expected. */
export class RevisionConflictError extends Error {
  constructor(
    readonly key: string,
    readonly actual: number,
  ) {
    super(`revision conflict on ${key}`);
  }
}
/** A watch or a list at a revision asked for history that compaction removed. */
export class CompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`required revision ${requested} has been compacted (oldest kept ${compacted})`);
  }
}

/** A read asked for a revision the store has not reached (etcd's ErrFutureRev). */
export class FutureRevisionError extends Error {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`required revision ${requested} is a future revision (current ${current})`);
  }
}

export interface Watch {
  stop(): void;
}

/** One condition of a transaction: the key's modRevision is this one, 0 meaning the key does not exist (etcd's Compare MOD EQUAL). */
export interface TxnCompare {
  key: string;
  modRevision: number;
}

/**
 * One write of a transaction. A put with ttlSeconds lives that long unless
 * put again (etcd: a key attached to a lease granted for the TTL); a put
 * without one keeps the key for good. Deleting a missing key does nothing.
 */
export type TxnOp = { type: 'put'; key: string; value: string; ttlSeconds?: number } | { type: 'delete'; key: string };

export interface TxnOpResult {
  key: string;
  /** The key's create revision after a put (the deleted value's for a delete; 0 when nothing was deleted). */
  createRevision: number;
  /** The revision of this write (etcd: the transaction's one revision; SQLite: one per write, in order). */
  modRevision: number;
  /** A delete removed a key. */
  deleted?: boolean;
}

export type TxnResult =
  | { succeeded: true; results: TxnOpResult[] }
  /** A compare failed: nothing was written; each compared key's modRevision now (0: absent), in the compares' order. */
  | { succeeded: false; current: TxnCompare[] };

export interface Store {
  get(key: string): Promise<StoredValue | undefined>;
  /**
   * The keys under prefix (prefix ends with '/'), sorted by key: all of them
   * now, or the part `range` asks for, as of its revision. CompactedError
   * when that revision's history is gone, FutureRevisionError when it is
   * ahead of the store.
   */
  list(prefix: string, range?: ListRange): Promise<ListResult>;
  /** How many keys are under prefix now. */
  count(prefix: string): Promise<number>;
  /** Fails with KeyExistsError. Returns the new revision. */
  create(key: string, value: string): Promise<StoredValue>;
  /** CAS on modRevision when expectedRevision is given; KeyNotFoundError, RevisionConflictError. */
  update(key: string, value: string, expectedRevision?: number): Promise<StoredValue>;
  /** Returns the deleted value; KeyNotFoundError, RevisionConflictError. */
  delete(key: string, expectedRevision?: number): Promise<StoredValue & { deletedRevision: number }>;
  /**
   * etcd's Txn reduced to compare-and-swap: when every compare holds, all
   * ops are applied as one atomic write; otherwise none is, and the result
   * says where each compared key stands. A transaction's events reach
   * watchers as the single writes would, in the ops' order.
   */
  txn(compares: TxnCompare[], ops: TxnOp[]): Promise<TxnResult>;
  /**
   * Events for keys under prefix with revision > fromRevision, history first,
   * then live; resolves once the watch is in place, rejects with
   * CompactedError when history is gone.
   */
  watch(prefix: string, fromRevision: number, onEvent: (e: WatchEvent) => void): Promise<Watch>;
  currentRevision(): Promise<number>;
  /** Drop history up to (excluding) revision; watches from before it get CompactedError. */
  compact(revision: number): Promise<void>;
  /** Resolves when the store can serve, rejects saying why not: the API server's etcd health check. */
  check(): Promise<void>;
  close(): Promise<void>;
}
