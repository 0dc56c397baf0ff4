// The v1 Endpoints object a selector Service should have, as a pure function
// (upstream pkg/controller/endpoint/endpoints_controller.go syncService and
// pkg/api/v1/endpoints RepackSubsets): ready pods in addresses, not-ready ones
// in notReadyAddresses, subsets grouped by identical port sets in a canonical
// order, truncated at 1000 addresses.
import { deepClone, deepEqual } from '../api/object.js';
import type { Endpoints, Pod, Service } from './endpointslice/pod-endpoints.js';
import { annotationOverCapacity, annotationLastChangeTriggerTime, labelHeadless } from '../api/labels.js';
import { ipFamilyOf } from '../net/addr.js';
import { findPort, isPodReady, isServiceIPSet, sameStringMap, shouldPodBeInEndpoints, shouldSetHostname } from './endpointslice/pod-endpoints.js';

export type EndpointSubset = NonNullable<Endpoints['subsets']>[number];
export type EndpointAddress = NonNullable<EndpointSubset['addresses']>[number];
export type EndpointsPort = NonNullable<EndpointSubset['ports']>[number];

/** maxCapacity: addresses one Endpoints object may hold before it is truncated. */
export const maxCapacity = 1000;
export const overCapacityTruncated = 'truncated';

/** podToEndpointAddressForService: the pod's IP of the Service's primary family. */
export function podToEndpointAddress(svc: Service, pod: Pod): EndpointAddress | undefined {
  let family = svc.spec?.ipFamilies?.[0];
  if (!family) {
    const clusterIP = svc.spec?.clusterIP;
    if (clusterIP && clusterIP !== 'None') family = ipFamilyOf(clusterIP) ?? 'IPv4';
    else family = (pod.status?.podIP && ipFamilyOf(pod.status.podIP)) || 'IPv4';
  }
  const ips = pod.status?.podIPs?.length ? pod.status.podIPs.map((p) => p.ip ?? '') : pod.status?.podIP ? [pod.status.podIP] : [];
  const ip = ips.find((i) => i && (ipFamilyOf(i) === 'IPv6') === (family === 'IPv6'));
  if (!ip) return undefined;
  const addr: EndpointAddress = {
    ip,
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  // Upstream always points nodeName at the pod's; an empty one would not validate.
  if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
  if (shouldSetHostname(pod, svc)) addr.hostname = pod.spec!.hostname;
  return addr;
}

/** The subsets for a Service from its selected pods, repacked. */
export function computeSubsets(svc: Service, pods: Pod[]): { subsets: EndpointSubset[]; ready: number; notReady: number } {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const raw: EndpointSubset[] = [];
  let ready = 0;
  let notReady = 0;
  const add = (pod: Pod, addr: EndpointAddress, port: EndpointsPort | undefined) => {
    const ports = port ? [port] : [];
    if (publishNotReady || isPodReady(pod)) {
      raw.push({ addresses: [addr], ports });
      ready++;
    } else {
      raw.push({ notReadyAddresses: [addr], ports });
      notReady++;
    }
  };
  const svcPorts = svc.spec?.ports ?? [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const addr = podToEndpointAddress(svc, pod);
    if (!addr) continue;
    if (!svcPorts.length) {
      // A headless Service may have no ports: its addresses still count.
      if (svc.spec?.clusterIP === 'None') add(pod, addr, undefined);
      continue;
    }
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const epp: EndpointsPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) epp.name = sp.name;
      if (sp.appProtocol !== undefined) epp.appProtocol = sp.appProtocol;
      add(pod, addr, epp);
    }
  }
  return { subsets: repackSubsets(raw), ready, notReady };
}

const portId = (p: EndpointsPort) => `${p.name ?? ''}\x00${p.port}\x00${p.protocol ?? ''}\x00${p.appProtocol ?? '\x01'}`;
const addrId = (a: EndpointAddress) => `${a.ip}\x00${a.targetRef?.uid ?? ''}`;

