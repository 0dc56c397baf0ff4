// What the cluster DNS keeps of the objects it watches, as CoreDNS converts
// Services, EndpointSlices and Pods to its minimal object.Service,
// object.Endpoints and object.Pod before caching them: the informers apply
// these transforms to every listed and watched object before storing it, so
// no managedFields, annotations, status, targetRefs or nodeNames stay in
// memory beside the record index's own state. Each keeps exactly the fields
// records.ts reads, plus the namespace, name and resourceVersion the informer
// needs to key objects and notice changes. Once the index has taken an
// object in, the informer's cache keeps only its resourceVersion: the index
// holds what it needs, so nothing is held twice.
import { labelServiceName } from '../api/labels.js';
import type { EndpointSlice, ObjectMeta, Pod, Service, Stored } from '../api/types.js';

const meta = (m: ObjectMeta): ObjectMeta => ({ namespace: m.namespace, name: m.name, resourceVersion: m.resourceVersion });

export function minimalService(svc: Stored<Service>): Stored<Service> {
  const spec = svc.spec ?? {};
  return {
    metadata: meta(svc.metadata),
    spec: {
      type: spec.type,
      clusterIP: spec.clusterIP,
      clusterIPs: spec.clusterIPs,
      externalName: spec.externalName,
      publishNotReadyAddresses: spec.publishNotReadyAddresses,
      ports: spec.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    },
  };
}

export function minimalEndpointSlice(slice: Stored<EndpointSlice>): Stored<EndpointSlice> {
  const service = slice.metadata.labels?.[labelServiceName];
  return {
    metadata: { ...meta(slice.metadata), labels: service === undefined ? undefined : { [labelServiceName]: service } },
    addressType: slice.addressType,
    endpoints: (slice.endpoints ?? []).map((ep) => ({
      addresses: ep.addresses,
      hostname: ep.hostname,
      conditions: ep.conditions?.ready === undefined ? undefined : { ready: ep.conditions.ready },
    })),
    ports: slice.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
  };
}

export function minimalPod(pod: Stored<Pod>): Stored<Pod> {
  const status = pod.status ?? {};
  return {
    metadata: meta(pod.metadata),
    status: { phase: status.phase, podIP: status.podIP, podIPs: status.podIPs?.map((p) => ({ ip: p.ip })) },
  };
}
