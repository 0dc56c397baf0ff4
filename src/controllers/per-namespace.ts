// The shape of the controllers that keep one object in every active
// namespace (the serviceaccount controller's "default", the root CA
// publisher's kube-root-ca.crt): namespaces and the kept kind are watched,
// a namespace is the queue key, and sync(namespace) makes what is missing.
import type { KubeObject } from '../api/object.js';
import { isNotFound, resourceTypes, type ResourceClient, type ResourceType } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';
import type { NamespaceObject as Namespace } from '../api/types.js';


export interface PerNamespaceSpec<T extends KubeObject> {
  name: string;
  type: ResourceType;
  /** Names of the kept objects: changing or deleting one brings its namespace back to the queue. */
  keeps: readonly string[];
  /** Also requeue on edits (the object's content is kept too), not only on deletion. */
  watchUpdates: boolean;
  /** Brings an active namespace to what it should hold; `cached` reads the kind's cache. */
  sync(namespace: string, cached: (name: string) => T | undefined, client: ResourceClient<T>): Promise<void>;
}

/** Creates an object unless the namespace went or is terminating, or it exists already (the cache is behind). */
export async function createUnlessGone<T extends KubeObject>(client: ResourceClient<T>, namespace: string, obj: T): Promise<void> {
  try {
    await client.create(namespace, obj);
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (isNotFound(e) || code === 403 || code === 409) return;
    throw e;
  }
}

export function createPerNamespaceController<T extends KubeObject>(ctx: ControllerContext, spec: PerNamespaceSpec<T>): Controller {
  const client = ctx.client.resource<T>(spec.type);
  let namespaces: Informer<Namespace>;
  let kept: Informer<T>;
  const { queue } = queueFor(spec.name, async (name) => {
    const ns = namespaces.get(name);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    await spec.sync(name, (objName) => kept.get(`${name}/${objName}`), client);
  });
  const onKept = (obj: T) => {
    if (spec.keeps.includes(obj.metadata.name!)) queue.add(obj.metadata.namespace!);
  };
  return {
    name: spec.name,
    setup() {
      namespaces = ctx.factory.informer<Namespace>(resourceTypes.namespaces);
      kept = ctx.factory.informer<T>(spec.type);
      namespaces.on({ add: (ns) => queue.add(ns.metadata.name!), update: (_old, ns) => queue.add(ns.metadata.name!) });
      kept.on({ delete: onKept, ...(spec.watchUpdates ? { update: (_old: T, obj: T) => onKept(obj) } : {}) });
    },
    run() {
      for (const ns of namespaces.list()) queue.add(ns.metadata.name!);
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
