// The nftables mode's rule set as data (pure): a ProxySnapshot in, the one
// `table ip kube-proxy` (ip6 for IPv6) kube-proxy's syncProxyRules
// (pkg/proxy/nftables/proxier.go, v1.32/1.33) programs, out — its fixed chains,
// sets and maps, and per service its chains, ClientIP affinity sets and the
// map/set elements that dispatch to them. render.ts turns rule sets into
// `nft -f` transactions: the whole table, or only what changed since a previous
// rule set.
//
// Layout (see chain-names.ts for the names):
//   nat-prerouting / nat-output → services: `daddr . l4proto . dport vmap @service-ips` (cluster IP → service-/local-
//                 chain, external and load-balancer IPs → external- chain), then node ports via @service-nodeports
//   filter-*      → firewall-check (@firewall-ips: load-balancer IPs with source ranges → firewall- chain, which
//                 drops other sources), service-/nodeport-endpoints-check (@no-endpoint-*: reject or drop),
//                 cluster-ips-check (other ports of a cluster IP rejected, unallocated service IPs dropped)
//   nat-postrouting → masquerading: masquerade what mark-for-masquerade marked
//   external-     masquerade (Cluster policy) or short-circuit pods and the node itself (Local policy), then the policy chain
//   service-/local- off-cluster masquerade, affinity lookups, `numgen random mod N vmap { i : goto endpoint-… }`
//   endpoint-     hairpin masquerade, affinity update, DNAT
//
// A port's chains and elements depend only on its snapshot entry and the
// context, so they are memoized per entry (and a service's per ServiceEntry):
// the change tracker keeps unchanged entries by reference, so a rebuild after
// one change recomputes one service and hands back the very same objects for
// the rest, which render.ts skips by identity.
import { isIPv4, isIPv6 } from 'node:net';
import { familyOfBits, formatIP, formatIPv6, inCIDR, parseCIDRStrict, parseIPStrict, type IPFamily } from '../../net/addr.js';
import { LayeredMap } from '../layered-map.js';
import { servicePortNameString, type EndpointInfo, type ProxySnapshot, type ServiceEntry, type ServicePortEntry } from '../snapshot.js';
import {
  dispatchChainName,
  dispatchChainRules,
  dispatchProtocols,
  endpointsMap,
  externalFallbackIPsMap,
  fallbackIndexOffset,
  hairpinEndpointsSet,
  nodePortEndpointsMap,
  nodePortFallbackMap,
  type DispatchKind,
} from './dispatch.js';
import {
  affinitySetNameForEndpointChain,
  clusterIPsCheckChain,
  clusterIPsSet,
  filterForwardChain,
  filterInputChain,
  filterOutputChain,
  filterOutputPostDNATChain,
  filterPreroutingChain,
  firewallCheckChain,
  firewallIPsMap,
  kubeProxyTable,
  markMasqChain,
  masqueradingChain,
  natOutputChain,
  natPostroutingChain,
  natPreroutingChain,
  noEndpointNodePortsMap,
  noEndpointServicesMap,
  nodePortEndpointsCheckChain,
  nodePortIPsSet,
  rejectChain,
  serviceEndpointsCheckChain,
  serviceIPsMap,
  serviceNodePortsMap,
  servicePortChainNames,
  servicePortEndpointChainName,
  servicesChain,
  type ServicePortChainNames,
} from './chain-names.js';

export type NftFamily = 'ip' | 'ip6';

export interface NftBaseChainHook {
  type: 'filter' | 'nat';
  hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /** Numeric, as nft lists it: dstnat = -100, srcnat = 100. */
  priority: number;
}

export interface NftChain {
  readonly name: string;
  /** Set for base chains (attached to a netfilter hook). */
  readonly hook?: NftBaseChainHook;
  readonly comment?: string;
  /** The chain's `add rule <family> kube-proxy <name> …` lines joined with "\n" ("" when empty): rendered and compared as is. */
  readonly text: string;
  /** Appends the pieces of text, each line followed by "\n", to `parts` (how transactions are written without copying twice). */
  writeText(parts: string[]): void;
  readonly ruleCount: number;
  /** The rules without the `add rule …` prefix, in order (split from text on first use). */
  readonly rules: readonly string[];
}

/** A set or a map (a verdict map when its type ends in ": verdict"). */
export interface NftContainer {
  readonly kind: 'set' | 'map';
  readonly name: string;
  /** e.g. "ipv4_addr . inet_proto . inet_service : verdict". */
  readonly type: string;
  readonly flags: readonly string[];
  /** 0: no timeout. */
  readonly timeoutSeconds: number;
  readonly comment: string;
  /** The `{ type … ; }` definition: an existing set whose definition differs must be deleted and re-added. */
  readonly spec: string;
}

export interface NftElement {
  /** The set or map holding it. */
  readonly container: string;
  /** Concatenated key, as nft writes it: "172.30.0.41 . tcp . 80". */
  readonly key: string;
  /** Map value ("goto service-…", "drop"); "" for a set element. */
  readonly value: string;
  /** "" when none; no-endpoint elements carry the service port's name, as upstream. */
  readonly comment: string;
  /** "namespace/name" of the service it is for: on a key clash the smallest wins. */
  readonly service: string;
  /** container + " " + key: unique within the table. */
  readonly id: string;
}

/** What a service port or a whole service puts in the table. */
interface NftShare {
  readonly chains: readonly NftChain[];
  readonly affinitySets: readonly NftContainer[];
  readonly elements: readonly NftElement[];
  /** The nftables-maps layout's shared dispatch chains its elements jump to (dispatch.ts); none in upstream's layout. */
  readonly dispatchChains: readonly string[];
}

/** One service port's share. */
export interface NftServicePortRules extends NftShare {
  readonly key: string;
  /** internalTrafficPolicy Local without local endpoints (cluster IP traffic dropped). */
  readonly noLocalEndpointsInternal: boolean;
  /** externalTrafficPolicy Local without local endpoints (external traffic dropped). */
  readonly noLocalEndpointsExternal: boolean;
}

