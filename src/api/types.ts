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
export type Node = DeepMutable<core.Node>;
export type Deployment = DeepMutable<apps.Deployment>;
export type ReplicaSet = DeepMutable<apps.ReplicaSet>;
export type DaemonSet = DeepMutable<apps.DaemonSet>;
export type EndpointSlice = DeepMutable<discovery.EndpointSlice>;
