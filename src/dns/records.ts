// The cluster DNS records (Kubernetes DNS schema 1.1.0, as CoreDNS's
// kubernetes plugin serves them), kept as an index that Services,
// EndpointSlices and Pods update one object at a time: each object's
// contribution (records, PTRs, names that must exist) is reference-counted,
// so an update adds the object's new records and drops its old ones without
// rescanning anything else, and records two objects share (the same endpoint
// IP in two slices) stay until the last one goes. What an object contributed
// is not kept as records: a Service's or slice's state is kept as one encoded
// string, and its old records are made again from it to be taken out. Lookups
// are single map reads by lowercase name or by canonical IP. answer.ts turns
// them into responses.
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
 * The string as one run of characters, for what the index keeps. Names built
 * by concatenation are V8 cons strings (a tree of the pieces), and hashing
 * them for a Map key does not flatten them: kept as they are, every name
 * would hold its pieces and a node per join. toLowerCase returns the
 * flattened string when there is nothing to lower (the zone's names are lower
 * case); anything else is copied through JSON (no Buffers: their memory is
 * malloc's, which a burst of them leaves fragmented).
 */
function flat(s: string): string {
  const lower = s.toLowerCase();
  return lower === s ? lower : (JSON.parse(JSON.stringify(s)) as string);
}

/*
 * A source's contributions are kept as one flat string, read back only when
 * the source changes or goes: objects per contribution would cost ~10 times
 * its text. Fields are separated by \x01 and contributions by \x00, which no
 * name, address or TXT text of the zone contains.
 */
const fieldSeparator = '\x01';
const contributionSeparator = '\x00';

function encodeContributions(cs: Contribution[]): string {
  const parts: string[] = [];
  for (const c of cs) {
    switch (c.kind) {
      case 'address':
        parts.push(['a', c.name, c.address].join(fieldSeparator));
        break;
      case 'srv':
        parts.push(['s', c.name, String(c.port), c.target].join(fieldSeparator));
        break;
      case 'cname':
        parts.push(['c', c.name, c.target].join(fieldSeparator));
        break;
      case 'txt':
        parts.push(['t', c.name, c.text].join(fieldSeparator));
        break;
      case 'name':
        parts.push(['n', c.name].join(fieldSeparator));
        break;
      case 'ptr':
        parts.push([c.owner === 'service' ? 'p' : 'e', c.address, c.target].join(fieldSeparator));
        break;
    }
  }
  return parts.join(contributionSeparator);
}

function decodeContributions(encoded: string | undefined): Contribution[] {
  if (!encoded) return [];
  return encoded.split(contributionSeparator).map((part): Contribution => {
    const f = part.split(fieldSeparator);
    switch (f[0]) {
      case 'a':
        return { kind: 'address', name: f[1], address: f[2] };
      case 's':
        return { kind: 'srv', name: f[1], port: Number(f[2]), target: f[3] };
      case 'c':
        return { kind: 'cname', name: f[1], target: f[2] };
      case 't':
        return { kind: 'txt', name: f[1], text: f[2] };
      case 'n':
        return { kind: 'name', name: f[1] };
      default:
        return { kind: 'ptr', address: f[1], target: f[2], owner: f[0] === 'p' ? 'service' : 'endpoint' };
    }
  });
}

/**
 * A reference-counted set of strings. Most names own one value, some a few,
 * for which a Map (a hash table of ~200 bytes) costs far more than the values:
 * a set of one reference is the string itself, small sets are plain arrays
 * holding a value once per reference (the first occurrence keeps its place,
 * as a Map keeps insertion order), and only sets grown past `smallSet` values
 * (a headless Service's many endpoints) become a Map of counts, so removing
 * one stays cheap.
 */
type CountedSet = string | string[] | Map<string, number>;
const smallSet = 32;

/** Adds one reference; the set is created on first use. A key the index already keeps elsewhere is `shared` (not copied). */
function countUp(set: CountedSet | undefined, key: string, shared = false): CountedSet {
  const own = (k: string) => (shared ? k : flat(k));
  if (set === undefined) return own(key);
  if (typeof set === 'string') return [set, set === key ? set : own(key)];
  if (Array.isArray(set)) {
    const i = set.indexOf(key);
    // A new array of the exact size: push would reserve room for 16 more.
    if (set.length < smallSet) return [...set, i >= 0 ? set[i] : own(key)];
    const counts = new Map<string, number>();
    for (const k of set) counts.set(k, (counts.get(k) ?? 0) + 1);
    set = counts;
  }
  const n = set.get(key);
  set.set(n === undefined ? own(key) : key, (n ?? 0) + 1);
  return set;
}

/** Drops one reference; undefined when the set became empty. */
function countDown(set: CountedSet | undefined, key: string): CountedSet | undefined {
  if (set === undefined || typeof set === 'string') return set === key ? undefined : set;
  if (Array.isArray(set)) {
    const i = set.lastIndexOf(key);
    if (i >= 0) set.splice(i, 1);
    return set.length === 0 ? undefined : set.length === 1 ? set[0] : set;
  }
  const n = (set.get(key) ?? 0) - 1;
  if (n > 0) set.set(key, n);
  else set.delete(key);
  return set.size === 0 ? undefined : set;
}

/** The distinct values, in the order they were first added. */
function valuesOf(set: CountedSet | undefined): string[] {
  if (set === undefined) return [];
  if (typeof set === 'string') return [set];
  if (!Array.isArray(set)) return [...set.keys()];
  return set.length < 2 ? [...set] : [...new Set(set)];
}

interface NameNode {
  /** The name (the map's key): PTR targets share this string instead of holding copies. */
  name: string;
  /** Contributions at this name or below it: the name exists while this is positive. */
  refs: number;
  addresses?: CountedSet;
  /** Keyed "port target", or "port" when the target is the name itself (most are). */
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
const newNameNode = (name: string): NameNode => ({ name, refs: 0, addresses: undefined, srv: undefined, cnames: undefined, txt: undefined });
const newPtrNode = (): PtrNode => ({ services: undefined, endpoints: undefined });

type ServiceMode = 'clusterIP' | 'headless' | 'externalName';

/**
 * What a Service puts in the zone, taken from the object once: all that its
 * records are made from, so they can be made again to be taken out.
 */
interface ServiceState {
  mode: ServiceMode;
  publishNotReady: boolean;
  /** ExternalName target, normalized ('' for none). */
  externalName: string;
  /** Canonical cluster IPs. */
  clusterIPs: string[];
  /** Port name ('' for none), number, protocol (TCP when unset). */
  ports: { name: string; port: number; protocol: string }[];
}

interface SliceState {
  /** "<namespace>/<service>", '' when the slice names no Service. */
  serviceKey: string;
  endpoints: { addresses: string[]; hostname: string; ready: boolean }[];
  ports: { name: string; port: number; protocol: string }[];
}

/*
 * Service and slice states are kept encoded as one flat string each and read
 * back only when their object changes or goes (or a Service's mode changes):
 * the objects, arrays and map entries of a decoded state cost several times
 * its text. Separators are control characters no name, address or protocol
 * contains.
 */
const sep1 = '\x01';
const sep2 = '\x02';
const sep3 = '\x03';

const encodePorts = (ports: SliceState['ports']) => ports.map((p) => [p.name, p.port, p.protocol].join(sep3)).join(sep2);
const decodePorts = (text: string): SliceState['ports'] =>
  text === ''
    ? []
    : text.split(sep2).map((p) => {
        const [name, port, protocol] = p.split(sep3);
        return { name, port: port === '' ? (undefined as unknown as number) : Number(port), protocol };
      });

function encodeServiceState(s: ServiceState): string {
  return flat([s.mode, s.publishNotReady ? '1' : '', s.externalName, s.clusterIPs.join(','), encodePorts(s.ports)].join(sep1));
}

function decodeServiceState(text: string | undefined): ServiceState | undefined {
  if (text === undefined) return undefined;
  const [mode, publishNotReady, externalName, clusterIPs, ports] = text.split(sep1);
  return { mode: mode as ServiceMode, publishNotReady: publishNotReady === '1', externalName, clusterIPs: clusterIPs ? clusterIPs.split(',') : [], ports: decodePorts(ports) };
}

function encodeSliceState(s: SliceState): string {
  const endpoints = s.endpoints.map((ep) => [ep.ready ? '1' : '', ep.hostname, ep.addresses.join(',')].join(sep3)).join(sep2);
  return flat([s.serviceKey, endpoints, encodePorts(s.ports)].join(sep1));
}

function decodeSliceState(text: string | undefined): SliceState | undefined {
  if (text === undefined) return undefined;
  const [serviceKey, endpoints, ports] = text.split(sep1);
  return {
    serviceKey,
    endpoints:
      endpoints === ''
        ? []
        : endpoints.split(sep2).map((ep) => {
            const [ready, hostname, addresses] = ep.split(sep3);
            return { ready: ready === '1', hostname, addresses: addresses ? addresses.split(',') : [] };
          }),
    ports: decodePorts(ports),
  };
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
  /** Current contributions of the sources kept as such: pods ("pod/ns/name") and the zone's own, encoded (encodeContributions). */
  const sources = new Map<string, string>();
  /** Service and slice states by "<namespace>/<name>", encoded (encodeServiceState, encodeSliceState). */
  const services = new Map<string, string>();
  const slices = new Map<string, string>();
  /** Slice keys per Service key: a Service has a few slices (most one), for which an array (or the one key) is far smaller than a Set. */
  const slicesByService = new Map<string, string | string[]>();
  const slicesOf = (serviceKey: string): string[] => {
    const linked = slicesByService.get(serviceKey);
    return linked === undefined ? [] : typeof linked === 'string' ? [linked] : linked;
  };
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
      let node = ptrs.get(c.address);
      const field = c.owner === 'service' ? 'services' : 'endpoints';
      if (delta > 0) {
        // Targets are names of the zone, counted in before their PTRs with the address: the name's own strings are kept.
        const target = names.get(c.target);
        if (!node) ptrs.set(target?.addresses === c.address ? target.addresses : flat(c.address), (node = newPtrNode()));
        const name = target?.name;
        node[field] = countUp(node[field], name ?? c.target, name !== undefined);
      } else if (node) {
        node[field] = countDown(node[field], c.target);
        if (!node.services && !node.endpoints) ptrs.delete(c.address);
      }
      return;
    }
    let node = names.get(c.name);
    if (!node) {
      const name = flat(c.name);
      names.set(name, (node = newNameNode(name)));
    }
    const field = c.kind === 'address' ? 'addresses' : c.kind === 'srv' ? 'srv' : c.kind === 'cname' ? 'cnames' : c.kind === 'txt' ? 'txt' : undefined;
    const key =
      c.kind === 'address' ? c.address : c.kind === 'srv' ? (c.target === c.name ? String(c.port) : `${c.port} ${c.target}`) : c.kind === 'cname' ? c.target : c.kind === 'txt' ? c.text : '';
    // A port alone is one of few short strings (V8 caches numbers' strings): shared, not copied per name.
    if (field && delta > 0) node[field] = countUp(node[field], key, c.kind === 'srv' && c.target === c.name);
    if (field && delta < 0) node[field] = countDown(node[field], key);
    // Ancestors are cut from the kept name (V8 slices share its characters), not from the contribution's copy.
    for (const n of selfAndAncestors(node.name)) {
      let at = n === node.name ? node : names.get(n);
      if (!at) names.set(n, (at = newNameNode(n)));
      at.refs += delta;
      if (at.refs <= 0) names.delete(n);
    }
  }

  /** Counts `next` in before `previous` out, so records both share never blink. */
  function swap(previous: Contribution[], next: Contribution[]): void {
    for (const c of next) apply(c, 1);
    for (const c of previous) apply(c, -1);
    modifiedAt = Math.floor(now() / 1000);
    generation++;
  }

  /** Makes `next` a kept source's contributions. */
  function replace(sourceKey: string, next: Contribution[]): void {
    swap(decodeContributions(sources.get(sourceKey)), next);
    if (next.length > 0) sources.set(sourceKey, encodeContributions(next));
    else sources.delete(sourceKey);
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

  function serviceStateOf(svc: Service): ServiceState {
    const spec = svc.spec ?? {};
    const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    return {
      mode: serviceModeOf(svc),
      publishNotReady: spec.publishNotReadyAddresses === true,
      externalName: normalizeName(spec.externalName ?? ''),
      clusterIPs: clusterIPs.map(canonicalIP).filter((a): a is string => a !== undefined),
      ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    };
  }

  function serviceContributions(serviceKey: string, svc: ServiceState | undefined): Contribution[] {
    if (!svc) return [];
    const [namespace, name] = serviceKey.split('/');
    const fqdn = serviceFqdn(namespace, name);
    const out = namespaceNames(namespace);
    if (svc.mode === 'externalName') {
      const target = svc.externalName;
      // CoreDNS only CNAMEs host names: an ExternalName that is an IP gives no record.
      if (target && !canonicalIP(target)) out.push({ kind: 'cname', name: fqdn, target });
      return out;
    }
    // Headless names come from the endpoints (none ready: NXDOMAIN, as the spec says).
    if (svc.mode === 'headless') return out;
    out.push({ kind: 'name', name: fqdn });
    for (const address of svc.clusterIPs) {
      out.push({ kind: 'address', name: fqdn, address }, { kind: 'ptr', address, target: fqdn, owner: 'service' });
    }
    for (const p of svc.ports) {
      out.push({ kind: 'srv', name: fqdn, port: p.port, target: fqdn });
      if (p.name) out.push({ kind: 'srv', name: `${srvLabel(p.name, p.protocol)}.${fqdn}`, port: p.port, target: fqdn });
    }
    return out;
  }

  /**
   * Endpoint records (CoreDNS serves them for every Service with endpoints, not
   * only headless ones): "<hostname or dashed IP>.<svc>" A/AAAA and SRV, and the
   * PTR of each endpoint IP; headless Services also get their own name's
   * A/AAAA and SRV from them. `svc` is the slice's Service's state (undefined: none).
   */
  function sliceContributions(state: SliceState | undefined, svc: ServiceState | undefined): Contribution[] {
    if (!state?.serviceKey || !svc || svc.mode === 'externalName') return [];
    const [namespace, name] = state.serviceKey.split('/');
    const fqdn = serviceFqdn(namespace, name);
    const out: Contribution[] = [];
    for (const ep of state.endpoints) {
      if (!ep.ready && !svc.publishNotReady) continue;
      for (const address of ep.addresses) {
        const endpointName = `${ep.hostname || dashedAddress(address)}.${fqdn}`;
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

  /** The Service's new state: its own records, and its slices' when what they depend on (mode, publishNotReady) changed. */
  function setServiceState(serviceKey: string, next: ServiceState | undefined): void {
    const previous = decodeServiceState(services.get(serviceKey));
    swap(serviceContributions(serviceKey, previous), serviceContributions(serviceKey, next));
    if (next) services.set(serviceKey, encodeServiceState(next));
    else services.delete(serviceKey);
    if (previous?.mode === next?.mode && previous?.publishNotReady === next?.publishNotReady) return;
    for (const sliceKey of slicesOf(serviceKey)) {
      const slice = decodeSliceState(slices.get(sliceKey));
      swap(sliceContributions(slice, previous), sliceContributions(slice, next));
    }
  }

  function linkSlice(sliceKey: string, serviceKey: string | undefined, link: boolean): void {
    if (!serviceKey) return;
    const others = slicesOf(serviceKey).filter((k) => k !== sliceKey);
    const linked = link ? [...others, sliceKey] : others;
    if (linked.length > 0) slicesByService.set(flat(serviceKey), linked.length === 1 ? linked[0] : linked);
    else slicesByService.delete(serviceKey);
  }

  /** The slice's new state (undefined: gone), its records made from it and its Service's state. */
  function setSliceState(sliceKey: string, next: SliceState | undefined): void {
    const previous = decodeSliceState(slices.get(sliceKey));
    const serviceOf = (s: SliceState | undefined) => (s?.serviceKey ? decodeServiceState(services.get(s.serviceKey)) : undefined);
    linkSlice(sliceKey, previous?.serviceKey, false);
    if (next) slices.set(sliceKey, encodeSliceState(next));
    else slices.delete(sliceKey);
    linkSlice(sliceKey, next?.serviceKey, true);
    swap(sliceContributions(previous, serviceOf(previous)), sliceContributions(next, serviceOf(next)));
  }

  function sliceStateOf(slice: EndpointSlice): SliceState {
    const namespace = slice.metadata?.namespace ?? '';
    const serviceName = slice.metadata?.labels?.[labelServiceName];
    const serviceKey = serviceName ? `${namespace}/${serviceName}` : '';
    // FQDN slices name no addresses DNS could serve.
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') return { serviceKey, endpoints: [], ports: [] };
    return {
      serviceKey,
      endpoints: (slice.endpoints ?? []).map((ep) => ({
        addresses: ep.addresses.map(canonicalIP).filter((a): a is string => a !== undefined),
        hostname: ep.hostname?.toLowerCase() ?? '',
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
      setServiceState(flat(objectKey(svc)), serviceStateOf(svc));
    },
    deleteService(svc) {
      setServiceState(objectKey(svc), undefined);
    },
    setEndpointSlice(slice) {
      setSliceState(flat(objectKey(slice)), sliceStateOf(slice));
    },
    deleteEndpointSlice(slice) {
      setSliceState(objectKey(slice), undefined);
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
          return space < 0 ? { port: Number(key), target: node.name } : { port: Number(key.slice(0, space)), target: key.slice(space + 1) };
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