/** One service's share: its ports' chains and sets, and its elements with duplicates between ports removed. */
export interface NftServiceRules extends NftShare {
  /** "namespace/name". */
  readonly key: string;
  readonly ports: readonly NftServicePortRules[];
}

export interface NftRuleSet {
  readonly layout: NftLayout;
  readonly family: NftFamily;
  readonly ipFamily: IPFamily;
  readonly table: string;
  readonly tableComment: string;
  /** Base chains, then the fixed regular chains, with their rules. */
  readonly chains: readonly NftChain[];
  /** The fixed sets and maps, in definition order. */
  readonly containers: readonly NftContainer[];
  /** Fixed sets this rule set makes sure do not exist (added, then deleted): nodeport-ips when node ports are accepted on every local IP. */
  readonly absentContainers: readonly NftContainer[];
  /** Elements of the fixed sets that are not per service: the nodeport-ips addresses. */
  readonly staticElements: readonly NftElement[];
  /** Per service, by "namespace/name". A service whose snapshot entry did not change keeps the very same object. */
  readonly services: ReadonlyMap<string, NftServiceRules>;
  /** The nftables-maps layout's shared dispatch chains, by name, with the number of services using each (0: kept from the rule set this one was derived from). */
  readonly dispatchChains: ReadonlyMap<string, { readonly chain: NftChain; readonly users: number }>;
  /** Everything the fixed objects depend on: when it differs between two rule sets, only a full transaction is right. */
  readonly contextSignature: string;
  /** upstream sync_proxy_rules_no_local_endpoints_total{traffic_policy}: service ports whose Local policy finds nothing here. */
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
}

/** What the nftables proxier is configured with, besides the snapshot. */
export interface NftablesRuleContext {
  /** --cluster-cidr: the first CIDR of the snapshot's family makes the ClusterCIDR local-traffic detector. */
  clusterCIDRs: readonly string[];
  /**
   * Addresses accepting node port traffic (resolved --nodeport-addresses): they fill the nodeport-ips set
   * (loopback ones left out: nftables mode has no localhost node ports). undefined: every local address (fib).
   */
  nodePortIPs?: readonly string[];
  /** --masquerade-all. Default false. */
  masqueradeAll?: boolean;
  /** --iptables-masquerade-bit, 0–31. Default 14 (mark 0x4000). */
  masqueradeBit?: number;
  /** The ServiceCIDRs: traffic to an unallocated IP in them is dropped (cluster-ips-check). None: no such rule. */
  serviceCIDRs?: readonly string[];
  /** This node's IPs: a loadBalancerSourceRange holding one also admits traffic from the load-balancer IPs themselves. */
  nodeIPs?: readonly string[];
  /** Another detect-local mode than ClusterCIDR, in nft syntax (e.g. `iifname "veth*"` / `iifname != "veth*"`). */
  localDetector?: NftLocalTrafficDetector;
  /**
   * upstream: kube-proxy's layout, chains per service port and endpoint. maps: the nftables-maps mode's, endpoints as
   * map elements behind shared dispatch chains (dispatch.ts). Default upstream.
   */
  layout?: NftLayout;
}

export type NftLayout = 'upstream' | 'maps';

/** The table comment of the nftables-maps layout: how a proxy starting in one layout knows the table holds the other. */
export const mapLayoutTableComment = 'rules for kube-proxy (kubesvc nftables-maps layout)';

/** upstream LocalTrafficDetector IfLocalNFT / IfNotLocalNFT. */
export interface NftLocalTrafficDetector {
  ifLocal: string;
  ifNotLocal: string;
}

// ---- chains ------------------------------------------------------------------

/**
 * Chains keep what their rules are made of, not the rules: 10,000 services with
 * 10 endpoints make 111,000 chains, and their text is only needed when a
 * transaction writes or compares them. Text is generated on each access, as
 * pieces for one final join: no string is built twice.
 */
abstract class ChainBase implements NftChain {
  abstract readonly name: string;
  abstract readonly ruleCount: number;
  abstract writeText(parts: string[]): void;
  declare readonly hook?: NftBaseChainHook;
  declare readonly comment?: string;
  get text(): string {
    const parts: string[] = [];
    this.writeText(parts);
    return parts.length ? parts.join('').slice(0, -1) : '';
  }
  get rules(): readonly string[] {
    const text = this.text;
    if (text === '') return [];
    // Every line starts with "add rule <family> kube-proxy <name> ".
    const prefixLength = text.indexOf(` ${this.name} `) + this.name.length + 2;
    return text.split('\n').map((line) => line.slice(prefixLength));
  }
}

