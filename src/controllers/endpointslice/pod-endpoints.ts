// How a Pod becomes an endpoint of a Service: the pure rules shared by the
// Endpoints and EndpointSlice controllers (upstream staging/src/k8s.io/endpointslice
// utils.go and util/controller_utils.go, pkg/api/v1/pod FindPort).
import type {
  ServicePort,
} from '../../api/types.js';
import { labelTopologyZone } from '../../api/labels.js';
import { isPodReady, isPodTerminal } from '../workloads/pods.js';
import { familyOfIPBytes, formatIP, ipFamilyOf, parseIPSloppy, type IPFamily } from '../../net/addr.js';
import type { ServiceObject as Service, PodObject as Pod, NodeObject as Node, EndpointsObject as Endpoints, EndpointSliceObject as EndpointSlice } from '../../api/types.js';
export type { Service, Pod, Node, Endpoints, EndpointSlice };

/** The API types with the metadata every stored object has. */

export type Endpoint = NonNullable<EndpointSlice['endpoints']>[number];
export type EndpointPort = NonNullable<EndpointSlice['ports']>[number];
/** The address types the controllers write (an EndpointSlice's FQDN type they never do). */
export type AddressType = IPFamily;

export const endpointSliceControllerName = 'endpointslice-controller.k8s.io';
export const mirroringControllerName = 'endpointslicemirroring-controller.k8s.io';

/**
 * The Service's selector as a map, or undefined when it selects nothing. An
 * empty `selector: {}` counts as no selector: upstream stores it as nil
 * (empty maps do not survive protobuf), so such Services are user-managed.
 */
export function serviceSelector(svc: Service): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  return sel && Object.keys(sel).length > 0 ? sel : undefined;
}

/** Services whose endpoints the Endpoints and EndpointSlice controllers compute. */
export function isManagedSelectorService(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName' && serviceSelector(svc) !== undefined;
}

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const k in selector) if (l[k] !== selector[k]) return false;
  return true;
}

/** isServiceIPSet: a ClusterIP that is neither empty nor "None". */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

// One definition of a pod's readiness and end for every controller.
export { isPodReady, isPodTerminal };

export function podIPs(pod: Pod): string[] {
  const ips = pod.status?.podIPs?.map((p) => p.ip).filter((ip): ip is string => !!ip) ?? [];
  if (ips.length) return ips;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/** ShouldPodBeInEndpoints: not terminal, has an IP, and (unless asked) not terminating. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** ShouldSetHostname: spec.hostname set and spec.subdomain names this Service, in its namespace. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name && svc.metadata.namespace === pod.metadata.namespace;
}

/**
 * FindPort: a numeric targetPort is used as is; a named one is looked up in
 * the pod's containers, then in its restartable init containers (sidecars),
 * matching name and protocol. undefined when the pod has no such port.
 */
export function findPort(pod: Pod, svcPort: ServicePort): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  const protocol = svcPort.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    if (c.restartPolicy !== 'Always') continue;
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** A port's identity within a port map: every field the slice carries. */
function portKey(p: EndpointPort): string {
  return `${p.name ?? ''}\x00${p.port ?? ''}\x00${p.protocol ?? 'TCP'}\x00${p.appProtocol ?? ''}`;
}

/** Ports in the one order every port map uses (upstream sorts them before hashing). */
export function sortPorts<T extends EndpointPort>(ports: T[]): T[] {
  return ports
    .map((p) => [portKey(p), p] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, p]) => p);
}

/** NewPortMapKey: equal for the same set of ports in any order; nil and empty are the same. */
export function portMapKey(ports: EndpointPort[] | undefined): string {
  return (ports ?? []).map(portKey).sort().join('\x01');
}

/** getEndpointPorts: one port per Service port whose target this pod has. */
export function endpointPortsFor(svc: Service, pod: Pod): EndpointPort[] {
  const svcPorts = svc.spec?.ports ?? [];
  const ports: EndpointPort[] = [];
  for (const sp of svcPorts) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol !== undefined) ep.appProtocol = sp.appProtocol;
    ports.push(ep);
  }
  return sortPorts(ports);
}

