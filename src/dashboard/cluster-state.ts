// What the dashboard shows of the cluster, kept by informers (nodes, pods,
// Services, EndpointSlices) as small summaries, and a coalescing feed of
// changes: events mark keys dirty, and at most every `coalesceMs` one patch
// carries every summary that changed (or its deletion) since the last one —
// 1,000 Services created at once are one or a few messages, not 1,000.
import type { EndpointSlice, Node, Pod, Service } from '../api/types.js';
import type { KubeObject } from '../api/object.js';
import { resourceTypes, type Client } from '../client/client.js';
import { createInformer, keyOf, type Informer } from '../client/informer.js';

export interface NodeSummary {
  name: string;
  ip: string;
  podCIDR: string;
  ready: boolean;
}
export interface PodSummary {
  namespace: string;
  name: string;
  node: string;
  ip: string;
  phase: string;
  ready: boolean;
}
export interface ServiceSummary {
  namespace: string;
  name: string;
  type: string;
  clusterIP: string;
  /** "name=80→9376/TCP" (nodePort as ":30002"). */
  ports: string[];
  externalName: string;
  selector: string;
}
export interface SliceSummary {
  namespace: string;
  name: string;
  service: string;
  ports: string[];
  endpoints: { ip: string; ready: boolean; node: string; pod: string }[];
}

export interface Kinds {
  nodes: NodeSummary;
  pods: PodSummary;
  services: ServiceSummary;
  slices: SliceSummary;
}
export type Kind = keyof Kinds;
export const kinds: Kind[] = ['nodes', 'pods', 'services', 'slices'];

/** Every kind's summaries by key (namespace/name, or name). */
export type Snapshot = { [K in Kind]: Record<string, Kinds[K]> };
/** Changed summaries by key; null: deleted. */
export type Patch = { [K in Kind]?: Record<string, Kinds[K] | null> };

const nodeSummary = (n: Node): NodeSummary => ({
  name: n.metadata!.name!,
  ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
  podCIDR: n.spec?.podCIDR ?? '',
  ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
});

const podSummary = (p: Pod): PodSummary => ({
  namespace: p.metadata!.namespace!,
  name: p.metadata!.name!,
  node: p.spec?.nodeName ?? '',
  ip: p.status?.podIP ?? '',
  phase: p.status?.phase ?? 'Pending',
  ready: p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
});

const serviceSummary = (s: Service): ServiceSummary => ({
  namespace: s.metadata!.namespace!,
  name: s.metadata!.name!,
  type: s.spec?.type ?? 'ClusterIP',
  clusterIP: s.spec?.clusterIP ?? '',
  ports: (s.spec?.ports ?? []).map(
    (p) => `${p.name ? `${p.name}=` : ''}${p.port}${p.targetPort !== undefined && String(p.targetPort) !== String(p.port) ? `→${p.targetPort}` : ''}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`,
  ),
  externalName: s.spec?.externalName ?? '',
  selector: Object.entries(s.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(','),
});

const sliceSummary = (s: EndpointSlice): SliceSummary => ({
  namespace: s.metadata!.namespace!,
  name: s.metadata!.name!,
  service: s.metadata?.labels?.['kubernetes.io/service-name'] ?? '',
  ports: (s.ports ?? []).map((p) => `${p.name ? `${p.name}=` : ''}${p.port ?? ''}/${p.protocol ?? 'TCP'}`),
  endpoints: (s.endpoints ?? []).flatMap((e) =>
    e.addresses.map((ip) => ({ ip, ready: e.conditions?.ready !== false, node: e.nodeName ?? '', pod: e.targetRef?.kind === 'Pod' ? (e.targetRef.name ?? '') : '' })),
  ),
});

export interface ClusterState {
  informers: { nodes: Informer<Node & KubeObject>; pods: Informer<Pod & KubeObject>; services: Informer<Service & KubeObject>; slices: Informer<EndpointSlice & KubeObject> };
  start(): Promise<void>;
  stop(): void;
  snapshot(): Snapshot;
  /** Called with each coalesced patch; returns the unsubscribe. */
  subscribe(fn: (p: Patch) => void): () => void;
}

export function createClusterState(client: Client, opts: { coalesceMs?: number } = {}): ClusterState {
  const coalesceMs = opts.coalesceMs ?? 100;
  const informers = {
    nodes: createInformer<Node & KubeObject>(client.resource(resourceTypes.nodes)),
    pods: createInformer<Pod & KubeObject>(client.resource(resourceTypes.pods)),
    services: createInformer<Service & KubeObject>(client.resource(resourceTypes.services)),
    slices: createInformer<EndpointSlice & KubeObject>(client.resource(resourceTypes.endpointslices)),
  };
  const summarize: { [K in Kind]: (o: never) => Kinds[K] } = { nodes: nodeSummary, pods: podSummary, services: serviceSummary, slices: sliceSummary };
  const dirty: { [K in Kind]: Set<string> } = { nodes: new Set(), pods: new Set(), services: new Set(), slices: new Set() };
  const listeners = new Set<(p: Patch) => void>();
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    timer = undefined;
    const patch: Patch = {};
    for (const kind of kinds) {
      if (!dirty[kind].size) continue;
      const out: Record<string, unknown> = {};
      for (const key of dirty[kind]) {
        const o = informers[kind].get(key);
        out[key] = o ? summarize[kind](o as never) : null;
      }
      dirty[kind].clear();
      (patch as Record<string, unknown>)[kind] = out;
    }
    for (const l of listeners) l(patch);
  };
  const mark = (kind: Kind) => (o: KubeObject) => {
    dirty[kind].add(keyOf(o));
    timer ??= setTimeout(flush, coalesceMs);
  };
  for (const kind of kinds) {
    const m = mark(kind);
    (informers[kind] as Informer<KubeObject>).on({ add: m, update: (_old, o) => m(o), delete: m });
  }

  return {
    informers,
    async start() {
      await Promise.all(Object.values(informers).map((i) => i.start()));
    },
    stop() {
      if (timer) clearTimeout(timer);
      for (const i of Object.values(informers)) i.stop();
      listeners.clear();
    },
    snapshot() {
      const snap = {} as Record<Kind, Record<string, unknown>>;
      for (const kind of kinds) snap[kind] = Object.fromEntries(informers[kind].list().map((o) => [keyOf(o), summarize[kind](o as never)]));
      return snap as Snapshot;
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