/** A chain whose text is computed up front: the fixed chains and the rarer per-service ones. */
class StaticChain extends ChainBase {
  readonly #text: string;
  constructor(
    readonly name: string,
    text: string,
    readonly ruleCount: number,
    override readonly hook?: NftBaseChainHook,
    override readonly comment?: string,
  ) {
    super();
    this.#text = text;
  }
  override get text(): string {
    return this.#text;
  }
  writeText(parts: string[]): void {
    if (this.#text !== '') parts.push(this.#text, '\n');
  }
}

/** Collects one chain's rules as `add rule` lines. */
class ChainBuilder {
  readonly #prefix: string;
  readonly #lines: string[] = [];
  constructor(
    readonly family: NftFamily,
    readonly name: string,
  ) {
    this.#prefix = `add rule ${family} ${kubeProxyTable} ${name} `;
  }
  add(rule: string, comment?: string): this {
    this.#lines.push(comment === undefined ? this.#prefix + rule : `${this.#prefix}${rule} comment "${comment}"`);
    return this;
  }
  build(hook?: NftBaseChainHook, comment?: string): NftChain {
    return new StaticChain(this.name, this.#lines.join('\n'), this.#lines.length, hook, comment);
  }
}

const addRule = `add rule `;
const inTable = ` ${kubeProxyTable} `;

/** endpoint-…: hairpin masquerade, the affinity update, DNAT. */
class EndpointChain extends ChainBase {
  constructor(
    readonly family: NftFamily,
    readonly name: string,
    /** The ClientIP affinity set's name; undefined without affinity. */
    readonly affinitySet: string | undefined,
    readonly endpoint: EndpointInfo,
    readonly protocol: string,
  ) {
    super();
  }
  get ruleCount(): number {
    return this.affinitySet ? 3 : 2;
  }
  writeText(parts: string[]): void {
    const { family, name } = this;
    const prefix = `${addRule}${family}${inTable}${name} `;
    // Hairpin: a pod reaching itself through the service must see the node as source.
    parts.push(`${prefix}${family} saddr ${this.endpoint.ip} jump ${markMasqChain}\n`);
    if (this.affinitySet) parts.push(`${prefix}update @${this.affinitySet} { ${family} saddr }\n`);
    parts.push(`${prefix}meta l4proto ${this.protocol} dnat to ${this.endpoint.endpoint}\n`);
  }
}

/** service-… / local-…: off-cluster masquerade, affinity lookups, then one random pick among the endpoints. */
class PolicyChain extends ChainBase {
  constructor(
    readonly family: NftFamily,
    readonly name: string,
    /** The masquerade rule for off-cluster traffic to the cluster IP, when this is the internal traffic chain. */
    readonly masquerade: string | undefined,
    readonly endpoints: readonly EndpointChain[],
  ) {
    super();
  }
  get ruleCount(): number {
    const affinity = this.endpoints[0]?.affinitySet ? this.endpoints.length : 0;
    return (this.masquerade ? 1 : 0) + affinity + 1;
  }
  writeText(parts: string[]): void {
    const { family, name, endpoints } = this;
    const prefix = `${addRule}${family}${inTable}${name} `;
    if (this.masquerade) parts.push(`${prefix}${this.masquerade}\n`);
    for (const ep of endpoints) if (ep.affinitySet) parts.push(`${prefix}${family} saddr @${ep.affinitySet} goto ${ep.name}\n`);
    let targets = `0 : goto ${endpoints[0].name}`;
    for (let i = 1; i < endpoints.length; i++) targets += ` , ${i} : goto ${endpoints[i].name}`;
    parts.push(`${prefix}numgen random mod ${endpoints.length} vmap { ${targets} }\n`);
  }
}

function containerOf(kind: 'set' | 'map', name: string, type: string, comment = '', flags: readonly string[] = [], timeoutSeconds = 0, typeOf = false): NftContainer {
  // typeOf: the type is given as the expressions matched against it ("ip daddr . … : …").
  let spec = `{ ${typeOf ? 'typeof' : 'type'} ${type} ;`;
  if (flags.length) spec += ` flags ${flags.join(',')} ;`;
  if (timeoutSeconds) spec += ` timeout ${timeoutSeconds}s ;`;
  if (comment) spec += ` comment "${comment}" ;`;
  return { kind, name, type, flags, timeoutSeconds, comment, spec: `${spec} }` };
}

/** An element; its id is made only when asked for (a full sync at 10,000 services has some 160,000 elements). */
class Element implements NftElement {
  constructor(
    readonly container: string,
    readonly key: string,
    readonly value: string,
    readonly service: string,
    readonly comment: string,
  ) {}
  get id(): string {
    return `${this.container} ${this.key}`;
  }
}

function elementOf(container: string, key: string, value: string, service: string, comment = ''): NftElement {
  return new Element(container, key, value, service, comment);
}

/** Whether two elements are the same entry of the same set or map. */
export const sameEntry = (a: NftElement, b: NftElement) => a.key === b.key && a.container === b.container;

// ---- context -------------------------------------------------------------------

interface ResolvedContext {
  layout: NftLayout;
  family: NftFamily;
  ipFamily: IPFamily;
  /** "ipv4_addr" / "ipv6_addr". */
  addrType: string;
  detector: NftLocalTrafficDetector | undefined;
  masqueradeAll: boolean;
  masqueradeMark: string;
  nodeIPs: string[];
  /** undefined: node ports on every local address. */
  nodePortIPs: string[] | undefined;
  serviceCIDRs: string[];
  /** What a port's rules depend on besides its entry: the memo key. */
  portSignature: string;
  contextSignature: string;
}

function resolveContext(snapshot: ProxySnapshot, ctx: NftablesRuleContext): ResolvedContext {
  const ipFamily = snapshot.ipFamily;
  const family: NftFamily = ipFamily === 'IPv6' ? 'ip6' : 'ip';
  const inFamily = ipFamily === 'IPv6' ? isIPv6 : isIPv4;
  let detector = ctx.localDetector;
  if (!detector) {
    const cidr = ctx.clusterCIDRs.map((c) => normalizeCIDR(c.trim(), ipFamily)).find((c) => c !== undefined);
    if (cidr) detector = { ifLocal: `${family} saddr ${cidr}`, ifNotLocal: `${family} saddr != ${cidr}` };
  }
  const bit = ctx.masqueradeBit ?? 14;
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new RangeError(`masqueradeBit must be within [0, 31], got ${bit}`);
  const loopback = (ip: string) => (ipFamily === 'IPv6' ? normalizeCIDR(`${ip}/128`, ipFamily) === '::1/128' : ip.startsWith('127.'));
  const nodePortIPs = ctx.nodePortIPs === undefined ? undefined : [...new Set(ctx.nodePortIPs.filter((ip) => inFamily(ip) && !loopback(ip)))];
  const serviceCIDRs = (ctx.serviceCIDRs ?? []).map((c) => normalizeCIDR(c.trim(), ipFamily)).filter((c): c is string => c !== undefined);
  const resolved = {
    layout: ctx.layout ?? 'upstream',
    family,
    ipFamily,
    addrType: ipFamily === 'IPv6' ? 'ipv6_addr' : 'ipv4_addr',
    detector,
    masqueradeAll: ctx.masqueradeAll ?? false,
    // upstream prints it with %#08x (0x00004000); the same mark, written as its tests and the iptables mode do.
    masqueradeMark: `0x${(2 ** bit).toString(16)}`,
    nodeIPs: (ctx.nodeIPs ?? []).filter((ip) => inFamily(ip)),
    nodePortIPs,
    serviceCIDRs,
  };
  const portSignature = JSON.stringify([resolved.layout, family, detector?.ifLocal, detector?.ifNotLocal, resolved.masqueradeAll, resolved.nodeIPs]);
  const contextSignature = JSON.stringify([portSignature, resolved.masqueradeMark, nodePortIPs, serviceCIDRs]);
  return { ...resolved, portSignature, contextSignature };
}

// ---- addresses -------------------------------------------------------------------

/** A CIDR of the family in canonical form with the host bits cleared, as Go's IPNet.String(); undefined when invalid or of the other family. */
export function normalizeCIDR(cidr: string, family: IPFamily): string | undefined {
  const c = parseCIDRStrict(cidr);
  if (!c || familyOfBits(c.bits) !== family) return undefined;
  // An IPv6 network stays IPv6 ("::ffff:102:304/128"), as nft prints it.
  return `${c.bits === 128 ? formatIPv6(c.network) : formatIP(c.network)}/${c.prefix}`;
}

function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCIDRStrict(cidr);
  const a = parseIPStrict(ip);
  return c !== null && a !== null && a.bits === c.bits && inCIDR(c, a.ip);
}

// ---- per service port ------------------------------------------------------------

interface PortNames {
  /** ServicePortName.String(): "ns/name:port". */
  portName: string;
  protocol: string;
  /** Computed on first use (a hash each): the nftables-maps layout names chains only for ClientIP affinity and firewalls. */
  readonly chains: ServicePortChainNames;
}

const portNamesMemo = new WeakMap<ServicePortEntry['info'], PortNames>();
const portRulesMemo = new WeakMap<ServicePortEntry, { signature: string; rules: NftServicePortRules }>();
const serviceRulesMemo = new WeakMap<ServiceEntry, { signature: string; rules: NftServiceRules }>();

function portNames(entry: ServicePortEntry): PortNames {
  let names = portNamesMemo.get(entry.info);
  if (!names) {
    const { namespace, name, port } = entry.info.name;
    const protocol = entry.info.protocol.toLowerCase();
    let chains: ServicePortChainNames | undefined;
    names = {
      portName: servicePortNameString(entry.info.name),
      protocol,
      get chains() {
        return (chains ??= servicePortChainNames(namespace, name, protocol, port));
      },
    };
    portNamesMemo.set(entry.info, names);
  }
  return names;
}

function servicePortRules(entry: ServicePortEntry, serviceKey: string, rc: ResolvedContext): NftServicePortRules {
  const memo = portRulesMemo.get(entry);
  if (memo && memo.signature === rc.portSignature) return memo.rules;
  const rules = buildServicePortRules(entry, serviceKey, rc);
  portRulesMemo.set(entry, { signature: rc.portSignature, rules });
  return rules;
}

/** upstream syncProxyRules' loop body for one service port. */
function buildServicePortRules(entry: ServicePortEntry, serviceKey: string, rc: ResolvedContext): NftServicePortRules {
  const info = entry.info;
  const { portName, protocol } = portNames(entry);
  const { family } = rc;
  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasEndpoints } = entry;
  const affinity = info.sessionAffinity.type === 'ClientIP';
  // The nftables-maps layout (dispatch.ts): the verdicts go to shared dispatch chains, and the endpoints behind each
  // entry become elements of the endpoint maps. ClientIP affinity keeps upstream's chains.
  const mapped = rc.layout === 'maps' && !affinity;
  const endpointChains = mapped ? [] : allReachableEndpoints.map((ep) => {
    const name = servicePortEndpointChainName(info.name.namespace, info.name.name, protocol, info.name.port, ep.ip, ep.port);
    return new EndpointChain(family, name, affinity ? affinitySetNameForEndpointChain(name) : undefined, ep, protocol);
  });
  // The endpoint lists share their EndpointInfo objects (and usually are the very same array).
  const chainsFor = (endpoints: readonly EndpointInfo[]): readonly EndpointChain[] => {
    if (endpoints === allReachableEndpoints) return endpointChains;
    const byEndpoint = new Map(allReachableEndpoints.map((ep, i) => [ep, endpointChains[i]]));
    return endpoints.map((ep) => byEndpoint.get(ep)!);
  };

