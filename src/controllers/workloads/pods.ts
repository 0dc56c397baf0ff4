// Pod facts the workload controllers decide on (podutil and
// pkg/controller/controller_utils.go): readiness, availability after
// minReadySeconds, activity, the pod a template makes, and which pods go first
// when a controller scales down.
import type { KubeObject } from '../../api/object.js';
import type { PodObject, PodTemplateSpec } from './types.js';
import { newControllerRef } from './controller-ref.js';

type PodCondition = NonNullable<NonNullable<PodObject['status']>['conditions']>[number];

export function podReadyCondition(pod: PodObject): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: PodObject): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

const parseTime = (t: string | undefined): number => (t ? Date.parse(t) : NaN);

/** podutil.IsPodAvailable: ready, and ready for at least minReadySeconds. */
export function isPodAvailable(pod: PodObject, minReadySeconds: number | undefined, now: number): boolean {
  if (!isPodReady(pod)) return false;
  const min = minReadySeconds ?? 0;
  if (min === 0) return true;
  const since = parseTime(podReadyCondition(pod)?.lastTransitionTime);
  return !Number.isNaN(since) && since + min * 1000 < now;
}

/** When a ready pod becomes available (ms epoch), for requeueing; undefined when not ready. */
export function podAvailableAt(pod: PodObject, minReadySeconds: number | undefined): number | undefined {
  if (!isPodReady(pod)) return undefined;
  const since = parseTime(podReadyCondition(pod)?.lastTransitionTime);
  return Number.isNaN(since) ? undefined : since + (minReadySeconds ?? 0) * 1000;
}

export function isPodTerminal(pod: PodObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** controller.IsPodActive: not finished and not being deleted. */
export function isPodActive(pod: PodObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** controller.GetPodFromTemplate: labels, annotations and finalizers from the template, generateName `<owner>-`. */
export function podFromTemplate(
  template: PodTemplateSpec | undefined,
  owner: KubeObject,
  gvk: { apiVersion: string; kind: string },
  extraLabels: Record<string, string> = {},
): PodObject {
  const name = owner.metadata.name!;
  // getPodsPrefix: `<name>-` unless that is not a valid prefix (too long), then the name itself.
  const generateName = name.length + 1 <= 253 ? `${name}-` : name;
  const meta = template?.metadata ?? {};
  const pod: PodObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName,
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}), ...extraLabels },
      ownerReferences: [newControllerRef(owner, gvk)],
    },
    spec: structuredClone(template?.spec ?? { containers: [] }),
  };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

const phaseOrdinal: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: PodObject): number {
  const v = pod.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isInteger(n) ? n : 0;
}

function maxContainerRestarts(pod: PodObject): number {
  let max = 0;
  for (const s of pod.status?.containerStatuses ?? []) max = Math.max(max, s.restartCount ?? 0);
  return max;
}

/** podReadyTime: when a ready pod became ready; 0 (Go's zero time) otherwise. */
function readyTime(pod: PodObject): number {
  if (!isPodReady(pod)) return 0;
  const t = parseTime(podReadyCondition(pod)?.lastTransitionTime);
  return Number.isNaN(t) ? 0 : t;
}

/** Buckets ages by powers of two (LogarithmicScaleDown, on by default since 1.22). */
function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  const d1 = now - t1;
  const d2 = now - t2;
  // Go compares durations in nanoseconds.
  const r1 = d1 > 0 ? Math.floor(Math.log2(d1 * 1e6)) : -1;
  const r2 = d2 > 0 ? Math.floor(Math.log2(d2 * 1e6)) : -1;
  return r1 - r2;
}

/** Negative when a goes first: a zero time first, then the newer (by log-bucket), then by uid. */
function compareTimes(t1: number, t2: number, a: PodObject, b: PodObject, now: number): number {
  if (!t1 || !t2) return !t1 && t2 ? -1 : t1 && !t2 ? 1 : 0;
  const diff = logarithmicRankDiff(t1, t2, now);
  if (diff === 0) return (a.metadata.uid ?? '') < (b.metadata.uid ?? '') ? -1 : (a.metadata.uid ?? '') > (b.metadata.uid ?? '') ? 1 : 0;
  return diff < 0 ? -1 : 1;
}

/**
 * controller.ActivePodsWithRanks.Less as a comparator: pods that should go
 * first sort first. `rank` counts the owner's related pods on the same node.
 */
export function comparePodsForDeletion(a: PodObject, b: PodObject, rankA: number, rankB: number, now: number): number {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  // 1. Unassigned < assigned.
  if (na !== nb && (!na || !nb)) return !na ? -1 : 1;
  // 2. Pending < Unknown < Running.
  const pa = phaseOrdinal[a.status?.phase ?? ''] ?? 0;
  const pb = phaseOrdinal[b.status?.phase ?? ''] ?? 0;
  if (pa !== pb) return pa - pb;
  // 3. Not ready < ready.
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  // 4. Lower pod-deletion-cost < higher.
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  // 5. Doubled up (more related pods on the node) < not doubled up.
  if (rankA !== rankB) return rankB - rankA;
  // 6. Ready for less time < ready for longer.
  if (ra && rb) {
    const ta = readyTime(a);
    const tb = readyTime(b);
    if (ta !== tb) {
      const c = compareTimes(ta, tb, a, b, now);
      if (c !== 0) return c;
    }
  }
  // 7. More container restarts < fewer.
  const xa = maxContainerRestarts(a);
  const xb = maxContainerRestarts(b);
  if (xa !== xb) return xb - xa;
  // 8. Newer < older.
  const ta = parseTime(a.metadata.creationTimestamp) || 0;
  const tb = parseTime(b.metadata.creationTimestamp) || 0;
  if (ta !== tb) {
    const c = compareTimes(ta, tb, a, b, now);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * getPodsToDelete: the `count` pods to remove, ranked as upstream;
 * `relatedPods` are the pods of every ReplicaSet of the same owner.
 */
export function podsToDelete(pods: PodObject[], relatedPods: PodObject[], count: number, now = Date.now()): PodObject[] {
  if (count >= pods.length) return pods.slice(0, count);
  const onNode = new Map<string, number>();
  for (const p of relatedPods) {
    if (!isPodActive(p)) continue;
    const n = p.spec?.nodeName ?? '';
    onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const ranked = pods.map((pod, i) => ({ pod, i, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => comparePodsForDeletion(x.pod, y.pod, x.rank, y.rank, now) || x.i - y.i);
  return ranked.slice(0, count).map((r) => r.pod);
}
