// The cluster DNS records (Kubernetes DNS schema 1.1.0, as CoreDNS's
// kubernetes plugin serves them), kept as an index that Services,
// EndpointSlices and Pods update one object at a time: each object's
// contribution (records, PTRs, names that must exist) is reference-counted,
// so an update adds the object's new records and drops its old ones without
// rescanning anything else, and records two objects share (the same endpoint
// IP in two slices) stay until the last one goes. Lookups are single map
// reads by lowercase name or by canonical IP. answer.ts turns them into
// responses.
import { labelServiceName } from '../api/labels.js';
import type { EndpointSlice, Pod, Service } from '../api/types.js';
import { canonicalIP } from '../net/addr.js';
import { normalizeName } from './wire.js';

export const DNS_SCHEMA_VERSION = '1.1.0';

export interface DnsIndexOptions {
  /** Cluster domain, e.g. "cluster.local" (a trailing dot is ignored). */
  zone: string;
  /** Clock for the SOA serial (ms since the epoch); default Date.now. */
  now?: () => number;
}

export interface SrvData {
  port: number;
  target: string;
}

/** What one existing name owns; the lists are empty for empty non-terminals. */
export interface NameRecords {
  /** Canonical IPv4 addresses (A). */
  ipv4: string[];
  /** Canonical IPv6 addresses (AAAA). */
  ipv6: string[];
  /** SRV data (priority and weight are decided when answering). */
  srv: SrvData[];
  /** ExternalName target, normalized (lower case, without the trailing dot). */
  cname?: string;
  txt: string[];
}

export interface DnsIndex {
  /** The zone, lowercase, without the trailing dot. */
  readonly zone: string;
  setService(svc: Service): void;
  deleteService(svc: Service): void;
  setEndpointSlice(slice: EndpointSlice): void;
  deleteEndpointSlice(slice: EndpointSlice): void;
  setPod(pod: Pod): void;
  deletePod(pod: Pod): void;
  /** The records of a name (any case, trailing dot optional); undefined when the name does not exist (NXDOMAIN). */
  lookup(name: string): NameRecords | undefined;
  /**
   * PTR targets for an IP (any spelling): the Service owning it as a cluster IP
   * if there is one, else the endpoint names it has; empty when unknown.
   */
  lookupPtr(ip: string): string[];
  /** SOA serial: unix seconds of the last change, as CoreDNS (the API's last modification time). */
  serial(): number;
  /** Counts every change (serial() moves once a second at most): caches of answers compare it to know they are stale. */
  generation(): number;
}

/** One reference-counted piece of what an object puts in the zone. */
type Contribution =
  | { kind: 'address'; name: string; address: string }
  | { kind: 'srv'; name: string; port: number; target: string }
  | { kind: 'cname'; name: string; target: string }
  | { kind: 'txt'; name: string; text: string }
  /** A name that exists without records of its own (e.g. "<ns>.svc.<zone>"). */
  | { kind: 'name'; name: string }
  | { kind: 'ptr'; address: string; target: string; owner: 'service' | 'endpoint' };

/**
 * A reference-counted set of strings. Most names own one or two values, for
 * which a Map (a hash table of ~200 bytes) costs far more than the values:
 * small sets are plain arrays holding a value once per reference (the first
 * occurrence keeps its place, as a Map keeps insertion order), and only sets
 * grown past `smallSet` values (a headless Service's many endpoints) become a
 * Map of counts, so removing one stays cheap.
 */
type CountedSet = string[] | Map<string, number>;
const smallSet = 32;

/** Adds one reference; the set is created on first use. */
function countUp(set: CountedSet | undefined, key: string): CountedSet {
  if (!set) return [key];
  if (Array.isArray(set)) {
    // A new array of the exact size: push would reserve room for 16 more.
    if (set.length < smallSet) return [...set, key];
    const counts = new Map<string, number>();
    for (const k of set) counts.set(k, (counts.get(k) ?? 0) + 1);
    set = counts;
  }
  set.set(key, (set.get(key) ?? 0) + 1);
  return set;
}

/** Drops one reference; true when the set became empty. */
function countDown(set: CountedSet | undefined, key: string): boolean {
  if (!set) return true;
  if (Array.isArray(set)) {
    const i = set.lastIndexOf(key);
    if (i >= 0) set.splice(i, 1);
    return set.length === 0;
  }
  const n = (set.get(key) ?? 0) - 1;
  if (n > 0) set.set(key, n);
  else set.delete(key);
  return set.size === 0;
}

