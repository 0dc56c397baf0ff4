// The iptables mode's rules as data (pure): a ProxySnapshot in, per table the
// ordered chains kube-proxy's syncProxyRules (pkg/proxy/iptables/proxier.go,
// v1.32) would write, each with its rule lines, out. restore.ts turns a rule
// set into iptables-restore input, in full or only what changed.
//
// Layout, per service port (see chain-names.ts for the names):
//   KUBE-SERVICES   cluster IP → KUBE-SVC (or KUBE-SVL for internalTrafficPolicy Local);
//                   external IPs → KUBE-EXT; load-balancer IPs → KUBE-EXT, or KUBE-FW with source ranges;
//                   last rule: local (or --nodeport-addresses) destinations → KUBE-NODEPORTS
//   KUBE-NODEPORTS  node port → KUBE-EXT
//   KUBE-EXT        masquerade, or for externalTrafficPolicy Local short-circuit pods and the node
//                   to KUBE-SVC and send the rest to KUBE-SVL
//   KUBE-FW         one rule per source range → KUBE-EXT; the rest is dropped in filter KUBE-PROXY-FIREWALL
//   KUBE-SVC/SVL    off-cluster masquerade, ClientIP affinity checks, then one random-probability rule per endpoint
//   KUBE-SEP        hairpin masquerade, DNAT to the endpoint (setting the affinity entry)
//   filter          REJECT without endpoints, DROP without local endpoints, ACCEPT health-check node ports
//
// Each port's rules depend only on its snapshot entry and the context, so they
// are memoized per entry: the change tracker keeps unchanged entries by
// reference, and a re-render after one change recomputes one service's rules
// and hands back the very same chain objects for the rest (cheap to diff).
// A chain keeps its rules as one flat string: 10,000 services make some 330,000
// rules, and one string per chain instead of a string tree per rule is what
// keeps the garbage collector out of the way.
import { isIPv6 } from 'node:net';
import { familyOfBits, inCIDR, parseCIDRStrict, parseIPStrict, type IPFamily } from '../../net/addr.js';
import { servicePortNameString, type EndpointInfo, type ProxySnapshot, type ServicePortEntry } from '../snapshot.js';
import {
  kubeExternalServicesChain,
  kubeForwardChain,
  kubeMarkMasqChain,
  kubeNodePortsChain,
  kubePostroutingChain,
  kubeProxyFirewallChain,
  kubeServicesChain,
  kubeletFirewallChain,
  servicePortChainNames,
  servicePortEndpointChainName,
  type ServicePortChainNames,
} from './chain-names.js';

export type IptablesTable = 'filter' | 'nat';

export interface IptablesChain {
  readonly name: string;
  /** The rule lines joined with "\n" ("" for an empty chain): what iptables-restore reads for the chain. */
  readonly text: string;
  readonly ruleCount: number;
  /** Complete rule lines ("-A <name> ..."), in order (split from text on first use). */
  readonly rules: readonly string[];
}

export interface IptablesTableRules {
  /** Every chain kube-proxy owns in the table, in output order: the top-level chains, then per service port its own. */
  readonly chains: readonly IptablesChain[];
  readonly byName: ReadonlyMap<string, IptablesChain>;
}

export interface IptablesRuleSet {
  readonly ipFamily: IPFamily;
  readonly filter: IptablesTableRules;
  readonly nat: IptablesTableRules;
  /**
   * The nat chains each service port owns (KUBE-EXT, KUBE-FW, KUBE-SVC, KUBE-SVL, KUBE-SEP), by servicePortKey.
   * A port whose snapshot entry did not change keeps the very same array: partial syncs skip it by identity.
   */
  readonly servicePortChains: ReadonlyMap<string, readonly IptablesChain[]>;
  /** More endpoints than the threshold: per-endpoint comments were left out (upstream largeClusterMode). */
  readonly largeClusterMode: boolean;
}

/** The two matches of a local-traffic detector (upstream LocalTrafficDetector IfLocal / IfNotLocal). */
export interface LocalTrafficDetector {
  /** e.g. "-s 10.244.0.0/16" (ClusterCIDR), "-i cbr0" (BridgeInterface), "-i veth+" (InterfaceNamePrefix). */
  ifLocal: string;
  /** e.g. "! -s 10.244.0.0/16". */
  ifNotLocal: string;
}

