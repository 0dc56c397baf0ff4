// The cluster DNS records (Kubernetes DNS schema 1.1.0, as CoreDNS's
// kubernetes plugin serves them), kept as an index that Services,
// EndpointSlices and Pods update one object at a time: each object's
// contribution (records, PTRs, names that must exist) is reference-counted,
// so an update adds the object's new records and drops its old ones without
// rescanning anything else, and records two objects share (the same endpoint
// IP in two slices) stay until the last one goes. What an object contributed
// is not kept as records: a Service's or slice's state is kept as one encoded
// string, and its old records are made again from it to be taken out. Names,
// reverse addresses and Service keys are held in string tables
// (string-table.ts) with what belongs to each in arrays by slot, not in an
// object and a Map entry each. Lookups are single table reads by lowercase
// name or by canonical IP. answer.ts turns them into responses.
import { labelServiceName } from '../api/labels.js';
import type { EndpointSlice, Pod, Service } from '../api/types.js';
import { canonicalIP } from '../net/addr.js';
import { StringTable } from './string-table.js';
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

/** A name's or address's records, per slot of its table (string-table.ts): arrays of sets instead of an object per name. */
type SlotSets = (CountedSet | undefined)[];

/** Makes the arrays reach `slot`, filled with undefined: a write far past an array's end would turn it into a dictionary. */
function reach(slot: number, ...arrays: unknown[][]): void {
  for (const a of arrays) while (a.length <= slot) a.push(undefined);
}

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
  /** The zone's existing names; per slot: contributions at the name or below it (the name exists while positive), and its records. */
  const names = new StringTable();
  const nameRefs: number[] = [];
  const nameAddresses: SlotSets = [];
  /** Keyed "port" when the target is the name itself (most are), "port>n" when it is the name without its first n characters, else "port target". */
  const nameSrv: SlotSets = [];
  /** Few names have CNAMEs or TXT (ExternalName Services, the schema version): by slot, apart. */
  const nameCnames = new Map<number, CountedSet>();
  const nameTxt = new Map<number, CountedSet>();
  /** Addresses with PTRs; per slot, the Services owning them as cluster IPs and the endpoint names. */
  const ptrs = new StringTable();
  const ptrServices: SlotSets = [];
  const ptrEndpoints: SlotSets = [];
  /** Small SRV keys ("80>11"), one string each however many names use them; only a cache, bounded. */
  const srvKeys = new Map<string, string>();
  /** Current contributions of the sources kept as such: pods ("pod/ns/name") and the zone's own, encoded (encodeContributions). */
  const sources = new Map<string, string>();
  /**
   * Service keys ("<namespace>/<name>") of Services and of the Services slices name, one string each; per slot,
   * the Service's state (encodeServiceState; undefined: no such Service) and its slices' keys (a Service has a
   * few slices, most one: the one key, or an array, far smaller than a Set). A key goes when both are gone.
   */
  const serviceKeys = new StringTable();
  const serviceStates: (string | undefined)[] = [];
  const slicesByService: (string | string[] | undefined)[] = [];
  const serviceStateOfKey = (serviceKey: string): string | undefined => {
    const slot = serviceKeys.get(serviceKey);
    return slot < 0 ? undefined : serviceStates[slot];
  };
  const slicesOf = (serviceKey: string): string[] => {
    const slot = serviceKeys.get(serviceKey);
    const linked = slot < 0 ? undefined : slicesByService[slot];
    return linked === undefined ? [] : typeof linked === 'string' ? [linked] : linked;
  };
  /** Sets a Service key's state and slices (undefined: unchanged), dropping the key when it has neither. */
  function setServiceEntry(serviceKey: string, state: { value: string | undefined } | undefined, linked: { value: string | string[] | undefined } | undefined): void {
    let slot = serviceKeys.get(serviceKey);
    if (slot < 0) {
      if (state?.value === undefined && linked?.value === undefined) return;
      slot = serviceKeys.add(flat(serviceKey));
      reach(slot, serviceStates, slicesByService);
    }
    if (state) serviceStates[slot] = state.value;
    if (linked) slicesByService[slot] = linked.value;
    if (serviceStates[slot] === undefined && slicesByService[slot] === undefined) serviceKeys.delete(serviceKey);
  }
  /** Slice states by "<namespace>/<name>", encoded (encodeSliceState). */
  const slices = new Map<string, string>();
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

  function addName(name: string): number {
    const slot = names.add(name);
    reach(slot, nameRefs, nameAddresses, nameSrv);
    nameRefs[slot] = 0;
    return slot;
  }

  function removeName(slot: number): void {
    names.delete(names.keyOf(slot));
    nameAddresses[slot] = nameSrv[slot] = undefined;
    nameCnames.delete(slot);
    nameTxt.delete(slot);
  }

  /** The SRV key of a record (see nameSrv); `shared` when it is one of few strings, kept once. */
  function srvKey(name: string, port: number, target: string): { key: string; shared: boolean } {
    // V8 caches numbers' strings: a port alone is shared, not copied per name.
    if (target === name) return { key: String(port), shared: true };
    if (name.length > target.length && name.endsWith(target) && name[name.length - target.length - 1] === '.') {
      const small = `${port}>${name.length - target.length}`;
      let key = srvKeys.get(small);
      if (key === undefined) {
        if (srvKeys.size >= 10_000) srvKeys.clear();
        srvKeys.set(small, (key = flat(small)));
      }
      return { key, shared: true };
    }
    return { key: `${port} ${target}`, shared: false };
  }

  function applyTo(set: CountedSet | undefined, key: string, delta: 1 | -1, shared = false): CountedSet | undefined {
    return delta > 0 ? countUp(set, key, shared) : countDown(set, key);
  }

  function apply(c: Contribution, delta: 1 | -1): void {
    if (c.kind === 'ptr') {
      const field = c.owner === 'service' ? ptrServices : ptrEndpoints;
      let slot = ptrs.get(c.address);
      if (delta > 0) {
        // Targets are names of the zone, counted in before their PTRs with the address: the name's own strings are kept.
        const target = names.get(c.target);
        const targetAddresses = target >= 0 ? nameAddresses[target] : undefined;
        if (slot < 0) {
          slot = ptrs.add(targetAddresses === c.address ? targetAddresses : flat(c.address));
          reach(slot, ptrServices, ptrEndpoints);
        }
        field[slot] = countUp(field[slot], target >= 0 ? names.keyOf(target) : c.target, target >= 0);
      } else if (slot >= 0) {
        field[slot] = countDown(field[slot], c.target);
        if (!ptrServices[slot] && !ptrEndpoints[slot]) ptrs.delete(c.address);
      }
      return;
    }
    let slot = names.get(c.name);
    if (slot < 0) slot = addName(flat(c.name));
    const name = names.keyOf(slot);
    switch (c.kind) {
      case 'address':
        nameAddresses[slot] = applyTo(nameAddresses[slot], c.address, delta);
        break;
      case 'srv': {
        const { key, shared } = srvKey(name, c.port, c.target);
        nameSrv[slot] = applyTo(nameSrv[slot], key, delta, shared);
        break;
      }
      case 'cname':
      case 'txt': {
        const rare = c.kind === 'cname' ? nameCnames : nameTxt;
        const set = applyTo(rare.get(slot), c.kind === 'cname' ? c.target : c.text, delta);
        if (set === undefined) rare.delete(slot);
        else rare.set(slot, set);
        break;
      }
    }
    // Ancestors are cut from the kept name (V8 slices share its characters), not from the contribution's copy.
    for (const n of selfAndAncestors(name)) {
      let at = n === name ? slot : names.get(n);
      if (at < 0) at = addName(n);
      nameRefs[at] += delta;
      if (nameRefs[at] <= 0) removeName(at);
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
    const previous = decodeServiceState(serviceStateOfKey(serviceKey));
    swap(serviceContributions(serviceKey, previous), serviceContributions(serviceKey, next));
    setServiceEntry(serviceKey, { value: next ? encodeServiceState(next) : undefined }, undefined);
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
    setServiceEntry(serviceKey, undefined, { value: linked.length === 0 ? undefined : linked.length === 1 ? linked[0] : linked });
  }

  /** The slice's new state (undefined: gone), its records made from it and its Service's state. */
  function setSliceState(sliceKey: string, next: SliceState | undefined): void {
    const previous = decodeSliceState(slices.get(sliceKey));
    const serviceOf = (s: SliceState | undefined) => (s?.serviceKey ? decodeServiceState(serviceStateOfKey(s.serviceKey)) : undefined);
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
      const slot = names.get(normalizeName(name));
      if (slot < 0) return undefined;
      const owner = names.keyOf(slot);
      const addresses = valuesOf(nameAddresses[slot]);
      return {
        ipv4: addresses.filter((a) => !a.includes(':')),
        ipv6: addresses.filter((a) => a.includes(':')),
        srv: valuesOf(nameSrv[slot]).map((key) => {
          const cut = key.indexOf('>');
          if (cut >= 0) return { port: Number(key.slice(0, cut)), target: owner.slice(Number(key.slice(cut + 1))) };
          const space = key.indexOf(' ');
          return space < 0 ? { port: Number(key), target: owner } : { port: Number(key.slice(0, space)), target: key.slice(space + 1) };
        }),
        cname: valuesOf(nameCnames.get(slot))[0],
        txt: valuesOf(nameTxt.get(slot)),
      };
    },
    lookupPtr(ip) {
      const address = canonicalIP(ip);
      const slot = address ? ptrs.get(address) : -1;
      return slot < 0 ? [] : valuesOf(ptrServices[slot] ?? ptrEndpoints[slot]);
    },
    serial: () => modifiedAt,
    generation: () => generation,
  };
}
