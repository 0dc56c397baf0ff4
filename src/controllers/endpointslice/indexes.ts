// Informer indexes the endpoint controllers share, so that a pod change finds
// its Services and a Service finds its pods and slices without scanning
// everything. Pods are indexed by namespace-qualified label pair (finer than
// by namespace: a Service's pods are one bucket of its selector, filtered).
// The same name always carries the same function: controllers sharing an
// informer may each register it.
import type { EndpointSlice, Pod, Service } from './pod-endpoints.js';
import type { Informer } from '../../client/informer.js';
import { labelServiceName } from '../../api/labels.js';
import { podEndpointsChanged, selectorMatches, serviceSelector } from './pod-endpoints.js';

export const podLabelIndex = 'kubesvc.io/pod-label';
export const podNodeIndex = 'kubesvc.io/pod-node';
export const serviceSelectorIndex = 'kubesvc.io/service-selector-pair';
export const sliceServiceIndex = 'kubesvc.io/slice-service';

const pair = (namespace: string | undefined, key: string, value: string) => `${namespace ?? ''}\x00${key}=${value}`;

export function addPodIndexes(pods: Informer<Pod>): void {
  pods.addIndex(podLabelIndex, (p) => Object.entries(p.metadata.labels ?? {}).map(([k, v]) => pair(p.metadata.namespace, k, v)));
  pods.addIndex(podNodeIndex, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
}

export function addServiceIndexes(services: Informer<Service>): void {
  services.addIndex(serviceSelectorIndex, (s) => Object.entries(serviceSelector(s) ?? {}).map(([k, v]) => pair(s.metadata.namespace, k, v)));
}

/** Slices by `namespace/<kubernetes.io/service-name label>`, the key of the Service (or Endpoints) they belong to. */
export function addSliceIndexes(slices: Informer<EndpointSlice>): void {
  slices.addIndex(sliceServiceIndex, (s) => {
    const svc = s.metadata.labels?.[labelServiceName];
    return svc ? [`${s.metadata.namespace}/${svc}`] : [];
  });
}

/** The pods a selector matches in a namespace: the smallest label bucket, filtered. */
export function podsForSelector(pods: Informer<Pod>, namespace: string, selector: Record<string, string>): Pod[] {
  let best: Pod[] | undefined;
  for (const [k, v] of Object.entries(selector)) {
    const bucket = pods.byIndex(podLabelIndex, pair(namespace, k, v));
    if (!best || bucket.length < best.length) best = bucket;
    if (!best.length) return [];
  }
  if (!best) return [];
  return best.filter((p) => selectorMatches(selector, p.metadata.labels));
}

/** Keys of the Services in namespace whose selector matches these labels. */
export function servicesForLabels(services: Informer<Service>, namespace: string | undefined, labels: Record<string, string> | undefined): Set<string> {
  const keys = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const svc of services.byIndex(serviceSelectorIndex, pair(namespace, k, v))) {
      const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
      if (keys.has(key)) continue;
      const sel = serviceSelector(svc);
      if (sel && selectorMatches(sel, labels)) keys.add(key);
    }
  }
  return keys;
}

export function slicesForOwner(slices: Informer<EndpointSlice>, ownerKey: string): EndpointSlice[] {
  return slices.byIndex(sliceServiceIndex, ownerKey);
}

/**
 * GetServicesToUpdateOnPodChange: nothing for a resync (same resourceVersion)
 * or a change endpoints do not see; with new labels, the Services of either
 * label set (all of them if the endpoint changed too, else those gained or lost).
 */
export function servicesForPodUpdate(services: Informer<Service>, oldPod: Pod, newPod: Pod): Set<string> {
  if (oldPod.metadata.resourceVersion === newPod.metadata.resourceVersion) return new Set();
  const { podChanged, labelsChanged } = podEndpointsChanged(oldPod, newPod);
  if (!podChanged && !labelsChanged) return new Set();
  const now = servicesForLabels(services, newPod.metadata.namespace, newPod.metadata.labels);
  if (!labelsChanged) return now;
  const before = servicesForLabels(services, oldPod.metadata.namespace, oldPod.metadata.labels);
  const out = new Set<string>();
  for (const k of now) if (podChanged || !before.has(k)) out.add(k);
  for (const k of before) if (podChanged || !now.has(k)) out.add(k);
  return out;
}

/** Both endpoint controllers reconcile a Service when it changes or when a pod it selects does. */
export function enqueueServicesOnChange(services: Informer<Service>, pods: Informer<Pod>, enqueue: (key: string) => void): void {
  const key = (s: Service) => `${s.metadata.namespace}/${s.metadata.name}`;
  services.on({ add: (s) => enqueue(key(s)), update: (_o, s) => enqueue(key(s)), delete: (s) => enqueue(key(s)) });
  pods.on({
    add: (p) => servicesForLabels(services, p.metadata.namespace, p.metadata.labels).forEach(enqueue),
    update: (o, p) => servicesForPodUpdate(services, o, p).forEach(enqueue),
    delete: (p) => servicesForLabels(services, p.metadata.namespace, p.metadata.labels).forEach(enqueue),
  });
}

/** Slice events for the controllers that own slices: a relabelled slice concerns its old and new owner. */
export function enqueueOnSliceChange(
  slices: Informer<EndpointSlice>,
  ownerOf: (s: EndpointSlice) => string | undefined,
  managed: (s: EndpointSlice) => boolean,
  enqueue: (key: string) => void,
  onSliceEvent: (s: EndpointSlice, deleted: boolean) => void,
): void {
  slices.on({
    add: (s) => onSliceEvent(s, false),
    update: (o, s) => {
      if (ownerOf(o) !== ownerOf(s) || managed(o) !== managed(s)) {
        for (const k of [ownerOf(o), ownerOf(s)]) if (k) enqueue(k);
        return;
      }
      if (o.metadata.resourceVersion !== s.metadata.resourceVersion) onSliceEvent(s, false);
    },
    delete: (s) => onSliceEvent(s, true),
  });
}
