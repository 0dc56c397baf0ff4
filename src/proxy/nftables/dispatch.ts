// The nftables-maps layout's dispatch: how a packet to a service finds its
// endpoint when the endpoints are map elements instead of chains.
//
// Upstream's nftables mode gives every service port a chain with an anonymous
// `numgen random mod N vmap { … }` and every endpoint a chain of its own: the
// kernel work of a full sync grows with the chains (10,000 services × 10
// endpoints = 110,000 chains and 10,000 anonymous maps), and nft takes
// minutes. Here the endpoints of every service port are elements of a map per
// protocol, keyed by what the packet was sent to and a random index:
//
//   endpoints-tcp           daddr . dport . index  →  endpoint IP . port   (ClusterIP, external and LB IPs)
//   nodeport-endpoints-tcp  dport . index          →  endpoint IP . port   (node ports)
//   (and -udp, -sctp)
//
// and the service-ips / service-nodeports verdict maps send the packet to a
// chain shared by every service port with the same number of endpoints (and
// the same kind of entry and protocol), which draws the index and DNATs
// through the map:
//
//   dispatch-cluster-ip-P-N        off-cluster sources masqueraded (as upstream's policy chain does), then one of N
//   dispatch-external-P-N          external traffic under Cluster policy: masqueraded, then one of N
//   dispatch-external-local-P-M    external traffic under Local policy: pods and the node itself short-circuit to
//                                  the cluster endpoints (external-fallback-ips), the rest goes to one of the M local
//   dispatch-external-fallback-P-N the short-circuit's pick among the N cluster endpoints, stored at index 65536 + i
//   dispatch-nodeport-…            the same three for node ports, keyed by dport
//
// Why a map per protocol: the maps are declared by `typeof`, and the data's
// port must be written as `tcp dport` (or udp, sctp) — nft 1.0.6 (Debian 12)
// reads a protocol-less `th dport` back from the kernel as conflicting with
// `ip daddr` and then refuses every rule added later that uses the map — and
// such a port makes nft match that protocol first.
//
// A hairpin (a pod reaching itself through a service) is masqueraded in
// postrouting, where the chosen endpoint is the destination: the packet's
// source and destination are the same endpoint IP, found in @hairpin-endpoints
// (pairs "IP . IP" of the endpoints a source can come back to unmasqueraded:
// this node's, and the cluster endpoints of a Local policy's short-circuit).
//
// So a full sync is the fixed table plus a bulk load of elements, and one
// changed service is a few element deletions and additions. ClientIP affinity
// needs per-endpoint state and keeps upstream's per-service chains; so do the
// load-balancer source-range firewall chains.
import { markMasqChain } from './chain-names.js';

/** Maps and sets of the layout. */
export const dispatchProtocols = ['tcp', 'udp', 'sctp'] as const;
export type DispatchProtocol = (typeof dispatchProtocols)[number];
export const endpointsMap = (protocol: string) => `endpoints-${protocol}`;
export const nodePortEndpointsMap = (protocol: string) => `nodeport-endpoints-${protocol}`;
export const externalFallbackIPsMap = 'external-fallback-ips';
export const nodePortFallbackMap = 'nodeport-fallback';
export const hairpinEndpointsSet = 'hairpin-endpoints';

/** Where the short-circuit's cluster endpoints start in the endpoint maps (local endpoints take 0 … M-1). */
export const fallbackIndexOffset = 65536;

const dispatchChainPrefix = 'dispatch-';

/** The kinds of shared chain: what the packet was sent to and which traffic policy applies. */
export type DispatchKind =
  | 'cluster-ip'
  | 'external'
  | 'external-local'
  | 'external-fallback'
  | 'nodeport-external'
  | 'nodeport-external-local'
  | 'nodeport-fallback';

export function dispatchChainName(kind: DispatchKind, protocol: string, endpoints: number): string {
  return `${dispatchChainPrefix}${kind}-${protocol}-${endpoints}`;
}

export function isDispatchChainName(chain: string): boolean {
  return chain.startsWith(dispatchChainPrefix);
}

/** What a dispatch chain's rules depend on besides its name. */
export interface DispatchContext {
  family: 'ip' | 'ip6';
  /** The rule marking off-cluster sources (`ip saddr != CIDR` …), or undefined when there is no local-traffic detector. */
  ifNotLocal: string | undefined;
  ifLocal: string | undefined;
  masqueradeAll: boolean;
}

/** The rules (without the `add rule … chain` prefix) of the dispatch chain `name`. */
export function dispatchChainRules(name: string, ctx: DispatchContext): string[] {
  const match = /^dispatch-(.+)-(tcp|udp|sctp)-(\d+)$/.exec(name);
  if (!match) throw new Error(`not a dispatch chain: ${name}`);
  const kind = match[1] as DispatchKind;
  const protocol = match[2];
  const n = Number(match[3]);
  const { family } = ctx;
  // The verdict maps' keys, for the short-circuit lookups.
  const ipKey = `${family} daddr . meta l4proto . th dport`;
  const portKey = 'meta l4proto . th dport';
  const pick = (nodePort: boolean, offset = 0) =>
    `meta l4proto ${protocol} dnat ${family} to ${nodePort ? '' : `${family} daddr . `}th dport . numgen random mod ${n}${offset ? ` offset ${offset}` : ''} map @${nodePort ? nodePortEndpointsMap(protocol) : endpointsMap(protocol)}`;
  // No endpoints to pick from (a Local policy without local ones): no DNAT; what was not short-circuited is dropped.
  const picks = (nodePort: boolean, offset = 0) => (n > 0 ? [pick(nodePort, offset)] : []);
  const shortCircuit = (key: string, fallback: string): string[] => {
    const rules: string[] = [];
    // Pods going to an external address act as if they went out to a load balancer and back: Cluster policy.
    if (ctx.ifLocal) rules.push(`${ctx.ifLocal} ${key} vmap @${fallback}`);
    // The node itself picks the external address as source: masquerade it, and use Cluster policy.
    rules.push(`fib saddr type local jump ${markMasqChain}`, `fib saddr type local ${key} vmap @${fallback}`);
    return rules;
  };
  switch (kind) {
    case 'cluster-ip': {
      const rules: string[] = [];
      if (ctx.masqueradeAll) rules.push(`jump ${markMasqChain}`);
      else if (ctx.ifNotLocal) rules.push(`${ctx.ifNotLocal} jump ${markMasqChain}`);
      return [...rules, ...picks(false)];
    }
    case 'external':
      // Endpoints may be on other nodes: masquerade so replies come back through this one.
      return [`jump ${markMasqChain}`, ...picks(false)];
    case 'external-local':
      return [...shortCircuit(ipKey, externalFallbackIPsMap), ...picks(false)];
    case 'external-fallback':
      return picks(false, fallbackIndexOffset);
    case 'nodeport-external':
      return [`jump ${markMasqChain}`, ...picks(true)];
    case 'nodeport-external-local':
      return [...shortCircuit(portKey, nodePortFallbackMap), ...picks(true)];
    case 'nodeport-fallback':
      return picks(true, fallbackIndexOffset);
    default:
      throw new Error(`not a dispatch chain: ${name}`);
  }
}