/** LessEndpointAddress: by IP bytes, then target uid (no target first). */
export function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return Buffer.compare(Buffer.from(a.ip), Buffer.from(b.ip));
  if (!b.targetRef) return a.targetRef ? 1 : 0;
  if (!a.targetRef) return -1;
  const x = a.targetRef.uid ?? '';
  const y = b.targetRef.uid ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

function comparePorts(a: EndpointsPort, b: EndpointsPort): number {
  const x = portId(a);
  const y = portId(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * RepackSubsets: expand to (address, port, ready) facts, then group addresses
 * offering the same ports into one subset. An address not ready on a port is
 * not ready there even if another subset says it is. Ports-less subsets keep
 * their addresses (upstream's sentinel port). Upstream orders subsets and ports
 * by an md5 of their Go dump; here the order is by content, equally canonical.
 */
export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const allAddrs = new Map<string, EndpointAddress>();
  const byPort = new Map<string, { port: EndpointsPort | undefined; ready: Map<string, boolean> }>();
  const note = (addr: EndpointAddress, port: EndpointsPort | undefined, ready: boolean) => {
    const id = addrId(addr);
    if (!allAddrs.has(id)) allAddrs.set(id, addr);
    const pk = port ? portId(port) : '\x00sentinel';
    let entry = byPort.get(pk);
    if (!entry) byPort.set(pk, (entry = { port, ready: new Map() }));
    const was = entry.ready.get(id);
    if (was === undefined || was) entry.ready.set(id, ready);
  };
  for (const s of subsets) {
    const ports: (EndpointsPort | undefined)[] = s.ports?.length ? s.ports : [undefined];
    for (const p of ports) {
      for (const a of s.addresses ?? []) note(a, p, true);
      for (const a of s.notReadyAddresses ?? []) note(a, p, false);
    }
  }
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointsPort[] }>();
  for (const { port, ready } of byPort.values()) {
    const key = [...ready].map(([id, r]) => `${id}\x00${r ? 1 : 0}`).sort().join('\x01');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ready, ports: [] }));
    if (port) g.ports.push(port);
  }
  const out: { subset: EndpointSubset; key: string }[] = [];
  for (const g of groups.values()) {
    const readyAddrs: EndpointAddress[] = [];
    const notReadyAddrs: EndpointAddress[] = [];
    for (const [id, r] of g.ready) (r ? readyAddrs : notReadyAddrs).push(deepClone(allAddrs.get(id)!));
    readyAddrs.sort(compareAddresses);
    notReadyAddrs.sort(compareAddresses);
    const subset: EndpointSubset = {};
    if (readyAddrs.length) subset.addresses = readyAddrs;
    if (notReadyAddrs.length) subset.notReadyAddresses = notReadyAddrs;
    if (g.ports.length) subset.ports = g.ports.map((p) => ({ ...p })).sort(comparePorts);
    out.push({ subset, key: JSON.stringify([subset.ports ?? [], subset.addresses?.[0]?.ip ?? '', subset.notReadyAddresses?.[0]?.ip ?? '', subset]) });
  }
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out.map((o) => o.subset);
}

/**
 * truncateEndpoints: keep at most maxCapacity addresses, ready ones first,
 * each subset keeping its proportional share (rounded up). True when it cut.
 */
export function truncateSubsets(subsets: EndpointSubset[], max = maxCapacity): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return false;
  const truncateReady = totalReady > max;
  const budget = truncateReady ? max : max - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = budget;
  for (const s of subsets) {
    const inSubset = truncateReady ? (s.addresses?.length ?? 0) : (s.notReadyAddresses?.length ?? 0);
    const toBeAdded = Math.min(Math.ceil((inSubset / numTotal) * budget), canBeAdded);
    if (truncateReady) {
      s.addresses = (s.addresses ?? []).slice(0, toBeAdded);
      delete s.notReadyAddresses;
      canBeAdded -= s.addresses.length;
      if (!s.addresses.length) delete s.addresses;
    } else {
      if (s.notReadyAddresses) s.notReadyAddresses = s.notReadyAddresses.slice(0, toBeAdded);
      canBeAdded -= s.notReadyAddresses?.length ?? 0;
      if (s.notReadyAddresses && !s.notReadyAddresses.length) delete s.notReadyAddresses;
    }
  }
  return true;
}

