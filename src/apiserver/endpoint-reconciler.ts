// The API server publishes where it can be reached from inside the cluster,
// as upstream's endpoint reconciler does (pkg/controlplane/reconcilers and
// endpointsadapter.go): Endpoints default/kubernetes (label skip-mirror, so
// the mirroring controller leaves it alone) and the EndpointSlice of the same
// name, both naming the API's in-cluster address and its secure port as
// "https". Without an in-cluster endpoint both are removed: nothing listens.
import { labelServiceName, labelSkipMirror } from '../api/labels.js';
import type { KubeObject } from '../api/object.js';
import type { Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';

export interface ApiEndpoint {
  ip: string;
  port: number;
}

const name = 'kubernetes';
const namespace = 'default';

/** The Endpoints and EndpointSlice upstream writes for one API server address. */
export function kubernetesEndpointObjects(ep: ApiEndpoint): { endpoints: KubeObject; slice: KubeObject } {
  const port = { name: 'https', port: ep.port, protocol: 'TCP' };
  return {
    endpoints: {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, labels: { [labelSkipMirror]: 'true' } },
      subsets: [{ addresses: [{ ip: ep.ip }], ports: [port] }],
    } as KubeObject,
    slice: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace, labels: { [labelServiceName]: name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ep.ip], conditions: { ready: true } }],
      ports: [port],
    } as KubeObject,
  };
}

/** Brings Endpoints and EndpointSlice default/kubernetes to `ep`, or removes them (the Service's targetPort is the advertised port). */
export async function reconcileKubernetesEndpoints(registry: Registry, def: (resource: string) => ResourceDef, ep: ApiEndpoint | undefined): Promise<void> {
  const kinds = [
    { def: def('endpoints'), fields: ['subsets'] },
    { def: def('endpointslices'), fields: ['addressType', 'endpoints', 'ports'] },
  ];
  const wanted = ep ? kubernetesEndpointObjects(ep) : undefined;
  for (const [i, kind] of kinds.entries()) {
    const desired = wanted ? (i === 0 ? wanted.endpoints : wanted.slice) : undefined;
    const current = await registry.get(kind.def, namespace, name).catch(notFound);
    if (!desired) {
      if (current) await registry.delete(kind.def, namespace, name).catch(notFound);
      continue;
    }
    if (!current) {
      await registry.create(kind.def, namespace, desired);
      continue;
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
