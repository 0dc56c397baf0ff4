// The ReplicaSet controller's status computation (pkg/controller/replicaset
// replica_set_utils.go), pure over the ReplicaSet and its active pods.
import { matchesSelector } from '../../api/selectors.js';
import { isPodAvailable, isPodReady } from './pods.js';
import type { PodObject, ReplicaSetObject } from './types.js';

export type ReplicaSetStatus = NonNullable<ReplicaSetObject['status']>;

/** calculateStatus: counts over the active pods, and ReplicaFailure while creating or deleting fails. */
export function calculateReplicaSetStatus(rs: ReplicaSetObject, activePods: PodObject[], manageError: Error | undefined, nowMs: number, now: string): ReplicaSetStatus {
  const status: ReplicaSetStatus = structuredClone(rs.status ?? { replicas: 0 });
  const templateLabels = Object.entries(rs.spec?.template?.metadata?.labels ?? {}).map(([key, v]) => ({ key, op: '=' as const, values: [v] as [string] }));
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of activePods) {
    if (matchesSelector(templateLabels, pod.metadata.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, rs.spec?.minReadySeconds, nowMs)) available++;
    }
  }
  const failure = status.conditions?.find((c) => c.type === 'ReplicaFailure');
  if (manageError && !failure) {
    const diff = activePods.length - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    status.conditions = [...(status.conditions ?? []), { type: 'ReplicaFailure', status: 'True', lastTransitionTime: now, reason, message: manageError.message }];
  } else if (!manageError && failure) {
    status.conditions = status.conditions!.filter((c) => c.type !== 'ReplicaFailure');
    if (!status.conditions.length) delete status.conditions;
  }
  status.replicas = activePods.length;
  status.fullyLabeledReplicas = fullyLabeled;
  status.readyReplicas = ready;
  status.availableReplicas = available;
  return status;
}

/** The status as Go serialises it (replicas always, the other counts omitempty). */
export function compactReplicaSetStatus(s: ReplicaSetStatus): ReplicaSetStatus {
  const out: ReplicaSetStatus = { replicas: s.replicas ?? 0 };
  if (s.fullyLabeledReplicas) out.fullyLabeledReplicas = s.fullyLabeledReplicas;
  if (s.readyReplicas) out.readyReplicas = s.readyReplicas;
  if (s.availableReplicas) out.availableReplicas = s.availableReplicas;
  if (s.observedGeneration) out.observedGeneration = s.observedGeneration;
  if (s.conditions?.length) out.conditions = s.conditions;
  return out;
}

export function replicaSetStatusEqual(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus | undefined): boolean {
  return JSON.stringify(compactReplicaSetStatus(a ?? { replicas: 0 })) === JSON.stringify(compactReplicaSetStatus(b ?? { replicas: 0 }));
}