  const sourceRanges = info.loadBalancerSourceRanges.map((r) => normalizeCIDR(r, rc.ipFamily)).filter((r): r is string => r !== undefined);
  // Unlike the iptables mode, regardless of endpoints: the firewall runs in the filter chains, before any DNAT.
  const usesFWChain = info.loadBalancerIPs.length > 0 && sourceRanges.length > 0;
  // The maps layout writes none of the per-port chains but the firewall's: their names (hashes) are not computed.
  const names = !mapped || usesFWChain ? portNames(entry).chains : undefined;
  const clusterPolicyChain = names?.cluster ?? '';
  const usesClusterPolicyChain = clusterEndpoints.length > 0 && info.usesClusterEndpoints;
  const localPolicyChain = names?.local ?? '';
  const usesLocalPolicyChain = localEndpoints.length > 0 && info.usesLocalEndpoints;
  const internalTrafficChain = info.internalPolicyLocal ? localPolicyChain : clusterPolicyChain;
  const hasInternalEndpoints = hasEndpoints && (!info.internalPolicyLocal || localEndpoints.length > 0);
  const externalPolicyChain = info.externalPolicyLocal ? localPolicyChain : clusterPolicyChain;
  const hasExternalEndpoints = hasEndpoints && (!info.externalPolicyLocal || localEndpoints.length > 0);
  const externalTrafficChain = names?.external ?? '';
  // Based on hasEndpoints, not hasExternalEndpoints: the short-circuit rules for pods and the node are needed regardless.
  const usesExternalTrafficChain = hasEndpoints && info.externallyAccessible;
  const fwChain = names?.firewall ?? '';

