// One pass of the StatefulSet controller (stateful_set_control.go
// updateStatefulSet) as a pure decision over the set, its pods and its
// current and update revisions:
//
// 1. Each ordinal in [start, start+replicas): a failed or succeeded pod is
//    deleted (to be made again next pass), a missing one created at its
//    revision, a pod whose identity or claims drifted repaired.
// 2. Pods beyond the range ("condemned") are deleted, highest ordinal first.
// 3. RollingUpdate: the highest-ordinal pod at or above the partition that is
//    not at the update revision is deleted (it comes back at the new one);
//    OnDelete leaves pods alone until someone deletes them.
//
// Under OrderedReady ("monotonic") a pass stops at the first thing to wait
// for: a pod just created, terminating, or not yet Running, Ready and
// available; scale-down removes one pod per pass and only when the rest are
// healthy (or it is the first unhealthy one). Parallel runs each phase's
// actions all at once and never waits within a phase.
import type { ControllerRevisionObject } from '../workloads/history.js';
import type { PodObject } from '../workloads/types.js';
import {
  identityMatches,
  inOrdinalRange,
  isCreated,
  isFailed,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  isUnavailable,
  newVersionedStatefulSetPod,
  ordinalOf,
  podRevision,
  startOrdinal,
  storageMatches,
  updateIdentity,
  updateStorage,
} from './identity.js';
import { applyRevision } from './revisions.js';
import { countReplicas } from './status.js';
import type { StatefulSetObject, StatefulSetStatus } from './types.js';

export type PodAction =
  | { type: 'create'; pod: PodObject }
  | { type: 'delete'; pod: PodObject }
  /** The pod with its identity labels and claim volumes repaired, to write back. */
  | { type: 'update'; pod: PodObject };

export interface StatefulSetPlan {
  /** The status this pass reports (before the rolling update's deletion is counted). */
  status: StatefulSetStatus;
  /** OrderedReady: a phase's actions run one after another, stopping at the first failure. Parallel: all at once. */
  monotonic: boolean;
  /** Phase 1, the ordinals the set wants. */
  replicas: PodAction[];
  /** Phase 2, the pods beyond them. */
  condemned: PodAction[];
  /** Phase 3, the rolling update's next deletion. */
  update?: PodAction;
  /** What an OrderedReady pass stopped to wait for. */
  waitingFor?: string;
}

export function planStatefulSet(
  set: StatefulSetObject,
  pods: PodObject[],
  current: ControllerRevisionObject,
  update: ControllerRevisionObject,
  collisionCount: number,
  now: number,
): StatefulSetPlan {
  const currentSet = applyRevision(set, current);
  const updateSet = applyRevision(set, update);
  const currentName = current.metadata.name!;
  const updateName = update.metadata.name!;
  const minReady = set.spec?.minReadySeconds ?? 0;
  const start = startOrdinal(set);
  const count = set.spec?.replicas ?? 1;

  const replicas: PodObject[] = new Array(count);
  const condemned: PodObject[] = [];
  for (const pod of pods) {
    if (inOrdinalRange(pod, set)) replicas[ordinalOf(pod) - start] = pod;
    else if (ordinalOf(pod) >= 0) condemned.push(pod);
    // A name without an ordinal is not the set's to manage.
  }
  for (let i = 0; i < count; i++) replicas[i] ??= newVersionedStatefulSetPod(currentSet, updateSet, currentName, updateName, start + i);
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));

  const unavailable = (pod: PodObject) => isUnavailable(pod, minReady, now);
  const firstUnavailable = replicas.find(unavailable) ?? [...condemned].reverse().find(unavailable);
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata.generation,
    currentRevision: currentName,
    updateRevision: updateName,
    collisionCount,
    ...countReplicas([...replicas, ...condemned], minReady, currentName, updateName, now),
  };
  const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
  const plan: StatefulSetPlan = { status, monotonic, replicas: [], condemned: [] };
  // Being deleted: only report; the garbage collector removes the pods.
  if (set.metadata.deletionTimestamp) return plan;

  /** processReplica; returns what an OrderedReady pass must wait for. */
  const processReplica = (pod: PodObject): string | undefined => {
    const name = pod.metadata.name;
    // Succeeded counts too: a pod stopped by its node ends by its exit code, and must run again either way.
    if (isFailed(pod) || isSucceeded(pod)) {
      if (!isTerminating(pod)) plan.replicas.push({ type: 'delete', pod });
      return `Pod ${name} to be replaced`;
    }
    if (!isCreated(pod)) {
      plan.replicas.push({ type: 'create', pod });
      if (monotonic) return `Pod ${name} to be Running and Ready`;
    }
    if (monotonic) {
      if (isTerminating(pod)) return `Pod ${name} to terminate`;
      if (!isRunningAndReady(pod)) return `Pod ${name} to be Running and Ready`;
      if (!isRunningAndAvailable(pod, minReady, now)) return `Pod ${name} to be available`;
    }
    if (isCreated(pod) && !(identityMatches(set, pod) && storageMatches(set, pod))) {
      const repaired = structuredClone(pod);
      if (!identityMatches(updateSet, repaired)) updateIdentity(updateSet, repaired);
      if (!storageMatches(updateSet, repaired)) updateStorage(updateSet, repaired);
      plan.replicas.push({ type: 'update', pod: repaired });
    }
    return undefined;
  };

  for (const pod of replicas) {
    const wait = processReplica(pod);
    if (wait && monotonic) return { ...plan, waitingFor: wait };
  }

  /** processCondemned; returns what an OrderedReady pass must wait for (including the deletion it just asked for). */
  const processCondemned = (pod: PodObject): string | undefined => {
    const name = pod.metadata.name;
    if (isTerminating(pod)) return monotonic ? `Pod ${name} to terminate` : undefined;
    if (monotonic && pod !== firstUnavailable) {
      if (!isRunningAndReady(pod)) return `Pod ${firstUnavailable?.metadata.name} to be Running and Ready before scaling down`;
      if (!isRunningAndAvailable(pod, minReady, now)) return `Pod ${firstUnavailable?.metadata.name} to be available before scaling down`;
    }
    plan.condemned.push({ type: 'delete', pod });
    return `Pod ${name} to terminate`;
  };

  for (const pod of condemned) {
    const wait = processCondemned(pod);
    if (wait && monotonic) return { ...plan, waitingFor: wait };
  }

  // OnDelete: pods move to the update revision only when someone deletes them.
  const strategy = set.spec?.updateStrategy;
  if (strategy?.type === 'OnDelete') return plan;

  // Delete the highest ordinal not at the update revision, one at a time, waiting for each to be available again.
  const updateMin = strategy?.rollingUpdate ? (strategy.rollingUpdate.partition ?? 0) : 0;
  for (let target = replicas.length - 1; target >= updateMin; target--) {
    const pod = replicas[target]!;
    if (podRevision(pod) !== updateName && !isTerminating(pod)) return { ...plan, update: { type: 'delete', pod } };
    if (unavailable(pod)) return { ...plan, waitingFor: `Pod ${pod.metadata.name} to update` };
  }
  return plan;
}
