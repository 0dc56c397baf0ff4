// What this node's proxy should do, as one immutable value: every proxied
// service port with its settings and its endpoints, already sorted into the
// sets each traffic policy uses. Pure functions only; kube-proxy's
// servicechangetracker.go + serviceport.go (service side), endpointslicecache.go
// + endpoint.go (endpoint side) and topology.go CategorizeEndpoints (selection).
import { annotationTopologyAwareHints, annotationTopologyMode, labelHeadless, labelServiceName, labelServiceProxyName } from '../api/labels.js';
import { familyAsWritten, type IPFamily } from '../net/addr.js';
import { LayeredMap } from './layered-map.js';
import type { ServiceObject as Service, EndpointSliceObject as EndpointSlice, NodeObject as Node } from '../api/types.js';
export type { Service, EndpointSlice, Node };

/** API objects as the informers hand them over (metadata always present). */

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
/** Still imported from here by test/proxy/nftables-rules.test.ts. */
export type { IPFamily };

/** ClientIP affinity timeout when the service does not set one (core/v1 DefaultClientIPServiceAffinitySeconds). */
export const defaultClientIPAffinitySeconds = 10800;

/** One port of one service: kube-proxy's ServicePortName. */
export interface ServicePortName {
  namespace: string;
  name: string;
  /** The port's name; "" for a service's single unnamed port. */
  port: string;
  protocol: Protocol;
}

/** `ns/name:port` (`ns/name` for an unnamed port), as upstream ServicePortName.String(); protocol is not part of it. */
export function servicePortNameString(n: ServicePortName): string {
  return `${n.namespace}/${n.name}${n.port ? `:${n.port}` : ''}`;
}

/** A map key unique per service port: the upstream string plus the protocol. */
export function servicePortKey(n: ServicePortName): string {
  return `${servicePortNameString(n)}/${n.protocol}`;
}

export interface SessionAffinity {
  type: 'None' | 'ClientIP';
  /** StickyMaxAgeSeconds; 0 when type is None. */
  timeoutSeconds: number;
}

/** Everything a proxy mode needs to know about one service port (upstream BaseServicePortInfo, for one IP family). */
export interface ServicePortInfo {
  name: ServicePortName;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  /** The cluster IP of this snapshot's IP family. */
  clusterIP: string;
  /** All of spec.clusterIPs (every family), primary first. */
  clusterIPs: string[];
  port: number;
  protocol: Protocol;
  /** 0 when the port has none. */
  nodePort: number;
  /** The service port's targetPort (number or container port name); informational — endpoints carry the resolved port. */
  targetPort: number | string;
  /** spec.externalIPs of this family. */
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip of this family whose ipMode is VIP (or unset): the IPs kube-proxy programs. */
  loadBalancerIPs: string[];
  /** spec.loadBalancerSourceRanges of this family, whitespace trimmed. */
  loadBalancerSourceRanges: string[];
  sessionAffinity: SessionAffinity;
  /** externalTrafficPolicy: Local on an externally accessible service. */
  externalPolicyLocal: boolean;
  /** internalTrafficPolicy: Local. */
  internalPolicyLocal: boolean;
  /** Non-zero only for type LoadBalancer with externalTrafficPolicy Local. */
  healthCheckNodePort: number;
  /** service.kubernetes.io/topology-mode (or the older topology-aware-hints) annotation; "" when unset. */
  hintsAnnotation: string;
  /** spec.trafficDistribution; "" when unset. */
  trafficDistribution: string;
  /** Reachable other than by cluster IP: a node port, an external IP or a load-balancer IP. */
  externallyAccessible: boolean;
  /** Some traffic uses Cluster-policy endpoints (internal policy Cluster, or any external traffic — short-circuiting). */
  usesClusterEndpoints: boolean;
  /** Some traffic uses Local-policy endpoints. */
  usesLocalEndpoints: boolean;
}

