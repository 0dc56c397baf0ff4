// The disruption controller (pkg/controller/disruption): keeps each
// PodDisruptionBudget's status — expected pods, desired and current healthy,
// disruptions allowed, the DisruptionAllowed condition — current as its pods
// come, go and turn ready, and forgets evictions the pods did not follow
// within the deletion timeout. The eviction subresource reads that status.
//
// The scale behind a percentage comes from the pods' controllers: a
// Deployment (through its ReplicaSet), a bare ReplicaSet, or a StatefulSet,
// read from the shared caches as upstream's finders do.
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import { isConflict, isNotFound, resourceTypes } from '../../client/client.js';
import { keyOf, type Informer } from '../../client/informer.js';
import type { KubeObject } from '../../api/object.js';
import { errorMessage } from '../../util/errors.js';
import { labelSelectorMatches, isEmptySelector } from '../../registry/workloads/validation.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';
import { getControllerOf } from '../workloads/controller-ref.js';
import { addWorkloadIndexes, namespaceIndex } from '../workloads/shell.js';
import type { DeploymentObject, PodObject, ReplicaSetObject } from '../workloads/types.js';
import { countHealthyPods, disruptedPodMap, expectedPodCount, failSafeStatus, nextBudgetStatus, type ScaleFinder } from './status.js';

type BudgetObject = PodDisruptionBudget & KubeObject;
type StatefulSetObject = StatefulSet & KubeObject;

const groupOf = (ref: OwnerReference) => (ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0]! : '');

