// The DaemonSet controller's decisions (pkg/controller/daemon) as pure
// functions: which nodes should run a daemon pod (node selector, required node
// affinity, taints and the tolerations every daemon pod gets), what to create
// and delete per node, how a rolling update advances within maxUnavailable /
// maxSurge, and the status counts.
import { scaledValue } from './intstr.js';
import { isPodAvailable, isPodReady } from './pods.js';
import { controllerRevisionHashLabel, type DaemonSetObject, type NodeObject, type PodObject, type PodTemplateSpec } from './types.js';

type PodSpec = NonNullable<PodObject['spec']>;
type Toleration = NonNullable<PodSpec['tolerations']>[number];
type Taint = NonNullable<NonNullable<NodeObject['spec']>['taints']>[number];
type Affinity = NonNullable<PodSpec['affinity']>;
type NodeSelectorTerm = NonNullable<NonNullable<NonNullable<Affinity['nodeAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>['nodeSelectorTerms']>[number];
type NodeSelectorRequirement = NonNullable<NodeSelectorTerm['matchExpressions']>[number];

export const taintNotReady = 'node.kubernetes.io/not-ready';
export const taintUnreachable = 'node.kubernetes.io/unreachable';

/** Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator ?? '';
  if (op === '' || op === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return op === 'Exists';
}

export function findUntoleratedTaint(taints: Taint[], tolerations: Toleration[] | undefined, filter: (t: Taint) => boolean): Taint | undefined {
  return taints.filter(filter).find((taint) => !(tolerations ?? []).some((t) => tolerates(t, taint)));
}

/** AddOrUpdateDaemonPodTolerations: daemon pods survive node problems and ignore pressure taints. */
export function addDaemonPodTolerations(spec: PodSpec): void {
  const add = (t: Toleration) => {
    const list = (spec.tolerations ??= []);
    const i = list.findIndex((x) => x.key === t.key && x.effect === t.effect && (x.operator ?? 'Equal') === t.operator);
    if (i >= 0) list[i] = t;
    else list.push(t);
  };
  add({ key: taintNotReady, operator: 'Exists', effect: 'NoExecute' });
  add({ key: taintUnreachable, operator: 'Exists', effect: 'NoExecute' });
  add({ key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' });
  add({ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' });
  add({ key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' });
  add({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' });
  if (spec.hostNetwork) add({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined;
  switch (r.operator) {
    case 'In':
      return has && (r.values ?? []).includes(value);
    case 'NotIn':
      return !has || !(r.values ?? []).includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || !/^-?\d+$/.test(value) || (r.values ?? []).length !== 1) return false;
      const v = Number(value);
      const bound = Number(r.values![0]);
      return r.operator === 'Gt' ? v > bound : v < bound;
    }
    default:
      return false;
  }
}

/** NodeSelectorTerms are ORed; within a term everything is ANDed; an empty term matches nothing. */
export function nodeSelectorTermsMatch(terms: NodeSelectorTerm[], node: NodeObject): boolean {
  const labels = node.metadata.labels ?? {};
  return terms.some((term) => {
    const exprs = term.matchExpressions ?? [];
    const fields = term.matchFields ?? [];
    if (!exprs.length && !fields.length) return false;
    return exprs.every((r) => requirementMatches(r, labels[r.key])) && fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.metadata.name));
  });
}

/** nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required node affinity. */
export function requiredNodeAffinityMatches(spec: PodSpec | undefined, node: NodeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) return nodeSelectorTermsMatch(required.nodeSelectorTerms ?? [], node);
  return true;
}

/**
 * The node's taints, plus the NoSchedule taint the node lifecycle controller
 * puts on a node that is not Ready (TaintNodesByCondition) when it is not
 * there yet: a node that is not Ready gets no new daemon pods, and keeps the
 * ones it has.
 */
export function effectiveTaints(node: NodeObject): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const key = ready?.status === 'False' ? taintNotReady : taintUnreachable;
    if (!taints.some((t) => (t.key === taintNotReady || t.key === taintUnreachable) && t.effect === 'NoSchedule')) taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

/** NodeShouldRunDaemonPod: whether a daemon pod should be created here, and whether an existing one may stay. */
export function nodeShouldRunDaemonPod(node: NodeObject, ds: DaemonSetObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = structuredClone(ds.spec?.template?.spec ?? { containers: [] });
  addDaemonPodTolerations(spec);
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!requiredNodeAffinityMatches(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = effectiveTaints(node);
  const untolerated = findUntoleratedTaint(taints, spec.tolerations, (t) => t.effect === 'NoExecute' || t.effect === 'NoSchedule');
  if (untolerated) {
    const noExecute = findUntoleratedTaint(taints, spec.tolerations, (t) => t.effect === 'NoExecute');
    return { shouldRun: false, shouldContinueRunning: !noExecute };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** util.CreatePodTemplate: the template plus daemon tolerations and the revision hash label. */
export function daemonPodTemplate(template: PodTemplateSpec | undefined, hash: string): PodTemplateSpec {
  const t = structuredClone(template ?? { spec: { containers: [] } });
  t.spec ??= { containers: [] };
  addDaemonPodTolerations(t.spec);
  t.metadata = { ...(t.metadata ?? {}), labels: { ...(t.metadata?.labels ?? {}), [controllerRevisionHashLabel]: hash } };
  return t;
}

/** util.ReplaceDaemonSetPodNodeNameNodeAffinity: pin the pod to one node by metadata.name. */
export function replaceNodeNameAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const term: NodeSelectorTerm = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  const a = structuredClone(affinity ?? {});
  a.nodeAffinity ??= {};
  const req = a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (!req) a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [term] };
  else req.nodeSelectorTerms = [term];
  return a;
}

/** util.GetTargetNodeName: spec.nodeName, or the node the affinity pins the pod to. */
export function targetNodeName(pod: PodObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

/** podByCreationTimestampAndPhase: scheduled first, then oldest, then by name. */
export function byCreationTimestampAndPhase(a: PodObject, b: PodObject): number {
  const sa = !!a.spec?.nodeName;
  const sb = !!b.spec?.nodeName;
  if (sa !== sb) return sa ? -1 : 1;
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta === tb) return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
  return ta - tb;
}

export const isPodUpdated = (pod: PodObject, hash: string) => !!hash && pod.metadata.labels?.[controllerRevisionHashLabel] === hash;

const isRollingUpdate = (ds: DaemonSetObject) => (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

/** util.SurgeCount / util.UnavailableCount: both percentages round up for DaemonSets. */
export function surgeCount(ds: DaemonSetObject, numberToSchedule: number): number {
  if (!isRollingUpdate(ds)) return 0;
  return scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge ?? 0, numberToSchedule, true);
}

export function unavailableCount(ds: DaemonSetObject, numberToSchedule: number): number {
  if (!isRollingUpdate(ds)) return 0;
  return scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, numberToSchedule, true);
}

export const allowsSurge = (ds: DaemonSetObject) => isRollingUpdate(ds) && surgeCount(ds, 1) > 0;

/** What the manage loop does on one node. `failed` are failed pods to delete (the controller applies backoff). */
export interface NodePlan {
  create: boolean;
  delete: PodObject[];
  failed: PodObject[];
}

/** podsShouldBeOnNode. */
export function planNode(node: NodeObject, pods: PodObject[] | undefined, ds: DaemonSetObject, hash: string, nowMs: number): NodePlan {
  const plan: NodePlan = { create: false, delete: [], failed: [] };
  const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
  const exists = pods !== undefined && pods.length > 0;
  if (shouldRun && !exists) {
    plan.create = true;
  } else if (shouldContinueRunning) {
    const running: PodObject[] = [];
    for (const pod of pods ?? []) {
      if (pod.metadata.deletionTimestamp) continue;
      if (pod.status?.phase === 'Failed') plan.failed.push(pod);
      else running.push(pod);
    }
    running.sort(byCreationTimestampAndPhase);
    if (!allowsSurge(ds)) {
      // One daemon pod per node: keep the oldest.
      plan.delete.push(...running.slice(1));
    } else {
      // Two pods only while the new one is not yet available and the old one still serves.
      let oldestNew: PodObject | undefined;
      let oldestOld: PodObject | undefined;
      for (const pod of running) {
        if (pod.metadata.labels?.[controllerRevisionHashLabel] === hash) {
          if (!oldestNew) {
            oldestNew = pod;
            continue;
          }
        } else if (!oldestOld) {
          oldestOld = pod;
          continue;
        }
        plan.delete.push(pod);
      }
      if (oldestNew && oldestOld) {
        if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds, nowMs)) plan.delete.push(oldestOld);
      }
    }
  } else if (exists) {
    for (const pod of pods ?? []) if (!pod.metadata.deletionTimestamp) plan.delete.push(pod);
  }
  return plan;
}

/** findUpdatedPodsOnNode: at most one current and one old live pod, else not ok. */
export function updatedPodsOnNode(pods: PodObject[], hash: string): { newPod?: PodObject; oldPod?: PodObject; ok: boolean } {
  let newPod: PodObject | undefined;
  let oldPod: PodObject | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (isPodUpdated(pod, hash)) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { newPod, oldPod, ok: true };
}

/**
 * rollingUpdate: old pods to delete (maxSurge 0: within maxUnavailable, the
 * manage loop then creates the replacement) and nodes that get a surge pod.
 */
export function planRollingUpdate(
  ds: DaemonSetObject,
  nodes: NodeObject[],
  nodeToPods: Map<string, PodObject[]>,
  hash: string,
  nowMs: number,
): { deletePods: PodObject[]; createOn: string[] } {
  const byNode = new Map(nodeToPods);
  let desired = 0;
  for (const node of nodes) {
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
    desired++;
    if (!byNode.has(node.metadata.name!)) byNode.set(node.metadata.name!, []);
  }
  const maxSurge = surgeCount(ds, desired);
  let maxUnavailable = unavailableCount(ds, desired);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  const minReady = ds.spec?.minReadySeconds;
  const available = (p: PodObject) => isPodAvailable(p, minReady, nowMs);
  const nodeByName = new Map(nodes.map((n) => [n.metadata.name!, n]));

  if (maxSurge === 0) {
    let unavailable = 0;
    const allowedReplacements: PodObject[] = [];
    const candidates: PodObject[] = [];
    for (const [, pods] of byNode) {
      const { newPod, oldPod, ok } = updatedPodsOnNode(pods, hash);
      if (!ok) {
        unavailable++;
        continue;
      }
      if ((!oldPod && !newPod) || (oldPod && newPod)) unavailable++;
      else if (newPod) {
        if (!available(newPod)) unavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) allowedReplacements.push(oldPod);
        else if (unavailable >= maxUnavailable) continue;
        else candidates.push(oldPod);
      }
    }
    const remaining = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    return { deletePods: [...allowedReplacements, ...candidates.slice(0, remaining)], createOn: [] };
  }

  const deletePods: PodObject[] = [];
  const shouldNotRun: PodObject[] = [];
  const candidateNodes: string[] = [];
  const allowedNodes: string[] = [];
  let surging = 0;
  let availableCount = 0;
  for (const [nodeName, pods] of byNode) {
    const { newPod, oldPod, ok } = updatedPodsOnNode(pods, hash);
    if (!ok) {
      surging++;
      continue;
    }
    if (oldPod) {
      if (available(oldPod)) availableCount++;
    } else if (newPod && available(newPod)) availableCount++;
    if (!oldPod) continue;
    const node = nodeByName.get(nodeName);
    const shouldRun = node ? nodeShouldRunDaemonPod(node, ds).shouldRun : false;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun) deletePods.push(oldPod);
        else allowedNodes.push(nodeName);
      } else {
        if (!shouldRun) {
          shouldNotRun.push(oldPod);
          continue;
        }
        if (surging >= maxSurge) continue;
        candidateNodes.push(nodeName);
      }
    } else {
      if (!available(newPod)) {
        surging++;
        continue;
      }
      deletePods.push(oldPod);
    }
  }
  // With surge the owner expects full availability: delete pods on nodes that no longer qualify only as others come up.
  const deletable = Math.min(availableCount - desired, shouldNotRun.length);
  if (deletable > 0) deletePods.push(...shouldNotRun.slice(0, deletable));
  const remaining = Math.min(Math.max(0, maxSurge - surging), candidateNodes.length);
  return { deletePods, createOn: [...allowedNodes, ...candidateNodes.slice(0, remaining)] };
}

export type DaemonSetStatus = NonNullable<DaemonSetObject['status']>;

/** updateDaemonSetStatus's counts. */
export function calculateDaemonSetStatus(ds: DaemonSetObject, nodes: NodeObject[], nodeToPods: Map<string, PodObject[]>, hash: string, nowMs: number): DaemonSetStatus {
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let updated = 0;
  let available = 0;
  for (const node of nodes) {
    const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
    const pods = nodeToPods.get(node.metadata.name!) ?? [];
    const scheduled = pods.length > 0;
    if (shouldRun) {
      desired++;
      if (!scheduled) continue;
      current++;
      const pod = [...pods].sort(byCreationTimestampAndPhase)[0];
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, ds.spec?.minReadySeconds, nowMs)) available++;
      }
      if (isPodUpdated(pod, hash)) updated++;
    } else if (scheduled) misscheduled++;
  }
  return {
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: desired - available,
  };
}
