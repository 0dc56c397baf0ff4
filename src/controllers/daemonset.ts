// The DaemonSet controller (pkg/controller/daemon): one pod per eligible node
// (nodeSelector, required node affinity, taints against the tolerations every
// daemon pod gets; a node that is not Ready gets no new pod), failed pods
// replaced with backoff, surplus and misplaced pods deleted, RollingUpdate
// within maxUnavailable / maxSurge, and the status counts.
//
// Revisions as upstream's (update.go constructHistory / snapshot /
// cleanupHistory): each template is a ControllerRevision named
// `<ds>-<template hash>`, whose hash label the pods carry; an older revision
// that matches the template again (kubectl rollout undo) is renumbered to be
// the newest, and past revisions beyond revisionHistoryLimit are deleted
// unless a pod still runs them.
//
// Differences from upstream, on purpose:
// - Placement: pods carry upstream's node affinity (matchFields metadata.name)
//   and are also created with spec.nodeName set, so they run without waiting
//   for the scheduler.
import { deepEqual } from '../api/object.js';
import { fromLabelSelector } from '../api/selectors.js';
import { isAlreadyExists, isConflict, isNotFound, resourceTypes } from '../client/client.js';
import { keyOf, type Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';
import { getControllerOf, newControllerRef, resolveControllerRef } from './workloads/controller-ref.js';
import {
  pastRevisionsToDelete,
  sameRevisionData,
  sortControllerRevisions,
  templatePatch,
  type ControllerRevisionObject,
} from './workloads/history.js';
import {
  calculateDaemonSetStatus,
  daemonPodTemplate,
  planNode,
  planRollingUpdate,
  replaceNodeNameAffinity,
  targetNodeName,
  type DaemonSetStatus,
} from './workloads/daemonset-util.js';
import { createExpectations } from './workloads/expectations.js';
import { computeHash } from './workloads/hash.js';
import { isPodTerminal, podFromTemplate } from './workloads/pods.js';
import { addWorkloadIndexes, claim, namespaceIndex, selectingOwners, slowStartBatch } from './workloads/shell.js';
import { errorMessage } from '../util/errors.js';
import { controllerRevisionHashLabel, type DaemonSetObject, type NodeObject, type PodObject } from './workloads/types.js';

const gvk = { apiVersion: 'apps/v1', kind: 'DaemonSet' };
/** Upstream's BurstReplicas for DaemonSets. */
const burstReplicas = 250;
const workers = 2;
/** failedPodsBackoff: 1 s doubling to 15 min per DaemonSet and node. */
const backoffInitialMs = 1000;
const backoffMaxMs = 15 * 60 * 1000;

export function createDaemonSetController(ctx: ControllerContext): Controller {
  const client = ctx.client;
  const dsClient = client.resource<DaemonSetObject>(resourceTypes.daemonsets);
  const podClient = client.resource<PodObject>(resourceTypes.pods);
  const revisionClient = client.resource<ControllerRevisionObject>(resourceTypes.controllerrevisions);
  const expectations = createExpectations();
  const failedBackoff = new Map<string, { delayMs: number; at: number }>();
  const { queue, log } = queueFor('daemonset', reconcile, workers);
  let dsInformer: Informer<DaemonSetObject>;
  let podInformer: Informer<PodObject>;
  let nodeInformer: Informer<NodeObject>;
  let revisionInformer: Informer<ControllerRevisionObject>;

  const selectorOf = (ds: DaemonSetObject) => fromLabelSelector(ds.spec?.selector);
  const enqueue = (ds: DaemonSetObject) => queue.add(keyOf(ds));
  const enqueueAll = () => dsInformer.list().forEach(enqueue);
  const ownerOf = (obj: PodObject | ControllerRevisionObject, ref = getControllerOf(obj)) => resolveControllerRef(ref, 'DaemonSet', obj.metadata.namespace, (k) => dsInformer.get(k));

  // ---- event handlers ----------------------------------------------------

  function daemonSetsSelecting(pod: PodObject): DaemonSetObject[] {
    return selectingOwners(dsInformer.byIndex(namespaceIndex, pod.metadata.namespace ?? ''), pod.metadata.labels, selectorOf);
  }

  function onPodDeleted(pod: PodObject) {
    const ds = ownerOf(pod);
    if (!ds) return;
    expectations.deletionObserved(keyOf(ds), keyOf(pod));
    enqueue(ds);
  }

  function onPodAdded(pod: PodObject) {
    if (pod.metadata.deletionTimestamp) return onPodDeleted(pod);
    if (getControllerOf(pod)) {
      const ds = ownerOf(pod);
      if (!ds) return;
      expectations.creationObserved(keyOf(ds));
      enqueue(ds);
      return;
    }
    for (const ds of daemonSetsSelecting(pod)) enqueue(ds);
  }

  function onPodUpdated(old: PodObject, cur: PodObject) {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    if (cur.metadata.deletionTimestamp) return onPodDeleted(cur);
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef, oldRef);
    if (refChanged && oldRef) {
      const ds = ownerOf(old, oldRef);
      if (ds) enqueue(ds);
    }
    if (curRef) {
      const ds = ownerOf(cur);
      if (ds) enqueue(ds);
      return;
    }
    if (refChanged || !deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) for (const ds of daemonSetsSelecting(cur)) enqueue(ds);
  }

  // addHistory / updateHistory / deleteHistory: a revision's owner looks again; an orphan may be adopted.
  function enqueueRevisionOwner(rev: ControllerRevisionObject, ref = getControllerOf(rev)) {
    const ds = ownerOf(rev, ref);
    if (ds) enqueue(ds);
  }

  function enqueueAdopters(rev: ControllerRevisionObject) {
    for (const ds of selectingOwners(dsInformer.byIndex(namespaceIndex, rev.metadata.namespace ?? ''), rev.metadata.labels, selectorOf)) enqueue(ds);
  }

  function onRevisionAdded(rev: ControllerRevisionObject) {
    if (getControllerOf(rev) || rev.metadata.deletionTimestamp) return enqueueRevisionOwner(rev);
    enqueueAdopters(rev);
  }

  function onRevisionUpdated(old: ControllerRevisionObject, cur: ControllerRevisionObject) {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef, oldRef);
    if (refChanged && oldRef) enqueueRevisionOwner(old, oldRef);
    if (curRef) return enqueueRevisionOwner(cur, curRef);
    if (refChanged || !deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) enqueueAdopters(cur);
  }

  /** Only changes that can change where daemon pods belong (not heartbeats). */
  function nodeChanged(old: NodeObject, cur: NodeObject): boolean {
    const ready = (n: NodeObject) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    return (
      !deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {}) ||
      !deepEqual(old.spec?.taints ?? [], cur.spec?.taints ?? []) ||
      !!old.spec?.unschedulable !== !!cur.spec?.unschedulable ||
      ready(old) !== ready(cur)
    );
  }

  // ---- pods of a DaemonSet ---------------------------------------------

  /** getNodesToDaemonPods: claimed pods by target node (finished pods already being deleted are left out). */
  async function nodesToDaemonPods(ds: DaemonSetObject): Promise<Map<string, PodObject[]>> {
    const candidates = podInformer.byIndex(namespaceIndex, ds.metadata.namespace ?? '');
    const pods = await claim(ds, gvk, selectorOf(ds), candidates, podClient, () => dsClient.get(ds.metadata.namespace, ds.metadata.name!));
    const map = new Map<string, PodObject[]>();
    for (const pod of pods) {
      if (isPodTerminal(pod) && pod.metadata.deletionTimestamp) continue;
      const node = targetNodeName(pod) ?? '';
      let list = map.get(node);
      if (!list) map.set(node, (list = []));
      list.push(pod);
    }
    return map;
  }

  // ---- revision history --------------------------------------------------

  /** controlledHistories: the revisions this DaemonSet controls, adopting matching orphans and releasing the rest. */
  function controlledHistories(ds: DaemonSetObject): Promise<ControllerRevisionObject[]> {
    const candidates = revisionInformer.byIndex(namespaceIndex, ds.metadata.namespace ?? '');
    return claim(ds, gvk, selectorOf(ds), candidates, revisionClient, () => dsClient.get(ds.metadata.namespace, ds.metadata.name!));
  }

  /** Match: a revision is the DaemonSet's template when its patch is the same bytes. */
  const matches = (ds: DaemonSetObject, rev: ControllerRevisionObject) => sameRevisionData(templatePatch(ds.spec?.template), rev.data);

  /**
   * snapshot: the template as a revision named by its pod-template hash. A
   * name taken by another template is a hash collision: collisionCount goes
   * up (in status) and the next sync names it again.
   */
  async function snapshot(ds: DaemonSetObject, revision: number): Promise<ControllerRevisionObject> {
    const hash = computeHash(ds.spec?.template, ds.status?.collisionCount);
    const name = `${ds.metadata.name}-${hash}`;
    const history: ControllerRevisionObject = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace: ds.metadata.namespace,
        labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [controllerRevisionHashLabel]: hash },
        ...(ds.metadata.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [newControllerRef(ds, gvk)],
      },
      data: templatePatch(ds.spec?.template),
      revision,
    };
    try {
      return await revisionClient.create(ds.metadata.namespace, history);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await revisionClient.get(ds.metadata.namespace, name);
      if (matches(ds, existing)) return existing;
      const fresh = await dsClient.get(ds.metadata.namespace, ds.metadata.name!);
      if ((fresh.status?.collisionCount ?? null) !== (ds.status?.collisionCount ?? null)) {
        throw new Error(
          `found a stale collision count (${ds.status?.collisionCount ?? 'nil'}, expected ${fresh.status?.collisionCount ?? 'nil'}) of DaemonSet "${ds.metadata.name}" while processing; will retry until it is updated`,
          { cause: e },
        );
      }
      await dsClient.updateStatus({ ...fresh, status: { ...fresh.status!, collisionCount: (fresh.status?.collisionCount ?? 0) + 1 } });
      log.info('hash collision: bumping collisionCount', { daemonset: keyOf(ds), collisionCount: (fresh.status?.collisionCount ?? 0) + 1 });
      throw e;
    }
  }

  /**
   * dedupCurHistories: of several revisions matching the template, the newest
   * stays; pods labelled with a duplicate's hash take the survivor's, then the duplicate goes.
   */
  async function dedupCurrent(ds: DaemonSetObject, current: ControllerRevisionObject[]): Promise<ControllerRevisionObject> {
    const keep = current.reduce((a, b) => ((b.revision ?? 0) >= (a.revision ?? 0) ? b : a));
    const keepHash = keep.metadata.labels?.[controllerRevisionHashLabel];
    for (const dup of current) {
      if (dup.metadata.name === keep.metadata.name) continue;
      const dupHash = dup.metadata.labels?.[controllerRevisionHashLabel];
      for (const pods of (await nodesToDaemonPods(ds)).values()) {
        for (const pod of pods) {
          if (pod.metadata.labels?.[controllerRevisionHashLabel] !== dupHash) continue;
          await podClient.patch(pod.metadata.namespace, pod.metadata.name!, { metadata: { labels: { [controllerRevisionHashLabel]: keepHash } } }, 'merge');
        }
      }
      await revisionClient.delete(dup.metadata.namespace, dup.metadata.name!).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    return keep;
  }

  /** constructHistory: the current revision (made, deduplicated or renumbered to be the newest) and the past ones. */
  async function constructHistory(ds: DaemonSetObject): Promise<{ cur: ControllerRevisionObject; old: ControllerRevisionObject[] }> {
    const current: ControllerRevisionObject[] = [];
    const old: ControllerRevisionObject[] = [];
    for (let history of await controlledHistories(ds)) {
      // Revisions made before the hash label existed get their name as the label, which needs no hashing.
      if (!history.metadata.labels?.[controllerRevisionHashLabel]) {
        history = await revisionClient.update({ ...history, metadata: { ...history.metadata, labels: { ...history.metadata.labels, [controllerRevisionHashLabel]: history.metadata.name! } } });
      }
      (matches(ds, history) ? current : old).push(history);
    }
    const next = old.reduce((max, r) => Math.max(max, r.revision ?? 0), 0) + 1;
    if (!current.length) return { cur: await snapshot(ds, next), old };
    let cur = await dedupCurrent(ds, current);
    if ((cur.revision ?? 0) < next) cur = await revisionClient.update({ ...cur, revision: next });
    return { cur, old };
  }

  /** cleanupHistory: past revisions beyond revisionHistoryLimit go, oldest first, unless a pod (even a finished one) still carries their hash. */
  async function cleanupHistory(ds: DaemonSetObject, old: ControllerRevisionObject[]): Promise<void> {
    const candidates = podInformer.byIndex(namespaceIndex, ds.metadata.namespace ?? '');
    const pods = await claim(ds, gvk, selectorOf(ds), candidates, podClient, () => dsClient.get(ds.metadata.namespace, ds.metadata.name!));
    const liveHashes = new Set(pods.map((p) => p.metadata.labels?.[controllerRevisionHashLabel]).filter(Boolean));
    const doomed = pastRevisionsToDelete(sortControllerRevisions([...old]), ds.spec?.revisionHistoryLimit ?? 10, (r) => liveHashes.has(r.metadata.labels?.[controllerRevisionHashLabel]));
    for (const rev of doomed) {
      await revisionClient.delete(rev.metadata.namespace, rev.metadata.name!).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
  }

  // ---- writes ------------------------------------------------------------

  /** syncNodes: create on the nodes that need a pod, delete the given pods, expecting both. */
  async function syncNodes(ds: DaemonSetObject, key: string, toDelete: PodObject[], nodesNeedingPods: string[], hash: string) {
    const creates = nodesNeedingPods.slice(0, burstReplicas);
    const deletes = toDelete.slice(0, burstReplicas);
    expectations.expect(key, creates.length, deletes.map((p) => keyOf(p)));
    const template = daemonPodTemplate(ds.spec?.template, hash);
    const errors: unknown[] = [];

    const { successes, error } = await slowStartBatch(creates.length, 1, async (i) => {
      const node = creates[i];
      const pod = podFromTemplate(template, ds, gvk);
      pod.spec!.affinity = replaceNodeNameAffinity(template.spec?.affinity, node);
      pod.spec!.nodeName = node;
      try {
        const created = await podClient.create(ds.metadata.namespace, pod);
        ctx.events.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      } catch (e) {
        ctx.events.event(ds, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
        throw e;
      }
    });
    for (let i = successes; i < creates.length; i++) expectations.creationObserved(key);
    if (error) errors.push(error);

    const results = await Promise.allSettled(
      deletes.map(async (pod) => {
        try {
          await podClient.delete(pod.metadata.namespace, pod.metadata.name!);
          ctx.events.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (e) {
          expectations.deletionObserved(key, keyOf(pod));
          if (isNotFound(e)) return;
          ctx.events.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
          throw e;
        }
      }),
    );
    for (const r of results) if (r.status === 'rejected') errors.push(r.reason);
    if (errors.length) throw errors[0];
  }

  /** failedPodsBackoff: whether a failed pod on this node may be deleted now. */
  function failedPodMayGo(ds: DaemonSetObject, node: string, key: string, now: number): boolean {
    const id = `${ds.metadata.uid}/${node}`;
    const entry = failedBackoff.get(id);
    if (entry && now - entry.at < entry.delayMs) {
      queue.addAfter(key, entry.delayMs - (now - entry.at));
      return false;
    }
    const expired = !entry || now - entry.at > 2 * backoffMaxMs;
    failedBackoff.set(id, { delayMs: expired ? backoffInitialMs : Math.min(entry!.delayMs * 2, backoffMaxMs), at: now });
    return true;
  }

  /** manage: per node, create the missing pod and delete the surplus, misplaced and failed ones. */
  async function manage(ds: DaemonSetObject, key: string, nodes: NodeObject[], hash: string) {
    const byNode = await nodesToDaemonPods(ds);
    const now = Date.now();
    const creates: string[] = [];
    const deletes: PodObject[] = [];
    for (const node of nodes) {
      const name = node.metadata.name!;
      const plan = planNode(node, byNode.get(name), ds, hash, now);
      if (plan.create) creates.push(name);
      deletes.push(...plan.delete);
      for (const pod of plan.failed) {
        if (!failedPodMayGo(ds, name, key, now)) continue;
        ctx.events.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${name}, will try to kill it`);
        deletes.push(pod);
      }
    }
    // Unscheduled pods aimed at nodes that no longer exist would never be scheduled nor collected.
    const known = new Set(nodes.map((n) => n.metadata.name!));
    for (const [node, pods] of byNode) {
      if (known.has(node)) continue;
      for (const pod of pods) if (!pod.spec?.nodeName && !pod.metadata.deletionTimestamp) deletes.push(pod);
    }
    await syncNodes(ds, key, deletes, creates, hash);
  }

  async function rollingUpdate(ds: DaemonSetObject, key: string, nodes: NodeObject[], hash: string) {
    const byNode = await nodesToDaemonPods(ds);
    const plan = planRollingUpdate(ds, nodes, byNode, hash, Date.now());
    if (plan.deletePods.length || plan.createOn.length) await syncNodes(ds, key, plan.deletePods, plan.createOn, hash);
  }

  /** updateDaemonSetStatus / storeDaemonSetStatus. */
  async function updateStatus(ds: DaemonSetObject, key: string, nodes: NodeObject[], hash: string, observeGeneration: boolean) {
    const byNode = await nodesToDaemonPods(ds);
    const counts = calculateDaemonSetStatus(ds, nodes, byNode, hash, Date.now());
    const old = ds.status ?? ({} as DaemonSetStatus);
    const same = (Object.keys(counts) as (keyof DaemonSetStatus)[]).every((k) => (old[k] ?? 0) === (counts[k] ?? 0));
    if (!(same && (old.observedGeneration ?? 0) === (ds.metadata.generation ?? 0))) {
      let target = ds;
      for (let attempt = 0; ; attempt++) {
        const status = compactDaemonSetStatus({
          ...target.status,
          ...counts,
          observedGeneration: observeGeneration ? ds.metadata.generation : target.status?.observedGeneration,
        });
        try {
          await dsClient.updateStatus({ ...target, status });
          break;
        } catch (e) {
          if (attempt >= 1 || !isConflict(e)) throw e;
          target = await dsClient.get(ds.metadata.namespace, ds.metadata.name!);
        }
      }
    }
    const minReady = ds.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && counts.numberReady !== counts.numberAvailable) queue.addAfter(key, minReady * 1000);
  }

  /** A conflict means the informer is about to deliver a newer object, which enqueues the key again. */
  async function reconcile(key: string): Promise<void> {
    try {
      await syncDaemonSet(key);
    } catch (e) {
      if (isConflict(e) && !isAlreadyExists(e)) return;
      throw e;
    }
  }

  async function syncDaemonSet(key: string): Promise<void> {
    const ds = dsInformer.get(key);
    if (!ds) {
      expectations.delete(key);
      return;
    }
    const nodes = nodeInformer.list();
    if (!selectorOf(ds).length) {
      ctx.events.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // Being deleted: the garbage collector removes the pods and may already have removed the history; nothing to create or report.
    if (ds.metadata.deletionTimestamp) return;
    const { cur, old } = await constructHistory(ds);
    const hash = cur.metadata.labels?.[controllerRevisionHashLabel] ?? '';
    if (!expectations.satisfied(key)) {
      // Creations or deletions are in flight: only report, and do not claim to have seen this generation.
      return updateStatus(ds, key, nodes, hash, false);
    }
    let failure: unknown;
    try {
      await manage(ds, key, nodes, hash);
      if (expectations.satisfied(key) && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        await rollingUpdate(ds, key, nodes, hash);
      }
      await cleanupHistory(ds, old);
    } catch (e) {
      failure = e;
    }
    await updateStatus(ds, key, nodes, hash, true);
    if (failure) throw failure;
  }

  return {
    name: 'daemonset',
    setup() {
      dsInformer = ctx.factory.informer<DaemonSetObject>(resourceTypes.daemonsets);
      podInformer = ctx.factory.informer<PodObject>(resourceTypes.pods);
      nodeInformer = ctx.factory.informer<NodeObject>(resourceTypes.nodes);
      revisionInformer = ctx.factory.informer<ControllerRevisionObject>(resourceTypes.controllerrevisions);
      addWorkloadIndexes(dsInformer);
      addWorkloadIndexes(podInformer);
      addWorkloadIndexes(revisionInformer);
      dsInformer.on({
        add: enqueue,
        update: (_old, cur) => enqueue(cur),
        delete: (ds) => {
          expectations.delete(keyOf(ds));
          enqueue(ds);
        },
      });
      podInformer.on({ add: onPodAdded, update: onPodUpdated, delete: onPodDeleted });
      revisionInformer.on({ add: onRevisionAdded, update: onRevisionUpdated, delete: (rev) => enqueueRevisionOwner(rev) });
      nodeInformer.on({
        add: enqueueAll,
        update: (old, cur) => {
          if (nodeChanged(old, cur)) enqueueAll();
        },
        delete: enqueueAll,
      });
    },
    run() {
      enqueueAll();
      log.info('started', { daemonsets: dsInformer.list().length });
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}

/** The status as Go serialises it: the four scheduling counts always, the rest omitempty. */
function compactDaemonSetStatus(s: DaemonSetStatus): DaemonSetStatus {
  const out: DaemonSetStatus = {
    currentNumberScheduled: s.currentNumberScheduled ?? 0,
    numberMisscheduled: s.numberMisscheduled ?? 0,
    desiredNumberScheduled: s.desiredNumberScheduled ?? 0,
    numberReady: s.numberReady ?? 0,
  };
  if (s.observedGeneration) out.observedGeneration = s.observedGeneration;
  if (s.updatedNumberScheduled) out.updatedNumberScheduled = s.updatedNumberScheduled;
  if (s.numberAvailable) out.numberAvailable = s.numberAvailable;
  if (s.numberUnavailable) out.numberUnavailable = s.numberUnavailable;
  if (s.collisionCount !== undefined && s.collisionCount !== null) out.collisionCount = s.collisionCount;
  if (s.conditions?.length) out.conditions = s.conditions;
  return out;
}