export function createDisruptionController(ctx: ControllerContext): Controller {
  const budgetClient = ctx.client.resource<BudgetObject>(resourceTypes.poddisruptionbudgets);
  const { queue, log } = queueFor('disruption', reconcile);
  let budgetInformer: Informer<BudgetObject>;
  let podInformer: Informer<PodObject>;
  let replicaSetInformer: Informer<ReplicaSetObject>;
  let deploymentInformer: Informer<DeploymentObject>;
  let statefulSetInformer: Informer<StatefulSetObject>;

  const enqueue = (pdb: BudgetObject) => queue.add(keyOf(pdb));

  /** GetPodPodDisruptionBudgets: the budgets selecting a pod (a nil or empty selector selects none). */
  function budgetsFor(pod: PodObject): BudgetObject[] {
    if (!pod.metadata.labels || !Object.keys(pod.metadata.labels).length) return [];
    return budgetInformer.byIndex(namespaceIndex, pod.metadata.namespace ?? '').filter((b) => {
      const selector = b.spec?.selector;
      return !!selector && !isEmptySelector(selector) && labelSelectorMatches(selector, pod.metadata.labels);
    });
  }

  /** getPdbForPod: one budget per pod; more than one is reported on the pod and the first is used. */
  function onPod(pod: PodObject) {
    const budgets = budgetsFor(pod);
    if (!budgets.length) return;
    if (budgets.length > 1) {
      const msg = `Pod "${pod.metadata.namespace}"/"${pod.metadata.name}" matches multiple PodDisruptionBudgets.  Chose "${budgets[0]!.metadata.name}" arbitrarily.`;
      ctx.events.event(pod, 'Warning', 'MultiplePodDisruptionBudgets', msg);
    }
    enqueue(budgets[0]!);
  }

  // ---- finders: a pod's controller and its scale --------------------------

  function fromCache<T extends KubeObject>(informer: Informer<T>, ref: OwnerReference, namespace: string): T | undefined {
    const obj = informer.get(`${namespace}/${ref.name}`);
    return obj && obj.metadata.uid === ref.uid ? obj : undefined;
  }

  const findScale: ScaleFinder = (ref, namespace) => {
    const group = groupOf(ref);
    if (ref.kind === 'ReplicaSet' && (group === 'apps' || group === 'extensions')) {
      const rs = fromCache(replicaSetInformer, ref, namespace);
      if (!rs) return undefined;
      const owner = getControllerOf(rs);
      // getPodDeployment: a ReplicaSet a Deployment controls counts as that Deployment.
      if (owner?.kind === 'Deployment') {
        if (groupOf(owner) !== 'apps' && groupOf(owner) !== 'extensions') return undefined;
        const deployment = fromCache(deploymentInformer, owner, namespace);
        return deployment ? { uid: deployment.metadata.uid!, scale: deployment.spec?.replicas ?? 1 } : undefined;
      }
      return { uid: rs.metadata.uid!, scale: rs.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') {
      const set = fromCache(statefulSetInformer, ref, namespace);
      return set ? { uid: set.metadata.uid!, scale: set.spec?.replicas ?? 1 } : undefined;
    }
    // getScaleController: the kinds kubesvc serves with a scale subresource are those above; any other has none.
    const served = Object.values(resourceTypes).find((t) => t.kind === ref.kind && t.group === group);
    if (!served) throw new Error(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
    throw new Error(`${served.resource}${served.group ? `.${served.group}` : ''} does not implement the scale subresource`);
  };

  // ---- sync ---------------------------------------------------------------

  async function writeStatus(pdb: BudgetObject, status: PodDisruptionBudget['status']) {
    // Not retried here: a conflict means a newer budget is on its way, which enqueues the key again.
    await budgetClient.updateStatus({ ...pdb, status } as BudgetObject);
  }

  async function trySync(pdb: BudgetObject): Promise<void> {
    const selector = pdb.spec?.selector;
    const pods = selector
      ? podInformer.byIndex(namespaceIndex, pdb.metadata.namespace ?? '').filter((p) => labelSelectorMatches(selector, p.metadata.labels))
      : [];
    if (!pods.length) ctx.events.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    let expected;
    try {
      expected = expectedPodCount(pdb, pods, findScale);
    } catch (e) {
      ctx.events.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${errorMessage(e)}`);
      throw e;
    }
    if (expected.unmanagedPods.length) {
      ctx.events.event(
        pdb,
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${formatSelector(pdb)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const now = Date.now();
    const { disruptedPods, overdue, recheckAt } = disruptedPodMap(pdb, pods, now);
    for (const pod of overdue) {
      // Upstream's message names the namespace twice, as its format string does.
      ctx.events.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.namespace} to be deleted but it wasn't`);
    }
    const currentHealthy = countHealthyPods(pods, disruptedPods, now);
    const status = nextBudgetStatus(pdb, { currentHealthy, desiredHealthy: expected.desiredHealthy, expectedCount: expected.expectedCount, disruptedPods }, new Date(now));
    if (status) await writeStatus(pdb, status);
    if (recheckAt !== undefined) queue.addAfter(keyOf(pdb), Math.max(0, recheckAt - now));
  }

  async function reconcile(key: string): Promise<void> {
    const pdb = budgetInformer.get(key);
    if (!pdb) return;
    try {
      await trySync(pdb);
    } catch (e) {
      // A conflict is retried as is; anything else first makes the budget allow nothing.
      if (isConflict(e)) throw e;
      log.warn('failed to sync PDB', { key, error: errorMessage(e) });
      try {
        await writeStatus(pdb, failSafeStatus(pdb, errorMessage(e), new Date()));
      } catch (writeError) {
        if (!isNotFound(writeError)) throw writeError;
      }
    }
  }

  return {
    name: 'disruption',
    setup() {
      budgetInformer = ctx.factory.informer<BudgetObject>(resourceTypes.poddisruptionbudgets);
      podInformer = ctx.factory.informer<PodObject>(resourceTypes.pods);
      replicaSetInformer = ctx.factory.informer<ReplicaSetObject>(resourceTypes.replicasets);
      deploymentInformer = ctx.factory.informer<DeploymentObject>(resourceTypes.deployments);
      statefulSetInformer = ctx.factory.informer<StatefulSetObject>(resourceTypes.statefulsets);
      addWorkloadIndexes(budgetInformer);
      addWorkloadIndexes(podInformer);
      budgetInformer.on({ add: enqueue, update: (_old, cur) => enqueue(cur), delete: enqueue });
      podInformer.on({ add: onPod, update: (_old, cur) => onPod(cur), delete: onPod });
    },
    run() {
      for (const pdb of budgetInformer.list()) enqueue(pdb);
      log.info('started', { poddisruptionbudgets: budgetInformer.list().length });
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}

/** The selector as Go's %v prints a *metav1.LabelSelector (its generated String()) in the UnmanagedPods event. */
function formatSelector(pdb: PodDisruptionBudget): string {
  const sel = pdb.spec?.selector;
  if (!sel) return 'nil';
  const labels = Object.entries(sel.matchLabels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}: ${v},`)
    .join('');
  const exprs = (sel.matchExpressions ?? []).map((r) => `LabelSelectorRequirement{Key:${r.key},Operator:${r.operator},Values:[${(r.values ?? []).join(' ')}],},`).join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}
