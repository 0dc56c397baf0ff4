// What the trace needs to know about the cluster, read once through the API
// with the data dir's admin credentials: Services, EndpointSlices, Pods,
// Nodes and the kube-proxy ConfigMap, and the lookups over them (pure).
import { parse as parseYaml } from 'yaml';
import { labelServiceName } from '../api/labels.js';
import type { ConfigMap, EndpointSlice, Node, Pod, Service, Stored } from '../api/types.js';
import { resourceTypes, type Client } from '../client/client.js';
import type { TargetVia } from './types.js';

export interface ClusterView {
  services: Stored<Service>[];
  slices: Stored<EndpointSlice>[];
  pods: Stored<Pod>[];
  nodes: Stored<Node>[];
  /** The mode in kube-system/kube-proxy's config.conf ("" when unset: iptables). */
  configuredMode: string;
  /** metricsBindAddress in that configuration, when set (the proxy's /debug/ documents are there; default 127.0.0.1:10249). */
  metricsBindAddress?: string;
}

export async function readClusterView(client: Client): Promise<ClusterView> {
  const [services, slices, pods, nodes, configMap] = await Promise.all([
    client.resource<Stored<Service>>(resourceTypes.services).list(undefined),
    client.resource<Stored<EndpointSlice>>(resourceTypes.endpointslices).list(undefined),
    client.resource<Stored<Pod>>(resourceTypes.pods).list(undefined),
    client.resource<Stored<Node>>(resourceTypes.nodes).list(undefined),
    client.resource<Stored<ConfigMap>>(resourceTypes.configmaps).get('kube-system', 'kube-proxy').catch(() => undefined),
  ]);
  let configuredMode = '';
  let metricsBindAddress: string | undefined;
  try {
    const conf = parseYaml(configMap?.data?.['config.conf'] ?? '') as { mode?: unknown; metricsBindAddress?: unknown } | null;
    if (typeof conf?.mode === 'string') configuredMode = conf.mode;
    if (typeof conf?.metricsBindAddress === 'string' && conf.metricsBindAddress) metricsBindAddress = conf.metricsBindAddress;
  } catch {
    /* an unreadable configuration: the kernel says what runs */
  }
  return { services: services.items, slices: slices.items, pods: pods.items, nodes: nodes.items, configuredMode, metricsBindAddress };
}

export const keyOf = (o: { metadata: { namespace?: string; name?: string } }) => `${o.metadata.namespace}/${o.metadata.name}`;

export function nodeIP(node: Stored<Node>): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

export function nodeByIP(view: ClusterView, ip: string): Stored<Node> | undefined {
  return view.nodes.find((n) => nodeIP(n) === ip);
}

export function podByIP(view: ClusterView, ip: string): Stored<Pod> | undefined {
  return view.pods.find((p) => !p.spec?.hostNetwork && (p.status?.podIPs?.some((a) => a.ip === ip) || p.status?.podIP === ip));
}

export function slicesOf(view: ClusterView, namespace: string, name: string): Stored<EndpointSlice>[] {
  return view.slices.filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.[labelServiceName] === name);
}

export type ServicePortSpec = NonNullable<NonNullable<Service['spec']>['ports']>[number];

/** The Service port a packet to ip:port/protocol stands for, and how it is addressed. */
export interface ServicePortMatch {
  service: Stored<Service>;
  port: ServicePortSpec;
  via: TargetVia;
  /** For a node port: the node whose address was used. */
  node?: string;
}

export function servicePortFor(view: ClusterView, ip: string, port: number, protocol: string): ServicePortMatch | undefined {
  const node = nodeByIP(view, ip);
  for (const service of view.services) {
    const spec = service.spec ?? {};
    for (const p of spec.ports ?? []) {
      if ((p.protocol ?? 'TCP') !== protocol) continue;
      if (node && p.nodePort === port) return { service, port: p, via: 'node-port', node: node.metadata.name };
      if (p.port !== port) continue;
      if ((spec.clusterIPs ?? [spec.clusterIP]).includes(ip)) return { service, port: p, via: 'cluster-ip' };
      if (spec.externalIPs?.includes(ip)) return { service, port: p, via: 'external-ip' };
      if (service.status?.loadBalancer?.ingress?.some((i) => i.ip === ip)) return { service, port: p, via: 'load-balancer-ip' };
    }
  }
  return undefined;
}

/** The Service whose cluster IP, external IP or load-balancer IP is ip, whatever the port. */
export function serviceWithIP(view: ClusterView, ip: string): Stored<Service> | undefined {
  return view.services.find((s) => (s.spec?.clusterIPs ?? [s.spec?.clusterIP]).includes(ip) || s.spec?.externalIPs?.includes(ip) || s.status?.loadBalancer?.ingress?.some((i) => i.ip === ip));
}

export function describePorts(service: Service): string {
  return (service.spec?.ports ?? []).map((p) => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol ?? 'TCP'}${p.nodePort ? ` (node port ${p.nodePort})` : ''}`).join(', ') || 'none';
}