export interface EndpointInfo {
  ip: string;
  port: number;
  /** "ip:port", or "[ip]:port" for IPv6: upstream Endpoint.String(). */
  endpoint: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** "" when the slice does not say. */
  nodeName: string;
  zone: string;
  /** On this proxy's node. */
  isLocal: boolean;
  zoneHints: string[];
  nodeHints: string[];
}

export type TopologyMode = '' | 'PreferSameZone' | 'PreferSameNode';

/** One service port with its endpoints (upstream ServicePort + EndpointsMap entry + CategorizeEndpoints). */
export interface ServicePortEntry {
  key: string;
  info: ServicePortInfo;
  /** Every endpoint for the port, deduplicated, sorted by `endpoint`. */
  endpoints: EndpointInfo[];
  /** Endpoints for Cluster-policy traffic (topology applied). Empty when the port never uses them. */
  clusterEndpoints: EndpointInfo[];
  /** Endpoints for Local-policy traffic. Empty when the port never uses them. */
  localEndpoints: EndpointInfo[];
  /** Union of the two: every endpoint this node may send to. */
  allReachableEndpoints: EndpointInfo[];
  /** Whether any usable endpoint exists anywhere in the cluster (false ⇒ REJECT, not just "none here"). */
  hasEndpoints: boolean;
  /** The topology mode chosen for clusterEndpoints. */
  topologyMode: TopologyMode;
}

/** One service's share of the snapshot, the unit the incremental builder replaces. */
export interface ServiceEntry {
  namespace: string;
  name: string;
  ports: ServicePortEntry[];
  healthCheckNodePort: number;
  /** Distinct ready local endpoint IPs over all ports (upstream LocalReadyEndpoints; terminating ones do not count). */
  localReadyEndpoints: number;
}

export interface ProxySnapshot {
  nodeName: string;
  nodeZone: string;
  ipFamily: IPFamily;
  /** Service ports by servicePortKey. */
  servicePorts: ReadonlyMap<string, ServicePortEntry>;
  /** Services by "namespace/name". */
  services: ReadonlyMap<string, ServiceEntry>;
  /**
   * Set by the incremental builder: the snapshot this one was derived from and
   * the services rebuilt since, so diffSnapshots(base, this) looks at those only.
   */
  rebuiltFrom?: { base: WeakRef<ProxySnapshot>; services: ReadonlySet<string> };
  /** The node's own addresses the rules use, as of this sync (the proxy server fills them in). */
  node?: NodeAddresses;
}

/** Where a node takes node port traffic and its own IP, from its Node object and local interfaces. */
export interface NodeAddresses {
  /** Addresses node ports accept traffic on (nodePortAddresses); undefined for every local address. */
  nodePortIPs: string[] | undefined;
  /** The node's own address, when known. */
  hostIP: string | undefined;
}

export interface SnapshotOptions {
  ipFamily?: IPFamily;
  /** This kube-proxy's serviceProxyName: only services labelled with it are handled; unset ⇒ only unlabelled ones. */
  serviceProxyName?: string;
}

export interface NodeContext {
  nodeName: string;
  nodeZone: string;
  ipFamily: IPFamily;
  serviceProxyName?: string;
}

function serviceKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

/** Whether this proxy handles the object, by the service-proxy-name label (cmd/kube-proxy's list selector). */
export function selectedByProxyName(labels: Record<string, string> | undefined, serviceProxyName?: string): boolean {
  const value = labels?.[labelServiceProxyName];
  return serviceProxyName ? value === serviceProxyName : value === undefined;
}

/** The label selector kube-proxy lists and watches Services and EndpointSlices with. */
export function proxyLabelSelector(serviceProxyName?: string): string {
  return serviceProxyName
    ? `${labelServiceProxyName}=${serviceProxyName},!${labelHeadless}`
    : `!${labelServiceProxyName},!${labelHeadless}`;
}