  // No endpoints anywhere: reject. Endpoints, but none here for a Local policy: drop (what was not short-circuited).
  const unreachableVerdict = hasEndpoints ? 'drop' : `goto ${rejectChain}`;

  const elements: NftElement[] = [];
  const port = String(info.port);
  const ipKey = (ip: string) => `${ip} . ${protocol} . ${port}`;

  const dispatchChains = new Set<string>();
  const hairpinCandidates = new Set(mapped ? allReachableEndpoints.filter((ep) => ep.isLocal) : []);
  const via = (kind: DispatchKind, endpoints: number) => {
    const name = dispatchChainName(kind, protocol, endpoints);
    dispatchChains.add(name);
    return `goto ${name}`;
  };
  const ipPortKey = (ip: string) => `${ip} . ${port}`;
  const pickFrom = (map: string, key: string, endpoints: readonly EndpointInfo[], offset = 0) => {
    for (let i = 0; i < endpoints.length; i++) elements.push(elementOf(map, `${key} . ${offset + i}`, `${endpoints[i].ip} . ${endpoints[i].port}`, serviceKey));
  };
  const internalVerdict = (): string => {
    if (!mapped) return `goto ${internalTrafficChain}`;
    const endpoints = info.internalPolicyLocal ? localEndpoints : clusterEndpoints;
    pickFrom(endpointsMap(protocol), ipPortKey(info.clusterIP), endpoints);
    return via('cluster-ip', endpoints.length);
  };
  /** For traffic to an external or load-balancer IP or a node port (the verdict maps' key, and the endpoint maps' key). */
  const externalVerdict = (key: string, endpointsKey: string, nodePort: boolean): string => {
    if (!mapped) return `goto ${externalTrafficChain}`;
    const map = nodePort ? nodePortEndpointsMap(protocol) : endpointsMap(protocol);
    if (!info.externalPolicyLocal) {
      pickFrom(map, endpointsKey, clusterEndpoints);
      return via(nodePort ? 'nodeport-external' : 'external', clusterEndpoints.length);
    }
    pickFrom(map, endpointsKey, localEndpoints);
    if (clusterEndpoints.length > 0) {
      pickFrom(map, endpointsKey, clusterEndpoints, fallbackIndexOffset);
      for (const ep of clusterEndpoints) hairpinCandidates.add(ep);
      const fallback = via(nodePort ? 'nodeport-fallback' : 'external-fallback', clusterEndpoints.length);
      elements.push(elementOf(nodePort ? nodePortFallbackMap : externalFallbackIPsMap, key, fallback, serviceKey));
    }
    return via(nodePort ? 'nodeport-external-local' : 'external-local', localEndpoints.length);
  };

  elements.push(elementOf(clusterIPsSet, info.clusterIP, '', serviceKey));
  if (hasInternalEndpoints) elements.push(elementOf(serviceIPsMap, ipKey(info.clusterIP), internalVerdict(), serviceKey));
  else elements.push(elementOf(noEndpointServicesMap, ipKey(info.clusterIP), unreachableVerdict, serviceKey, portName));

  for (const ip of info.externalIPs) {
    if (hasEndpoints) elements.push(elementOf(serviceIPsMap, ipKey(ip), externalVerdict(ipKey(ip), ipPortKey(ip), false), serviceKey));
    if (!hasExternalEndpoints) elements.push(elementOf(noEndpointServicesMap, ipKey(ip), unreachableVerdict, serviceKey, portName));
  }
  for (const ip of info.loadBalancerIPs) {
    if (hasEndpoints) elements.push(elementOf(serviceIPsMap, ipKey(ip), externalVerdict(ipKey(ip), ipPortKey(ip), false), serviceKey));
    if (usesFWChain) elements.push(elementOf(firewallIPsMap, ipKey(ip), `goto ${fwChain}`, serviceKey));
  }
  if (!hasExternalEndpoints) {
    for (const ip of info.loadBalancerIPs) elements.push(elementOf(noEndpointServicesMap, ipKey(ip), unreachableVerdict, serviceKey, portName));
  }
  if (info.nodePort !== 0) {
    // Node ports are not subject to loadBalancerSourceRanges (as upstream, for better or worse).
    const nodePortKey = `${protocol} . ${info.nodePort}`;
    if (hasEndpoints) elements.push(elementOf(serviceNodePortsMap, nodePortKey, externalVerdict(nodePortKey, String(info.nodePort), true), serviceKey));
    if (!hasExternalEndpoints) elements.push(elementOf(noEndpointNodePortsMap, nodePortKey, unreachableVerdict, serviceKey, portName));
  }
  // A pod reaching itself through the service is masqueraded in postrouting (the masquerading chain): any endpoint a
  // source can be sent back to unmasqueraded — this node's (its pods' own traffic is DNATed here, other nodes' pods'
  // on their nodes), and with Local policy every cluster endpoint, as the short-circuit admits pods of other nodes.
  if (mapped) for (const ep of hairpinCandidates) elements.push(elementOf(hairpinEndpointsSet, `${ep.ip} . ${ep.ip}`, '', serviceKey));

  const chains: NftChain[] = [];
  const affinitySets: NftContainer[] = [];
  if (affinity) {
    const timeout = info.sessionAffinity.timeoutSeconds;
    for (const chain of endpointChains) affinitySets.push(containerOf('set', chain.affinitySet!, rc.addrType, '', ['dynamic', 'timeout'], timeout));
  }

