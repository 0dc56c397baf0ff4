// The storage contract: etcd's, reduced to what the API server needs.
// Keys are etcd-style paths (/registry/services/default/web); values are JSON
// text; every write bumps one global revision, which is the resourceVersion.

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

export interface ListResult {
  items: StoredValue[];
  /** The store's current revision when the list was taken. */
  revision: number;
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
/** A watch or list asked for history that compaction removed. */
export class CompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`required revision ${requested} has been compacted (oldest kept ${compacted})`);
  }
}

export interface Watch {
  stop(): void;
}

export interface Store {
  get(key: string): Promise<StoredValue | undefined>;
  /** Every key under prefix (prefix ends with '/'), sorted by key. */
  list(prefix: string): Promise<ListResult>;
  /** Fails with KeyExistsError. Returns the new revision. */
  create(key: string, value: string): Promise<StoredValue>;
  /** CAS on modRevision when expectedRevision is given; KeyNotFoundError, RevisionConflictError. */
  update(key: string, value: string, expectedRevision?: number): Promise<StoredValue>;
  /** Returns the deleted value; KeyNotFoundError, RevisionConflictError. */
  delete(key: string, expectedRevision?: number): Promise<StoredValue & { deletedRevision: number }>;
  /**
   * Events for keys under prefix with revision > fromRevision, history first,
   * then live; CompactedError (thrown synchronously) when history is gone.
   */
  watch(prefix: string, fromRevision: number, onEvent: (e: WatchEvent) => void): Watch;
  currentRevision(): Promise<number>;
  /** Drop history up to (excluding) revision; watches from before it get CompactedError. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