/** proxyutil.ShouldSkipService plus GetClusterIPByFamily: the cluster IP to program, or undefined to skip. */
export function clusterIPForFamily(svc: Service, family: IPFamily): string | undefined {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return undefined;
  if (!spec.clusterIP || spec.clusterIP === 'None') return undefined;
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP];
  return ips.find((ip) => familyAsWritten(ip) === family);
}

function externallyAccessibleType(svc: Service): boolean {
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && (spec.externalIPs?.length ?? 0) > 0);
}

/** The service ports kube-proxy programs for one Service: empty for skipped services. */
export function servicePortInfos(svc: Service, ctx: NodeContext): ServicePortInfo[] {
  if (!selectedByProxyName(svc.metadata.labels, ctx.serviceProxyName)) return [];
  const clusterIP = clusterIPForFamily(svc, ctx.ipFamily);
  if (!clusterIP) return [];
  const spec = svc.spec ?? {};
  const namespace = svc.metadata.namespace ?? '';
  const name = svc.metadata.name ?? '';
  const externalPolicyLocal = externallyAccessibleType(svc) && spec.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = spec.internalTrafficPolicy === 'Local';
  const affinity: SessionAffinity =
    spec.sessionAffinity === 'ClientIP'
      ? { type: 'ClientIP', timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultClientIPAffinitySeconds }
      : { type: 'None', timeoutSeconds: 0 };
  const externalIPs = (spec.externalIPs ?? []).filter((ip) => familyAsWritten(ip) === ctx.ipFamily);
  // A CIDR's address part decides its family.
  const sourceRanges = (spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter((r) => r && familyAsWritten(r.split('/')[0]) === ctx.ipFamily);
  const lbIPs: string[] = [];
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    if (!ing.ip) continue;
    if (ing.ipMode !== undefined && ing.ipMode !== 'VIP') continue;
    if (familyAsWritten(ing.ip) === ctx.ipFamily) lbIPs.push(ing.ip);
  }
  const type = (spec.type ?? 'ClusterIP') as ServicePortInfo['type'];
  const healthCheckNodePort = type === 'LoadBalancer' && externalPolicyLocal ? (spec.healthCheckNodePort ?? 0) : 0;
  const annotations = svc.metadata.annotations ?? {};
  const hintsAnnotation = annotations[annotationTopologyMode] ?? annotations[annotationTopologyAwareHints] ?? '';
  return (spec.ports ?? []).map((p) => {
    const protocol = (p.protocol ?? 'TCP') as Protocol;
    const nodePort = p.nodePort ?? 0;
    const externallyAccessible = nodePort !== 0 || lbIPs.length > 0 || externalIPs.length > 0;
    return {
      name: { namespace, name, port: p.name ?? '', protocol },
      type,
      clusterIP,
      clusterIPs: spec.clusterIPs?.length ? [...spec.clusterIPs] : [spec.clusterIP!],
      port: p.port,
      protocol,
      nodePort,
      targetPort: p.targetPort ?? p.port,
      externalIPs,
      loadBalancerIPs: lbIPs,
      loadBalancerSourceRanges: sourceRanges,
      sessionAffinity: affinity,
      externalPolicyLocal,
      internalPolicyLocal,
      healthCheckNodePort,
      hintsAnnotation,
      trafficDistribution: spec.trafficDistribution ?? '',
      externallyAccessible,
      usesClusterEndpoints: !internalPolicyLocal || externallyAccessible,
      usesLocalEndpoints: internalPolicyLocal || (externalPolicyLocal && externallyAccessible),
    };
  });
}