  // Off-cluster traffic to the cluster IP is masqueraded: it may be routed here from outside and leave again.
  let internalMasquerade: string | undefined;
  if (hasInternalEndpoints) {
    const match = `${family} daddr ${info.clusterIP} ${protocol} dport ${port}`;
    if (rc.masqueradeAll) internalMasquerade = `${match} jump ${markMasqChain}`;
    else if (rc.detector) internalMasquerade = `${match} ${rc.detector.ifNotLocal} jump ${markMasqChain}`;
  }

  const policyChain = (name: string, endpoints: readonly EndpointInfo[]) =>
    new PolicyChain(family, name, internalTrafficChain === name ? internalMasquerade : undefined, chainsFor(endpoints));
  if (usesClusterPolicyChain && !mapped) chains.push(policyChain(clusterPolicyChain, clusterEndpoints));
  if (usesLocalPolicyChain && !mapped) chains.push(policyChain(localPolicyChain, localEndpoints));

  if (usesExternalTrafficChain && !mapped) {
    const ext = new ChainBuilder(family, externalTrafficChain);
    if (!info.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade so replies come back through this one.
      ext.add(`jump ${markMasqChain}`);
    } else {
      // Pods going to an external address act as if they went out to a load balancer and back: Cluster policy.
      if (rc.detector) ext.add(`${rc.detector.ifLocal} goto ${clusterPolicyChain}`, 'short-circuit pod traffic');
      // The node itself picks the external address as source: masquerade it, and use Cluster policy.
      ext.add(`fib saddr type local jump ${markMasqChain}`, 'masquerade local traffic');
      ext.add(`fib saddr type local goto ${clusterPolicyChain}`, 'short-circuit local traffic');
    }
    if (hasExternalEndpoints) ext.add(`goto ${externalPolicyChain}`);
    chains.push(ext.build());
  }

  if (usesFWChain) {
    const sources = [...sourceRanges];
    // A VIP-like load balancer's IP is often local too: the node's own requests then arrive from the VIP.
    if (rc.nodeIPs.some((ip) => sourceRanges.some((range) => cidrContains(range, ip)))) sources.push(...info.loadBalancerIPs);
    chains.push(new ChainBuilder(family, fwChain).add(`${family} saddr != { ${sources.join(' , ')} } drop`).build());
  }

  if (!mapped) for (const chain of endpointChains) chains.push(chain);

  return {
    key: entry.key,
    chains,
    affinitySets,
    elements,
    dispatchChains: [...dispatchChains],
    noLocalEndpointsInternal: hasEndpoints && !hasInternalEndpoints,
    noLocalEndpointsExternal: hasEndpoints && !hasExternalEndpoints,
  };
}

function serviceRules(service: ServiceEntry, rc: ResolvedContext): NftServiceRules {
  const memo = serviceRulesMemo.get(service);
  if (memo && memo.signature === rc.portSignature) return memo.rules;
  const key = `${service.namespace}/${service.name}`;
  const ports = service.ports.map((p) => servicePortRules(p, key, rc));
  let rules: NftServiceRules;
  if (ports.length === 1) {
    const [only] = ports;
    // One port whose addresses all differ cannot repeat an element: the keys hold the address, and the indexes or
    // endpoint IPs after it differ.
    const elements = distinctAddresses(service.ports[0].info) ? only.elements : dedupeElements(only.elements);
    rules = { key, ports, chains: only.chains, affinitySets: only.affinitySets, elements, dispatchChains: only.dispatchChains };
  } else {
    rules = {
      key,
      ports,
      chains: ports.flatMap((p) => p.chains),
      affinitySets: ports.flatMap((p) => p.affinitySets),
      elements: dedupeElements(ports.flatMap((p) => p.elements)),
      dispatchChains: [...new Set(ports.flatMap((p) => p.dispatchChains))],
    };
  }
  serviceRulesMemo.set(service, { signature: rc.portSignature, rules });
  return rules;
}

function distinctAddresses(info: ServicePortEntry['info']): boolean {
  if (info.externalIPs.length === 0 && info.loadBalancerIPs.length === 0) return true;
  const all = [info.clusterIP, ...info.externalIPs, ...info.loadBalancerIPs];
  return new Set(all).size === all.length;
}

/** The first of each id: every port adds the cluster IP to cluster-ips, an external IP may also be a load-balancer IP. */
function dedupeElements(elements: readonly NftElement[]): readonly NftElement[] {
  if (elements.length <= 8) {
    // The usual few: no duplicates, found without allocating.
    let duplicate = false;
    for (let i = 1; i < elements.length && !duplicate; i++) for (let j = 0; j < i; j++) if (sameEntry(elements[i], elements[j])) duplicate = true;
    if (!duplicate) return elements;
  }
  const seen = new Set<string>();
  const out: NftElement[] = [];
  for (const el of elements) {
    if (seen.has(el.id)) continue;
    seen.add(el.id);
    out.push(el);
  }
  return out.length === elements.length ? elements : out;
}

// ---- the fixed objects ------------------------------------------------------------

const baseChains: readonly [string, NftBaseChainHook][] = [
  // Filtering runs on pre-DNAT destination IPs, so before DNAT (dstnat - 10) — except cluster-ips-check for output.
  [filterPreroutingChain, { type: 'filter', hook: 'prerouting', priority: -110 }],
  [filterInputChain, { type: 'filter', hook: 'input', priority: -110 }],
  [filterForwardChain, { type: 'filter', hook: 'forward', priority: -110 }],
  [filterOutputChain, { type: 'filter', hook: 'output', priority: -110 }],
  [filterOutputPostDNATChain, { type: 'filter', hook: 'output', priority: -90 }],
  [natPreroutingChain, { type: 'nat', hook: 'prerouting', priority: -100 }],
  [natOutputChain, { type: 'nat', hook: 'output', priority: -100 }],
  [natPostroutingChain, { type: 'nat', hook: 'postrouting', priority: 100 }],
];

