// The Deployment controller (pkg/controller/deployment): one ReplicaSet per
// pod template (named and selected by pod-template-hash), revisions on the
// Deployment and its ReplicaSets, RollingUpdate within maxSurge /
// maxUnavailable, Recreate, proportional scaling, pause, revision history
// cleanup, and the status with its Available / Progressing conditions.
//
// The decisions are in ./workloads/deployment-util.ts; this file reads the
// caches, writes through the API and records the events upstream records.
// Upstream writes the revision annotation through the status subresource; our
// status strategy keeps metadata as stored (ResetObjectMetaForStatus), so the
// annotation is patched on the object itself.
import { deepEqual, nowTimestamp } from '../api/object.js';
import { fromLabelSelector, matchesSelector } from '../api/selectors.js';
import { isAlreadyExists, isConflict, isNotFound, resourceTypes } from '../client/client.js';
import { keyOf, type Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';
import { getControllerOf, newControllerRef, resolveControllerRef } from './workloads/controller-ref.js';
import {
  byCreationTimestamp,
  calculateStatus,
  compactStatus,
  deploymentComplete,
  desiredReplicas,
  filterActive,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  isScalingEvent,
  maxRevision,
  maxSurge,
  newCondition,
  newRSNewReplicas,
  planNewReplicaSet,
  planOldReplicaSets,
  planScale,
  progressCheckAfter,
  reasons,
  replicaSetsToCleanUp,
  revisionAnnotation,
  rolloutStatus,
  rsReplicas,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  statusEqual,
  type DeploymentStatus,
  type ScaleStep,
} from './workloads/deployment-util.js';
import { computeHash, equalIgnoreHash } from './workloads/hash.js';
import { isPodTerminal } from './workloads/pods.js';
import { addWorkloadIndexes, claim, namespaceIndex, selectingOwners } from './workloads/shell.js';
import { errorMessage } from '../util/errors.js';
import { podTemplateHashLabel, type DeploymentObject, type PodObject, type ReplicaSetObject } from './workloads/types.js';

const gvk = { apiVersion: 'apps/v1', kind: 'Deployment' };
/** --concurrent-deployment-syncs default. */
const workers = 5;

/** One sync of one Deployment: the working copy and the ReplicaSets, refreshed after every write. */
interface Sync {
  key: string;
  d: DeploymentObject;
  rsList: ReplicaSetObject[];
}

export function createDeploymentController(ctx: ControllerContext): Controller {
  const client = ctx.client;
  const dClient = client.resource<DeploymentObject>(resourceTypes.deployments);
  const rsClient = client.resource<ReplicaSetObject>(resourceTypes.replicasets);
  const { queue, log } = queueFor('deployment', reconcile, workers);
  let dInformer: Informer<DeploymentObject>;
  let rsInformer: Informer<ReplicaSetObject>;
  let podInformer: Informer<PodObject>;

  // Progress-deadline checks can be minutes away; they are not pending work, so they
  // live outside the queue (whose idle() waits for its delayed keys).
  const progressChecks = new Map<string, NodeJS.Timeout>();
  function checkProgressLater(key: string, ms: number) {
    clearTimeout(progressChecks.get(key));
    const t = setTimeout(() => {
      progressChecks.delete(key);
      queue.add(key);
    }, ms);
    t.unref();
    progressChecks.set(key, t);
  }

  const selectorOf = (d: DeploymentObject) => fromLabelSelector(d.spec?.selector);
  const enqueue = (d: DeploymentObject) => queue.add(keyOf(d));
  const ownerOf = (rs: ReplicaSetObject, ref = getControllerOf(rs)) =>
    resolveControllerRef(ref, 'Deployment', rs.metadata.namespace, (k) => dInformer.get(k));

  // ---- event handlers ----------------------------------------------------

  function deploymentsSelecting(rs: ReplicaSetObject): DeploymentObject[] {
    return selectingOwners(dInformer.byIndex(namespaceIndex, rs.metadata.namespace ?? ''), rs.metadata.labels, selectorOf);
  }

  function onReplicaSetAdded(rs: ReplicaSetObject) {
    if (rs.metadata.deletionTimestamp) return onReplicaSetDeleted(rs);
    if (getControllerOf(rs)) {
      const d = ownerOf(rs);
      if (d) enqueue(d);
      return;
    }
    for (const d of deploymentsSelecting(rs)) enqueue(d);
  }

  function onReplicaSetUpdated(old: ReplicaSetObject, cur: ReplicaSetObject) {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef, oldRef);
    if (refChanged && oldRef) {
      const d = ownerOf(old, oldRef);
      if (d) enqueue(d);
    }
    if (curRef) {
      const d = ownerOf(cur);
      if (d) enqueue(d);
      return;
    }
    if (refChanged || !deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) for (const d of deploymentsSelecting(cur)) enqueue(d);
  }

  function onReplicaSetDeleted(rs: ReplicaSetObject) {
    const d = ownerOf(rs);
    if (d) enqueue(d);
  }

  /** A Recreate rollout waits for the old pods to be gone. */
  function onPodDeleted(pod: PodObject) {
    const rsRef = getControllerOf(pod);
    if (!rsRef || rsRef.kind !== 'ReplicaSet') return;
    const rs = rsInformer.get(`${pod.metadata.namespace}/${rsRef.name}`);
    if (!rs || rs.metadata.uid !== rsRef.uid) return;
    const d = ownerOf(rs);
    if (d && d.spec?.strategy?.type === 'Recreate') enqueue(d);
  }

  // ---- writes ------------------------------------------------------------

  function replaceRS(s: Sync, rs: ReplicaSetObject) {
    const i = s.rsList.findIndex((x) => x.metadata.uid === rs.metadata.uid);
    if (i >= 0) s.rsList[i] = rs;
    else s.rsList.push(rs);
  }

  /** The freshest copy of a ReplicaSet this sync knows. */
  const current = (s: Sync, rs: ReplicaSetObject) => s.rsList.find((x) => x.metadata.uid === rs.metadata.uid) ?? rs;

  async function writeStatus(s: Sync, status: DeploymentStatus) {
    s.d = await dClient.updateStatus({ ...s.d, status: compactStatus(status) });
  }

  /**
   * SetDeploymentRevision, written as an update of the Deployment as upstream
   * does (its role may update deployments, not patch them); a conflict
   * requeues the sync.
   */
  async function syncRevision(s: Sync, revision: string | undefined) {
    if (revision === undefined || s.d.metadata.annotations?.[revisionAnnotation] === revision) return;
    s.d = await dClient.update({ ...s.d, metadata: { ...s.d.metadata, annotations: { ...s.d.metadata.annotations, [revisionAnnotation]: revision } } });
  }

  /**
   * scaleReplicaSet: writes the size and the desired/max-replicas annotations;
   * `always` also refreshes the annotations when the size stays (proportional scaling).
   */
  async function scaleReplicaSet(s: Sync, rsIn: ReplicaSetObject, replicas: number, opts: { operation?: 'up' | 'down'; always?: boolean } = {}): Promise<boolean> {
    const rs = current(s, rsIn);
    const oldScale = rsReplicas(rs);
    const sizeChanged = oldScale !== replicas;
    if (!sizeChanged && !opts.always) return false;
    const copy = structuredClone(rs);
    const annotationsChanged = setReplicasAnnotations(copy, desiredReplicas(s.d), desiredReplicas(s.d) + maxSurge(s.d));
    if (!sizeChanged && !annotationsChanged) return false;
    copy.spec = { ...copy.spec!, replicas };
    const updated = await rsClient.update(copy);
    replaceRS(s, updated);
    if (sizeChanged) {
      const op = opts.operation ?? (oldScale > replicas ? 'down' : 'up');
      ctx.events.event(s.d, 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata.name} from ${oldScale} to ${replicas}`);
    }
    return sizeChanged;
  }

  async function applySteps(s: Sync, steps: ScaleStep[]): Promise<boolean> {
    let scaled = false;
    for (const step of steps) {
      if (await scaleReplicaSet(s, step.rs, step.replicas, { operation: step.operation, always: step.refresh })) scaled = true;
    }
    return scaled;
  }

  // ---- ReplicaSets of a Deployment ----------------------------------------

  /** getReplicaSetsForDeployment: claim by selector and ControllerRef. */
  async function replicaSetsFor(d: DeploymentObject): Promise<ReplicaSetObject[]> {
    const candidates = rsInformer.byIndex(namespaceIndex, d.metadata.namespace ?? '');
    return claim(d, gvk, selectorOf(d), candidates, rsClient, () => dClient.get(d.metadata.namespace, d.metadata.name!));
  }

  /** getPodMapForDeployment: the Deployment's pods by owning ReplicaSet uid. */
  function podMapFor(d: DeploymentObject, rsList: ReplicaSetObject[]): Map<string, PodObject[]> {
    const map = new Map<string, PodObject[]>(rsList.map((rs) => [rs.metadata.uid!, []]));
    const selector = selectorOf(d);
    for (const pod of podInformer.byIndex(namespaceIndex, d.metadata.namespace ?? '')) {
      if (!matchesSelector(selector, pod.metadata.labels)) continue;
      const ref = getControllerOf(pod);
      if (ref && map.has(ref.uid)) map.get(ref.uid)!.push(pod);
    }
    return map;
  }

  /** getNewReplicaSet: find the ReplicaSet for the current template (syncing its revision), or create it. */
  async function getNewReplicaSet(s: Sync, oldRSs: ReplicaSetObject[], create: boolean): Promise<ReplicaSetObject | undefined> {
    const existing = findNewReplicaSet(s.d, s.rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    if (existing) {
      const copy = structuredClone(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(s.d, copy, newRevision, true);
      const minReadyChanged = (copy.spec?.minReadySeconds ?? 0) !== (s.d.spec?.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadyChanged) {
        copy.spec = { ...copy.spec!, minReadySeconds: s.d.spec?.minReadySeconds };
        const updated = await rsClient.update(copy);
        replaceRS(s, updated);
        return updated;
      }
      await syncRevision(s, copy.metadata.annotations?.[revisionAnnotation]);
      if (hasProgressDeadline(s.d) && !getCondition(s.d.status, 'Progressing')) {
        const status = structuredClone(s.d.status ?? {});
        setCondition(status, newCondition('Progressing', 'True', reasons.foundNewRS, `Found new replica set "${copy.metadata.name}"`, nowTimestamp()));
        await writeStatus(s, status);
      }
      return copy;
    }
    if (!create) return undefined;

    const d = s.d;
    const hash = computeHash(d.spec?.template, d.status?.collisionCount);
    const template = structuredClone(d.spec!.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [podTemplateHashLabel]: hash } };
    const selector = structuredClone(d.spec!.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [podTemplateHashLabel]: hash };
    const newRS: ReplicaSetObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [newControllerRef(d, gvk)],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds, selector, template },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec!.replicas = replicas;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: ReplicaSetObject;
    let alreadyExists = false;
    try {
      created = await rsClient.create(d.metadata.namespace, newRS);
    } catch (e) {
      if (isAlreadyExists(e)) {
        // A slow cache or an earlier sync made it; it is ours if it is controlled by us with our template.
        const rs = rsInformer.get(`${d.metadata.namespace}/${newRS.metadata.name}`) ?? (await rsClient.get(d.metadata.namespace, newRS.metadata.name!));
        if (getControllerOf(rs)?.uid === d.metadata.uid && equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
          created = rs;
          alreadyExists = true;
        } else {
          // A hash collision: bump collisionCount so the next sync picks another name.
          const status = structuredClone(d.status ?? {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await writeStatus(s, status);
          log.info('hash collision; bumped collisionCount', { deployment: s.key, collisionCount: status.collisionCount });
          throw e;
        }
      } else {
        const msg = `Failed to create new replica set "${newRS.metadata.name}": ${errorMessage(e)}`;
        if (hasProgressDeadline(d)) {
          const status = structuredClone(d.status ?? {});
          setCondition(status, newCondition('Progressing', 'False', reasons.failedRSCreate, msg, nowTimestamp()));
          // The create error below is what counts (retried with backoff); the condition is written again on the next sync.
          await writeStatus(s, status).catch(() => undefined);
        }
        ctx.events.event(d, 'Warning', reasons.failedRSCreate, msg);
        throw e;
      }
    }
    replaceRS(s, created);
    if (!alreadyExists && replicas > 0) {
      ctx.events.event(s.d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`);
    }
    await syncRevision(s, newRevision);
    if (!alreadyExists && hasProgressDeadline(s.d)) {
      const status = structuredClone(s.d.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', reasons.newReplicaSet, `Created new replica set "${created.metadata.name}"`, nowTimestamp()));
      await writeStatus(s, status);
    }
    return created;
  }

  /** getAllReplicaSetsAndSyncRevision. */
  async function allReplicaSets(s: Sync, create: boolean): Promise<{ newRS?: ReplicaSetObject; oldRSs: ReplicaSetObject[] }> {
    const oldRSs = findOldReplicaSets(s.d, s.rsList);
    const newRS = await getNewReplicaSet(s, oldRSs, create);
    return { newRS, oldRSs: oldRSs.map((rs) => current(s, rs)) };
  }

  // ---- status --------------------------------------------------------------

  /** syncDeploymentStatus: the plain status, no progress judgement (scaling, paused). */
  async function syncDeploymentStatus(s: Sync, newRS: ReplicaSetObject | undefined, oldRSs: ReplicaSetObject[]) {
    const all = [...oldRSs, newRS].map((rs) => rs && current(s, rs));
    const status = calculateStatus(all, newRS && current(s, newRS), s.d, nowTimestamp());
    if (!statusEqual(s.d.status, status)) await writeStatus(s, status);
  }

  /** syncRolloutStatus: status plus Progressing; a stalled rollout is looked at again at its deadline. */
  async function syncRolloutStatus(s: Sync, newRS: ReplicaSetObject | undefined, oldRSs: ReplicaSetObject[]) {
    const all = [...oldRSs, newRS].map((rs) => rs && current(s, rs));
    const nowMs = Date.now();
    const status = rolloutStatus(all, newRS && current(s, newRS), s.d, nowTimestamp(new Date(nowMs)), nowMs);
    if (statusEqual(s.d.status, status)) {
      const after = progressCheckAfter(s.d, status, nowMs);
      if (after !== undefined) checkProgressLater(s.key, Math.max(after, 1000));
      return;
    }
    await writeStatus(s, status);
  }

  async function cleanupDeployment(s: Sync, oldRSs: ReplicaSetObject[]) {
    for (const rs of replicaSetsToCleanUp(oldRSs.map((x) => current(s, x)), s.d)) {
      try {
        await rsClient.delete(rs.metadata.namespace, rs.metadata.name!);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  // ---- strategies --------------------------------------------------------

  /** sync: scaling and paused Deployments. */
  async function syncScale(s: Sync) {
    const { newRS, oldRSs } = await allReplicaSets(s, false);
    await applySteps(s, planScale(s.d, newRS && current(s, newRS), oldRSs));
    if (s.d.spec?.paused) await cleanupDeployment(s, oldRSs);
    await syncDeploymentStatus(s, newRS, oldRSs);
  }

  async function rolloutRolling(s: Sync) {
    const { newRS, oldRSs } = await allReplicaSets(s, true);
    const all = () => [...oldRSs, newRS].map((rs) => rs && current(s, rs));
    if (newRS) {
      const target = planNewReplicaSet(all(), current(s, newRS), s.d);
      if (target !== undefined && (await scaleReplicaSet(s, newRS, target))) return syncRolloutStatus(s, newRS, oldRSs);
    }
    const steps = planOldReplicaSets(all(), filterActive(oldRSs.map((rs) => current(s, rs))), newRS && current(s, newRS), s.d);
    if (await applySteps(s, steps)) return syncRolloutStatus(s, newRS, oldRSs);
    if (deploymentComplete(s.d, s.d.status ?? {})) await cleanupDeployment(s, oldRSs);
    await syncRolloutStatus(s, newRS, oldRSs);
  }

  /** oldPodsRunning: Recreate starts the new pods only once no old pod runs. */
  function oldPodsRunning(s: Sync, newRS: ReplicaSetObject | undefined, oldRSs: ReplicaSetObject[], podMap: Map<string, PodObject[]>): boolean {
    if (oldRSs.reduce((n, rs) => n + (current(s, rs).status?.replicas ?? 0), 0) > 0) return true;
    for (const [uid, pods] of podMap) {
      if (newRS && newRS.metadata.uid === uid) continue;
      if (pods.some((p) => !isPodTerminal(p))) return true;
    }
    return false;
  }

  async function rolloutRecreate(s: Sync, podMap: Map<string, PodObject[]>) {
    let { newRS, oldRSs } = await allReplicaSets(s, false);
    let scaledDown = false;
    for (const rs of filterActive(oldRSs)) if (await scaleReplicaSet(s, rs, 0)) scaledDown = true;
    if (scaledDown) return syncRolloutStatus(s, newRS, oldRSs);
    if (oldPodsRunning(s, newRS, oldRSs, podMap)) return syncRolloutStatus(s, newRS, oldRSs);
    if (!newRS) ({ newRS, oldRSs } = await allReplicaSets(s, true));
    if (newRS) await scaleReplicaSet(s, newRS, desiredReplicas(s.d));
    if (deploymentComplete(s.d, s.d.status ?? {})) await cleanupDeployment(s, oldRSs);
    await syncRolloutStatus(s, newRS, oldRSs);
  }

  /** checkPausedConditions: Progressing Unknown while paused, so the pause does not count against the deadline. */
  async function checkPausedConditions(s: Sync) {
    if (!hasProgressDeadline(s.d)) return;
    const cond = getCondition(s.d.status, 'Progressing');
    if (cond?.reason === reasons.timedOut) return;
    const pausedCond = cond?.reason === reasons.paused;
    const status = structuredClone(s.d.status ?? {});
    if (s.d.spec?.paused && !pausedCond) setCondition(status, newCondition('Progressing', 'Unknown', reasons.paused, 'Deployment is paused', nowTimestamp()));
    else if (!s.d.spec?.paused && pausedCond) setCondition(status, newCondition('Progressing', 'Unknown', reasons.resumed, 'Deployment is resumed', nowTimestamp()));
    else return;
    await writeStatus(s, status);
  }

  /**
   * A conflict means the cache is behind a write the informer is about to
   * deliver, and that delivery enqueues the Deployment again: no retry needed.
   */
  async function reconcile(key: string): Promise<void> {
    try {
      await syncDeployment(key);
    } catch (e) {
      if (isConflict(e) && !isAlreadyExists(e)) return;
      throw e;
    }
  }

  async function syncDeployment(key: string): Promise<void> {
    const cached = dInformer.get(key);
    if (!cached) return;
    const s: Sync = { key, d: structuredClone(cached), rsList: [] };
    const d = s.d;
    if (!selectorOf(d).length) {
      ctx.events.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        await writeStatus(s, { ...(d.status ?? {}), observedGeneration: d.metadata.generation });
      }
      return;
    }
    s.rsList = (await replicaSetsFor(d)).sort(byCreationTimestamp);
    const podMap = podMapFor(d, s.rsList);
    if (d.metadata.deletionTimestamp) {
      const { newRS, oldRSs } = await allReplicaSets(s, false);
      return syncDeploymentStatus(s, newRS, oldRSs);
    }
    await checkPausedConditions(s);
    if (s.d.spec?.paused) return syncScale(s);
    {
      const { newRS, oldRSs } = await allReplicaSets(s, false);
      if (isScalingEvent(s.d, newRS && current(s, newRS), oldRSs)) return syncScale(s);
    }
    if (isRollingUpdate(s.d)) return rolloutRolling(s);
    return rolloutRecreate(s, podMap);
  }

  return {
    name: 'deployment',
    setup() {
      dInformer = ctx.factory.informer<DeploymentObject>(resourceTypes.deployments);
      rsInformer = ctx.factory.informer<ReplicaSetObject>(resourceTypes.replicasets);
      podInformer = ctx.factory.informer<PodObject>(resourceTypes.pods);
      addWorkloadIndexes(dInformer);
      addWorkloadIndexes(rsInformer);
      addWorkloadIndexes(podInformer);
      dInformer.on({ add: enqueue, update: (_o, cur) => enqueue(cur), delete: enqueue });
      rsInformer.on({ add: onReplicaSetAdded, update: onReplicaSetUpdated, delete: onReplicaSetDeleted });
      podInformer.on({ delete: onPodDeleted });
    },
    run() {
      for (const d of dInformer.list()) enqueue(d);
      log.info('started', { deployments: dInformer.list().length });
    },
    stop() {
      queue.shutdown();
      for (const t of progressChecks.values()) clearTimeout(t);
      progressChecks.clear();
    },
    idle: () => queue.idle(),
  };
}

