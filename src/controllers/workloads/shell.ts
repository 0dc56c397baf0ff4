// The I/O the workload controllers share: cache indexes, claiming objects
// through their ControllerRef (adopt/release patches), and pod creation in
// slow-start batches. Decisions live in the pure modules beside this one.
import type { KubeObject } from '../../api/object.js';
import { matchesSelector, type Selector } from '../../api/selectors.js';
import { isNotFound, type ResourceClient } from '../../client/client.js';
import type { Informer } from '../../client/informer.js';
import { adoptPatch, claimDecision, getControllerOf, releasePatch } from './controller-ref.js';

export const namespaceIndex = 'workloads/namespace';
export const controllerUidIndex = 'workloads/controller-uid';

/** Indexes by namespace and by controller uid (idempotent: the same functions every time). */
export function addWorkloadIndexes<T extends KubeObject>(informer: Informer<T>): void {
  informer.addIndex(namespaceIndex, (o) => [o.metadata.namespace ?? '']);
  informer.addIndex(controllerUidIndex, (o) => {
    const ref = getControllerOf(o);
    return ref ? [ref.uid] : [];
  });
}

/** Objects whose selector matches these labels (getPodReplicaSets, getDeploymentsForReplicaSet, ...). */
export function selectingOwners<O extends KubeObject>(owners: O[], labels: Record<string, string> | undefined, selectorOf: (o: O) => Selector): O[] {
  if (!labels || !Object.keys(labels).length) return [];
  return owners.filter((o) => {
    const sel = selectorOf(o);
    return sel.length > 0 && matchesSelector(sel, labels);
  });
}

/**
 * ControllerRefManager.Claim*: adopts matching orphans, releases owned
 * objects the selector no longer matches, and returns what the owner controls.
 * `canAdopt` re-reads the owner from the server once (the cache may hold a
 * deleted-and-recreated owner), as upstream's RecheckDeletionTimestamp.
 */
export async function claim<T extends KubeObject>(
  owner: KubeObject,
  gvk: { apiVersion: string; kind: string },
  selector: Selector,
  candidates: T[],
  client: ResourceClient<T>,
  fetchOwner: () => Promise<KubeObject>,
  /** Further conditions an object must meet to be the owner's (ClaimPods' filters), beyond the selector. */
  filter: (obj: T) => boolean = () => true,
): Promise<T[]> {
  const claimed: T[] = [];
  const errors: unknown[] = [];
  let adoptable: Promise<void> | undefined;
  const canAdopt = () =>
    (adoptable ??= fetchOwner().then((fresh) => {
      if (fresh.metadata.uid !== owner.metadata.uid) throw new Error(`original ${gvk.kind} ${owner.metadata.namespace}/${owner.metadata.name} is gone: got uid ${fresh.metadata.uid}, wanted ${owner.metadata.uid}`);
      if (fresh.metadata.deletionTimestamp) throw new Error(`${gvk.kind} ${owner.metadata.namespace}/${owner.metadata.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    }));
  for (const obj of candidates) {
    const decision = claimDecision(owner, obj, selector.length > 0 && matchesSelector(selector, obj.metadata.labels) && filter(obj));
    try {
      if (decision === 'owned') claimed.push(obj);
      else if (decision === 'adopt') {
        await canAdopt();
        claimed.push(await client.patch(obj.metadata.namespace, obj.metadata.name!, adoptPatch(owner, gvk, obj), 'strategic'));
      } else if (decision === 'release') {
        await client.patch(obj.metadata.namespace, obj.metadata.name!, releasePatch(owner, obj), 'strategic');
      }
    } catch (e) {
      if (!isNotFound(e)) errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
  return claimed;
}

/**
 * controller.slowStartBatch: run `count` calls in batches of 1, 2, 4, ...,
 * stopping after a batch with a failure. Returns the successes and the first error.
 */
export async function slowStartBatch(count: number, initial: number, fn: (i: number) => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  let i = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn(i++)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason };
    remaining -= batch;
  }
  return { successes };
}