export interface IptablesRuleContext {
  /** --cluster-cidr: the first CIDR of the snapshot's family makes the ClusterCIDR local-traffic detector. */
  clusterCIDRs: readonly string[];
  /** Addresses node ports accept traffic on (resolved --nodeport-addresses); undefined: every local address. */
  nodePortIPs?: readonly string[];
  /** --masquerade-all: masquerade all cluster-IP traffic. Default false. */
  masqueradeAll?: boolean;
  /** --iptables-masquerade-bit, 0–31. Default 14 (mark 0x4000). */
  masqueradeBit?: number;
  /** This node's IPs: a loadBalancerSourceRange holding one also admits traffic from the load-balancer IP itself. */
  nodeIPs?: readonly string[];
  /**
   * --iptables-localhost-nodeports (default true): node ports answer on 127.0.0.1 (IPv4 only; the caller sets
   * route_localnet=1), guarded by the KUBE-FIREWALL martian rule. Off when nodePortIPs lacks a loopback address.
   */
  localhostNodePorts?: boolean;
  /** iptables supports MASQUERADE --random-fully (1.6.2+). Default true. */
  randomFully?: boolean;
  /** nf_conntrack_tcp_be_liberal is set: no DROP of conntrack INVALID packets in KUBE-FORWARD. Default false. */
  conntrackTCPLiberal?: boolean;
  /** The nfacct counters exist: count dropped INVALID packets and accepted localhost node-port packets. Default false. */
  nfacct?: boolean;
  /** Above this many endpoints in total, per-endpoint comments are left out. Default 1000, as upstream. */
  largeClusterEndpointsThreshold?: number;
  /** Another detect-local mode than ClusterCIDR; takes precedence over clusterCIDRs. */
  localDetector?: LocalTrafficDetector;
}

/** A jump from a built-in chain into ours, inserted at the top when missing (iptables -C, then -I). */
export interface JumpRule {
  table: IptablesTable;
  /** The built-in chain: INPUT, FORWARD, OUTPUT, PREROUTING, POSTROUTING. */
  chain: string;
  target: string;
  args: string[];
}

/** upstream nfacct counter names. */
export const nfacctCTStateInvalidDropped = 'ct_state_invalid_dropped_pkts';
export const nfacctLocalhostNodePortAccepted = 'localhost_nps_accepted_pkts';

const defaultLargeClusterEndpointsThreshold = 1000;
const nodePortsComment = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"';

const newConntrack = ['-m', 'conntrack', '--ctstate', 'NEW'];
const jumpChains: [IptablesTable, string, string, string, string[]][] = [
  ['filter', 'INPUT', kubeExternalServicesChain, 'kubernetes externally-visible service portals', newConntrack],
  ['filter', 'FORWARD', kubeExternalServicesChain, 'kubernetes externally-visible service portals', newConntrack],
  ['filter', 'INPUT', kubeNodePortsChain, 'kubernetes health check service ports', []],
  ['filter', 'FORWARD', kubeServicesChain, 'kubernetes service portals', newConntrack],
  ['filter', 'OUTPUT', kubeServicesChain, 'kubernetes service portals', newConntrack],
  ['filter', 'FORWARD', kubeForwardChain, 'kubernetes forwarding rules', []],
  ['filter', 'INPUT', kubeProxyFirewallChain, 'kubernetes load balancer firewall', newConntrack],
  ['filter', 'OUTPUT', kubeProxyFirewallChain, 'kubernetes load balancer firewall', newConntrack],
  ['filter', 'FORWARD', kubeProxyFirewallChain, 'kubernetes load balancer firewall', newConntrack],
  ['nat', 'OUTPUT', kubeServicesChain, 'kubernetes service portals', []],
  ['nat', 'PREROUTING', kubeServicesChain, 'kubernetes service portals', []],
  ['nat', 'POSTROUTING', kubePostroutingChain, 'kubernetes postrouting rules', []],
  // kubelet's own jumps, which kube-proxy also ensures (iptablesKubeletJumpChains): no comment.
  ['filter', 'INPUT', kubeletFirewallChain, '', []],
  ['filter', 'OUTPUT', kubeletFirewallChain, '', []],
];

