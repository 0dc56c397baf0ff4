// Reads every node's conntrack table (accounting switched on in the node's
// namespace first) and folds it into per-endpoint totals
// (conntrack-accounting.ts). Called by the server every few seconds while a
// page is open.
import { execInNetns, netnsExists, setSysctlsInNetns } from '../net/ip.js';
import type { ClusterState } from './cluster-state.js';
import { createAccounting, type EndpointCounter, type ServiceAddressIndex } from './conntrack-accounting.js';

/** Every address a Service port is reached at: cluster IPs, external and load-balancer IPs, node ports on every node. */
export function serviceAddressIndex(state: ClusterState): ServiceAddressIndex {
  const index: ServiceAddressIndex = new Map();
  const nodeIPs = state.informers.nodes
    .list()
    .flatMap((n) => (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address));
  for (const s of state.informers.services.list()) {
    const service = `${s.metadata.namespace}/${s.metadata.name}`;
    const ips = [...(s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : [])), ...(s.spec?.externalIPs ?? []), ...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '')].filter(
      (ip) => ip && ip !== 'None',
    );
    for (const p of s.spec?.ports ?? []) {
      const proto = p.protocol ?? 'TCP';
      const port = p.name || String(p.port);
      for (const ip of ips) index.set(`${ip}:${p.port}/${proto}`, { service, port });
      if (p.nodePort) for (const ip of nodeIPs) index.set(`${ip}:${p.nodePort}/${proto}`, { service, port });
    }
  }
  return index;
}

export interface CounterSource {
  /** One reading of every node; resolves to the totals so far. */
  read(): Promise<EndpointCounter[]>;
}

export function createCounterSource(state: ClusterState, nodeNetns: (node: string) => string): CounterSource {
  const accounting = createAccounting();
  const accountingOn = new Set<string>();
  return {
    async read() {
      const index = serviceAddressIndex(state);
      await Promise.all(
        state.informers.nodes.list().map(async (n) => {
          const node = n.metadata.name!;
          const netns = nodeNetns(node);
          if (!(await netnsExists(netns))) return;
          if (!accountingOn.has(netns)) {
            await setSysctlsInNetns(netns, { 'net.netfilter.nf_conntrack_acct': 1 });
            accountingOn.add(netns);
          }
          const r = await execInNetns(netns, ['conntrack', '-L', '-o', 'id'], { timeoutMs: 5000 }).catch(() => undefined);
          if (r) accounting.add(node, r.stdout, index);
        }),
      );
      return accounting.totals();
    },
  };
}