function endpointString(ip: string, port: number): string {
  return familyAsWritten(ip) === 'IPv6' ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Whether kube-proxy reads the slice at all (address type of this family, the service-name label, proxy name). */
export function sliceApplies(slice: EndpointSlice, ctx: NodeContext): boolean {
  if (slice.addressType !== ctx.ipFamily) return false; // FQDN slices and the other family
  const labels = slice.metadata.labels;
  if (!labels?.[labelServiceName]) return false;
  if (labels[labelHeadless] !== undefined) return false;
  return selectedByProxyName(labels, ctx.serviceProxyName);
}

/** The "namespace/name" of the Service a slice belongs to, from its kubernetes.io/service-name label. */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata.labels?.[labelServiceName];
  return svc ? serviceKey(slice.metadata.namespace, svc) : undefined;
}

/** Never changed: the entries' hint lists are read only. */
const noHints: string[] = [];

function namesOf(list: { name: string }[] | undefined): string[] {
  return list?.length ? list.map((n) => n.name) : noHints;
}

/**
 * Endpoints by service port (name + protocol) for one service's slices:
 * endpointSliceCache.endpointInfoByServicePort + addEndpoints. Duplicates across
 * slices collapse on "ip:port", preferring a local copy.
 */
export function endpointsByPort(slices: Iterable<EndpointSlice>, ctx: NodeContext): Map<string, EndpointInfo[]> {
  const byPort = new Map<string, Map<string, EndpointInfo>>();
  for (const slice of slices) {
    if (!sliceApplies(slice, ctx)) continue;
    for (const p of slice.ports ?? []) {
      if (!p.port) continue; // upstream: "Ignoring invalid endpoint port"
      const portKey = `${p.name ?? ''}/${p.protocol ?? 'TCP'}`;
      let set = byPort.get(portKey);
      if (!set) byPort.set(portKey, (set = new Map()));
      for (const ep of slice.endpoints ?? []) {
        const ip = ep.addresses?.[0];
        if (!ip || familyAsWritten(ip) !== ctx.ipFamily) continue;
        const nodeName = ep.nodeName ?? '';
        const isLocal = ctx.nodeName !== '' && nodeName === ctx.nodeName;
        const id = endpointString(ip, p.port);
        if (set.has(id) && !isLocal) continue;
        set.set(id, {
          ip,
          port: p.port,
          endpoint: id,
          ready: ep.conditions?.ready ?? true,
          serving: ep.conditions?.serving ?? true,
          terminating: ep.conditions?.terminating ?? false,
          nodeName,
          zone: ep.zone ?? '',
          isLocal,
          // Most endpoints have no hints: one shared empty list instead of two arrays each (100,000 endpoints).
          zoneHints: namesOf(ep.hints?.forZones),
          nodeHints: namesOf((ep.hints as { forNodes?: { name: string }[] } | undefined)?.forNodes),
        });
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [k, set] of byPort) {
    const list = [...set.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
    if (list.length) out.set(k, list);
  }
  return out;
}

/**
 * Whether the service asks for topology-aware routing: spec.trafficDistribution,
 * or a topology annotation other than Disabled (the pre-1.31 canUseTopology check).
 */
export function serviceWantsTopology(info: ServicePortInfo): boolean {
  if (info.trafficDistribution) return true;
  const a = info.hintsAnnotation;
  return a !== '' && a !== 'disabled' && a !== 'Disabled';
}

/** topology.go topologyModeFromHints, gated on the service asking for it. */
export function topologyModeFromHints(info: ServicePortInfo, endpoints: EndpointInfo[], nodeName: string, zone: string): TopologyMode {
  if (!serviceWantsTopology(info)) return '';
  let hasReady = false;
  let hasForNode = false;
  let allNodeHints = true;
  let hasForZone = false;
  let allZoneHints = true;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    hasReady = true;
    if (ep.nodeHints.length === 0) allNodeHints = false;
    else if (ep.nodeHints.includes(nodeName)) hasForNode = true;
    if (ep.zoneHints.length === 0) allZoneHints = false;
    else if (zone !== '' && ep.zoneHints.includes(zone)) hasForZone = true;
  }
  if (!hasReady) return '';
  if (allNodeHints && hasForNode) return 'PreferSameNode';
  if (allZoneHints && hasForZone) return 'PreferSameZone';
  return '';
}

function availableForTopology(ep: EndpointInfo, mode: TopologyMode, nodeName: string, zone: string): boolean {
  if (mode === '') return true;
  if (mode === 'PreferSameNode') return ep.nodeHints.includes(nodeName);
  return ep.zoneHints.includes(zone);
}

export interface Categorized {
  clusterEndpoints: EndpointInfo[];
  localEndpoints: EndpointInfo[];
  allReachableEndpoints: EndpointInfo[];
  hasEndpoints: boolean;
  topologyMode: TopologyMode;
}

/**
 * topology.go CategorizeEndpoints: ready endpoints first, falling back (separately
 * for Cluster and Local) to serving-and-terminating ones; Local policy keeps only
 * this node's; topology hints narrow the Cluster set when every ready endpoint has
 * them and some are for this node or zone.
 */
export function categorizeEndpoints(endpoints: EndpointInfo[], info: ServicePortInfo, nodeName: string, zone: string): Categorized {
  const out: Categorized = { clusterEndpoints: [], localEndpoints: [], allReachableEndpoints: [], hasEndpoints: false, topologyMode: '' };
  if (endpoints.length === 0) return out;
  let useServingTerminating = false;
  if (info.usesClusterEndpoints) {
    out.topologyMode = topologyModeFromHints(info, endpoints, nodeName, zone);
    out.clusterEndpoints = endpoints.filter((ep) => ep.ready && availableForTopology(ep, out.topologyMode, nodeName, zone));
    if (out.clusterEndpoints.length === 0) out.clusterEndpoints = endpoints.filter((ep) => ep.serving && ep.terminating);
    if (out.clusterEndpoints.length > 0) out.hasEndpoints = true;
  }
  if (!info.usesLocalEndpoints) {
    out.allReachableEndpoints = out.clusterEndpoints;
    return out;
  }
  let hasLocalReady = false;
  let hasLocalServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      out.hasEndpoints = true;
      if (ep.isLocal) hasLocalReady = true;
    } else if (ep.serving && ep.terminating) {
      out.hasEndpoints = true;
      if (ep.isLocal) hasLocalServingTerminating = true;
    }
  }
  if (hasLocalReady) {
    out.localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  } else if (hasLocalServingTerminating) {
    useServingTerminating = true;
    out.localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
  }
  if (!info.usesClusterEndpoints) {
    out.allReachableEndpoints = out.localEndpoints;
    return out;
  }
  if (out.topologyMode === '' && !useServingTerminating) {
    // Every ready endpoint is in clusterEndpoints, so it already holds the local ready ones.
    out.allReachableEndpoints = out.clusterEndpoints;
    return out;
  }
  const merged = new Map<string, EndpointInfo>();
  for (const ep of out.clusterEndpoints) merged.set(ep.endpoint, ep);
  for (const ep of out.localEndpoints) merged.set(ep.endpoint, ep);
  out.allReachableEndpoints = [...merged.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
  return out;
}

/** One Service's entry from the Service and its slices; undefined when kube-proxy skips the service. */
export function buildServiceEntry(svc: Service, slices: Iterable<EndpointSlice>, ctx: NodeContext): ServiceEntry | undefined {
  const infos = servicePortInfos(svc, ctx);
  if (infos.length === 0) return undefined;
  const eps = endpointsByPort(slices, ctx);
  const ports: ServicePortEntry[] = infos.map((info) => {
    const endpoints = eps.get(`${info.name.port}/${info.protocol}`) ?? [];
    return { key: servicePortKey(info.name), info, endpoints, ...categorizeEndpoints(endpoints, info, ctx.nodeName, ctx.nodeZone) };
  });
  const localReadyIPs = new Set<string>();
  for (const list of eps.values()) for (const ep of list) if (ep.isLocal && ep.ready) localReadyIPs.add(ep.ip);
  return {
    namespace: svc.metadata.namespace ?? '',
    name: svc.metadata.name ?? '',
    ports,
    healthCheckNodePort: infos[0].healthCheckNodePort,
    localReadyEndpoints: localReadyIPs.size,
  };
}

export function nodeContext(nodeName: string, nodeZone = '', opts: SnapshotOptions = {}): NodeContext {
  return { nodeName, nodeZone, ipFamily: opts.ipFamily ?? 'IPv4', serviceProxyName: opts.serviceProxyName };
}

/** The whole snapshot from scratch. The change tracker builds the same value incrementally. */
export function buildSnapshot(services: Iterable<Service>, slices: Iterable<EndpointSlice>, nodeName: string, nodeZone = '', opts: SnapshotOptions = {}): ProxySnapshot {
  const ctx = nodeContext(nodeName, nodeZone, opts);
  const slicesBySvc = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const k = sliceServiceKey(s);
    if (!k) continue;
    let list = slicesBySvc.get(k);
    if (!list) slicesBySvc.set(k, (list = []));
    list.push(s);
  }
  const servicesOut = new Map<string, ServiceEntry>();
  const ports = new Map<string, ServicePortEntry>();
  for (const svc of services) {
    const k = serviceKey(svc.metadata.namespace, svc.metadata.name);
    const entry = buildServiceEntry(svc, slicesBySvc.get(k) ?? [], ctx);
    if (!entry) continue;
    servicesOut.set(k, entry);
    for (const p of entry.ports) ports.set(p.key, p);
  }
  return { nodeName: ctx.nodeName, nodeZone: ctx.nodeZone, ipFamily: ctx.ipFamily, servicePorts: ports, services: servicesOut };
}

