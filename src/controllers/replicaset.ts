// The ReplicaSet controller (pkg/controller/replicaset): keeps spec.replicas
// pods that match the selector, adopting orphans and releasing pods that no
// longer match, and reports replicas / fullyLabeledReplicas / readyReplicas /
// availableReplicas / observedGeneration. Expectations keep it from acting
// again on a cache that has not yet seen its own creations and deletions.
import { deepEqual, nowTimestamp } from '../api/object.js';
import { fromLabelSelector } from '../api/selectors.js';
import { isAlreadyExists, isConflict, isNotFound, resourceTypes } from '../client/client.js';
import { keyOf, splitKey, type Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';
import { getControllerOf, resolveControllerRef } from './workloads/controller-ref.js';
import { createExpectations } from './workloads/expectations.js';
import { isPodActive, isPodReady, podFromTemplate, podsToDelete } from './workloads/pods.js';
import { calculateReplicaSetStatus, compactReplicaSetStatus, replicaSetStatusEqual, type ReplicaSetStatus } from './workloads/replicaset-util.js';
import { addWorkloadIndexes, claim, controllerUidIndex, namespaceIndex, selectingOwners, slowStartBatch } from './workloads/shell.js';
import { errorMessage } from '../util/errors.js';
import type { PodObject, ReplicaSetObject } from './workloads/types.js';

const gvk = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
/** Upstream's BurstReplicas: at most this many creations or deletions per sync. */
const burstReplicas = 500;
/** --concurrent-replicaset-syncs default. */
const workers = 5;

export function createReplicaSetController(ctx: ControllerContext): Controller {
  const client = ctx.client;
  const rsClient = client.resource<ReplicaSetObject>(resourceTypes.replicasets);
  const podClient = client.resource<PodObject>(resourceTypes.pods);
  const expectations = createExpectations();
  const { queue, log } = queueFor('replicaset', reconcile, workers);
  let rsInformer: Informer<ReplicaSetObject>;
  let podInformer: Informer<PodObject>;

  const selectorOf = (rs: ReplicaSetObject) => fromLabelSelector(rs.spec?.selector);
  const enqueue = (rs: ReplicaSetObject) => queue.add(keyOf(rs));
  const podKey = (pod: PodObject) => keyOf(pod);

  function ownerOf(pod: PodObject): ReplicaSetObject | undefined {
    return resolveControllerRef(getControllerOf(pod), 'ReplicaSet', pod.metadata.namespace, (k) => rsInformer.get(k));
  }

  function replicaSetsSelecting(pod: PodObject): ReplicaSetObject[] {
    return selectingOwners(rsInformer.byIndex(namespaceIndex, pod.metadata.namespace ?? ''), pod.metadata.labels, selectorOf);
  }

  function onPodDeleted(pod: PodObject) {
    const rs = ownerOf(pod);
    if (!rs) return;
    expectations.deletionObserved(keyOf(rs), podKey(pod));
    enqueue(rs);
  }

  function onPodAdded(pod: PodObject) {
    // A pod that shows up already being deleted (controller restart) is a deletion to observe.
    if (pod.metadata.deletionTimestamp) return onPodDeleted(pod);
    if (getControllerOf(pod)) {
      const rs = ownerOf(pod);
      if (!rs) return;
      expectations.creationObserved(keyOf(rs));
      enqueue(rs);
      return;
    }
    // An orphan: every ReplicaSet that selects it may adopt it.
    for (const rs of replicaSetsSelecting(pod)) enqueue(rs);
  }

  function onPodUpdated(old: PodObject, cur: PodObject) {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelsChanged = !deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {});
    if (cur.metadata.deletionTimestamp) {
      // Graceful deletion shows up as an update; the ReplicaSet may replace the pod now.
      onPodDeleted(cur);
      if (labelsChanged) onPodDeleted(old);
      return;
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef, oldRef);
    if (refChanged && oldRef) {
      const rs = resolveControllerRef(oldRef, 'ReplicaSet', old.metadata.namespace, (k) => rsInformer.get(k));
      if (rs) enqueue(rs);
    }
    if (curRef) {
      const rs = ownerOf(cur);
      if (!rs) return;
      enqueue(rs);
      // A pod that just became ready becomes available minReadySeconds later: look again then.
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) queue.addAfter(keyOf(rs), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of replicaSetsSelecting(cur)) enqueue(rs);
  }

  /** Pods of every ReplicaSet with the same controller (the Deployment's), for spreading deletions. */
  function relatedPods(rs: ReplicaSetObject): PodObject[] {
    const ref = getControllerOf(rs);
    if (!ref) return [];
    const seen = new Set<string>();
    const pods: PodObject[] = [];
    for (const sibling of rsInformer.byIndex(controllerUidIndex, ref.uid)) {
      if (sibling.metadata.namespace !== rs.metadata.namespace) continue;
      for (const pod of podInformer.byIndex(controllerUidIndex, sibling.metadata.uid!)) {
        if (seen.has(pod.metadata.uid!)) continue;
        seen.add(pod.metadata.uid!);
        pods.push(pod);
      }
    }
    return pods;
  }

  async function manageReplicas(pods: PodObject[], rs: ReplicaSetObject, key: string): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, burstReplicas);
      // Expect before creating: the informer may see the pods before create() returns.
      expectations.expect(key, n, []);
      const { successes, error } = await slowStartBatch(n, 1, async () => {
        try {
          const created = await podClient.create(rs.metadata.namespace, podFromTemplate(rs.spec?.template, rs, gvk));
          ctx.events.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
        } catch (e) {
          ctx.events.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
          throw e;
        }
      });
      // Failed and skipped creations will never be observed by the informer.
      for (let i = successes; i < n; i++) expectations.creationObserved(key);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      const n = Math.min(diff, burstReplicas);
      const victims = podsToDelete(pods, relatedPods(rs), n);
      expectations.expect(key, 0, victims.map(podKey));
      const results = await Promise.allSettled(
        victims.map(async (pod) => {
          try {
            await podClient.delete(pod.metadata.namespace, pod.metadata.name!);
            ctx.events.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          } catch (e) {
            expectations.deletionObserved(key, podKey(pod));
            if (isNotFound(e)) return;
            ctx.events.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
            throw e;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /** updateReplicaSetStatus: write only on change; one retry against a fresh read on conflict. */
  async function updateStatus(rs: ReplicaSetObject, status: ReplicaSetStatus): Promise<ReplicaSetObject> {
    const generation = rs.metadata.generation ?? 0;
    if (replicaSetStatusEqual(rs.status, { ...status, observedGeneration: rs.status?.observedGeneration }) && (rs.status?.observedGeneration ?? 0) === generation) return rs;
    const next = compactReplicaSetStatus({ ...status, observedGeneration: generation });
    let target = rs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await rsClient.updateStatus({ ...target, status: next });
      } catch (e) {
        if (attempt >= 1 || !isConflict(e)) throw e;
        target = await rsClient.get(rs.metadata.namespace, rs.metadata.name!);
      }
    }
  }

  /** A conflict means the informer is about to deliver a newer object, which enqueues the key again. */
  async function reconcile(key: string): Promise<void> {
    try {
      await syncReplicaSet(key);
    } catch (e) {
      if (isConflict(e) && !isAlreadyExists(e)) return;
      throw e;
    }
  }

  async function syncReplicaSet(key: string): Promise<void> {
    const rs = rsInformer.get(key);
    if (!rs) {
      expectations.delete(key);
      return;
    }
    const needsSync = expectations.satisfied(key);
    const selector = selectorOf(rs);
    const { namespace } = splitKey(key);
    const active = podInformer.byIndex(namespaceIndex, namespace ?? '').filter(isPodActive);
    const pods = await claim(rs, gvk, selector, active, podClient, () => rsClient.get(rs.metadata.namespace, rs.metadata.name!));
    let manageError: Error | undefined;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await manageReplicas(pods, rs, key);
      } catch (e) {
        manageError = e instanceof Error ? e : new Error(String(e));
      }
    }
    const status = calculateReplicaSetStatus(rs, pods, manageError, Date.now(), nowTimestamp());
    const updated = await updateStatus(rs, status);
    const want = updated.spec?.replicas ?? 1;
    const minReady = updated.spec?.minReadySeconds ?? 0;
    if (!manageError && minReady > 0 && (updated.status?.readyReplicas ?? 0) === want && (updated.status?.availableReplicas ?? 0) !== want) {
      queue.addAfter(key, minReady * 1000);
    }
    if (manageError) throw manageError;
  }

  return {
    name: 'replicaset',
    setup() {
      rsInformer = ctx.factory.informer<ReplicaSetObject>(resourceTypes.replicasets);
      podInformer = ctx.factory.informer<PodObject>(resourceTypes.pods);
      addWorkloadIndexes(rsInformer);
      addWorkloadIndexes(podInformer);
      rsInformer.on({
        add: enqueue,
        update: (_old, cur) => enqueue(cur),
        delete: (rs) => {
          expectations.delete(keyOf(rs));
          enqueue(rs);
        },
      });
      podInformer.on({ add: onPodAdded, update: onPodUpdated, delete: onPodDeleted });
    },
    run() {
      for (const rs of rsInformer.list()) enqueue(rs);
      log.info('started', { replicasets: rsInformer.list().length });
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