/** capacityAnnotationSetCorrectly: under capacity and not annotated. */
export function capacityAnnotationSetCorrectly(annotations: Record<string, string> | undefined, subsets: EndpointSubset[] | undefined): boolean {
  let n = 0;
  for (const s of subsets ?? []) n += (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0);
  if (n > maxCapacity) return false;
  return !(annotations && annotationOverCapacity in annotations);
}

/** Subsets as a comparison sees them: no target resourceVersions, no empty lists. */
function normalizeSubsets(subsets: EndpointSubset[] | undefined): unknown {
  const addr = (a: EndpointAddress) => {
    const c: EndpointAddress = { ...a };
    if (c.targetRef) {
      const { resourceVersion: _rv, ...ref } = c.targetRef;
      c.targetRef = ref;
    }
    if (!c.hostname) delete c.hostname;
    return c;
  };
  return (subsets ?? []).map((s) => ({
    addresses: s.addresses?.length ? s.addresses.map(addr) : undefined,
    notReadyAddresses: s.notReadyAddresses?.length ? s.notReadyAddresses.map(addr) : undefined,
    ports: s.ports?.length ? s.ports.map((p) => ({ ...p, name: p.name || undefined })) : undefined,
  }));
}

/** endpointSubsetsEqualIgnoreResourceVersion. */
export function subsetsEqual(a: EndpointSubset[] | undefined, b: EndpointSubset[] | undefined): boolean {
  return deepEqual(normalizeSubsets(a), normalizeSubsets(b));
}

/**
 * The Endpoints to write for a Service, or undefined when the current one is
 * already right (subsets, labels and the capacity annotation; the trigger time
 * alone never causes a write).
 */
export function desiredEndpoints(svc: Service, pods: Pod[], current: Endpoints | undefined, triggerTime: string | undefined): Endpoints | undefined {
  const { subsets } = computeSubsets(svc, pods);
  // Upstream compares before truncating, so an over-capacity object is rewritten on
  // every sync; comparing the truncated form keeps a resync from writing anything.
  const truncated = truncateSubsets(subsets);
  const svcLabels = svc.metadata.labels ?? {};
  if (current) {
    const compareLabels = { ...(current.metadata.labels ?? {}) };
    delete compareLabels[labelHeadless];
    const capacityOk = truncated
      ? current.metadata.annotations?.[annotationOverCapacity] === overCapacityTruncated
      : capacityAnnotationSetCorrectly(current.metadata.annotations, current.subsets);
    if (subsetsEqual(current.subsets, subsets) && sameStringMap(compareLabels, svcLabels) && capacityOk) return undefined;
  }
  const next: Endpoints = current
    ? deepClone(current)
    : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace } };
  const annotations = { ...(next.metadata.annotations ?? {}) };
  if (triggerTime) annotations[annotationLastChangeTriggerTime] = triggerTime;
  else delete annotations[annotationLastChangeTriggerTime];
  if (truncated) annotations[annotationOverCapacity] = overCapacityTruncated;
  else delete annotations[annotationOverCapacity];
  if (subsets.length) next.subsets = subsets;
  else delete next.subsets;
  const labels: Record<string, string> = { ...svcLabels };
  if (!isServiceIPSet(svc)) labels[labelHeadless] = '';
  else delete labels[labelHeadless];
  if (Object.keys(labels).length) next.metadata.labels = labels;
  else delete next.metadata.labels;
  if (Object.keys(annotations).length) next.metadata.annotations = annotations;
  else delete next.metadata.annotations;
  return next;
}
