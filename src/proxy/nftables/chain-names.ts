// The nftables mode's object names, exactly as kube-proxy's (pkg/proxy/nftables/proxier.go,
// v1.32/1.33): one table, "kube-proxy", whose fixed chains, sets and maps need no
// prefix, and per service port chains named
//
//   <prefix> + hashAndTruncate(base)
//   hashAndTruncate(base) = first 8 chars of base32.StdEncoding(sha256(base)) + "-" + base,
//                           cut to 240 chars (237 + "...") when longer
//   base (service port)   = namespace/name/protocol/portName            e.g. "ns1/svc1/tcp/p80"
//   base (endpoint)       = namespace/name/protocol/portName__ip/port    e.g. "ns1/svc1/tcp/p80__10.180.0.1/80"
//                           (":" of an IPv6 address replaced by ".")
//
// with protocol lower-case and portName "" for a service's unnamed port, so
// `service-ULMVA6XW-ns1/svc1/tcp/p80` and `endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80`.
// Prefixes: service- (Cluster policy), local- (Local policy), external-, firewall-,
// endpoint-, and affinity- for an endpoint's ClientIP affinity set. Only
// per-service names contain "/", which is how stale ones are told apart.
import { portProtoHash } from '../iptables/chain-names.js';

/** The table all of kube-proxy's objects live in, for the family of the proxier (ip or ip6). */
export const kubeProxyTable = 'kube-proxy';

// Base chains, "<type>-<hook>" (filter-output-post-dnat runs after DNAT).
export const filterPreroutingChain = 'filter-prerouting';
export const filterInputChain = 'filter-input';
export const filterForwardChain = 'filter-forward';
export const filterOutputChain = 'filter-output';
export const filterOutputPostDNATChain = 'filter-output-post-dnat';
export const natPreroutingChain = 'nat-prerouting';
export const natOutputChain = 'nat-output';
export const natPostroutingChain = 'nat-postrouting';

// Service dispatch.
export const servicesChain = 'services';
export const serviceIPsMap = 'service-ips';
export const serviceNodePortsMap = 'service-nodeports';
/** IPs accepting node port traffic; only when node ports are not accepted on every local address. */
export const nodePortIPsSet = 'nodeport-ips';
/** Every active cluster IP: other ports of a cluster IP are rejected, unallocated cluster IPs dropped. */
export const clusterIPsSet = 'cluster-ips';
export const clusterIPsCheckChain = 'cluster-ips-check';
// Services without (local) endpoints.
export const serviceEndpointsCheckChain = 'service-endpoints-check';
export const nodePortEndpointsCheckChain = 'nodeport-endpoints-check';
export const noEndpointServicesMap = 'no-endpoint-services';
export const noEndpointNodePortsMap = 'no-endpoint-nodeports';
export const rejectChain = 'reject-chain';
// loadBalancerSourceRanges.
export const firewallIPsMap = 'firewall-ips';
export const firewallCheckChain = 'firewall-check';
// Masquerading.
export const markMasqChain = 'mark-for-masquerade';
export const masqueradingChain = 'masquerading';

export const servicePortPolicyClusterChainNamePrefix = 'service-';
export const servicePortPolicyLocalChainNamePrefix = 'local-';
export const serviceExternalChainNamePrefix = 'external-';
export const servicePortFirewallChainNamePrefix = 'firewall-';
export const servicePortEndpointChainNamePrefix = 'endpoint-';
export const servicePortEndpointAffinityNamePrefix = 'affinity-';

/** knftables.NameLengthMax (256) minus the longest prefix with its hyphen (16). */
const chainNameBaseLengthMax = 240;

/**
 * upstream hashAndTruncate, behind `prefix` (the chain or set kind; "" for the bare base). The base32 hash comes
 * from the iptables mode's helper: portProtoHash(x, '') is the first 16 characters of base32(sha256(x)), of
 * which nftables uses 8. Names are joined into flat strings: a 111,000-chain rule set keeps them all, and
 * `+` would keep each as a tree of pieces.
 */
export function hashAndTruncate(name: string, prefix = ''): string {
  const hash = portProtoHash(name, '').slice(0, 8);
  if (hash.length + 1 + name.length <= chainNameBaseLengthMax) return [prefix, hash, '-', name].join('');
  return [prefix, `${hash}-${name}`.slice(0, chainNameBaseLengthMax - 3), '...'].join('');
}

/** "HASH-namespace/name/protocol/portName"; protocol lower-case. */
export function servicePortChainNameBase(namespace: string, name: string, protocol: string, portName: string, prefix = ''): string {
  return hashAndTruncate([namespace, '/', name, '/', protocol, '/', portName].join(''), prefix);
}

/** "HASH-namespace/name/protocol/portName__ip/port", the IPv6 address's colons turned into dots. */
export function servicePortEndpointChainNameBase(
  namespace: string,
  name: string,
  protocol: string,
  portName: string,
  ip: string,
  port: number,
  prefix = '',
): string {
  const address = ip.includes(':') ? ip.replaceAll(':', '.') : ip;
  return hashAndTruncate([namespace, '/', name, '/', protocol, '/', portName, '__', address, '/', port].join(''), prefix);
}

/** The four per-port chain names, sharing one base. */
export interface ServicePortChainNames {
  cluster: string;
  local: string;
  external: string;
  firewall: string;
}

export function servicePortChainNames(namespace: string, name: string, protocol: string, portName: string): ServicePortChainNames {
  const base = servicePortChainNameBase(namespace, name, protocol, portName);
  return {
    cluster: servicePortPolicyClusterChainNamePrefix + base,
    local: servicePortPolicyLocalChainNamePrefix + base,
    external: serviceExternalChainNamePrefix + base,
    firewall: servicePortFirewallChainNamePrefix + base,
  };
}

/** endpoint-HASH-…: one endpoint of one service port. */
export function servicePortEndpointChainName(namespace: string, name: string, protocol: string, portName: string, ip: string, port: number): string {
  return servicePortEndpointChainNameBase(namespace, name, protocol, portName, ip, port, servicePortEndpointChainNamePrefix);
}

/** affinity-HASH-…: the endpoint's ClientIP affinity set, from its chain name (the two share the base). */
export function affinitySetNameForEndpointChain(endpointChain: string): string {
  return servicePortEndpointAffinityNamePrefix + endpointChain.slice(servicePortEndpointChainNamePrefix.length);
}

/** upstream isServiceChainName: per-service chains, and only they, contain "/". */
export function isServiceChainName(chain: string): boolean {
  return chain.includes('/');
}

/** upstream isAffinitySetName. */
export function isAffinitySetName(set: string): boolean {
  return set.startsWith(servicePortEndpointAffinityNamePrefix);
}