/** The distinct values, in the order they were first added. */
function valuesOf(set: CountedSet | undefined): string[] {
  if (!set) return [];
  if (!Array.isArray(set)) return [...set.keys()];
  return set.length < 2 ? [...set] : [...new Set(set)];
}

interface NameNode {
  /** Contributions at this name or below it: the name exists while this is positive. */
  refs: number;
  addresses?: CountedSet;
  /** Keyed "port target". */
  srv?: CountedSet;
  cnames?: CountedSet;
  txt?: CountedSet;
}

interface PtrNode {
  services?: CountedSet;
  endpoints?: CountedSet;
}

// Nodes are made with every field present and fields are cleared, never deleted: objects that gain
// properties later or lose them (delete) leave V8's compact in-object layout for larger ones.
const newNameNode = (): NameNode => ({ refs: 0, addresses: undefined, srv: undefined, cnames: undefined, txt: undefined });
const newPtrNode = (): PtrNode => ({ services: undefined, endpoints: undefined });

type ServiceMode = 'clusterIP' | 'headless' | 'externalName';

/** What EndpointSlice records depend on from their Service. */
interface ServiceState {
  mode: ServiceMode;
  publishNotReady: boolean;
}

interface SliceState {
  serviceKey?: string;
  endpoints: { addresses: string[]; hostname?: string; ready: boolean }[];
  ports: { name: string; port: number; protocol: string }[];
}

