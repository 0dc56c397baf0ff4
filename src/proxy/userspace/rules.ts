// The userspace mode's iptables rules (pure): traffic to a service's cluster
// IP, external IPs, load-balancer IPs or node port is redirected to one of
// that service port's proxy sockets on this node. From pods it arrives through
// PREROUTING, from the node itself through OUTPUT, as upstream's
// KUBE-PORTALS-CONTAINER / KUBE-PORTALS-HOST and KUBE-NODEPORT-* chains.
//
// A port with externalTrafficPolicy: Local has two sockets: external traffic
// from elsewhere goes to the node-local endpoints, while external traffic that
// starts on this node or in a pod is short-circuited to the cluster-wide
// endpoints, as kube-proxy's iptables mode does.

export interface PortalRule {
  /** ns/name:port, for the rule comment. */
  comment: string;
  protocol: 'tcp' | 'udp';
  port: number;
  nodePort: number;
  /** Cluster IPs of the port's family. */
  clusterIPs: string[];
  /** External IPs and load-balancer IPs. */
  externalIPs: string[];
  /** Proxy socket for cluster-IP traffic. */
  internalPort: number;
  /** Proxy socket for external traffic from other hosts. */
  externalPort: number;
  /** Proxy socket for external traffic from this node or its pods (equals externalPort unless the policies differ). */
  shortCircuitPort: number;
}

export interface RuleContext {
  /** Pod CIDRs (kube-proxy's clusterCIDR); traffic from them to external addresses is short-circuited. */
  podCIDRs: readonly string[];
  /** Addresses node ports accept traffic on; undefined: every local address. */
  nodePortIPs?: readonly string[];
  /**
   * The node's own address. Traffic from the node (OUTPUT) is DNATed to it
   * rather than REDIRECTed (which would land on 127.0.0.1), so the proxy's UDP
   * replies leave from the address conntrack expects, as upstream does.
   */
  hostIP?: string;
}

export const chains = ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST'] as const;

const jumps = [
  ['PREROUTING', 'KUBE-PORTALS-CONTAINER', 'handle ClusterIPs; NOTE: this must be before the NodePort rules'],
  ['OUTPUT', 'KUBE-PORTALS-HOST', 'handle ClusterIPs; NOTE: this must be before the NodePort rules'],
  ['PREROUTING', 'KUBE-NODEPORT-CONTAINER', 'handle service NodePorts; NOTE: this must be the last rule in the chain'],
  ['OUTPUT', 'KUBE-NODEPORT-HOST', 'handle service NodePorts; NOTE: this must be the last rule in the chain'],
] as const;

/** iptables-restore input that (re)writes our chains in one transaction; other chains are left alone (--noflush). */
export function renderRules(rules: readonly PortalRule[], ctx: RuleContext = { podCIDRs: [] }): string {
  const lines = ['*nat', ...chains.map((c) => `:${c} - [0:0]`)];
  for (const r of [...rules].sort((a, b) => a.comment.localeCompare(b.comment) || a.protocol.localeCompare(b.protocol))) {
    const match = (dest: string) => `${dest}-p ${r.protocol} -m comment --comment ${JSON.stringify(r.comment)} -m ${r.protocol}`;
    const redirect = (chain: string, source: string, dest: string, dport: number, to: number) => {
      const target = chain.endsWith('-HOST') && ctx.hostIP ? `DNAT --to-destination ${ctx.hostIP}:${to}` : `REDIRECT --to-ports ${to}`;
      lines.push(`-A ${chain} ${source}${match(dest)} --dport ${dport} -j ${target}`);
    };
    /** External traffic: pods and the node itself short-circuit, the rest goes to externalPort. */
    const external = (container: string, host: string, dest: string, dport: number) => {
      if (r.shortCircuitPort !== r.externalPort) {
        for (const cidr of ctx.podCIDRs) redirect(container, `-s ${cidr} `, dest, dport, r.shortCircuitPort);
      }
      redirect(container, '', dest, dport, r.externalPort);
      redirect(host, '', dest, dport, r.shortCircuitPort);
    };
    for (const ip of r.clusterIPs) {
      redirect('KUBE-PORTALS-CONTAINER', '', `-d ${ip}/32 `, r.port, r.internalPort);
      redirect('KUBE-PORTALS-HOST', '', `-d ${ip}/32 `, r.port, r.internalPort);
    }
    for (const ip of r.externalIPs) external('KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', `-d ${ip}/32 `, r.port);
    if (r.nodePort) {
      const dests = ctx.nodePortIPs ? ctx.nodePortIPs.map((ip) => `-d ${ip}/32 `) : ['-m addrtype --dst-type LOCAL '];
      for (const dest of dests) external('KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST', dest, r.nodePort);
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** The jump rules from the built-in chains, checked and added once. */
export function jumpRules(): { chain: string; args: string[] }[] {
  return jumps.map(([chain, target, comment]) => ({ chain, args: ['-m', 'comment', '--comment', comment, '-j', target] }));
}
