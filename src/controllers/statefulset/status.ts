// StatefulSet status (stateful_set_control.go updateStatus, stateful_set_utils.go
// completeRollingUpdate / inconsistentStatus): counts over the set's pods, and
// when a rolling update is complete the update revision becomes current.
import type { PodObject } from '../workloads/types.js';
import { isCreated, isRunningAndAvailable, isRunningAndReady, isTerminating, podRevision } from './identity.js';
import type { StatefulSetObject, StatefulSetStatus } from './types.js';

/** computeReplicaStatus over the pods: created, ready, available, and at the current / update revision (not terminating). */
export function countReplicas(pods: PodObject[], minReadySeconds: number, currentRevision: string, updateRevision: string, now: number) {
  const counts = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const pod of pods) {
    if (isCreated(pod)) counts.replicas++;
    if (isRunningAndReady(pod)) {
      counts.readyReplicas++;
      if (isRunningAndAvailable(pod, minReadySeconds, now)) counts.availableReplicas++;
    }
    if (isCreated(pod) && !isTerminating(pod)) {
      const revision = podRevision(pod);
      if (revision === currentRevision) counts.currentReplicas++;
      if (revision === updateRevision) counts.updatedReplicas++;
    }
  }
  return counts;
}

/**
 * completeRollingUpdate: under RollingUpdate, once every wanted replica exists,
 * is ready and is at the update revision, that revision is the current one.
 */
export function completeRollingUpdate(set: StatefulSetObject, status: StatefulSetStatus): void {
  const replicas = set.spec?.replicas ?? 1;
  if (
    set.spec?.updateStrategy?.type === 'RollingUpdate' &&
    (status.updatedReplicas ?? 0) === replicas &&
    (status.readyReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas
  ) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}

/** inconsistentStatus: whether the stored status differs from the computed one in what the controller tracks. */
export function inconsistentStatus(set: StatefulSetObject, status: StatefulSetStatus): boolean {
  const old = set.status ?? ({} as StatefulSetStatus);
  return (
    (status.observedGeneration ?? 0) > (old.observedGeneration ?? 0) ||
    (status.replicas ?? 0) !== (old.replicas ?? 0) ||
    (status.currentReplicas ?? 0) !== (old.currentReplicas ?? 0) ||
    (status.readyReplicas ?? 0) !== (old.readyReplicas ?? 0) ||
    (status.updatedReplicas ?? 0) !== (old.updatedReplicas ?? 0) ||
    (status.currentRevision ?? '') !== (old.currentRevision ?? '') ||
    (status.availableReplicas ?? 0) !== (old.availableReplicas ?? 0) ||
    (status.updateRevision ?? '') !== (old.updateRevision ?? '')
  );
}

/** The status as Go serialises StatefulSetStatus: replicas and availableReplicas always, the rest omitempty (collisionCount is a pointer). */
export function compactStatefulSetStatus(s: StatefulSetStatus): StatefulSetStatus {
  const out: StatefulSetStatus = {} as StatefulSetStatus;
  if (s.observedGeneration) out.observedGeneration = s.observedGeneration;
  out.replicas = s.replicas ?? 0;
  if (s.readyReplicas) out.readyReplicas = s.readyReplicas;
  if (s.currentReplicas) out.currentReplicas = s.currentReplicas;
  if (s.updatedReplicas) out.updatedReplicas = s.updatedReplicas;
  if (s.currentRevision) out.currentRevision = s.currentRevision;
  if (s.updateRevision) out.updateRevision = s.updateRevision;
  if (s.collisionCount != null) out.collisionCount = s.collisionCount;
  if (s.conditions?.length) out.conditions = s.conditions;
  out.availableReplicas = s.availableReplicas ?? 0;
  return out;
}
