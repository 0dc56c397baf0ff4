// The generic registry: create/get/list/update/delete/watch for any resource
// over the Store, with the steps every upstream write takes — metadata
// (uid, creationTimestamp, generateName, generation), strategy defaults and
// validation, allocation hooks, optimistic concurrency, finalizers.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FieldError } from '../api/field-errors.js';
import { deepClone, deepEqual, isPlainObject, nowTimestamp, type KubeObject } from '../api/object.js';
import { matchesFields, matchesSelector, type FieldRequirement, type Selector } from '../api/selectors.js';
import { errors, StatusError } from '../api/status.js';
import {
  CompactedError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionConflictError,
  type Store,
  type StoredValue,
  type Watch,
  type WatchEvent,
} from '../storage/store.js';
import { readChunk, type ChunkRequest } from '../storage/list-chunk.js';
import { collectionPrefix, objectKey } from './keys.js';
import { apiVersionOf, type RequestContext, type ResourceDef } from './resource.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './validation/object-meta.js';
import type { Authorizer } from '../auth/attributes.js';
import type { UserInfo } from '../auth/user.js';

export interface ListOptions {
  labelSelector?: Selector;
  fieldSelector?: FieldRequirement[];
  /** One chunk of the list (limit, continue): see src/storage/list-chunk.ts. */
  chunk?: ChunkRequest;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** Who asks (set by the API server's handlers), for admission that depends on it. */
  user?: UserInfo;
  authorizer?: Authorizer;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}

export interface ObjectEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  /** The object before this event (for selector transitions). */
  previous?: KubeObject;
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
  created?: boolean;
}

type Mutate = (current: KubeObject) => KubeObject | Promise<KubeObject>;

const gr = (def: ResourceDef) => ({ group: def.group, resource: def.resource });

export interface RegistryHooks {
  /** Called for a namespaced create: throws 404/403 when the namespace is missing or terminating. */
  checkNamespace?(namespace: string, def: ResourceDef): Promise<void>;
}

