// The apps/v1 and core/v1 shapes the workload controllers work on, as stored
// objects (metadata always present) so they fit the informers and the client.
import type { Deployment, KubeObject } from '../../api/types.js';

export type { DaemonSetObject, DeploymentObject, NodeObject, PodObject, ReplicaSetObject } from '../../api/types.js';

export type PodTemplateSpec = NonNullable<Deployment['spec']>['template'];
export type LabelSelector = NonNullable<Deployment['spec']>['selector'];
export type IntOrString = number | string;
export type OwnerReference = NonNullable<KubeObject['metadata']['ownerReferences']>[number];

/** Label and annotation keys the apps controllers own (k8s.io/api/apps/v1). */
export const podTemplateHashLabel = 'pod-template-hash';
export const controllerRevisionHashLabel = 'controller-revision-hash';