/** The address types a Service's slices carry: its ipFamilies, else guessed as upstream does for old objects. */
export function addressTypesFor(svc: Service): AddressType[] {
  const types = new Set<AddressType>();
  for (const f of svc.spec?.ipFamilies ?? []) if (f === 'IPv4' || f === 'IPv6') types.add(f);
  if (types.size) return [...types];
  const ip = svc.spec?.clusterIP;
  if (ip && ip !== 'None') return [ipFamilyOf(ip) ?? 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/** getEndpointAddresses: the pod's IPs of one family (podIP when podIPs is empty), re-stringified canonically. */
export function podAddressesOfType(pod: Pod, addressType: AddressType): string[] {
  const out: string[] = [];
  const raws = pod.status?.podIPs?.length ? pod.status.podIPs.map((p) => p.ip) : [pod.status?.podIP];
  for (const raw of raws) {
    const bytes = raw ? parseIPSloppy(raw) : null;
    if (bytes && familyOfIPBytes(bytes) === addressType) out.push(formatIP(bytes));
  }
  return out;
}

/** The zone of a node, from topology.kubernetes.io/zone. */
export function nodeZone(node: Node | undefined): string | undefined {
  const z = node?.metadata.labels?.[labelTopologyZone];
  return z ? z : undefined;
}

/** podToEndpoint: the slice endpoint for a pod, with conditions as upstream defines them. */
export function podToEndpoint(pod: Pod, node: Node | undefined, svc: Service, addressType: AddressType): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  // Never "ready" while terminating, unless the Service publishes not-ready addresses.
  const ready = !!svc.spec?.publishNotReadyAddresses || (serving && !terminating);
  const ep: Endpoint = {
    addresses: podAddressesOfType(pod, addressType),
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = nodeZone(node);
  if (zone) ep.zone = zone;
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec!.hostname;
  return ep;
}

/** hashEndpoint: an endpoint's identity (sorted addresses, hostname, target namespace/name). */
export function endpointHash(ep: Endpoint): string {
  const addrs = [...(ep.addresses ?? [])].sort().join(',');
  return `${addrs}|${ep.hostname ?? ''}|${ep.targetRef?.namespace ?? ''}/${ep.targetRef?.name ?? ''}`;
}

function sameRef(a: Endpoint['targetRef'], b: Endpoint['targetRef']): boolean {
  if (!a || !b) return !a && !b;
  return (
    (a.kind ?? '') === (b.kind ?? '') &&
    (a.namespace ?? '') === (b.namespace ?? '') &&
    (a.name ?? '') === (b.name ?? '') &&
    (a.uid ?? '') === (b.uid ?? '') &&
    (a.apiVersion ?? '') === (b.apiVersion ?? '') &&
    (a.fieldPath ?? '') === (b.fieldPath ?? '')
  );
}

/** EndpointsEqualBeyondHash: what the hash leaves out, ignoring the target's resourceVersion (and hints). */
export function endpointsEqualBeyondHash(a: Endpoint, b: Endpoint): boolean {
  return (
    a.nodeName === b.nodeName &&
    a.zone === b.zone &&
    a.conditions?.ready === b.conditions?.ready &&
    a.conditions?.serving === b.conditions?.serving &&
    a.conditions?.terminating === b.conditions?.terminating &&
    sameRef(a.targetRef, b.targetRef)
  );
}

/** RFC 3339 with nanosecond precision and trailing zeros trimmed, as Go's time.RFC3339Nano prints. */
export function formatRFC3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d{3})Z$/, (_m, frac: string) => {
    const f = frac.replace(/0+$/, '');
    return f ? `.${f}Z` : 'Z';
  });
}

function parseTime(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : ms;
}

/**
 * TriggerTimeTracker: the time of the earliest change (pod Ready transition or
 * Service creation) not yet reflected, exported as the last-change-trigger-time
 * annotation. Keeps per-service state between syncs; undefined means "clear it".
 */
export interface TriggerTimeTracker {
  compute(key: string, svc: Service, pods: Pod[]): string | undefined;
  forget(key: string): void;
}

export function createTriggerTimeTracker(): TriggerTimeTracker {
  const states = new Map<string, { service: number; pods: Map<string, number> }>();
  return {
    compute(key, svc, pods) {
      const state = states.get(key);
      let min = 0;
      const podTimes = new Map<string, number>();
      for (const pod of pods) {
        const t = parseTime(pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime);
        if (!t) continue;
        podTimes.set(pod.metadata.name!, t);
        if (t > (state?.pods.get(pod.metadata.name!) ?? 0) && (!min || t < min)) min = t;
      }
      const svcTime = parseTime(svc.metadata.creationTimestamp);
      if (svcTime > (state?.service ?? 0) && (!min || svcTime < min)) min = svcTime;
      states.set(key, { service: svcTime, pods: podTimes });
      if (!state) return svcTime ? formatRFC3339Nano(svcTime) : undefined;
      return min ? formatRFC3339Nano(min) : undefined;
    },
    forget(key) {
      states.delete(key);
    },
  };
}

/**
 * Whether a pod change can change endpoints (podEndpointsChanged), and whether
 * it can change which Services select it (labels, hostname/subdomain).
 */
export function podEndpointsChanged(oldPod: Pod, newPod: Pod): { podChanged: boolean; labelsChanged: boolean } {
  const labelsChanged =
    !sameStringMap(oldPod.metadata.labels, newPod.metadata.labels) ||
    oldPod.spec?.hostname !== newPod.spec?.hostname ||
    oldPod.spec?.subdomain !== newPod.spec?.subdomain;
  const podChanged =
    (oldPod.metadata.deletionTimestamp ?? '') !== (newPod.metadata.deletionTimestamp ?? '') ||
    isPodReady(oldPod) !== isPodReady(newPod) ||
    podIPs(oldPod).join(',') !== podIPs(newPod).join(',') ||
    // Beyond upstream's list, harmlessly: a pod turning terminal, or being bound.
    isPodTerminal(oldPod) !== isPodTerminal(newPod) ||
    (oldPod.spec?.nodeName ?? '') !== (newPod.spec?.nodeName ?? '');
  return { podChanged, labelsChanged };
}

export function sameStringMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = a ? Object.keys(a) : [];
  const kb = b ? Object.keys(b) : [];
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || a![k] !== b![k]) return false;
  return true;
}