export function createRegistry(store: Store, hooks: RegistryHooks = {}) {
  function decode(def: ResourceDef, stored: StoredValue): KubeObject {
    const obj = JSON.parse(stored.value) as KubeObject;
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata.resourceVersion = String(stored.modRevision);
    def.strategy.decorate?.(obj);
    return obj;
  }

  /** The object as a read would return it, without parsing back what was just written. */
  function withRevision(def: ResourceDef, obj: KubeObject, revision: number): KubeObject {
    obj.metadata.resourceVersion = String(revision);
    def.strategy.decorate?.(obj);
    return obj;
  }

  function encode(obj: KubeObject): string {
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    return JSON.stringify({ ...obj, metadata });
  }

  function invalid(def: ResourceDef, name: string, errs: FieldError[]): StatusError {
    return errors.invalid(def.kind, def.group, name, errs);
  }

  function fieldsOf(def: ResourceDef, obj: KubeObject): Record<string, string> {
    const fields: Record<string, string> = { 'metadata.name': obj.metadata.name ?? '' };
    if (def.namespaced) fields['metadata.namespace'] = obj.metadata.namespace ?? '';
    return { ...fields, ...def.fields?.(obj) };
  }

  function matches(def: ResourceDef, obj: KubeObject, opts: ListOptions): boolean {
    if (opts.labelSelector?.length && !matchesSelector(opts.labelSelector, obj.metadata.labels)) return false;
    if (opts.fieldSelector?.length && !matchesFields(opts.fieldSelector, fieldsOf(def, obj))) return false;
    return true;
  }

  function ctxFor(opts: WriteOptions): RequestContext {
    return { dryRun: !!opts.dryRun, warnings: [], user: opts.user, authorizer: opts.authorizer };
  }

  function validateCreate(def: ResourceDef, obj: KubeObject): void {
    const errs = [
      ...validateObjectMeta(obj.metadata, { namespaced: def.namespaced, nameValidator: def.validateName }),
      ...(def.strategy.validate?.(obj) ?? []),
    ];
    if (errs.length) throw invalid(def, obj.metadata.name ?? '', errs);
  }

  function validateUpdate(def: ResourceDef, obj: KubeObject, old: KubeObject, subresource: string | undefined): void {
    const own = subresource ? def.strategy.subresourceUpdates?.[subresource] : undefined;
    const errs = [
      ...validateObjectMetaUpdate(obj.metadata, old.metadata),
      ...validateObjectMeta(obj.metadata, { namespaced: def.namespaced, nameValidator: def.validateName }),
      ...((own ? own.validateUpdate(obj, old) : subresource === 'status' ? def.strategy.validateStatusUpdate?.(obj, old) : def.strategy.validateUpdate?.(obj, old)) ?? []),
    ];
    if (errs.length) throw invalid(def, obj.metadata.name ?? '', errs);
  }

  function specChanged(obj: KubeObject, old: KubeObject): boolean {
    const { metadata: _m1, status: _s1, ...a } = obj;
    const { metadata: _m2, status: _s2, ...b } = old;
    return !deepEqual(a, b);
  }

  async function get(def: ResourceDef, namespace: string | undefined, name: string): Promise<KubeObject> {
    const stored = await store.get(objectKey(def, namespace, name));
    if (!stored) throw errors.notFound(gr(def), name);
    return decode(def, stored);
  }

  async function list(def: ResourceDef, namespace: string | undefined, opts: ListOptions = {}) {
    const selective = !!(opts.labelSelector?.length || opts.fieldSelector?.length);
    const { revision, ...chunk } = await readChunk(store, collectionPrefix(def, namespace), opts.chunk ?? {}, selective, (s) => {
      const obj = decode(def, s);
      return matches(def, obj, opts) ? obj : undefined;
    });
    return { ...chunk, resourceVersion: String(revision) };
  }

  async function create(def: ResourceDef, namespace: string | undefined, input: KubeObject, opts: WriteOptions = {}): Promise<WriteResult> {
    const obj = deepClone(input);
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (def.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) {
      meta.name = meta.generateName + randomSuffix();
    }
    if (meta.resourceVersion) {
      throw errors.badRequest('resourceVersion should not be set on objects to be created');
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (def.strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    const ctx = ctxFor(opts);
    def.strategy.prepareForCreate?.(obj, ctx);
    if (def.namespaced && meta.namespace && hooks.checkNamespace) await hooks.checkNamespace(meta.namespace, def);
    await def.strategy.admitCreate?.(obj, ctx);
    // As upstream's store: allocation (BeginCreate) comes before validation, so
    // validation sees allocated values (e.g. a LoadBalancer's healthCheckNodePort).
    const txn = await def.strategy.beginCreate?.(obj, ctx);
    try {
      validateCreate(def, obj);
      if (opts.dryRun) {
        if (await store.get(objectKey(def, meta.namespace, meta.name!))) throw errors.alreadyExists(gr(def), meta.name!);
        txn?.commit();
        return { object: obj, warnings: ctx.warnings, created: true };
      }
      const key = objectKey(def, meta.namespace, meta.name!);
      const revision = txn?.write ? await txn.write({ key, value: () => encode(obj) }) : (await store.create(key, encode(obj))).modRevision;
      txn?.commit();
      return { object: withRevision(def, obj, revision), warnings: ctx.warnings, created: true };
    } catch (e) {
      txn?.rollback();
      if (e instanceof KeyExistsError) throw errors.alreadyExists(gr(def), meta.name!);
      throw e;
    }
  }

  /**
   * The one update path (PUT, PATCH, status, scale): read, mutate, validate,
   * compare-and-swap; retried on a lost race unless the caller pinned a
   * resourceVersion (then it is a 409 as upstream).
   */
  async function update(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    mutate: Mutate,
    opts: WriteOptions & { subresource?: 'status' | 'finalize' | 'binding' | 'approval' | ''; forceAllowCreate?: () => Promise<WriteResult> } = {},
  ): Promise<WriteResult> {
    const key = objectKey(def, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const stored = await store.get(key);
      if (!stored) {
        if (opts.forceAllowCreate) return opts.forceAllowCreate();
        throw errors.notFound(gr(def), name);
      }
      const old = decode(def, stored);
      const next = await mutate(deepClone(old));
      if (!isPlainObject(next) || !isPlainObject(next.metadata)) throw errors.badRequest('the object to update has no metadata');
      const requestedRV = next.metadata.resourceVersion;
      if (requestedRV && requestedRV !== old.metadata.resourceVersion) throw errors.staleObject(gr(def), name);
      if (next.metadata.name && next.metadata.name !== name) {
        throw errors.badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
      }
      next.metadata.name = name;
      if (def.namespaced) {
        if (next.metadata.namespace && next.metadata.namespace !== namespace) {
          throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
        }
        next.metadata.namespace = namespace;
      }
      next.apiVersion = apiVersionOf(def);
      next.kind = def.kind;
      // Fields the server owns.
      next.metadata.uid = old.metadata.uid;
      next.metadata.creationTimestamp = old.metadata.creationTimestamp;
      next.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
      next.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      if (!next.metadata.deletionTimestamp) delete next.metadata.deletionTimestamp;
      if (next.metadata.deletionGracePeriodSeconds === undefined) delete next.metadata.deletionGracePeriodSeconds;
      const ctx: RequestContext = { ...ctxFor(opts), subresource: opts.subresource || undefined };
      const own = opts.subresource ? def.strategy.subresourceUpdates?.[opts.subresource] : undefined;
      if (own) {
        own.prepareForUpdate(next, old);
        await own.admit?.(next, old, ctx);
      } else if (opts.subresource === 'status') {
        def.strategy.prepareForStatusUpdate?.(next, old);
      } else {
        // Spec writes keep the stored status; a binding writes both (nodeName and PodScheduled).
        if (opts.subresource !== 'binding' && def.subresources.some((s) => s.name === 'status') && 'status' in old) next.status = deepClone(old.status);
        def.strategy.prepareForUpdate?.(next, old, ctx);
        if (opts.subresource !== 'binding') await def.strategy.admitUpdate?.(next, old, ctx);
      }
      if (def.strategy.tracksGeneration) {
        next.metadata.generation = (old.metadata.generation ?? 1) + (specChanged(next, old) ? 1 : 0);
      } else {
        delete next.metadata.generation;
      }
      next.metadata.resourceVersion = old.metadata.resourceVersion;
      if (deepEqual(next, old)) {
        validateUpdate(def, next, old, opts.subresource);
        return { object: old, warnings: ctx.warnings };
      }

      // Removing the last finalizer of an object being deleted completes the delete.
      if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length && !opts.dryRun) {
        validateUpdate(def, next, old, opts.subresource);
        try {
          await deleteStored(def, key, old, stored.modRevision);
        } catch (e) {
          if (e instanceof RevisionConflictError && !requestedRV && attempt < 10) continue;
          throw e;
        }
        await def.strategy.afterDelete?.(old);
        return { object: next, warnings: ctx.warnings };
      }

      const txn = opts.subresource === 'status' || own ? undefined : await def.strategy.beginUpdate?.(next, old, ctx);
      try {
        validateUpdate(def, next, old, opts.subresource);
        if (opts.dryRun) {
          txn?.commit();
          return { object: next, warnings: ctx.warnings };
        }
        const revision = txn?.write
          ? await txn.write({ key, value: () => encode(next), expectedRevision: stored.modRevision })
          : (await store.update(key, encode(next), stored.modRevision)).modRevision;
        txn?.commit();
        return { object: withRevision(def, next, revision), warnings: ctx.warnings };
      } catch (e) {
        txn?.rollback();
        if (e instanceof RevisionConflictError) {
          if (!requestedRV && attempt < 10) continue;
          throw errors.staleObject(gr(def), name);
        }
        if (e instanceof KeyNotFoundError) throw errors.notFound(gr(def), name);
        throw e;
      }
    }
  }

  /** Deletes the stored object, with what its strategy releases in the same transaction. */
  async function deleteStored(def: ResourceDef, key: string, obj: KubeObject, revision: number): Promise<void> {
    const txn = def.strategy.beginDelete?.(obj);
    try {
      if (txn?.write) await txn.write({ key, expectedRevision: revision });
      else await store.delete(key, revision);
    } catch (e) {
      txn?.rollback();
      throw e;
    }
    txn?.commit();
  }

  async function remove(def: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = objectKey(def, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const stored = await store.get(key);
      if (!stored) throw errors.notFound(gr(def), name);
      const obj = decode(def, stored);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== obj.metadata.uid) {
        throw errors.conflict(gr(def), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
        throw errors.conflict(
          gr(def),
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
        );
      }
      const graceful = def.strategy.gracefulDelete?.(obj, opts.gracePeriodSeconds);
      // Foreground and Orphan deletion are finalizers the garbage collector acts on.
      const gcFinalizer = opts.propagationPolicy === 'Foreground' ? 'foregroundDeletion' : opts.propagationPolicy === 'Orphan' ? 'orphan' : undefined;
      if (gcFinalizer && !obj.metadata.finalizers?.includes(gcFinalizer)) {
        const next = deepClone(obj);
        next.metadata.finalizers = [...(next.metadata.finalizers ?? []), gcFinalizer];
        if (!next.metadata.deletionTimestamp) {
          next.metadata.deletionTimestamp = nowTimestamp();
          next.metadata.deletionGracePeriodSeconds = 0;
        }
        if (opts.dryRun) return { object: next, deleted: false };
        try {
          const written = await store.update(key, encode(next), stored.modRevision);
          return { object: withRevision(def, next, written.modRevision), deleted: false };
        } catch (e) {
          if (e instanceof RevisionConflictError && attempt < 10) continue;
          throw e;
        }
      }
      if (obj.metadata.finalizers?.length || graceful !== undefined) {
        // Deletion is requested, not done: the finalizers' owners (or the node agent) finish it.
        if (obj.metadata.deletionTimestamp) return { object: obj, deleted: false };
        const next = deepClone(obj);
        const grace = graceful ?? 0;
        next.metadata.deletionTimestamp = nowTimestamp(new Date(Date.now() + grace * 1000));
        next.metadata.deletionGracePeriodSeconds = grace;
        def.strategy.prepareForDelete?.(next);
        if (opts.dryRun) return { object: next, deleted: false };
        try {
          const written = await store.update(key, encode(next), stored.modRevision);
          const result = decode(def, written);
          await def.strategy.afterDeleteRequested?.(result);
          return { object: result, deleted: false };
        } catch (e) {
          if (e instanceof RevisionConflictError && attempt < 10) continue;
          throw e;
        }
      }
      if (opts.dryRun) return { object: obj, deleted: true };
      try {
        await deleteStored(def, key, obj, stored.modRevision);
      } catch (e) {
        if (e instanceof RevisionConflictError && attempt < 10) continue;
        if (e instanceof KeyNotFoundError) throw errors.notFound(gr(def), name);
        throw e;
      }
      await def.strategy.afterDelete?.(obj);
      return { object: obj, deleted: true };
    }
  }

  /**
   * Watch from resourceVersion: '' or '0' replays current state as ADDED first.
   * Events are filtered by selectors; an object moving out of the selection is
   * reported as DELETED, into it as ADDED (as the watch cache does).
   */
  async function watch(
    def: ResourceDef,
    namespace: string | undefined,
    resourceVersion: string | undefined,
    opts: ListOptions,
    onEvent: (e: ObjectEvent) => void,
  ): Promise<{ watch: Watch; resourceVersion: string }> {
    const prefix = collectionPrefix(def, namespace);
    let from: number;
    if (!resourceVersion || resourceVersion === '0') {
      const snapshot = await list(def, namespace, opts);
      for (const object of snapshot.items) onEvent({ type: 'ADDED', object });
      from = Number(snapshot.resourceVersion);
    } else {
      from = Number(resourceVersion);
      if (!Number.isInteger(from) || from < 0) throw errors.badRequest(`invalid resource version: ${resourceVersion}`);
    }
    const handle = (e: WatchEvent) => {
      const object = decode(def, { key: e.key, value: e.value, createRevision: 0, modRevision: e.revision });
      const previous = e.prevValue ? decode(def, { key: e.key, value: e.prevValue, createRevision: 0, modRevision: e.revision }) : undefined;
      const now = e.type !== 'DELETED' && matches(def, object, opts);
      const before = previous ? matches(def, previous, opts) : false;
      if (e.type === 'ADDED') {
        if (now) onEvent({ type: 'ADDED', object });
      } else if (e.type === 'DELETED') {
        if (matches(def, object, opts)) onEvent({ type: 'DELETED', object });
      } else if (now && before) onEvent({ type: 'MODIFIED', object, previous });
      else if (now) onEvent({ type: 'ADDED', object });
      else if (before) onEvent({ type: 'DELETED', object });
    };
    try {
      const w = await store.watch(prefix, from, handle);
      return { watch: w, resourceVersion: String(from) };
    } catch (e) {
      if (e instanceof CompactedError) throw errors.expired(`too old resource version: ${from} (${e.compacted})`);
      throw e;
    }
  }

  return { get, list, create, update, delete: remove, watch, store };
}

export type Registry = ReturnType<typeof createRegistry>;

/** generateName suffix: 5 characters from upstream's alphabet (no vowels, no ambiguous digits). */
function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

