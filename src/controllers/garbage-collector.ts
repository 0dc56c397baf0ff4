// The garbage collector (pkg/controller/garbagecollector): ownerReferences
// form a dependency graph over the cached objects, indexed by owner uid.
//
// - Background: a dependent whose owners are all gone is deleted; dangling
//   references are dropped when a live owner remains. "Gone" is confirmed with
//   a GET against the server (the cache may lag), as upstream's isDangling.
// - Foreground: an owner with deletionTimestamp and the foregroundDeletion
//   finalizer has its dependents deleted (those with dependents of their own in
//   the foreground too); the finalizer goes when no dependent with
//   blockOwnerDeletion remains.
// - Orphan: an owner with the orphan finalizer has its reference removed from
//   every dependent, then the finalizer.
//
// Keys are "<group-resource>|<namespace/name>"; reconcile is level-triggered.
import type { KubeObject } from '../api/object.js';
import { isConflict, isNotFound, resourceTypes, type ResourceClient, type ResourceType } from '../client/client.js';
import { keyOf, type Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';

export const finalizerForeground = 'foregroundDeletion';
export const finalizerOrphan = 'orphan';

type OwnerReference = NonNullable<KubeObject['metadata']['ownerReferences']>[number];

/** The resource types whose objects the collector watches (as owners and as dependents). */
const watchedTypes: ResourceType[] = [
  resourceTypes.pods,
  resourceTypes.replicasets,
  resourceTypes.deployments,
  resourceTypes.daemonsets,
  resourceTypes.statefulsets,
  resourceTypes.controllerrevisions,
  resourceTypes.jobs,
  resourceTypes.cronjobs,
  resourceTypes.services,
  resourceTypes.endpoints,
  resourceTypes.endpointslices,
  resourceTypes.configmaps,
  resourceTypes.nodes,
  // Node leases are owned by their Node: they go with it.
  resourceTypes.leases,
];

const groupResource = (t: ResourceType) => (t.group ? `${t.resource}.${t.group}` : t.resource);

/** apiVersion + kind → the resource type we know, or undefined (the RESTMapper's job upstream). */
export function typeForReference(apiVersion: string | undefined, kind: string | undefined): ResourceType | undefined {
  const group = apiVersion?.includes('/') ? apiVersion.split('/')[0] : '';
  return Object.values(resourceTypes).find((t) => t.group === group && t.kind === kind);
}

export const hasFinalizer = (obj: KubeObject, f: string) => !!obj.metadata.finalizers?.includes(f);
export const isDeletingDependents = (obj: KubeObject) => !!obj.metadata.deletionTimestamp && hasFinalizer(obj, finalizerForeground);
export const isOrphaning = (obj: KubeObject) => !!obj.metadata.deletionTimestamp && hasFinalizer(obj, finalizerOrphan);

export type OwnerState = 'solid' | 'dangling' | 'waiting';

export interface Classified {
  solid: OwnerReference[];
  dangling: OwnerReference[];
  waiting: OwnerReference[];
}

export type Decision =
  | { action: 'none' }
  | { action: 'removeRefs'; uids: string[] }
  | { action: 'delete'; policy: 'Background' | 'Foreground' | 'Orphan' };

/** attemptToDeleteItem's decision, given the classified owner references. */
export function decide(obj: KubeObject, c: Classified, hasDependents: boolean): Decision {
  if (c.solid.length) {
    const uids = [...c.dangling, ...c.waiting].map((r) => r.uid);
    return uids.length ? { action: 'removeRefs', uids } : { action: 'none' };
  }
  if (c.waiting.length && hasDependents) return { action: 'delete', policy: 'Foreground' };
  if (hasFinalizer(obj, finalizerOrphan)) return { action: 'delete', policy: 'Orphan' };
  if (hasFinalizer(obj, finalizerForeground)) return { action: 'delete', policy: 'Foreground' };
  return { action: 'delete', policy: 'Background' };
}

interface Watched {
  type: ResourceType;
  informer: Informer<KubeObject>;
  client: ResourceClient<KubeObject>;
}

const ownerIndex = 'gc/owner-uid';

export function createGarbageCollector(ctx: ControllerContext): Controller {
  const client = ctx.client;
  const watched = new Map<string, Watched>();
  // Owners confirmed absent by the server (upstream's absentOwnerCache): uids are never reused, so entries never go stale.
  const absentOwners = new Set<string>();
  let running = false;

  const { queue, log } = queueFor('garbage-collector', reconcile, 4);

  const itemKey = (w: Watched, obj: KubeObject) => `${groupResource(w.type)}|${keyOf(obj)}`;
  const watchedFor = (t: ResourceType) => watched.get(groupResource(t));

  function enqueue(w: Watched, obj: KubeObject) {
    if (running) queue.add(itemKey(w, obj));
  }

  /** Every cached object that names uid among its owners. */
  function dependentsOf(uid: string): { w: Watched; obj: KubeObject }[] {
    const out: { w: Watched; obj: KubeObject }[] = [];
    for (const w of watched.values()) for (const obj of w.informer.byIndex(ownerIndex, uid)) out.push({ w, obj });
    return out;
  }

  function rememberAbsent(uid: string) {
    if (absentOwners.size >= 10_000) absentOwners.clear();
    absentOwners.add(uid);
  }

  function ownerNamespace(dependent: KubeObject, ownerType: ResourceType) {
    return ownerType.namespaced ? dependent.metadata.namespace : undefined;
  }

  function cachedOwner(dependent: KubeObject, ref: OwnerReference): { type?: ResourceType; w?: Watched; obj?: KubeObject } {
    const type = typeForReference(ref.apiVersion, ref.kind);
    if (!type) return {};
    const w = watchedFor(type);
    const ns = ownerNamespace(dependent, type);
    const obj = w?.informer.get(ns ? `${ns}/${ref.name}` : ref.name);
    return { type, w, obj: obj && obj.metadata.uid === ref.uid ? obj : undefined };
  }

  /** Decides from the cache whether an object may need the collector's attention. */
  function check(w: Watched, obj: KubeObject) {
    if (!running) return;
    if (obj.metadata.deletionTimestamp) {
      if (isDeletingDependents(obj) || isOrphaning(obj)) enqueue(w, obj);
      return;
    }
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const { type, obj: owner } = cachedOwner(obj, ref);
      if (!type) continue; // a kind we do not know: never collect on a guess
      if (!owner || owner.metadata.deletionTimestamp) {
        enqueue(w, obj);
        return;
      }
    }
  }

  /** An owner waiting for its dependents may be unblocked when one goes or lets go. */
  function enqueueWaitingOwners(obj: KubeObject) {
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const { w, obj: owner } = cachedOwner(obj, ref);
      if (w && owner && (isDeletingDependents(owner) || isOrphaning(owner))) enqueue(w, owner);
    }
  }

  /** upstream isDangling: the cache first, then the server when the cache says absent or deleting. */
  async function ownerState(dependent: KubeObject, ref: OwnerReference): Promise<OwnerState> {
    if (absentOwners.has(ref.uid)) return 'dangling';
    const { type, obj: cached } = cachedOwner(dependent, ref);
    if (!type) return 'solid';
    if (type.namespaced && !dependent.metadata.namespace) return 'solid'; // invalid reference; upstream reports and leaves it
    if (cached && !cached.metadata.deletionTimestamp) return 'solid';
    let live: KubeObject;
    try {
      live = await client.resource(type).get(ownerNamespace(dependent, type), ref.name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      rememberAbsent(ref.uid);
      return 'dangling';
    }
    if (live.metadata.uid !== ref.uid) {
      rememberAbsent(ref.uid);
      return 'dangling';
    }
    return isDeletingDependents(live) ? 'waiting' : 'solid';
  }

  /**
   * Read-modify-write of an object's metadata against the server, guarded by
   * resourceVersion and uid; a lost race re-reads. Returns false when the
   * object is gone (or was replaced).
   */
  async function updateMeta(w: Watched, obj: KubeObject, change: (live: KubeObject) => Record<string, unknown> | undefined): Promise<boolean> {
    const ns = obj.metadata.namespace;
    const name = obj.metadata.name!;
    for (let attempt = 0; ; attempt++) {
      let live: KubeObject;
      try {
        live = await w.client.get(ns, name);
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
      if (live.metadata.uid !== obj.metadata.uid) return false;
      const patch = change(live);
      if (!patch) return true;
      try {
        await w.client.patch(ns, name, { metadata: { ...patch, resourceVersion: live.metadata.resourceVersion } }, 'merge');
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        if (!isConflict(e) || attempt >= 5) throw e;
      }
    }
  }

  const removeOwnerRefs = (w: Watched, obj: KubeObject, uids: string[]) =>
    updateMeta(w, obj, (live) => {
      const refs = live.metadata.ownerReferences ?? [];
      const kept = refs.filter((r) => !uids.includes(r.uid));
      if (kept.length === refs.length) return undefined;
      return { ownerReferences: kept.length ? kept : null };
    });

  const removeFinalizer = (w: Watched, obj: KubeObject, finalizer: string) =>
    updateMeta(w, obj, (live) => {
      const fins = live.metadata.finalizers ?? [];
      if (!fins.includes(finalizer)) return undefined;
      const kept = fins.filter((f) => f !== finalizer);
      return { finalizers: kept.length ? kept : null };
    });

  /** upstream deleteObject: preconditions uid + resourceVersion; on conflict, retry with uid only if the owners did not change. */
  async function deleteObject(w: Watched, obj: KubeObject, policy: string) {
    const ns = obj.metadata.namespace;
    const name = obj.metadata.name!;
    const uid = obj.metadata.uid!;
    const preconditions = { uid, resourceVersion: obj.metadata.resourceVersion };
    log.v(2).info('deleting', { resource: groupResource(w.type), object: keyOf(obj), propagationPolicy: policy });
    try {
      await w.client.delete(ns, name, { propagationPolicy: policy, preconditions });
      return;
    } catch (e) {
      if (isNotFound(e)) return;
      if (!isConflict(e)) throw e;
    }
    let live: KubeObject;
    try {
      live = await w.client.get(ns, name);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (live.metadata.uid !== uid) return;
    if (JSON.stringify(live.metadata.ownerReferences ?? []) !== JSON.stringify(obj.metadata.ownerReferences ?? [])) {
      throw new Error(`${keyOf(obj)} changed ownerReferences since observed at resourceVersion ${obj.metadata.resourceVersion}, requeueing`);
    }
    try {
      await w.client.delete(ns, name, { propagationPolicy: policy, preconditions: { uid } });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  async function processDeletingDependents(w: Watched, owner: KubeObject) {
    const uid = owner.metadata.uid!;
    const deps = dependentsOf(uid);
    const blocking = deps.filter(({ obj }) => obj.metadata.ownerReferences?.some((r) => r.uid === uid && r.blockOwnerDeletion));
    if (!blocking.length) {
      await removeFinalizer(w, owner, finalizerForeground);
      return;
    }
    for (const d of deps) if (!isDeletingDependents(d.obj)) enqueue(d.w, d.obj);
  }

  async function orphanDependents(w: Watched, owner: KubeObject) {
    const uid = owner.metadata.uid!;
    await Promise.all(dependentsOf(uid).map((d) => removeOwnerRefs(d.w, d.obj, [uid])));
    await removeFinalizer(w, owner, finalizerOrphan);
  }

  async function attemptToDelete(w: Watched, obj: KubeObject) {
    const refs = obj.metadata.ownerReferences ?? [];
    if (!refs.length) return;
    const c: Classified = { solid: [], dangling: [], waiting: [] };
    for (const ref of refs) c[await ownerState(obj, ref)].push(ref);
    const deps = dependentsOf(obj.metadata.uid!);
    const d = decide(obj, c, deps.length > 0);
    switch (d.action) {
      case 'none':
        return;
      case 'removeRefs':
        log.info('removing dangling and waiting owner references', { resource: groupResource(w.type), object: keyOf(obj), uids: d.uids.join(',') });
        await removeOwnerRefs(w, obj, d.uids);
        return;
      case 'delete':
        if (d.policy === 'Foreground' && c.waiting.length && deps.some((x) => isDeletingDependents(x.obj))) {
          // A dependent of ours also waits on its dependents: unblock our references so a cycle cannot deadlock.
          await updateMeta(w, obj, (live) => {
            const refs = live.metadata.ownerReferences ?? [];
            if (!refs.some((r) => r.blockOwnerDeletion)) return undefined;
            return { ownerReferences: refs.map((r) => ({ ...r, blockOwnerDeletion: false })) };
          });
        }
        await deleteObject(w, obj, d.policy);
        return;
    }
  }

  async function reconcile(key: string): Promise<void> {
    const sep = key.indexOf('|');
    const w = watched.get(key.slice(0, sep));
    const obj = w?.informer.get(key.slice(sep + 1));
    if (!w || !obj) return;
    if (obj.metadata.deletionTimestamp) {
      if (isOrphaning(obj)) await orphanDependents(w, obj);
      else if (isDeletingDependents(obj)) await processDeletingDependents(w, obj);
      return;
    }
    await attemptToDelete(w, obj);
  }

  return {
    name: 'garbage-collector',
    setup() {
      for (const type of watchedTypes) {
        const informer = ctx.factory.informer<KubeObject>(type);
        const w: Watched = { type, informer, client: client.resource<KubeObject>(type) };
        watched.set(groupResource(type), w);
        informer.addIndex(ownerIndex, (obj) => (obj.metadata.ownerReferences ?? []).map((r) => r.uid));
        informer.on({
          add: (obj) => check(w, obj),
          update(old, obj) {
            check(w, obj);
            if (JSON.stringify(old.metadata.ownerReferences ?? []) !== JSON.stringify(obj.metadata.ownerReferences ?? [])) enqueueWaitingOwners(old);
          },
          delete(obj) {
            if (!running) return;
            // The dependents of a deleted owner may now be garbage.
            for (const d of dependentsOf(obj.metadata.uid!)) enqueue(d.w, d.obj);
            enqueueWaitingOwners(obj);
          },
        });
      }
    },
    run() {
      running = true;
      for (const w of watched.values()) for (const obj of w.informer.list()) check(w, obj);
    },
    stop() {
      running = false;
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
