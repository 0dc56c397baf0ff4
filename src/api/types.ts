// kubernetes-types describes API objects as read-only; the server builds and
// changes them, so it works on mutable views of the same shapes.
import type * as core from 'kubernetes-types/core/v1.js';
import type * as apps from 'kubernetes-types/apps/v1.js';
import type * as discovery from 'kubernetes-types/discovery/v1.js';
import type * as meta from 'kubernetes-types/meta/v1.js';

export type DeepMutable<T> = T extends (infer U)[]
  ? DeepMutable<U>[]
  : T extends readonly (infer U)[]
    ? DeepMutable<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: DeepMutable<T[K]> }
      : T;

export type ObjectMeta = DeepMutable<meta.ObjectMeta>;
export type Service = DeepMutable<core.Service>;
export type ServiceSpec = DeepMutable<core.ServiceSpec>;
export type ServicePort = DeepMutable<core.ServicePort>;
export type Endpoints = DeepMutable<core.Endpoints>;
export type Pod = DeepMutable<core.Pod>;
export type PodSpec = DeepMutable<core.PodSpec>;
export type Container = DeepMutable<core.Container>;
export type Probe = DeepMutable<core.Probe>;
export type Namespace = DeepMutable<core.Namespace>;
export type Event = DeepMutable<core.Event>;
export type ConfigMap = DeepMutable<core.ConfigMap>;
export type ServiceAccount = DeepMutable<core.ServiceAccount>;
export type Node = DeepMutable<core.Node>;
export type Deployment = DeepMutable<apps.Deployment>;
export type ReplicaSet = DeepMutable<apps.ReplicaSet>;
export type DaemonSet = DeepMutable<apps.DaemonSet>;
export type EndpointSlice = DeepMutable<discovery.EndpointSlice>;

/** The plain-object shape every stored API object has. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/**
 * The same kinds as stored and served: metadata always present, and any
 * field the API holds. Informers, the client and the controllers work on these.
 */
export type Stored<T> = T & KubeObject;
export type ServiceObject = Stored<Service>;
export type EndpointsObject = Stored<Endpoints>;
export type EndpointSliceObject = Stored<EndpointSlice>;
export type PodObject = Stored<Pod>;
export type NodeObject = Stored<Node>;
export type NamespaceObject = Stored<Namespace>;
export type ConfigMapObject = Stored<ConfigMap>;
export type ServiceAccountObject = Stored<ServiceAccount>;
export type DeploymentObject = Stored<Deployment>;
export type ReplicaSetObject = Stored<ReplicaSet>;
export type DaemonSetObject = Stored<DaemonSet>;
