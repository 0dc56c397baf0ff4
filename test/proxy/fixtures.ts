// Small builders for Services and EndpointSlices as the API server returns them.
import type { EndpointSlice, Service } from '../../src/proxy/snapshot.js';

export interface PortSpec {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  nodePort?: number;
  targetPort?: number | string;
}

export function svc(ns: string, name: string, ports: PortSpec[], spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}, status?: unknown): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: ns, name, ...meta },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      clusterIPs: [(spec.clusterIP as string | undefined) ?? '10.96.0.10'],
      ports: ports.map((p) => ({ protocol: 'TCP', targetPort: p.port, ...p })),
      ...spec,
    },
    ...(status ? { status } : {}),
  } as Service;
}

export interface EpSpec {
  ip: string;
  node?: string;
  zone?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  zones?: string[];
  nodes?: string[];
}

export function slice(
  ns: string,
  name: string,
  service: string | undefined,
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: EpSpec[],
  extra: { addressType?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      namespace: ns,
      name,
      labels: { ...(service ? { 'kubernetes.io/service-name': service } : {}), ...extra.labels },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    addressType: extra.addressType ?? 'IPv4',
    ports: ports.map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
      ...(e.node ? { nodeName: e.node } : {}),
      ...(e.zone ? { zone: e.zone } : {}),
      ...(e.zones || e.nodes
        ? { hints: { ...(e.zones ? { forZones: e.zones.map((z) => ({ name: z })) } : {}), ...(e.nodes ? { forNodes: e.nodes.map((n) => ({ name: n })) } : {}) } }
        : {}),
    })),
  } as EndpointSlice;
}

// ---- upstream's kube-proxy test scenario, shared by the iptables and nftables golden tests ----

/** The node upstream's fake proxier runs on. */
export const upstreamTestNode = 'test-node';
export const p80 = (nodePort?: number): PortSpec[] => [{ name: 'p80', port: 80, ...(nodePort ? { nodePort } : {}) }];
export const lbStatus = (...ips: string[]) => ({ loadBalancer: { ingress: ips.map((ip) => ({ ip })) } });
export const endpoints = (ns: string, name: string, eps: EpSpec[], ports: { name?: string; port: number; protocol?: string }[] = [{ name: 'p80', port: 80 }]) =>
  slice(ns, `${name}-1`, name, ports, eps);

/**
 * upstream's TestOverallIPTablesRules / TestOverallNFTablesRules services: ClusterIP, LoadBalancer with Local
 * policy and no local endpoint, NodePort, external IP, LoadBalancer with source ranges and ClientIP affinity,
 * no endpoints.
 */
export const overallServices = () => [
  svc('ns1', 'svc1', p80(), { clusterIP: '172.30.0.41' }),
  svc(
    'ns2',
    'svc2',
    p80(3001),
    { type: 'LoadBalancer', externalTrafficPolicy: 'Local', clusterIP: '172.30.0.42', externalIPs: ['192.168.99.22'], healthCheckNodePort: 30000 },
    {},
    lbStatus('1.2.3.4'),
  ),
  svc('ns3', 'svc3', p80(3003), { type: 'NodePort', clusterIP: '172.30.0.43' }),
  svc('ns4', 'svc4', p80(), { type: 'NodePort', clusterIP: '172.30.0.44', externalIPs: ['192.168.99.33'] }),
  svc(
    'ns5',
    'svc5',
    p80(3002),
    {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Cluster',
      clusterIP: '172.30.0.45',
      healthCheckNodePort: 30000,
      loadBalancerSourceRanges: [' 203.0.113.0/25'],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    },
    {},
    lbStatus('5.6.7.8'),
  ),
  svc('ns6', 'svc6', p80(), { clusterIP: '172.30.0.46' }),
];

/** Their endpoints; ns4's can be replaced (one of them is local by default). */
export const overallSlices = (ns4: EpSpec[] = [{ ip: '10.180.0.4' }, { ip: '10.180.0.5', node: upstreamTestNode }]) => [
  endpoints('ns1', 'svc1', [{ ip: '10.180.0.1' }]),
  endpoints('ns2', 'svc2', [{ ip: '10.180.0.2' }]), // not on this node
  endpoints('ns3', 'svc3', [{ ip: '10.180.0.3' }]),
  endpoints('ns4', 'svc4', ns4),
  endpoints('ns5', 'svc5', [{ ip: '10.180.0.3' }]),
];