/** upstream nftablesJumpChains: [destination, source, match]. */
const jumpChains: readonly [string, string, string][] = [
  // The endpoints checks reject, which (before kernel 5.9) only input, forward and output hooks allow.
  [nodePortEndpointsCheckChain, filterInputChain, 'ct state new '],
  [serviceEndpointsCheckChain, filterInputChain, 'ct state new '],
  [serviceEndpointsCheckChain, filterForwardChain, 'ct state new '],
  [serviceEndpointsCheckChain, filterOutputChain, 'ct state new '],
  [firewallCheckChain, filterPreroutingChain, 'ct state new '],
  [firewallCheckChain, filterOutputChain, 'ct state new '],
  [servicesChain, natOutputChain, ''],
  [servicesChain, natPreroutingChain, ''],
  [masqueradingChain, natPostroutingChain, ''],
  [clusterIPsCheckChain, filterForwardChain, 'ct state new '],
  [clusterIPsCheckChain, filterOutputPostDNATChain, 'ct state new '],
];

const fixedRuleSetMemo = new Map<string, Pick<NftRuleSet, 'chains' | 'containers' | 'absentContainers' | 'staticElements'>>();

/** upstream setupNFTables: the chains, sets and maps that do not depend on services. */
function fixedObjects(rc: ResolvedContext): Pick<NftRuleSet, 'chains' | 'containers' | 'absentContainers' | 'staticElements'> {
  const memo = fixedRuleSetMemo.get(rc.contextSignature);
  if (memo) return memo;
  const { family, addrType } = rc;
  const noLocalhost = family === 'ip6' ? 'ip6 daddr != ::1' : 'ip daddr != 127.0.0.0/8';
  const builders = new Map<string, ChainBuilder>();
  const chain = (name: string) => {
    let b = builders.get(name);
    if (!b) builders.set(name, (b = new ChainBuilder(family, name)));
    return b;
  };
  for (const [name] of baseChains) chain(name);
  for (const [destination, source, match] of jumpChains) {
    chain(destination);
    chain(source).add(`${match}jump ${destination}`);
  }
  chain(markMasqChain).add(`mark set mark or ${rc.masqueradeMark}`);
  if (rc.layout === 'maps') {
    // The hairpin: after DNAT a pod's packet to itself through a service has its own IP as source and destination.
    chain(masqueradingChain).add(`ct status dnat ${family} saddr . ${family} daddr @${hairpinEndpointsSet} jump ${markMasqChain}`);
  }
  chain(masqueradingChain).add(`mark and ${rc.masqueradeMark} == 0 return`).add(`mark set mark xor ${rc.masqueradeMark}`).add('masquerade fully-random');
  chain(clusterIPsCheckChain).add(`${family} daddr @${clusterIPsSet} reject`, 'Reject traffic to invalid ports of ClusterIPs');
  if (rc.serviceCIDRs.length) chain(clusterIPsCheckChain).add(`${family} daddr { ${rc.serviceCIDRs.join(',')} } drop`, 'Drop traffic to unallocated ClusterIPs');
  chain(rejectChain).add('reject');
  chain(serviceEndpointsCheckChain).add(`${family} daddr . meta l4proto . th dport vmap @${noEndpointServicesMap}`);
  const matchAll = rc.nodePortIPs === undefined;
  const nodePortDestinations = matchAll ? `fib daddr type local ${noLocalhost}` : `${family} daddr @${nodePortIPsSet}`;
  chain(nodePortEndpointsCheckChain).add(`${matchAll ? noLocalhost : nodePortDestinations} meta l4proto . th dport vmap @${noEndpointNodePortsMap}`);
  chain(firewallCheckChain).add(`${family} daddr . meta l4proto . th dport vmap @${firewallIPsMap}`);
  chain(servicesChain).add(`${family} daddr . meta l4proto . th dport vmap @${serviceIPsMap}`);
  chain(servicesChain).add(`${nodePortDestinations} meta l4proto . th dport vmap @${serviceNodePortsMap}`);

  const hooks = new Map(baseChains);
  const order = [...baseChains.map(([name]) => name), ...[...builders.keys()].filter((name) => !hooks.has(name))];
  const chains = order.map((name) =>
    builders.get(name)!.build(hooks.get(name), name === rejectChain ? 'helper for @no-endpoint-services / @no-endpoint-nodeports' : undefined),
  );

  const ipProtoPort = `${addrType} . inet_proto . inet_service : verdict`;
  const nodePortIPs = containerOf('set', nodePortIPsSet, addrType, 'IPs that accept NodePort traffic');
  const containers: NftContainer[] = [containerOf('set', clusterIPsSet, addrType, 'Active ClusterIPs')];
  if (!matchAll) containers.push(nodePortIPs);
  containers.push(
    containerOf('map', noEndpointServicesMap, ipProtoPort, 'vmap to drop or reject packets to services with no endpoints'),
    containerOf('map', noEndpointNodePortsMap, 'inet_proto . inet_service : verdict', 'vmap to drop or reject packets to service nodeports with no endpoints'),
    containerOf('map', firewallIPsMap, ipProtoPort, 'destinations that are subject to LoadBalancerSourceRanges'),
    containerOf('map', serviceIPsMap, ipProtoPort, 'ClusterIP, ExternalIP and LoadBalancer IP traffic'),
    containerOf('map', serviceNodePortsMap, 'inet_proto . inet_service : verdict', 'NodePort traffic'),
  );
  if (rc.layout === 'maps') {
    // Per protocol, whose port the data names (dispatch.ts says why).
    const index = 'numgen random mod 1';
    for (const protocol of dispatchProtocols) {
      const target = `${family} daddr . ${protocol} dport`;
      containers.push(
        containerOf('map', endpointsMap(protocol), `${family} daddr . th dport . ${index} : ${target}`, `${protocol} endpoints by service IP, port and index`, [], 0, true),
        containerOf('map', nodePortEndpointsMap(protocol), `th dport . ${index} : ${target}`, `${protocol} endpoints by node port and index`, [], 0, true),
      );
    }
    containers.push(
      containerOf('map', externalFallbackIPsMap, ipProtoPort, 'Local policy: pods and the node itself use the cluster endpoints'),
      containerOf('map', nodePortFallbackMap, 'inet_proto . inet_service : verdict', 'Local policy node ports: pods and the node itself use the cluster endpoints'),
      containerOf('set', hairpinEndpointsSet, `${addrType} . ${addrType}`, 'endpoints reaching themselves through a service'),
    );
  }
  const fixed = {
    chains,
    containers,
    absentContainers: matchAll ? [nodePortIPs] : [],
    staticElements: (rc.nodePortIPs ?? []).map((ip) => elementOf(nodePortIPsSet, ip, '', '')),
  };
  if (fixedRuleSetMemo.size > 16) fixedRuleSetMemo.clear();
  fixedRuleSetMemo.set(rc.contextSignature, fixed);
  return fixed;
}

