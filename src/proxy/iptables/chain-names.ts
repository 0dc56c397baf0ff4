// The iptables mode's chain names, exactly as kube-proxy's (pkg/proxy/iptables/proxier.go):
// the fixed top-level chains, and per service port a 16-character hash —
// the first 16 characters of base32(sha256(servicePortName + protocol)), with
// the endpoint ("ip:port", "[ip]:port" for IPv6) appended for KUBE-SEP chains —
// behind a prefix saying what the chain does. Names stay within iptables' 28
// characters and are the same on every node, so `iptables-save | grep KUBE-`
// reads like a Kubernetes node's.
import { hash } from 'node:crypto';

/** nat + filter: per-service dispatch (nat) and REJECT for ports without endpoints (filter). */
export const kubeServicesChain = 'KUBE-SERVICES';
/** filter: REJECT / DROP for external IP, load-balancer IP and node port traffic without (local) endpoints. */
export const kubeExternalServicesChain = 'KUBE-EXTERNAL-SERVICES';
/** nat: node port dispatch; filter: ACCEPT for health-check node ports. */
export const kubeNodePortsChain = 'KUBE-NODEPORTS';
/** nat: masquerades packets carrying the masquerade mark. */
export const kubePostroutingChain = 'KUBE-POSTROUTING';
/** nat: sets the masquerade mark. */
export const kubeMarkMasqChain = 'KUBE-MARK-MASQ';
/** filter: accepts forwarded service traffic, drops conntrack INVALID packets. */
export const kubeForwardChain = 'KUBE-FORWARD';
/** filter: DROPs load-balancer traffic from outside loadBalancerSourceRanges (what KUBE-FW-* did not DNAT). */
export const kubeProxyFirewallChain = 'KUBE-PROXY-FIREWALL';
/** filter: kubelet's anti-martian chain, which kube-proxy also fills when localhost node ports are on. */
export const kubeletFirewallChain = 'KUBE-FIREWALL';

export const servicePortPolicyClusterChainNamePrefix = 'KUBE-SVC-';
export const servicePortPolicyLocalChainNamePrefix = 'KUBE-SVL-';
export const serviceFirewallChainNamePrefix = 'KUBE-FW-';
export const serviceExternalChainNamePrefix = 'KUBE-EXT-';
export const servicePortEndpointChainNamePrefix = 'KUBE-SEP-';

const serviceChainPrefixes = [
  servicePortPolicyClusterChainNamePrefix,
  servicePortPolicyLocalChainNamePrefix,
  servicePortEndpointChainNamePrefix,
  serviceFirewallChainNamePrefix,
  serviceExternalChainNamePrefix,
];

const base32Codes = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', (c) => c.charCodeAt(0));
const hashCodes: number[] = new Array<number>(16).fill(0);

/**
 * The first 16 characters of base32.StdEncoding(sha256(input)): 80 bits, the
 * first 20 hex digits, 40 bits (10 digits, exact in a double) at a time.
 * Hex is the fastest digest form Node offers; String.fromCharCode makes one
 * flat string (a concatenation would keep a tree of pieces alive per name).
 */
function sha256Base32Prefix16(input: string): string {
  const hex = hash('sha256', input, 'hex');
  for (let i = 0; i < 2; i++) {
    const v = parseInt(hex.slice(i * 10, i * 10 + 10), 16);
    const high = Math.floor(v / 0x100000);
    const low = v % 0x100000;
    const at = i * 8;
    hashCodes[at] = base32Codes[high >>> 15];
    hashCodes[at + 1] = base32Codes[(high >>> 10) & 31];
    hashCodes[at + 2] = base32Codes[(high >>> 5) & 31];
    hashCodes[at + 3] = base32Codes[high & 31];
    hashCodes[at + 4] = base32Codes[low >>> 15];
    hashCodes[at + 5] = base32Codes[(low >>> 10) & 31];
    hashCodes[at + 6] = base32Codes[(low >>> 5) & 31];
    hashCodes[at + 7] = base32Codes[low & 31];
  }
  return String.fromCharCode(...hashCodes);
}

/** Upstream portProtoHash: servicePortName is ServicePortName.String() ("ns/name" or "ns/name:port"), protocol lower-case. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return sha256Base32Prefix16(servicePortName + protocol);
}

/** KUBE-SVC-…: dispatch to the endpoints for Cluster traffic policy. */
export function servicePortPolicyClusterChain(servicePortName: string, protocol: string): string {
  return servicePortPolicyClusterChainNamePrefix + portProtoHash(servicePortName, protocol);
}

/** KUBE-SVL-…: dispatch to this node's endpoints, for Local traffic policy. */
export function servicePortPolicyLocalChainName(servicePortName: string, protocol: string): string {
  return servicePortPolicyLocalChainNamePrefix + portProtoHash(servicePortName, protocol);
}

/** KUBE-FW-…: loadBalancerSourceRanges filtering for load-balancer IPs. */
export function serviceFirewallChainName(servicePortName: string, protocol: string): string {
  return serviceFirewallChainNamePrefix + portProtoHash(servicePortName, protocol);
}

/** KUBE-EXT-…: traffic to external destinations (node port, external IP, load-balancer IP). */
export function serviceExternalChainName(servicePortName: string, protocol: string): string {
  return serviceExternalChainNamePrefix + portProtoHash(servicePortName, protocol);
}

/** KUBE-SEP-…: one endpoint of one service port; endpoint is "ip:port" ("[ip]:port" for IPv6). */
export function servicePortEndpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return servicePortEndpointChainNamePrefix + sha256Base32Prefix16(servicePortName + protocol + endpoint);
}

/** The four per-port chain names share one hash: computed once per service port. */
export interface ServicePortChainNames {
  cluster: string;
  local: string;
  external: string;
  firewall: string;
}

export function servicePortChainNames(servicePortName: string, protocol: string): ServicePortChainNames {
  const h = portProtoHash(servicePortName, protocol);
  return {
    cluster: servicePortPolicyClusterChainNamePrefix + h,
    local: servicePortPolicyLocalChainNamePrefix + h,
    external: serviceExternalChainNamePrefix + h,
    firewall: serviceFirewallChainNamePrefix + h,
  };
}

/** Whether a chain is one of the per-service chains kube-proxy creates and deletes (isServiceChainName). */
export function isServiceChainName(chain: string): boolean {
  return serviceChainPrefixes.some((p) => chain.startsWith(p));
}
