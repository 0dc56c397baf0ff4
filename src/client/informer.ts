// client-go's reflector + indexed store + event handlers: list, then watch
// from the list's resourceVersion; relist when the server says the version is
// gone (410); reconnect with backoff when the stream drops; resync on a timer.
import type { KubeObject } from '../api/object.js';
import { logger } from '../util/log.js';
import { ApiError, type ListQuery, type ResourceClient } from './client.js';
import { errorMessage } from '../util/errors.js';

const log = logger('informer');

export interface EventHandlers<T> {
  add?(obj: T): void;
  update?(old: T, obj: T): void;
  delete?(obj: T): void;
}

export type IndexFunc<T> = (obj: T) => string[];

export interface Informer<T extends KubeObject> {
  start(): Promise<void>;
  stop(): void;
  hasSynced(): boolean;
  on(handlers: EventHandlers<T>): void;
  get(key: string): T | undefined;
  list(): T[];
  addIndex(name: string, fn: IndexFunc<T>): void;
  byIndex(name: string, value: string): T[];
}

/** namespace/name, or name for cluster-scoped objects. */
export function keyOf(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export interface InformerOptions<T = KubeObject> extends ListQuery {
  namespace?: string;
  resyncMs?: number;
  /**
   * client-go's TransformFunc: applied to every listed or watched object before
   * it is stored or handed to handlers, so the cache keeps only what its user
   * needs (keep metadata.namespace, name and resourceVersion). Default: none.
   */
  transform?: (obj: T) => T;
  /** List in pages of this many objects (limit/continue), as client-go's reflector (500); default: one request. */
  pageSize?: number;
  /**
   * 'resourceVersion': the cache keeps only each object's resourceVersion, by
   * its key, for users that hold their own state built from the events (the
   * objects are not held twice; a kept object would cost ~5 times its
   * version). get(), list(), indexes and the old object of update handlers
   * then see `{ metadata: { namespace, name, resourceVersion } }`, made when
   * asked. Default: the whole object.
   */
  keep?: 'object' | 'resourceVersion';
}

export function createInformer<T extends KubeObject>(rc: ResourceClient<T>, opts: InformerOptions<T> = {}): Informer<T> {
  const transform = opts.transform ?? ((o: T) => o);
  const versionsOnly = opts.keep === 'resourceVersion';
  /** By key: the object, or only its resourceVersion (versionsOnly). */
  const items = new Map<string, T | string>();
  /** What is kept of an object. */
  const kept = (obj: T): T | string => (versionsOnly ? (obj.metadata.resourceVersion ?? '') : obj);
  /** The object a kept entry stands for. */
  const stored = (key: string, v: T | string): T => {
    if (typeof v !== 'string') return v;
    const { namespace, name } = splitKey(key);
    return { metadata: { namespace, name, resourceVersion: v } } as T;
  };
  const versionOf = (v: T | string) => (typeof v === 'string' ? v : v.metadata.resourceVersion);
  const storedAt = (key: string): T | undefined => {
    const v = items.get(key);
    return v === undefined ? undefined : stored(key, v);
  };
  const indexFns = new Map<string, IndexFunc<T>>();
  const indexes = new Map<string, Map<string, Set<string>>>();
  const handlers: EventHandlers<T>[] = [];
  let synced = false;
  let stopped = false;
  let lastRV = '';
  let watch: { close(): void } | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let resyncTimer: NodeJS.Timeout | undefined;
  let backoff = 100;
  let firstSync: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  function indexAdd(key: string, obj: T) {
    for (const [name, fn] of indexFns) {
      const idx = indexes.get(name)!;
      for (const v of fn(obj)) {
        let set = idx.get(v);
        if (!set) idx.set(v, (set = new Set()));
        set.add(key);
      }
    }
  }
  function indexRemove(key: string, obj: T) {
    for (const [name, fn] of indexFns) {
      const idx = indexes.get(name)!;
      for (const v of fn(obj)) {
        const set = idx.get(v);
        set?.delete(key);
        if (set && !set.size) idx.delete(v);
      }
    }
  }
  function emit<K extends keyof EventHandlers<T>>(kind: K, ...args: Parameters<NonNullable<EventHandlers<T>[K]>>) {
    for (const h of handlers) {
      try {
        (h[kind] as ((...a: unknown[]) => void) | undefined)?.(...args);
      } catch (e) {
        log.error('event handler failed', { resource: rc.type.resource, error: errorMessage(e) });
      }
    }
  }
  function upsert(obj: T) {
    const key = keyOf(obj);
    const old = storedAt(key);
    if (old) indexRemove(key, old);
    const keptNow = kept(obj);
    items.set(key, keptNow);
    // Without indexes (the DNS's informers), no object is made from a kept version.
    if (indexFns.size > 0) indexAdd(key, stored(key, keptNow));
    if (old) emit('update', old, obj);
    else emit('add', obj);
  }
  function remove(obj: T) {
    const key = keyOf(obj);
    const old = storedAt(key);
    if (!old) return;
    indexRemove(key, old);
    items.delete(key);
    emit('delete', obj);
  }

  async function relist() {
    let resourceVersion: string;
    let next: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await rc.list(opts.namespace, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.pageSize, continue: next });
      // Each page is taken in as it comes: with pages, no whole list is held at once.
      for (const listed of page.items) {
        const obj = transform(listed);
        seen.add(keyOf(obj));
        const old = items.get(keyOf(obj));
        if (old === undefined || versionOf(old) !== obj.metadata.resourceVersion) upsert(obj);
      }
      ({ resourceVersion, continue: next } = page);
    } while (next);
    for (const [key, v] of [...items]) if (!seen.has(key)) remove(stored(key, v));
    lastRV = resourceVersion;
  }

  function scheduleRetry(relistFirst: boolean) {
    if (stopped) return;
    retryTimer = setTimeout(() => void run(relistFirst), backoff);
    backoff = Math.min(backoff * 2, 30_000);
  }

  async function run(relistFirst: boolean) {
    if (stopped) return;
    try {
      if (relistFirst || !lastRV) await relist();
    } catch (e) {
      if (firstSync && !synced && !(e instanceof ApiError && e.code >= 500)) {
        // A first list that fails for a reason retrying will not fix is reported to start().
        if (e instanceof ApiError && (e.code === 403 || e.code === 404 || e.code === 401)) {
          firstSync.reject(e);
          firstSync = undefined;
          return;
        }
      }
      log.warn('list failed; retrying', { resource: rc.type.resource, error: errorMessage(e) });
      scheduleRetry(true);
      return;
    }
    if (!synced) {
      synced = true;
      firstSync?.resolve();
      firstSync = undefined;
    }
    let gotEvent = false;
    watch = rc.watch(
      opts.namespace,
      { resourceVersion: lastRV, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, allowWatchBookmarks: true },
      (e) => {
        if (!gotEvent) {
          gotEvent = true;
          backoff = 100;
        }
        if (e.type === 'ERROR') {
          const status = e.object as unknown as { code?: number };
          watch?.close();
          if (status.code === 410) void run(true);
          else scheduleRetry(true);
          return;
        }
        if (e.object?.metadata?.resourceVersion) lastRV = e.object.metadata.resourceVersion;
        if (e.type === 'ADDED' || e.type === 'MODIFIED') upsert(transform(e.object));
        else if (e.type === 'DELETED') remove(transform(e.object));
      },
      (err) => {
        if (stopped) return;
        if (err instanceof ApiError && err.code === 410) {
          void run(true);
          return;
        }
        // The stream ended (server restart, timeout): watch again from where we were.
        scheduleRetry(false);
      },
    );
  }

  return {
    start() {
      return new Promise<void>((resolve, reject) => {
        firstSync = { resolve, reject };
        void run(true);
        if (opts.resyncMs) {
          resyncTimer = setInterval(() => {
            for (const [key, v] of items) {
              const obj = stored(key, v);
              emit('update', obj, obj);
            }
          }, opts.resyncMs);
          resyncTimer.unref();
        }
      });
    },
    stop() {
      stopped = true;
      watch?.close();
      if (retryTimer) clearTimeout(retryTimer);
      if (resyncTimer) clearInterval(resyncTimer);
    },
    hasSynced: () => synced,
    on(h) {
      handlers.push(h);
    },
    get: storedAt,
    list: () => Array.from(items, ([key, v]) => stored(key, v)),
    addIndex(name, fn) {
      indexFns.set(name, fn);
      const idx = new Map<string, Set<string>>();
      indexes.set(name, idx);
      for (const [key, v0] of items) {
        for (const v of fn(stored(key, v0))) {
          let set = idx.get(v);
          if (!set) idx.set(v, (set = new Set()));
          set.add(key);
        }
      }
    },
    byIndex(name, value) {
      const keys = indexes.get(name)?.get(value);
      return keys ? [...keys].map((k) => storedAt(k)).filter((o): o is T => o !== undefined) : [];
    },
  };
}
