// The StatefulSet controller (pkg/controller/statefulset): stable pods
// `<name>-<ordinal>` made from the set's template, in order (OrderedReady) or
// all at once (Parallel), updated from the highest ordinal down, with the
// template history kept as ControllerRevisions (kubectl rollout history /
// undo / status read them and the status this writes).
//
// Each sync: adopt orphaned revisions and claim the set's pods (selector and
// name), settle the current and update revisions (creating, or renumbering
// one on a rollback), carry out one pass of the plan (plan.ts), write the
// status, then trim the history to revisionHistoryLimit. Like upstream it
// keeps no expectations: pod names are fixed, so a create the cache has not
// seen yet fails with AlreadyExists and is retried.
import { fromLabelSelector, matchesSelector } from '../../api/selectors.js';
import { isAlreadyExists, isConflict, isNotFound, resourceTypes } from '../../client/client.js';
import { keyOf, type Informer } from '../../client/informer.js';
import { deepEqual } from '../../api/object.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';
import { adoptPatch, getControllerOf, resolveControllerRef } from '../workloads/controller-ref.js';
import { createControllerRevision, revisionsToTruncate, sortControllerRevisions, type ControllerRevisionObject } from '../workloads/history.js';
import { isPodReady } from '../workloads/pods.js';
import { addWorkloadIndexes, claim, namespaceIndex, selectingOwners, slowStartBatch } from '../workloads/shell.js';
import type { PodObject } from '../workloads/types.js';
import { isMemberOf, podRevision, statefulSetGVK } from './identity.js';
import { planStatefulSet, type PodAction, type StatefulSetPlan } from './plan.js';
import { statefulPodControl } from './pod-control.js';
import { chooseUpdateRevision, currentRevisionOf } from './revisions.js';
import { compactStatefulSetStatus, completeRollingUpdate, inconsistentStatus } from './status.js';
import type { StatefulSetObject, StatefulSetStatus } from './types.js';

const workers = 2;