// ---- the nftables-maps layout's dispatch chains ----------------------------------------

const dispatchChainMemo = new Map<string, NftChain>();

function dispatchChain(name: string, rc: ResolvedContext): NftChain {
  const memoKey = `${rc.portSignature} ${name}`;
  let chain = dispatchChainMemo.get(memoKey);
  if (!chain) {
    const builder = new ChainBuilder(rc.family, name);
    const dispatch = { family: rc.family, ifLocal: rc.detector?.ifLocal, ifNotLocal: rc.detector?.ifNotLocal, masqueradeAll: rc.masqueradeAll };
    for (const rule of dispatchChainRules(name, dispatch)) builder.add(rule);
    chain = builder.build();
    if (dispatchChainMemo.size > 4096) dispatchChainMemo.clear();
    dispatchChainMemo.set(memoKey, chain);
  }
  return chain;
}

// ---- the whole rule set ------------------------------------------------------------

const ruleSetMemo = new WeakMap<ProxySnapshot, NftRuleSet>();
const derivations = new WeakMap<NftRuleSet, { base: WeakRef<NftRuleSet>; services: ReadonlySet<string> }>();

/**
 * When `ruleSet` was built from `base` by revisiting some services only: those services' keys (the others are
 * the very same objects in both). undefined when it was not.
 */
export function servicesRebuiltSince(ruleSet: NftRuleSet, base: NftRuleSet): ReadonlySet<string> | undefined {
  const derivation = derivations.get(ruleSet);
  return derivation && derivation.base.deref() === base ? derivation.services : undefined;
}

/**
 * Everything the nftables mode programs for the snapshot, as syncProxyRules
 * would (a full sync). Pure; per-service results are memoized on the snapshot's
 * entries, and a snapshot the change tracker derived from one already built
 * starts from that rule set and revisits only the services it rebuilt.
 */
export function buildNftablesRules(snapshot: ProxySnapshot, ctx: NftablesRuleContext): NftRuleSet {
  const rc = resolveContext(snapshot, ctx);
  const same = ruleSetMemo.get(snapshot);
  if (same && same.contextSignature === rc.contextSignature) return same;
  const from = snapshot.rebuiltFrom;
  const baseSnapshot = from?.base.deref();
  const base = baseSnapshot && ruleSetMemo.get(baseSnapshot);
  let services: Map<string, NftServiceRules> | LayeredMap<string, NftServiceRules>;
  let internal = 0;
  let external = 0;
  const dispatchUsers = new Map<string, number>();
  const derived = from !== undefined && base !== undefined && base.contextSignature === rc.contextSignature;
  const count = (rules: NftServiceRules, sign: number) => {
    for (const p of rules.ports) {
      if (p.noLocalEndpointsInternal) internal += sign;
      if (p.noLocalEndpointsExternal) external += sign;
    }
    for (const name of rules.dispatchChains) dispatchUsers.set(name, (dispatchUsers.get(name) ?? 0) + sign);
  };
  if (derived) {
    // Derived, not copied: the rest of the services are the very same objects.
    services = LayeredMap.derive(base.services);
    ({ internal, external } = base.noLocalEndpoints);
    for (const [name, { users }] of base.dispatchChains) dispatchUsers.set(name, users);
    for (const key of from.services) {
      const before = services.get(key);
      if (before) count(before, -1);
      const service = snapshot.services.get(key);
      if (!service) {
        services.delete(key);
        continue;
      }
      const rules = serviceRules(service, rc);
      services.set(key, rules);
      count(rules, 1);
    }
  } else {
    services = new Map();
    for (const [key, service] of snapshot.services) {
      const rules = serviceRules(service, rc);
      services.set(key, rules);
      count(rules, 1);
    }
  }
  const dispatchChains = new Map<string, { chain: NftChain; users: number }>();
  for (const name of [...dispatchUsers.keys()].sort()) {
    const users = dispatchUsers.get(name)!;
    // A rule set derived from another keeps the dispatch chains nobody uses any more: creating one costs the kernel a
    // walk of every element of its endpoint map (the new rule binds the map; ~20 ms at 100,000 endpoints), which a
    // service going between 0 and 1 endpoints would pay on every change. They are few (kinds × protocols × counts).
    if (users > 0 || (derived && users === 0)) dispatchChains.set(name, { chain: dispatchChain(name, rc), users });
  }
  const ruleSet: NftRuleSet = {
    layout: rc.layout,
    family: rc.family,
    ipFamily: rc.ipFamily,
    table: kubeProxyTable,
    tableComment: rc.layout === 'maps' ? mapLayoutTableComment : 'rules for kube-proxy',
    ...fixedObjects(rc),
    services: services instanceof LayeredMap ? services.seal() : services,
    dispatchChains,
    contextSignature: rc.contextSignature,
    noLocalEndpoints: { internal, external },
  };
  ruleSetMemo.set(snapshot, ruleSet);
  if (derived) derivations.set(ruleSet, { base: new WeakRef(base), services: from.services });
  return ruleSet;
}