export interface RemovedEndpoint {
  servicePort: ServicePortName;
  endpoint: EndpointInfo;
}

export interface SnapshotDiff {
  added: ServicePortName[];
  removed: ServicePortName[];
  /** Present in both with different settings or endpoints. */
  changed: ServicePortName[];
  /** "namespace/name" of every service with an added, removed or changed port (partial syncs rewrite these). */
  changedServices: string[];
  /** Endpoints no longer reachable for a port that had them (removed ports included): conntrack cleanup of UDP flows. */
  removedEndpoints: RemovedEndpoint[];
  /** Ports that had no usable endpoints and now have some (stale UDP REJECT entries must go). */
  becameReachable: ServicePortName[];
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Entries built from equal inputs are equal; the incremental builder keeps unchanged ones by reference, which short-circuits. */
export function servicePortEntriesEqual(a: ServicePortEntry, b: ServicePortEntry): boolean {
  return a === b || sameJSON(a, b);
}

function diffPort(d: SnapshotDiff, services: Set<string>, prev: ServicePortEntry | undefined, entry: ServicePortEntry | undefined): void {
  if (prev === entry || !entry) {
    if (!prev || prev === entry) return;
    d.removed.push(prev.info.name);
    services.add(`${prev.info.name.namespace}/${prev.info.name.name}`);
    for (const ep of prev.allReachableEndpoints) d.removedEndpoints.push({ servicePort: prev.info.name, endpoint: ep });
    return;
  }
  const name = entry.info.name;
  if (!prev) {
    d.added.push(name);
    services.add(`${name.namespace}/${name.name}`);
    if (entry.allReachableEndpoints.length) d.becameReachable.push(name);
    return;
  }
  if (servicePortEntriesEqual(prev, entry)) return;
  d.changed.push(name);
  services.add(`${name.namespace}/${name.name}`);
  const now = new Set(entry.allReachableEndpoints.map((e) => e.endpoint));
  for (const ep of prev.allReachableEndpoints) if (!now.has(ep.endpoint)) d.removedEndpoints.push({ servicePort: name, endpoint: ep });
  if (prev.allReachableEndpoints.length === 0 && entry.allReachableEndpoints.length > 0) d.becameReachable.push(name);
}

const byPortKey = (a: ServicePortName, b: ServicePortName) => {
  const x = servicePortKey(a);
  const y = servicePortKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * What changed between two snapshots, per service port. When newSnap was built
 * incrementally from oldSnap, only the services the builder rebuilt are
 * compared; otherwise every port (unchanged entries compare by identity first).
 */
export function diffSnapshots(oldSnap: ProxySnapshot | undefined, newSnap: ProxySnapshot): SnapshotDiff {
  const d: SnapshotDiff = { added: [], removed: [], changed: [], changedServices: [], removedEndpoints: [], becameReachable: [] };
  const services = new Set<string>();
  const from = newSnap.rebuiltFrom;
  if (oldSnap && from && from.base.deref() === oldSnap) {
    for (const key of from.services) {
      const before = new Map(oldSnap.services.get(key)?.ports.map((p) => [p.key, p]) ?? []);
      for (const p of newSnap.services.get(key)?.ports ?? []) {
        diffPort(d, services, before.get(p.key), p);
        before.delete(p.key);
      }
      for (const p of before.values()) diffPort(d, services, p, undefined);
    }
  } else {
    const oldPorts = oldSnap?.servicePorts ?? new Map<string, ServicePortEntry>();
    for (const [key, entry] of newSnap.servicePorts) diffPort(d, services, oldPorts.get(key), entry);
    for (const [key, prev] of oldPorts) if (!newSnap.servicePorts.has(key)) diffPort(d, services, prev, undefined);
  }
  d.added.sort(byPortKey);
  d.removed.sort(byPortKey);
  d.changed.sort(byPortKey);
  d.becameReachable.sort(byPortKey);
  d.changedServices = [...services].sort();
  return d;
}

/**
 * A number per service ("namespace/name"), services with 0 left out, memoized per snapshot: a snapshot the
 * change tracker derived from one already indexed updates that index for the services it rebuilt only.
 */
function perServiceIndex(memo: WeakMap<ProxySnapshot, ReadonlyMap<string, number>>, snap: ProxySnapshot, pick: (s: ServiceEntry) => number): ReadonlyMap<string, number> {
  const known = memo.get(snap);
  if (known) return known;
  const from = snap.rebuiltFrom;
  const baseSnap = from?.base.deref();
  const base = baseSnap && memo.get(baseSnap);
  let out: ReadonlyMap<string, number>;
  if (from && base) {
    const next = LayeredMap.derive(base);
    for (const key of from.services) {
      const entry = snap.services.get(key);
      const n = entry ? pick(entry) : 0;
      if (n) next.set(key, n);
      else next.delete(key);
    }
    out = next.seal();
  } else {
    const all = new Map<string, number>();
    for (const [k, s] of snap.services) {
      const n = pick(s);
      if (n) all.set(k, n);
    }
    out = all;
  }
  memo.set(snap, out);
  return out;
}

const healthCheckNodePortsMemo = new WeakMap<ProxySnapshot, ReadonlyMap<string, number>>();
const localReadyEndpointsMemo = new WeakMap<ProxySnapshot, ReadonlyMap<string, number>>();

/** healthCheckNodePort by "namespace/name" (upstream ServicePortMap.HealthCheckNodePorts). */
export function healthCheckNodePorts(snap: ProxySnapshot): ReadonlyMap<string, number> {
  return perServiceIndex(healthCheckNodePortsMemo, snap, (s) => s.healthCheckNodePort);
}

/** Local ready endpoint counts by "namespace/name" (upstream EndpointsMap.LocalReadyEndpoints). */
export function localReadyEndpoints(snap: ProxySnapshot): ReadonlyMap<string, number> {
  return perServiceIndex(localReadyEndpointsMemo, snap, (s) => s.localReadyEndpoints);
}
