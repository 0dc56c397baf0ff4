// One cluster DNS instance, as a CoreDNS pod with the kubernetes, forward,
// cache, autopath, health, ready and prometheus plugins: informers on
// Services, EndpointSlices and Pods feed the record index; the server answers
// from it; HTTP endpoints report health, readiness and metrics.
import type { EndpointSlice, Pod, Service, Stored } from '../api/types.js';
import type { KubeObject } from '../api/object.js';
import { resourceTypes, type Client } from '../client/client.js';
import { createInformer, type Informer } from '../client/informer.js';
import { errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';
import type { Registry } from '../util/metrics.js';
import { answerQuery } from './answer.js';
import { createForwarder, type Forwarder, type Upstream } from './forwarder.js';
import { startDnsHttp } from './http.js';
import { createDnsMetrics } from './metrics.js';
import { minimalEndpointSlice, minimalPod, minimalService } from './objects.js';
import { createDnsIndex } from './records.js';
import { startDnsServer } from './server.js';
import { createRecentQueries } from './recent.js';

const log = logger('dns');
/**
 * Objects per list request. client-go's reflector pages by 500; pages of 100 cost more round trips (200 for
 * 10,000 Services and their slices, listed in about as long) but smaller bodies, and the memory a burst of
 * large ones takes stays with the process after the listing (~3 MB less at rest with 10,000 Services).
 */
const pageSize = 100;

export interface ClusterDnsOptions {
  client: Client;
  zone: string;
  ttl: number;
  host: string;
  port: number;
  upstreams: Upstream[];
  /** CIDRs allowed recursion (names outside the zone); undefined: everyone. */
  recursionFrom?: string[];
  autopath: boolean;
  health: string;
  ready: string;
  metrics: string;
  /** Forwarding done elsewhere (a worker's, through its primary: workers.ts) instead of to `upstreams` from here. */
  forwarder?: Forwarder;
}

export interface ClusterDns {
  port: number;
  httpPorts: { health?: number; ready?: number; metrics?: number };
  /** Whether the API has been listed (every worker's, with several). */
  isSynced(): boolean;
  /** This process's metrics (not with several workers: the primary sums theirs per scrape). */
  registry?: Registry;
  stop(): Promise<void>;
}


export async function startClusterDns(opts: ClusterDnsOptions): Promise<ClusterDns> {
  const index = createDnsIndex({ zone: opts.zone });
  // Each informer hands the index only what it reads (objects.ts) and keeps only versions itself, listed in pages
  // as client-go's reflector does: no whole list body or whole objects held beside the index.
  const services = createInformer<Stored<Service>>(opts.client.resource(resourceTypes.services), { transform: minimalService, keep: 'resourceVersion', pageSize });
  const slices = createInformer<Stored<EndpointSlice>>(opts.client.resource(resourceTypes.endpointslices), { transform: minimalEndpointSlice, keep: 'resourceVersion', pageSize });
  const pods = createInformer<Stored<Pod>>(opts.client.resource(resourceTypes.pods), { transform: minimalPod, keep: 'resourceVersion', pageSize });
  /** Pod IP → namespace, for autopath's "who is asking"; and each pod's IPs, since a pod dropped at a relist comes as its metadata only. */
  const podNamespaces = new Map<string, string>();
  const ipsOfPod = new Map<string, string[]>();
  const podIPs = (p: Pod) => [...new Set([p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)].filter((ip): ip is string => !!ip))];
  const wire = <T extends KubeObject>(inf: Informer<T>, set: (o: T) => void, del: (o: T) => void) =>
    inf.on({ add: set, update: (_old, o) => set(o), delete: del });
  wire(services, (s) => index.setService(s), (s) => index.deleteService(s));
  wire(slices, (s) => index.setEndpointSlice(s), (s) => index.deleteEndpointSlice(s));
  wire(
    pods,
    (p) => {
      index.setPod(p);
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      const ips = podIPs(p);
      for (const ip of ipsOfPod.get(key) ?? []) if (!ips.includes(ip) && podNamespaces.get(ip) === p.metadata.namespace) podNamespaces.delete(ip);
      for (const ip of ips) podNamespaces.set(ip, p.metadata.namespace ?? 'default');
      if (ips.length) ipsOfPod.set(key, ips);
      else ipsOfPod.delete(key);
    },
    (p) => {
      index.deletePod(p);
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      for (const ip of ipsOfPod.get(key) ?? []) if (podNamespaces.get(ip) === p.metadata.namespace) podNamespaces.delete(ip);
      ipsOfPod.delete(key);
    },
  );
  const informers: Informer<KubeObject>[] = [services, slices, pods] as Informer<KubeObject>[];
  const synced = () => informers.every((i) => i.hasSynced());

  const metrics = createDnsMetrics();
  const forwarder =
    opts.forwarder ??
    (opts.upstreams.length
      ? createForwarder({ upstreams: opts.upstreams, onForward: (to, outcome, s) => metrics.forwarded(to, outcome === 'error' ? 'error' : String(outcome), s) })
      : undefined);
  const recent = createRecentQueries();
  const server = await startDnsServer({
    host: opts.host,
    port: opts.port,
    zone: opts.zone,
    answer: (q) => answerQuery(index, q, { ttl: opts.ttl }),
    synced,
    forwarder,
    recursionFrom: opts.recursionFrom,
    podNamespace: opts.autopath ? (ip) => podNamespaces.get(ip) : undefined,
    metrics,
    generation: () => index.generation(),
    recent,
  });
  let http: Awaited<ReturnType<typeof startDnsHttp>>;
  try {
    // Pods may not read other pods' questions: /recent is for the node (the live page reads it from there).
    const mayReadRecent = (address: string) => !podNamespaces.has(address);
    http = await startDnsHttp({ health: opts.health, ready: opts.ready, metrics: opts.metrics, isReady: synced, registry: metrics.registry, recent, mayReadRecent });
  } catch (e) {
    await server.close();
    throw e;
  }
  // Listing starts after the sockets are open: until it completes, cluster names get SERVFAIL and /ready says 503.
  let stopped = false;
  /**
   * A first list refused (the coredns RBAC not granted yet, say) is logged and tried again with a backoff, as
   * client-go's reflector does under CoreDNS: the server keeps answering (SERVFAIL for the zone, not ready)
   * instead of ending.
   */
  const listUntilAllowed = async (inf: Informer<KubeObject>, resource: string): Promise<void> => {
    for (let backoff = 1000; !stopped; backoff = Math.min(backoff * 2, 30_000)) {
      try {
        return await inf.start();
      } catch (e) {
        log.error('failed to list; retrying', { resource, error: errorMessage(e), retryIn: `${backoff / 1000}s` });
        // Not holding the process open: the sockets do, until stop().
        await new Promise<void>((resolve) => setTimeout(resolve, backoff).unref());
      }
    }
  };
  const listed = [listUntilAllowed(services as Informer<KubeObject>, 'services'), listUntilAllowed(slices as Informer<KubeObject>, 'endpointslices'), listUntilAllowed(pods as Informer<KubeObject>, 'pods')];
  void Promise.all(listed).then(() => {
    if (!stopped) log.info('synced with the API', { services: services.list().length, endpointSlices: slices.list().length, pods: pods.list().length });
  });
  void forwarder?.probe();
  return {
    port: server.port,
    httpPorts: http.ports,
    isSynced: synced,
    registry: metrics.registry,
    async stop() {
      stopped = true;
      for (const i of informers) i.stop();
      await Promise.all([server.close(), http.close()]);
    },
  };
}