/**
 * The jump rules from the built-in chains, as upstream's iptablesJumpChains plus
 * the kubelet firewall jumps; ensure each target chain exists first (iptables -N).
 */
export function jumpRules(): JumpRule[] {
  return jumpChains.map(([table, chain, target, comment, extra]) => ({
    table,
    chain,
    target,
    args: [...extra, ...(comment ? ['-m', 'comment', '--comment', comment] : []), '-j', target],
  }));
}

// ---- chains ------------------------------------------------------------------

class Chain implements IptablesChain {
  #rules: readonly string[] | undefined;
  constructor(
    readonly name: string,
    readonly text: string,
    readonly ruleCount: number,
  ) {}
  get rules(): readonly string[] {
    return (this.#rules ??= this.text === '' ? [] : this.text.split('\n'));
  }
}

/** A chain from its rule lines (joined into one flat string). */
function chainOf(name: string, rules: readonly string[]): IptablesChain {
  return new Chain(name, rules.join('\n'), rules.length);
}

/** Rule lines as one string, for a port's share of a top-level chain. */
interface Lines {
  text: string;
  count: number;
}

const noLines: Lines = { text: '', count: 0 };

function linesOf(rules: readonly string[]): Lines {
  return rules.length ? { text: rules.join('\n'), count: rules.length } : noLines;
}

/** A top-level chain from its own rules and every port's share, in order. */
class ChainAssembler {
  readonly #parts: string[] = [];
  #count = 0;
  add(lines: Lines): void {
    if (lines.count === 0) return;
    this.#parts.push(lines.text);
    this.#count += lines.count;
  }
  addRules(rules: readonly string[]): void {
    this.add(linesOf(rules));
  }
  chain(name: string): IptablesChain {
    return new Chain(name, this.#parts.join('\n'), this.#count);
  }
}

// ---- probabilities ---------------------------------------------------------

const probabilities: string[] = [];

/**
 * Go's fmt.Sprintf("%0.10f", x) for 0 < x ≤ 1: the double's exact value rounded
 * to 10 decimals, ties to even (Number#toFixed rounds exact ties up: 1/2048).
 */
function goFixed10(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biasedExponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exponent = -1074;
  if (biasedExponent !== 0) {
    mantissa |= 1n << 52n;
    exponent = biasedExponent - 1075;
  }
  let numerator = mantissa * 10n ** 10n;
  let denominator = 1n;
  if (exponent >= 0) numerator <<= BigInt(exponent);
  else denominator <<= BigInt(-exponent);
  let quotient = numerator / denominator;
  const twiceRemainder = 2n * (numerator % denominator);
  if (twiceRemainder > denominator || (twiceRemainder === denominator && (quotient & 1n) === 1n)) quotient += 1n;
  const digits = quotient.toString().padStart(11, '0');
  return `${digits.slice(0, -10)}.${digits.slice(-10)}`;
}

/** The --probability of the rule picking one of n remaining endpoints: 1/n, as upstream computeProbability. */
export function probability(n: number): string {
  return (probabilities[n] ??= goFixed10(1 / n));
}

// ---- context ---------------------------------------------------------------

interface ResolvedContext {
  ipFamily: IPFamily;
  detector: LocalTrafficDetector | undefined;
  masqueradeAll: boolean;
  masqueradeMark: string;
  nodeIPs: string[];
  nodePortIPs: string[] | undefined;
  localhostNodePorts: boolean;
  randomFully: boolean;
  conntrackTCPLiberal: boolean;
  nfacct: boolean;
  largeClusterMode: boolean;
  /** What a port's rules depend on besides its entry: the memo key. */
  signature: string;
}

const ofFamily = (family: IPFamily) => (ip: string) => isIPv6(ip) === (family === 'IPv6');

/** The family of a CIDR as the rule writer takes it (see parseCIDRStrict), undefined when it does not. */
function cidrFamily(cidr: string): IPFamily | undefined {
  const c = parseCIDRStrict(cidr);
  return c ? familyOfBits(c.bits) : undefined;
}

function resolveContext(snapshot: ProxySnapshot, ctx: IptablesRuleContext): ResolvedContext {
  const family = snapshot.ipFamily;
  const inFamily = ofFamily(family);
  let detector = ctx.localDetector;
  if (!detector) {
    const cidr = ctx.clusterCIDRs.map((c) => c.trim()).find((c) => cidrFamily(c) === family);
    if (cidr) detector = { ifLocal: `-s ${cidr}`, ifNotLocal: `! -s ${cidr}` };
  }
  const bit = ctx.masqueradeBit ?? 14;
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new RangeError(`masqueradeBit must be within [0, 31], got ${bit}`);
  const nodePortIPs = ctx.nodePortIPs?.filter(inFamily);
  // upstream: off for IPv6, and off unless --nodeport-addresses covers 127.0.0.0/8 (an unset list covers everything).
  const localhostNodePorts =
    family === 'IPv4' && (ctx.localhostNodePorts ?? true) && (nodePortIPs === undefined || nodePortIPs.some((ip) => ip.startsWith('127.')));
  let totalEndpoints = 0;
  for (const entry of snapshot.servicePorts.values()) totalEndpoints += entry.endpoints.length;
  const largeClusterMode = totalEndpoints > (ctx.largeClusterEndpointsThreshold ?? defaultLargeClusterEndpointsThreshold);
  const resolved: Omit<ResolvedContext, 'signature'> = {
    ipFamily: family,
    detector,
    masqueradeAll: ctx.masqueradeAll ?? false,
    masqueradeMark: `0x${(2 ** bit).toString(16)}`,
    nodeIPs: (ctx.nodeIPs ?? []).filter(inFamily),
    nodePortIPs,
    localhostNodePorts,
    randomFully: ctx.randomFully ?? true,
    conntrackTCPLiberal: ctx.conntrackTCPLiberal ?? false,
    nfacct: ctx.nfacct ?? false,
    largeClusterMode,
  };
  const signature = JSON.stringify([
    family,
    detector?.ifLocal,
    detector?.ifNotLocal,
    resolved.masqueradeAll,
    resolved.nodeIPs,
    localhostNodePorts && resolved.nfacct,
    largeClusterMode,
  ]);
  return { ...resolved, signature };
}

// ---- per service port --------------------------------------------------------

/** One service port's share of every chain, plus its own nat chains. */
interface ServicePortRules {
  natServices: Lines;
  natNodePorts: Lines;
  filterServices: Lines;
  filterExternalServices: Lines;
  filterNodePorts: Lines;
  filterProxyFirewall: Lines;
  natChains: readonly IptablesChain[];
}

interface PortNames {
  /** ServicePortName.String(). */
  name: string;
  /** Lower-case protocol, as in `-m tcp -p tcp`. */
  protocol: string;
  chains: ServicePortChainNames;
}

const portRulesMemo = new WeakMap<ServicePortEntry, { signature: string; rules: ServicePortRules }>();
const portNamesMemo = new WeakMap<ServicePortEntry['info'], PortNames>();

function portNames(entry: ServicePortEntry): PortNames {
  let names = portNamesMemo.get(entry.info);
  if (!names) {
    const name = servicePortNameString(entry.info.name);
    const protocol = entry.info.protocol.toLowerCase();
    names = { name, protocol, chains: servicePortChainNames(name, protocol) };
    portNamesMemo.set(entry.info, names);
  }
  return names;
}

/** KUBE-SEP names of one port's endpoints, each hashed once (the endpoint sets share their EndpointInfo objects). */
function endpointChainNames(names: PortNames): (ep: EndpointInfo) => string {
  const byEndpoint = new Map<EndpointInfo, string>();
  return (ep) => {
    let chain = byEndpoint.get(ep);
    if (chain === undefined) {
      chain = servicePortEndpointChainName(names.name, names.protocol, ep.endpoint);
      byEndpoint.set(ep, chain);
    }
    return chain;
  };
}

function servicePortRules(entry: ServicePortEntry, rc: ResolvedContext): ServicePortRules {
  const memo = portRulesMemo.get(entry);
  if (memo && memo.signature === rc.signature) return memo.rules;
  const rules = buildServicePortRules(entry, rc);
  portRulesMemo.set(entry, { signature: rc.signature, rules });
  return rules;
}

/** upstream syncProxyRules' loop body for one service port. */
function buildServicePortRules(entry: ServicePortEntry, rc: ResolvedContext): ServicePortRules {
  const info = entry.info;
  const names = portNames(entry);
  const endpointChain = endpointChainNames(names);
  const svcName = names.name;
  const proto = `-m ${names.protocol} -p ${names.protocol}`;
  const { cluster: clusterPolicyChain, local: localPolicyChain, external: externalTrafficChain, firewall: fwChain } = names.chains;
  const { clusterEndpoints, localEndpoints, hasEndpoints } = entry;

  const usesClusterPolicyChain = clusterEndpoints.length > 0 && info.usesClusterEndpoints;
  const usesLocalPolicyChain = localEndpoints.length > 0 && info.usesLocalEndpoints;
  const internalTrafficChain = info.internalPolicyLocal ? localPolicyChain : clusterPolicyChain;
  const hasInternalEndpoints = hasEndpoints && (!info.internalPolicyLocal || localEndpoints.length > 0);
  const externalPolicyChain = info.externalPolicyLocal ? localPolicyChain : clusterPolicyChain;
  const hasExternalEndpoints = hasEndpoints && (!info.externalPolicyLocal || localEndpoints.length > 0);
  // Even without externally usable endpoints the EXT chain short-circuits traffic from pods and the node.
  const usesExternalTrafficChain = hasEndpoints && info.externallyAccessible;
  const sourceRanges = info.loadBalancerSourceRanges.filter((r) => cidrFamily(r) === rc.ipFamily);
  const usesFWChain = hasEndpoints && info.loadBalancerIPs.length > 0 && sourceRanges.length > 0;
  const loadBalancerTrafficChain = usesFWChain ? fwChain : externalTrafficChain;

  // The filter table's verdict on traffic with nowhere to go, internal or external: REJECT when the service
  // has no usable endpoint anywhere, DROP when a Local policy finds none on this node.
  const [unreachableComment, unreachableTarget] = hasEndpoints
    ? [`-m comment --comment "${svcName} has no local endpoints"`, 'DROP']
    : [`-m comment --comment "${svcName} has no endpoints"`, 'REJECT'];

  const natServices: string[] = [];
  const natNodePorts: string[] = [];
  const filterServices: string[] = [];
  const filterExternalServices: string[] = [];
  const filterNodePorts: string[] = [];
  const filterProxyFirewall: string[] = [];
  const dport = ` --dport ${info.port}`;
  const clusterIPMatch = `-m comment --comment "${svcName} cluster IP" ${proto} -d ${info.clusterIP}${dport}`;

  // The cluster IP.
  if (hasInternalEndpoints) natServices.push(`-A ${kubeServicesChain} ${clusterIPMatch} -j ${internalTrafficChain}`);
  else filterServices.push(`-A ${kubeServicesChain} ${unreachableComment} ${proto} -d ${info.clusterIP}${dport} -j ${unreachableTarget}`);

  // External IPs.
  for (const ip of info.externalIPs) {
    if (hasEndpoints) {
      natServices.push(`-A ${kubeServicesChain} -m comment --comment "${svcName} external IP" ${proto} -d ${ip}${dport} -j ${externalTrafficChain}`);
    }
    if (!hasExternalEndpoints) {
      filterExternalServices.push(`-A ${kubeExternalServicesChain} ${unreachableComment} ${proto} -d ${ip}${dport} -j ${unreachableTarget}`);
    }
  }

  // Load-balancer ingress IPs.
  for (const ip of info.loadBalancerIPs) {
    if (hasEndpoints) {
      natServices.push(`-A ${kubeServicesChain} -m comment --comment "${svcName} loadbalancer IP" ${proto} -d ${ip}${dport} -j ${loadBalancerTrafficChain}`);
    }
    if (usesFWChain) {
      filterProxyFirewall.push(
        `-A ${kubeProxyFirewallChain} -m comment --comment "${svcName} traffic not accepted by ${fwChain}" ${proto} -d ${ip}${dport} -j DROP`,
      );
    }
  }
  if (!hasExternalEndpoints) {
    for (const ip of info.loadBalancerIPs) {
      filterExternalServices.push(`-A ${kubeExternalServicesChain} ${unreachableComment} ${proto} -d ${ip}${dport} -j ${unreachableTarget}`);
    }
  }

  // The node port (not subject to loadBalancerSourceRanges, as upstream).
  if (info.nodePort !== 0) {
    if (hasEndpoints) {
      if (rc.localhostNodePorts && rc.nfacct) {
        natNodePorts.push(
          `-A ${kubeNodePortsChain} -m comment --comment ${svcName} ${proto} -d 127.0.0.0/8 --dport ${info.nodePort}` +
            ` -m nfacct --nfacct-name ${nfacctLocalhostNodePortAccepted} -j ${externalTrafficChain}`,
        );
      }
      natNodePorts.push(`-A ${kubeNodePortsChain} -m comment --comment ${svcName} ${proto} --dport ${info.nodePort} -j ${externalTrafficChain}`);
    }
    if (!hasExternalEndpoints) {
      filterExternalServices.push(
        `-A ${kubeExternalServicesChain} ${unreachableComment} -m addrtype --dst-type LOCAL ${proto} --dport ${info.nodePort} -j ${unreachableTarget}`,
      );
    }
  }

  // The health-check node port is accepted whether or not there are local endpoints.
  if (info.healthCheckNodePort !== 0) {
    filterNodePorts.push(
      `-A ${kubeNodePortsChain} -m comment --comment "${svcName} health check node port" -m tcp -p tcp --dport ${info.healthCheckNodePort} -j ACCEPT`,
    );
  }

  // The service's own nat chains: EXT, FW, SVC, SVL, then one SEP per reachable endpoint.
  const natChains: IptablesChain[] = [];
  // Off-cluster traffic to the cluster IP is masqueraded (it may be routed here from outside and leave again).
  let internalMasquerade: string | undefined;
  if (hasInternalEndpoints) {
    if (rc.masqueradeAll) internalMasquerade = `-A ${internalTrafficChain} ${clusterIPMatch} -j ${kubeMarkMasqChain}`;
    else if (rc.detector) internalMasquerade = `-A ${internalTrafficChain} ${clusterIPMatch} ${rc.detector.ifNotLocal} -j ${kubeMarkMasqChain}`;
  }

  if (usesExternalTrafficChain) {
    const ext: string[] = [];
    if (!info.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade so replies come back through this one.
      ext.push(`-A ${externalTrafficChain} -m comment --comment "masquerade traffic for ${svcName} external destinations" -j ${kubeMarkMasqChain}`);
    } else {
      // Pods going to an external address act as if they went out to a load balancer and back: Cluster policy.
      if (rc.detector) {
        ext.push(
          `-A ${externalTrafficChain} -m comment --comment "pod traffic for ${svcName} external destinations" ${rc.detector.ifLocal} -j ${clusterPolicyChain}`,
        );
      }
      // The node itself picks the external address as source: masquerade it, and use Cluster policy.
      ext.push(
        `-A ${externalTrafficChain} -m comment --comment "masquerade LOCAL traffic for ${svcName} external destinations" -m addrtype --src-type LOCAL -j ${kubeMarkMasqChain}`,
        `-A ${externalTrafficChain} -m comment --comment "route LOCAL traffic for ${svcName} external destinations" -m addrtype --src-type LOCAL -j ${clusterPolicyChain}`,
      );
    }
    if (hasExternalEndpoints) ext.push(`-A ${externalTrafficChain} -j ${externalPolicyChain}`);
    natChains.push(chainOf(externalTrafficChain, ext));
  }

  if (usesFWChain) {
    const fw: string[] = [];
    const fwMatch = `-A ${fwChain} -m comment --comment "${svcName} loadbalancer IP"`;
    for (const range of sourceRanges) fw.push(`${fwMatch} -s ${range} -j ${externalTrafficChain}`);
    const ranges = sourceRanges.map((r) => parseCIDRStrict(r)!);
    const allowFromNode = rc.nodeIPs.some((ip) => {
      const a = parseIPStrict(ip);
      return a !== null && familyOfBits(a.bits) === rc.ipFamily && ranges.some((r) => inCIDR(r, a.ip));
    });
    // A VIP-like load balancer's IP is often local too: the node's own requests then arrive from the VIP.
    if (allowFromNode) for (const ip of info.loadBalancerIPs) fw.push(`${fwMatch} -s ${ip} -j ${externalTrafficChain}`);
    fw.push(`-A ${fwChain} -m comment --comment "other traffic to ${svcName} will be dropped by ${kubeProxyFirewallChain}"`);
    natChains.push(chainOf(fwChain, fw));
  }

  if (usesClusterPolicyChain) {
    const svc: string[] = [];
    if (internalMasquerade && internalTrafficChain === clusterPolicyChain) svc.push(internalMasquerade);
    writeServiceToEndpointRules(svc, svcName, endpointChain, entry, clusterPolicyChain, clusterEndpoints, rc.largeClusterMode);
    natChains.push(chainOf(clusterPolicyChain, svc));
  }

  if (usesLocalPolicyChain) {
    const svl: string[] = [];
    if (internalMasquerade && internalTrafficChain === localPolicyChain) svl.push(internalMasquerade);
    writeServiceToEndpointRules(svl, svcName, endpointChain, entry, localPolicyChain, localEndpoints, rc.largeClusterMode);
    natChains.push(chainOf(localPolicyChain, svl));
  }

  const affinity = info.sessionAffinity.type === 'ClientIP';
  const comment = rc.largeClusterMode ? '' : ` -m comment --comment ${svcName}`;
  for (const ep of entry.allReachableEndpoints) {
    const sep = endpointChain(ep);
    // Hairpin: a pod reaching itself through the service must see the node as source.
    const hairpin = `-A ${sep}${comment} -s ${ep.ip} -j ${kubeMarkMasqChain}`;
    const dnat = `-A ${sep}${comment}${affinity ? ` -m recent --name ${sep} --set` : ''} ${proto} -j DNAT --to-destination ${ep.endpoint}`;
    natChains.push(chainOf(sep, [hairpin, dnat]));
  }

  return {
    natServices: linesOf(natServices),
    natNodePorts: linesOf(natNodePorts),
    filterServices: linesOf(filterServices),
    filterExternalServices: linesOf(filterExternalServices),
    filterNodePorts: linesOf(filterNodePorts),
    filterProxyFirewall: linesOf(filterProxyFirewall),
    natChains,
  };
}

/** ClientIP affinity checks first, then each endpoint with probability 1/(endpoints left); the last always matches. */
function writeServiceToEndpointRules(
  out: string[],
  svcName: string,
  endpointChain: (ep: EndpointInfo) => string,
  entry: ServicePortEntry,
  chain: string,
  endpoints: readonly EndpointInfo[],
  largeClusterMode: boolean,
): void {
  const comment = (ep: EndpointInfo) => (largeClusterMode ? '' : ` -m comment --comment "${svcName} -> ${ep.endpoint}"`);
  const affinity = entry.info.sessionAffinity;
  if (affinity.type === 'ClientIP') {
    for (const ep of endpoints) {
      const sep = endpointChain(ep);
      out.push(`-A ${chain}${comment(ep)} -m recent --name ${sep} --rcheck --seconds ${affinity.timeoutSeconds} --reap -j ${sep}`);
    }
  }
  const n = endpoints.length;
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i];
    const statistic = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    out.push(`-A ${chain}${comment(ep)}${statistic} -j ${endpointChain(ep)}`);
  }
}

