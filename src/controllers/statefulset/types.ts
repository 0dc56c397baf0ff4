// The apps/v1 StatefulSet as stored, for the informer, the client and the
// controller's decisions, and the label keys the controller owns.
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { DeepMutable, Stored } from '../../api/types.js';

export type StatefulSetObject = Stored<DeepMutable<StatefulSet>>;
export type StatefulSetSpec = NonNullable<StatefulSetObject['spec']>;
export type StatefulSetStatus = NonNullable<StatefulSetObject['status']>;

/** apps/v1 StatefulSetPodNameLabel: each pod's own name, so a Service can select exactly one pod. */
export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
/** apps/v1 PodIndexLabel (the PodIndexLabel gate is on by default): the pod's ordinal. */
export const podIndexLabel = 'apps.kubernetes.io/pod-index';
