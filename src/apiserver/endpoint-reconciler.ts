// The API server publishes where it can be reached from inside the cluster,
// as upstream's endpoint reconciler does (pkg/controlplane/reconcilers and
// endpointsadapter.go): Endpoints default/kubernetes (label skip-mirror, so
// the mirroring controller leaves it alone) and the EndpointSlice of the same
// name, both naming the API servers' addresses and the secure port as
// "https". Without an address both are removed: nothing listens.
//
// Several API servers on one store use upstream's lease reconciler
// (reconcilers/lease.go): each keeps a lease at /registry/masterleases/<ip>
// (an Endpoints naming its address) put with a 15s TTL and refreshed every
// 10s, and sets the `kubernetes` Endpoints to the addresses of all leases
// held; a server that stops removes its lease, one that dies drops out when
// its lease runs out and another server next reconciles.
import { labelServiceName, labelSkipMirror } from '../api/labels.js';
import type { KubeObject } from '../api/object.js';
import type { Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import { errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';

const log = logger('apiserver');

export interface ApiEndpoint {
  ip: string;
  port: number;
}

const name = 'kubernetes';
const namespace = 'default';

/** The Endpoints and EndpointSlice upstream writes for the API servers' addresses (sorted, as upstream's) on one port. */
export function kubernetesEndpointObjects(ep: ApiEndpoint | { ips: string[]; port: number }): { endpoints: KubeObject; slice: KubeObject } {
  const port = { name: 'https', port: ep.port, protocol: 'TCP' };
  const ips = 'ips' in ep ? [...ep.ips].sort() : [ep.ip];
  return {
    endpoints: {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, labels: { [labelSkipMirror]: 'true' } },
      subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [port] }],
    } as KubeObject,
    slice: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace, labels: { [labelServiceName]: name } },
      addressType: 'IPv4',
      endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
      ports: [port],
    } as KubeObject,
  };
}

/** Brings Endpoints and EndpointSlice default/kubernetes to `ep`, or removes them (the Service's targetPort is the advertised port). */
export function reconcileKubernetesEndpoints(registry: Registry, def: (resource: string) => ResourceDef, ep: ApiEndpoint | undefined): Promise<void> {
  return reconcileTo(registry, def, ep && { ips: [ep.ip], port: ep.port });
}

export const masterLeasePrefix = '/registry/masterleases/';
/** Upstream's DefaultEndpointReconcilerTTL and DefaultEndpointReconcilerInterval. */
export const masterLeaseTTLSeconds = 15;
export const endpointReconcileIntervalMs = 10_000;

/** The lease upstream keeps for one API server: an Endpoints named by its address, naming it. */
const masterLease = (ip: string) =>
  JSON.stringify({ kind: 'Endpoints', apiVersion: 'v1', metadata: { name: ip, creationTimestamp: null }, subsets: [{ addresses: [{ ip }] }] });

export interface LeaseEndpointReconciler {
  /** Once more now: the lease refreshed, the Endpoints set to the leases held. */
  reconcile(): Promise<void>;
  /** The lease removed and the Endpoints set to the other servers' (upstream's RemoveEndpoints). */
  stop(): Promise<void>;
}

/** Upstream's lease reconciler for this API server's address: the lease held and the Endpoints reconciled every interval. */
export async function startLeaseEndpointReconciler(
  registry: Registry,
  def: (resource: string) => ResourceDef,
  ep: ApiEndpoint,
  timing: { ttlSeconds?: number; intervalMs?: number } = {},
): Promise<LeaseEndpointReconciler> {
  const store = registry.store;
  const key = masterLeasePrefix + ep.ip;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const leased = async () => (await store.list(masterLeasePrefix)).items.map((i) => i.key.slice(masterLeasePrefix.length));
  const once = async () => {
    if (stopped) return;
    await store.txn([], [{ type: 'put', key, value: masterLease(ep.ip), ttlSeconds: timing.ttlSeconds ?? masterLeaseTTLSeconds }]);
    const ips = new Set(await leased());
    ips.add(ep.ip);
    await reconcileTo(registry, def, { ips: [...ips], port: ep.port });
  };
  const reconcile = () => (running = running.then(once, once));
  await reconcile();
  const timer = setInterval(() => {
    reconcile().catch((e: unknown) => log.error('cannot reconcile the kubernetes endpoints', { error: errorMessage(e) }));
  }, timing.intervalMs ?? endpointReconcileIntervalMs);
  timer.unref();
  return {
    reconcile,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => undefined);
      await store.txn([], [{ type: 'delete', key }]);
      const ips = (await leased()).filter((ip) => ip !== ep.ip);
      await reconcileTo(registry, def, ips.length ? { ips, port: ep.port } : undefined);
    },
  };
}

async function reconcileTo(registry: Registry, def: (resource: string) => ResourceDef, to: { ips: string[]; port: number } | undefined): Promise<void> {
  const kinds = [
    { def: def('endpoints'), fields: ['subsets'] },
    { def: def('endpointslices'), fields: ['addressType', 'endpoints', 'ports'] },
  ];
  const wanted = to ? kubernetesEndpointObjects(to) : undefined;
  for (const [i, kind] of kinds.entries()) {
    const desired = wanted ? (i === 0 ? wanted.endpoints : wanted.slice) : undefined;
    const current = await registry.get(kind.def, namespace, name).catch(notFound);
    if (!desired) {
      if (current) await registry.delete(kind.def, namespace, name).catch(notFound);
      continue;
    }
    if (!current) {
      // Another API server may create it first: then it is updated as found.
      const created = await registry.create(kind.def, namespace, desired).catch((e: unknown) => {
        if ((e as { code?: number }).code === 409) return undefined;
        throw e;
      });
      if (created) continue;
    }
    const want = desired as unknown as Record<string, unknown>;
    // An update that changes nothing is not written (the registry compares).
    await registry.update(kind.def, namespace, name, (obj) => {
      const o = obj as unknown as Record<string, unknown>;
      for (const f of kind.fields) o[f] = want[f];
      obj.metadata.labels = { ...desired.metadata.labels };
      return obj;
    });
  }
}

function notFound(e: unknown): undefined {
  if ((e as { code?: number }).code === 404) return undefined;
  throw e;
}