export function createStatefulSetController(ctx: ControllerContext): Controller {
  const setClient = ctx.client.resource<StatefulSetObject>(resourceTypes.statefulsets);
  const podClient = ctx.client.resource<PodObject>(resourceTypes.pods);
  const revisionClient = ctx.client.resource<ControllerRevisionObject>(resourceTypes.controllerrevisions);
  const podControl = statefulPodControl(ctx.client, ctx.events);
  const { queue, log } = queueFor('statefulset', reconcile, workers);
  let setInformer: Informer<StatefulSetObject>;
  let podInformer: Informer<PodObject>;
  let revisionInformer: Informer<ControllerRevisionObject>;

  const selectorOf = (set: StatefulSetObject) => fromLabelSelector(set.spec?.selector);
  const enqueue = (set: StatefulSetObject) => queue.add(keyOf(set));
  const ownerOf = (pod: PodObject, ref = getControllerOf(pod)) => resolveControllerRef(ref, 'StatefulSet', pod.metadata.namespace, (k) => setInformer.get(k));
  /** RecheckDeletionTimestamp reads the set from the server: the cache may hold a deleted and recreated one. */
  const fetchSet = (set: StatefulSetObject) => () => setClient.get(set.metadata.namespace, set.metadata.name!);

  // ---- event handlers ----------------------------------------------------

  function setsSelecting(pod: PodObject): StatefulSetObject[] {
    return selectingOwners(setInformer.byIndex(namespaceIndex, pod.metadata.namespace ?? ''), pod.metadata.labels, selectorOf);
  }

  function onPodDeleted(pod: PodObject) {
    const set = ownerOf(pod);
    if (set) enqueue(set);
  }

  function onPodAdded(pod: PodObject) {
    // A pod already being deleted when first seen (a controller restart) is a deletion, not a creation.
    if (pod.metadata.deletionTimestamp) return onPodDeleted(pod);
    if (getControllerOf(pod)) {
      const set = ownerOf(pod);
      if (set) enqueue(set);
      return;
    }
    // An orphan: every set that selects it may adopt it.
    for (const set of setsSelecting(pod)) enqueue(set);
  }

  function onPodUpdated(old: PodObject, cur: PodObject) {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef, oldRef);
    if (refChanged && oldRef) {
      const set = ownerOf(old, oldRef);
      if (set) enqueue(set);
    }
    if (curRef) {
      const set = ownerOf(cur);
      if (!set) return;
      enqueue(set);
      // A pod that just became ready is available minReadySeconds later (plus a second against clock skew): look again then.
      const minReady = set.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) queue.addAfter(keyOf(set), minReady * 1000 + 1000);
      return;
    }
    if (refChanged || !deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) for (const set of setsSelecting(cur)) enqueue(set);
  }

  // ---- revisions ---------------------------------------------------------

  /** ListControllerRevisions: revisions the selector matches that are this set's or nobody's. */
  function listRevisions(set: StatefulSetObject): ControllerRevisionObject[] {
    const selector = selectorOf(set);
    return revisionInformer.byIndex(namespaceIndex, set.metadata.namespace ?? '').filter((rev) => {
      if (!selector.length || !matchesSelector(selector, rev.metadata.labels)) return false;
      const ref = getControllerOf(rev);
      return !ref || ref.uid === set.metadata.uid;
    });
  }

  /** adoptOrphanRevisions: matching revisions without a controller become this set's (after a fresh check that the set is alive). */
  async function adoptOrphanRevisions(set: StatefulSetObject): Promise<ControllerRevisionObject[]> {
    const revisions = listRevisions(set);
    const orphans = revisions.filter((r) => !getControllerOf(r));
    if (!orphans.length) return revisions;
    const fresh = await fetchSet(set)();
    const name = `${set.metadata.namespace}/${set.metadata.name}`;
    if (fresh.metadata.uid !== set.metadata.uid) {
      throw new Error(`can't adopt ControllerRevisions: original StatefulSet ${name} is gone: got uid ${fresh.metadata.uid}, wanted ${set.metadata.uid}`);
    }
    if (fresh.metadata.deletionTimestamp) throw new Error(`can't adopt ControllerRevisions: StatefulSet ${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    return Promise.all(
      revisions.map((r) => (getControllerOf(r) ? r : revisionClient.patch(r.metadata.namespace, r.metadata.name!, adoptPatch(set, statefulSetGVK, r), 'strategic'))),
    );
  }

  /** UpdateControllerRevision: a rollback makes an old revision the newest by renumbering it. */
  async function renumberRevision(revision: ControllerRevisionObject, to: number): Promise<ControllerRevisionObject> {
    let clone = structuredClone(revision);
    for (let attempt = 0; ; attempt++) {
      if (clone.revision === to) return clone;
      clone.revision = to;
      try {
        return await revisionClient.update(clone);
      } catch (e) {
        if (attempt >= 4 || !isConflict(e)) throw e;
        clone = structuredClone(revisionInformer.get(keyOf(revision)) ?? (await revisionClient.get(revision.metadata.namespace, revision.metadata.name!)));
      }
    }
  }

  /** getStatefulSetRevisions: the update revision (created, renumbered or reused), the current one, and the collision count used. */
  async function settleRevisions(set: StatefulSetObject, sorted: ControllerRevisionObject[]) {
    const collisionCount = { value: set.status?.collisionCount ?? 0 };
    const choice = chooseUpdateRevision(set, sorted);
    let update: ControllerRevisionObject;
    if (choice.action === 'reuse') update = choice.revision;
    else if (choice.action === 'renumber') update = await renumberRevision(choice.revision, choice.to);
    else update = await createControllerRevision(revisionClient, set, choice.revision, collisionCount);
    return { update, current: currentRevisionOf(set, sorted, update), collisionCount: collisionCount.value };
  }

  /** truncateHistory: past revisions beyond revisionHistoryLimit go, oldest first; current, update and any a pod runs stay. */
  async function truncateHistory(set: StatefulSetObject, pods: PodObject[], sorted: ControllerRevisionObject[], live: (ControllerRevisionObject | undefined)[]) {
    const names = new Set([...live.map((r) => r?.metadata.name), ...pods.map(podRevision)]);
    const doomed = revisionsToTruncate(sorted, set.spec?.revisionHistoryLimit ?? 10, (r) => names.has(r.metadata.name));
    for (const rev of doomed) {
      await revisionClient.delete(rev.metadata.namespace, rev.metadata.name!).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
  }

  // ---- one pass ----------------------------------------------------------

  function perform(set: StatefulSetObject, action: PodAction): Promise<void> {
    if (action.type === 'create') return podControl.create(set, action.pod);
    if (action.type === 'update') return podControl.update(set, action.pod);
    return podControl.delete(set, action.pod);
  }

  /** runForAll: OrderedReady one after another, Parallel in slow-start batches; the first failure ends the pass. */
  async function runPhase(set: StatefulSetObject, actions: PodAction[], monotonic: boolean): Promise<void> {
    if (monotonic) {
      for (const action of actions) await perform(set, action);
      return;
    }
    const { error } = await slowStartBatch(actions.length, 1, (i) => perform(set, actions[i]!));
    if (error) throw error;
  }

  async function execute(set: StatefulSetObject, plan: StatefulSetPlan): Promise<void> {
    await runPhase(set, plan.replicas, plan.monotonic);
    await runPhase(set, plan.condemned, plan.monotonic);
    if (!plan.update) return;
    try {
      await perform(set, plan.update);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    // The pod is gone from the current revision's count even before the cache says so.
    plan.status.currentReplicas = (plan.status.currentReplicas ?? 0) - 1;
  }

  /** updateStatefulSetStatus: only when something it tracks changed; one retry against a fresh read on conflict. */
  async function writeStatus(set: StatefulSetObject, computed: StatefulSetStatus): Promise<void> {
    completeRollingUpdate(set, computed);
    if (!inconsistentStatus(set, computed)) return;
    const status = compactStatefulSetStatus(computed);
    let target = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await setClient.updateStatus({ ...target, status });
        return;
      } catch (e) {
        if (attempt >= 1 || !isConflict(e)) throw e;
        target = await setClient.get(set.metadata.namespace, set.metadata.name!);
      }
    }
  }

  async function syncStatefulSet(key: string): Promise<void> {
    const set = setInformer.get(key);
    if (!set) return;
    const sorted = sortControllerRevisions(await adoptOrphanRevisions(set));
    const candidates = podInformer.byIndex(namespaceIndex, set.metadata.namespace ?? '');
    // ClaimPods with the name filter: a pod is the set's only if its name says so too.
    const pods = await claim(set, statefulSetGVK, selectorOf(set), candidates, podClient, fetchSet(set), (pod) => isMemberOf(set, pod));

    let revisions: { current?: ControllerRevisionObject; update?: ControllerRevisionObject } = {};
    const failures: unknown[] = [];
    let plan: StatefulSetPlan | undefined;
    try {
      const settled = await settleRevisions(set, sorted);
      revisions = settled;
      plan = planStatefulSet(set, pods, settled.current, settled.update, settled.collisionCount, Date.now());
      try {
        await execute(set, plan);
      } catch (e) {
        failures.push(e);
      }
      // The status is written even when the pass failed part way.
      await writeStatus(set, plan.status);
    } catch (e) {
      failures.push(e);
    }
    try {
      await truncateHistory(set, pods, sorted, [revisions.current, revisions.update]);
    } catch (e) {
      failures.push(e);
    }
    if (failures.length) throw failures[0];
    // One more look once pods that are ready become available.
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (plan && minReady > 0 && (plan.status.availableReplicas ?? 0) !== (set.spec?.replicas ?? 1)) queue.addAfter(key, minReady * 1000);
  }

  /** A conflict means the informer is about to deliver a newer object, which enqueues the key again. */
  async function reconcile(key: string): Promise<void> {
    try {
      await syncStatefulSet(key);
    } catch (e) {
      if (isConflict(e) && !isAlreadyExists(e)) return;
      throw e;
    }
  }

  return {
    name: 'statefulset',
    setup() {
      setInformer = ctx.factory.informer<StatefulSetObject>(resourceTypes.statefulsets);
      podInformer = ctx.factory.informer<PodObject>(resourceTypes.pods);
      revisionInformer = ctx.factory.informer<ControllerRevisionObject>(resourceTypes.controllerrevisions);
      addWorkloadIndexes(setInformer);
      addWorkloadIndexes(podInformer);
      addWorkloadIndexes(revisionInformer);
      setInformer.on({ add: enqueue, update: (_old, cur) => enqueue(cur), delete: enqueue });
      podInformer.on({ add: onPodAdded, update: onPodUpdated, delete: onPodDeleted });
    },
    run() {
      for (const set of setInformer.list()) enqueue(set);
      log.info('started', { statefulsets: setInformer.list().length });
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
