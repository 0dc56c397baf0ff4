// The userspace mode's iptables rules (pure): traffic to a service's cluster
// IP, external IPs, load-balancer IPs or node port is redirected to that
// service port's proxy socket on this node. From pods it arrives through
// PREROUTING, from the node itself through OUTPUT, as upstream's
// KUBE-PORTALS-CONTAINER / KUBE-PORTALS-HOST and KUBE-NODEPORT-* chains.

export interface PortalRule {
  /** ns/name:port, for the rule comment. */
  comment: string;
  protocol: 'tcp' | 'udp';
  /** Destination IPs captured (cluster IP, external IPs, LB IPs). */
  ips: string[];
  port: number;
  nodePort: number;
  /** Local port of the proxy socket. */
  proxyPort: number;
}

export const chains = ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST'] as const;

const jumps = [
  ['PREROUTING', 'KUBE-PORTALS-CONTAINER', 'handle ClusterIPs; NOTE: this must be before the NodePort rules'],
  ['OUTPUT', 'KUBE-PORTALS-HOST', 'handle ClusterIPs; NOTE: this must be before the NodePort rules'],
  ['PREROUTING', 'KUBE-NODEPORT-CONTAINER', 'handle service NodePorts; NOTE: this must be the last rule in the chain'],
  ['OUTPUT', 'KUBE-NODEPORT-HOST', 'handle service NodePorts; NOTE: this must be the last rule in the chain'],
] as const;

/** iptables-restore input that (re)writes our chains in one transaction; other chains are left alone (--noflush). */
export function renderRules(rules: PortalRule[]): string {
  const lines = ['*nat', ...chains.map((c) => `:${c} - [0:0]`)];
  for (const r of [...rules].sort((a, b) => a.comment.localeCompare(b.comment) || a.protocol.localeCompare(b.protocol))) {
    const comment = `-m comment --comment ${JSON.stringify(r.comment)}`;
    for (const ip of r.ips) {
      for (const chain of ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST']) {
        lines.push(`-A ${chain} -d ${ip}/32 -p ${r.protocol} ${comment} -m ${r.protocol} --dport ${r.port} -j REDIRECT --to-ports ${r.proxyPort}`);
      }
    }
    if (r.nodePort) {
      for (const chain of ['KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST']) {
        lines.push(`-A ${chain} -p ${r.protocol} ${comment} -m addrtype --dst-type LOCAL -m ${r.protocol} --dport ${r.nodePort} -j REDIRECT --to-ports ${r.proxyPort}`);
      }
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** The jump rules from the built-in chains, checked and added once. */
export function jumpRules(): { chain: string; args: string[] }[] {
  return jumps.map(([chain, target, comment]) => ({ chain, args: ['-m', 'comment', '--comment', comment, '-j', target] }));
}
