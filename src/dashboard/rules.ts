// The rules that implement a Service on a node, as `kubesvc proxy rules`
// prints them: one change tracker per node on the dashboard's informers (the
// proxy's own snapshot builder), rendered by renderRulesListing in the mode
// the nodes run (the kube-system/kube-proxy ConfigMap's, ipvs falling back as
// the proxy does), then cut down to the lines of that Service: the lines that
// name it, and every line that mentions a chain those lines lead to.
import type { ConfigMap } from '../api/types.js';
import type { KubeObject } from '../api/object.js';
import { resourceTypes, type Client } from '../client/client.js';
import { createChangeTracker, type ChangeTracker } from '../proxy/change-tracker.js';
import { effectiveMode } from '../proxy/mode-fallback.js';
import { nodePortIPs, nodePrimaryIPs } from '../proxy/node-addresses.js';
import { renderRulesListing } from '../proxy/rules-listing.js';
import { loadProxyConfig } from '../proxy/config.js';
import type { ClusterState } from './cluster-state.js';

export interface ServiceRules {
  node: string;
  mode: string;
  /** The Service's lines of the node's listing, in listing order. */
  lines: string[];
  /** Lines in the node's whole listing (for scale). */
  total: number;
}

/** Chain names the proxies build per Service or endpoint (iptables' hashed ones, nftables' named ones). */
const chainPattern = /\b(KUBE-(?:SVC|SVL|SEP|EXT|FW|XLB)-[A-Z0-9]+|(?:service|endpoint|external|firewall)-[A-Za-z0-9]+-[^\s{};,"]+)/g;

/** The lines of a listing that belong to Service `namespace/name` with cluster IP `clusterIP`. */
export function serviceLines(listing: string, namespace: string, name: string, clusterIP: string): string[] {
  const lines = listing.split('\n');
  const id = `${namespace}/${name}`;
  const ipRe = clusterIP && clusterIP !== 'None' ? new RegExp(`(^|[^0-9.])${clusterIP.replace(/\./g, '\\.')}([^0-9]|$)`) : undefined;
  const names = (l: string) => [':', '/', '"', ' ', ','].some((c) => l.includes(id + c)) || l.endsWith(id);
  const direct = lines.map((l) => names(l) || (ipRe?.test(l) ?? false));
  const chains = new Set<string>();
  lines.forEach((l, i) => {
    if (direct[i]) for (const m of l.matchAll(chainPattern)) chains.add(m[1]);
  });
  return lines.filter((l, i) => direct[i] || [...l.matchAll(chainPattern)].some((m) => chains.has(m[1])));
}

export interface RulesSource {
  rulesFor(node: string, namespace: string, name: string): Promise<ServiceRules>;
  stop(): void;
}

export function createRulesSource(client: Client, state: ClusterState): RulesSource {
  const trackers = new Map<string, Promise<ChangeTracker>>();
  const trackerFor = (node: string) => {
    let t = trackers.get(node);
    if (!t) {
      const tracker = createChangeTracker({ nodeName: node, informers: { services: state.informers.services, endpointSlices: state.informers.slices, nodes: state.informers.nodes } });
      t = tracker.start().then(() => tracker);
      trackers.set(node, t);
    }
    return t;
  };
  return {
    async rulesFor(node, namespace, name) {
      const svc = state.informers.services.get(`${namespace}/${name}`);
      if (!svc) throw new Error(`Service ${namespace}/${name} not found`);
      if (!state.informers.nodes.get(node)) throw new Error(`node ${node} not found`);
      const cm = await client.resource<ConfigMap & KubeObject>(resourceTypes.configmaps).get('kube-system', 'kube-proxy');
      const config = loadProxyConfig(cm.data?.['config.conf'] ?? '');
      const mode = effectiveMode(config.mode).mode;
      const scheduler = config.ipvsScheduler || 'rr';
      const tracker = await trackerFor(node);
      const nodeIPs = nodePrimaryIPs(tracker.node());
      const listing = renderRulesListing(mode, tracker.currentSnapshot(), { config, scheduler, nodeIPs, nodePortIPs: nodePortIPs(config.nodePortAddresses, nodeIPs, nodeIPs) });
      return { node, mode, lines: serviceLines(listing, namespace, name, svc.spec?.clusterIP ?? ''), total: listing.split('\n').length };
    },
    stop() {
      for (const t of trackers.values()) void t.then((x) => x.stop());
      trackers.clear();
    },
  };
}
