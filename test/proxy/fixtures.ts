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