/** CoreDNS's name for an address: "10.1.2.3" → "10-1-2-3", "fd00::1" → "fd00--1". */
export function dashedAddress(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

function serviceModeOf(svc: Service): ServiceMode {
  if (svc.spec?.type === 'ExternalName') return 'externalName';
  return svc.spec?.clusterIP === 'None' ? 'headless' : 'clusterIP';
}

function srvLabel(name: string, protocol: string): string {
  return `_${name.toLowerCase()}._${protocol.toLowerCase()}`;
}

export function createDnsIndex(opts: DnsIndexOptions): DnsIndex {
  const zone = normalizeName(opts.zone);
  const now = opts.now ?? Date.now;
  const names = new Map<string, NameNode>();
  const ptrs = new Map<string, PtrNode>();
  /** Current contributions per source object ("svc/ns/name", "slice/ns/name", "pod/ns/name"). */
  const sources = new Map<string, Contribution[]>();
  const services = new Map<string, ServiceState>();
  const slices = new Map<string, SliceState>();
  /** Slice keys per Service key: a Service has a few slices, for which an array is far smaller than a Set. */
  const slicesByService = new Map<string, string[]>();
  let modifiedAt = Math.floor(now() / 1000);
  let generation = 0;

  /** The name and its ancestors up to the zone apex: a name existing makes its parents exist (empty non-terminals). */
  function* selfAndAncestors(name: string): Generator<string> {
    yield name;
    let rest = name;
    while (rest !== zone && rest.endsWith(`.${zone}`)) {
      rest = rest.slice(rest.indexOf('.') + 1);
      yield rest;
    }
  }

  function apply(c: Contribution, delta: 1 | -1): void {
    if (c.kind === 'ptr') {
      const node = ptrs.get(c.address) ?? newPtrNode();
      const field = c.owner === 'service' ? 'services' : 'endpoints';
      if (delta > 0) {
        node[field] = countUp(node[field], c.target);
        ptrs.set(c.address, node);
      } else if (countDown(node[field], c.target)) {
        node[field] = undefined;
        if (!node.services && !node.endpoints) ptrs.delete(c.address);
      }
      return;
    }
    const node = names.get(c.name) ?? newNameNode();
    names.set(c.name, node);
    const field = c.kind === 'address' ? 'addresses' : c.kind === 'srv' ? 'srv' : c.kind === 'cname' ? 'cnames' : c.kind === 'txt' ? 'txt' : undefined;
    const key = c.kind === 'address' ? c.address : c.kind === 'srv' ? `${c.port} ${c.target}` : c.kind === 'cname' ? c.target : c.kind === 'txt' ? c.text : '';
    if (field && delta > 0) node[field] = countUp(node[field], key);
    if (field && delta < 0 && countDown(node[field], key)) node[field] = undefined;
    for (const n of selfAndAncestors(c.name)) {
      const at = n === c.name ? node : (names.get(n) ?? newNameNode());
      at.refs += delta;
      if (at.refs > 0) names.set(n, at);
      else names.delete(n);
    }
  }

  /** Makes `next` the source's contributions: new ones counted in before old ones out, so shared records never blink. */
  function replace(sourceKey: string, next: Contribution[]): void {
    const previous = sources.get(sourceKey) ?? [];
    for (const c of next) apply(c, 1);
    for (const c of previous) apply(c, -1);
    // Kept at its exact size (a pushed-to array has spare room).
    if (next.length > 0) sources.set(sourceKey, next.slice());
    else sources.delete(sourceKey);
    modifiedAt = Math.floor(now() / 1000);
    generation++;
  }

  const serviceFqdn = (namespace: string, name: string) => `${name}.${namespace}.svc.${zone}`.toLowerCase();

  /**
   * A namespace with a Service or Pod exists: "<ns>.svc.<zone>" and "<ns>.pod.<zone>" answer NODATA, not NXDOMAIN.
   * Contributions are never changed once made: every object of a namespace shares these two.
   */
  const namespaceContributions = new Map<string, readonly Contribution[]>();
  const namespaceNames = (namespace: string): Contribution[] => {
    let shared = namespaceContributions.get(namespace);
    if (!shared) {
      shared = [
        { kind: 'name', name: `${namespace}.svc.${zone}`.toLowerCase() },
        { kind: 'name', name: `${namespace}.pod.${zone}`.toLowerCase() },
      ];
      // Only a cache (contributions count by value): bounded for clusters that make and drop many namespaces.
      if (namespaceContributions.size >= 10_000) namespaceContributions.clear();
      namespaceContributions.set(namespace, shared);
    }
    return [...shared];
  };

  function serviceContributions(svc: Service): Contribution[] {
    const { namespace = '', name = '' } = svc.metadata ?? {};
    const fqdn = serviceFqdn(namespace, name);
    const out = namespaceNames(namespace);
    const mode = serviceModeOf(svc);
    if (mode === 'externalName') {
      const target = normalizeName(svc.spec?.externalName ?? '');
      // CoreDNS only CNAMEs host names: an ExternalName that is an IP gives no record.
      if (target && !canonicalIP(target)) out.push({ kind: 'cname', name: fqdn, target });
      return out;
    }
    // Headless names come from the endpoints (none ready: NXDOMAIN, as the spec says).
    if (mode === 'headless') return out;
    out.push({ kind: 'name', name: fqdn });
    const spec = svc.spec ?? {};
    const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    for (const ip of clusterIPs) {
      const address = canonicalIP(ip);
      if (!address) continue;
      out.push({ kind: 'address', name: fqdn, address }, { kind: 'ptr', address, target: fqdn, owner: 'service' });
    }
    for (const p of spec.ports ?? []) {
      out.push({ kind: 'srv', name: fqdn, port: p.port, target: fqdn });
      if (p.name) out.push({ kind: 'srv', name: `${srvLabel(p.name, p.protocol ?? 'TCP')}.${fqdn}`, port: p.port, target: fqdn });
    }
    return out;
  }

  /**
   * Endpoint records (CoreDNS serves them for every Service with endpoints, not
   * only headless ones): "<hostname or dashed IP>.<svc>" A/AAAA and SRV, and the
   * PTR of each endpoint IP; headless Services also get their own name's
   * A/AAAA and SRV from them.
   */
  function sliceContributions(sliceKey: string): Contribution[] {
    const state = slices.get(sliceKey);
    const svc = state?.serviceKey ? services.get(state.serviceKey) : undefined;
    if (!state?.serviceKey || !svc || svc.mode === 'externalName') return [];
    const [namespace, name] = state.serviceKey.split('/');
    const fqdn = serviceFqdn(namespace, name);
    const out: Contribution[] = [];
    for (const ep of state.endpoints) {
      if (!ep.ready && !svc.publishNotReady) continue;
      for (const address of ep.addresses) {
        const endpointName = `${ep.hostname ?? dashedAddress(address)}.${fqdn}`;
        out.push({ kind: 'address', name: endpointName, address }, { kind: 'ptr', address, target: endpointName, owner: 'endpoint' });
        if (svc.mode === 'headless') out.push({ kind: 'address', name: fqdn, address });
        for (const p of state.ports) {
          out.push({ kind: 'srv', name: endpointName, port: p.port, target: endpointName });
          if (svc.mode !== 'headless') continue;
          out.push({ kind: 'srv', name: fqdn, port: p.port, target: endpointName });
          if (p.name) out.push({ kind: 'srv', name: `${srvLabel(p.name, p.protocol)}.${fqdn}`, port: p.port, target: endpointName });
        }
      }
    }
    return out;
  }

  function refreshSlicesOf(serviceKey: string): void {
    for (const sliceKey of slicesByService.get(serviceKey) ?? []) replace(`slice/${sliceKey}`, sliceContributions(sliceKey));
  }

  function setServiceState(serviceKey: string, next: ServiceState | undefined): void {
    const previous = services.get(serviceKey);
    if (next) services.set(serviceKey, next);
    else services.delete(serviceKey);
    if (previous?.mode !== next?.mode || previous?.publishNotReady !== next?.publishNotReady) refreshSlicesOf(serviceKey);
  }

  function linkSlice(sliceKey: string, serviceKey: string | undefined, link: boolean): void {
    if (!serviceKey) return;
    const others = (slicesByService.get(serviceKey) ?? []).filter((k) => k !== sliceKey);
    const linked = link ? [...others, sliceKey] : others;
    if (linked.length > 0) slicesByService.set(serviceKey, linked);
    else slicesByService.delete(serviceKey);
  }

  function sliceStateOf(slice: EndpointSlice): SliceState {
    const namespace = slice.metadata?.namespace ?? '';
    const serviceName = slice.metadata?.labels?.[labelServiceName];
    const serviceKey = serviceName ? `${namespace}/${serviceName}` : undefined;
    // FQDN slices name no addresses DNS could serve.
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') return { serviceKey, endpoints: [], ports: [] };
    // Built with map and filter (arrays of their exact size: these are kept).
    return {
      serviceKey,
      endpoints: (slice.endpoints ?? []).map((ep) => ({
        addresses: ep.addresses.map(canonicalIP).filter((a): a is string => a !== undefined),
        hostname: ep.hostname?.toLowerCase() || undefined,
        // Unset ready means unknown, which consumers treat as ready.
        ready: ep.conditions?.ready !== false,
      })),
      // A port without a number means "all ports": nothing an SRV record can say.
      ports: (slice.ports ?? []).filter((p) => p.port !== undefined).map((p) => ({ name: p.name ?? '', port: p.port!, protocol: p.protocol ?? 'TCP' })),
    };
  }

  function podContributions(pod: Pod): Contribution[] {
    const namespace = pod.metadata?.namespace ?? '';
    const out = namespaceNames(namespace);
    // A finished pod's IP is free for another pod.
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return out;
    const ips = new Set([pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)]);
    for (const ip of ips) {
      const address = ip ? canonicalIP(ip) : undefined;
      if (address) out.push({ kind: 'address', name: `${dashedAddress(address)}.${namespace}.pod.${zone}`.toLowerCase(), address });
    }
    return out;
  }

  const objectKey = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

  // The zone's own records: the schema version, and the "svc" and "pod" subtrees, which exist even when empty.
  replace('zone', [
    { kind: 'txt', name: `dns-version.${zone}`, text: DNS_SCHEMA_VERSION },
    { kind: 'name', name: `svc.${zone}` },
    { kind: 'name', name: `pod.${zone}` },
  ]);

  return {
    zone,
    setService(svc) {
      const key = objectKey(svc);
      replace(`svc/${key}`, serviceContributions(svc));
      setServiceState(key, { mode: serviceModeOf(svc), publishNotReady: svc.spec?.publishNotReadyAddresses === true });
    },
    deleteService(svc) {
      const key = objectKey(svc);
      replace(`svc/${key}`, []);
      setServiceState(key, undefined);
    },
    setEndpointSlice(slice) {
      const key = objectKey(slice);
      const next = sliceStateOf(slice);
      linkSlice(key, slices.get(key)?.serviceKey, false);
      slices.set(key, next);
      linkSlice(key, next.serviceKey, true);
      replace(`slice/${key}`, sliceContributions(key));
    },
    deleteEndpointSlice(slice) {
      const key = objectKey(slice);
      linkSlice(key, slices.get(key)?.serviceKey, false);
      slices.delete(key);
      replace(`slice/${key}`, []);
    },
    setPod(pod) {
      replace(`pod/${objectKey(pod)}`, podContributions(pod));
    },
    deletePod(pod) {
      replace(`pod/${objectKey(pod)}`, []);
    },
    lookup(name) {
      const node = names.get(normalizeName(name));
      if (!node) return undefined;
      const addresses = valuesOf(node.addresses);
      return {
        ipv4: addresses.filter((a) => !a.includes(':')),
        ipv6: addresses.filter((a) => a.includes(':')),
        srv: valuesOf(node.srv).map((key) => {
          const space = key.indexOf(' ');
          return { port: Number(key.slice(0, space)), target: key.slice(space + 1) };
        }),
        cname: valuesOf(node.cnames)[0],
        txt: valuesOf(node.txt),
      };
    },
    lookupPtr(ip) {
      const address = canonicalIP(ip);
      const node = address ? ptrs.get(address) : undefined;
      return valuesOf(node?.services ?? node?.endpoints);
    },
    serial: () => modifiedAt,
    generation: () => generation,
  };
}