// ---- the whole rule set --------------------------------------------------------

/** The by-name index is built on first use: a full sync never needs it. */
class TableRules implements IptablesTableRules {
  #byName: Map<string, IptablesChain> | undefined;
  constructor(readonly chains: readonly IptablesChain[]) {}
  get byName(): ReadonlyMap<string, IptablesChain> {
    if (!this.#byName) {
      this.#byName = new Map();
      for (const chain of this.chains) this.#byName.set(chain.name, chain);
    }
    return this.#byName;
  }
}

const byKey = (a: ServicePortEntry, b: ServicePortEntry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Every chain and rule the iptables mode programs for the snapshot, as
 * syncProxyRules writes them (service ports in servicePortKey order rather than
 * Go's random map order).
 */
export function buildIptablesRules(snapshot: ProxySnapshot, ctx: IptablesRuleContext): IptablesRuleSet {
  const rc = resolveContext(snapshot, ctx);
  const mark = rc.masqueradeMark;

  const filterServices = new ChainAssembler();
  const filterExternalServices = new ChainAssembler();
  const filterNodePorts = new ChainAssembler();
  const filterProxyFirewall = new ChainAssembler();
  const natServices = new ChainAssembler();
  const natNodePorts = new ChainAssembler();
  const natChains: IptablesChain[] = [];
  const servicePortChains = new Map<string, readonly IptablesChain[]>();

  const entries = [...snapshot.servicePorts.values()].sort(byKey);
  for (const entry of entries) {
    const r = servicePortRules(entry, rc);
    filterServices.add(r.filterServices);
    filterExternalServices.add(r.filterExternalServices);
    filterNodePorts.add(r.filterNodePorts);
    filterProxyFirewall.add(r.filterProxyFirewall);
    natServices.add(r.natServices);
    natNodePorts.add(r.natNodePorts);
    for (const chain of r.natChains) natChains.push(chain);
    servicePortChains.set(entry.key, r.natChains);
  }

  // Finally the jump to KUBE-NODEPORTS, after every other KUBE-SERVICES rule.
  const nodePortJumps: string[] = [];
  if (rc.nodePortIPs === undefined) {
    let destinations = '-m addrtype --dst-type LOCAL';
    // Localhost node ports never work for IPv6, and for IPv4 only with route_localnet.
    if (rc.ipFamily === 'IPv6') destinations += ' ! -d ::1/128';
    else if (!rc.localhostNodePorts) destinations += ' ! -d 127.0.0.0/8';
    nodePortJumps.push(`-A ${kubeServicesChain} -m comment --comment ${nodePortsComment} ${destinations} -j ${kubeNodePortsChain}`);
  } else {
    for (const ip of rc.nodePortIPs) {
      const loopback = rc.ipFamily === 'IPv6' ? ip === '::1' : ip.startsWith('127.');
      if (loopback && !rc.localhostNodePorts) continue;
      nodePortJumps.push(`-A ${kubeServicesChain} -m comment --comment ${nodePortsComment} -d ${ip} -j ${kubeNodePortsChain}`);
    }
  }
  natServices.addRules(nodePortJumps);

  const forward: string[] = [];
  if (!rc.conntrackTCPLiberal) {
    const counter = rc.nfacct ? ` -m nfacct --nfacct-name ${nfacctCTStateInvalidDropped}` : '';
    forward.push(`-A ${kubeForwardChain} -m conntrack --ctstate INVALID${counter} -j DROP`);
  }
  forward.push(
    `-A ${kubeForwardChain} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`,
    `-A ${kubeForwardChain} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );

  const filterChains: IptablesChain[] = [
    filterServices.chain(kubeServicesChain),
    filterExternalServices.chain(kubeExternalServicesChain),
    chainOf(kubeForwardChain, forward),
    filterNodePorts.chain(kubeNodePortsChain),
    filterProxyFirewall.chain(kubeProxyFirewallChain),
  ];
  if (rc.localhostNodePorts) {
    // route_localnet opens 127.0.0.0/8 to the network (issue 90259): drop what was not DNATed to a node port.
    filterChains.push(
      chainOf(kubeletFirewallChain, [
        `-A ${kubeletFirewallChain} -m comment --comment "block incoming localnet connections"` +
          ' -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      ]),
    );
  }

  const topLevelNatChains: IptablesChain[] = [
    natServices.chain(kubeServicesChain),
    natNodePorts.chain(kubeNodePortsChain),
    chainOf(kubePostroutingChain, [
      `-A ${kubePostroutingChain} -m mark ! --mark ${mark}/${mark} -j RETURN`,
      // Clear the mark so a packet traversing the stack again is not masqueraded twice.
      `-A ${kubePostroutingChain} -j MARK --xor-mark ${mark}`,
      `-A ${kubePostroutingChain} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${rc.randomFully ? ' --random-fully' : ''}`,
    ]),
    chainOf(kubeMarkMasqChain, [`-A ${kubeMarkMasqChain} -j MARK --or-mark ${mark}`]),
  ];

  return {
    ipFamily: rc.ipFamily,
    filter: new TableRules(filterChains),
    nat: new TableRules(topLevelNatChains.concat(natChains)),
    servicePortChains,
    largeClusterMode: rc.largeClusterMode,
  };
}
