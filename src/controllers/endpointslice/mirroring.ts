// EndpointSlice mirroring as a pure function (upstream
// pkg/controller/endpointslicemirroring reconciler.go, reconciler_helpers.go,
// utils.go): a user's Endpoints for a selector-less Service becomes one slice
// per (subset ports, address family), at most maxEndpointsPerSubset addresses
// per subset, ready addresses ready and not-ready ones not.
import { annotationLastApplied, annotationLastChangeTriggerTime, labelManagedBy, labelServiceName } from '../../api/labels.js';
import { familyOfIPBytes, formatIP, parseIPSloppy } from '../../net/addr.js';
import type { EndpointSlice, Endpoints } from './pod-endpoints.js';
import {
  endpointHash,
  endpointsEqualBeyondHash,
  mirroringControllerName,
  portMapKey,
  sameStringMap,
  sortPorts,
  type AddressType,
  type Endpoint,
  type EndpointPort,
} from './pod-endpoints.js';
import { slicePrefix } from './reconciler.js';

/** --mirroring-max-endpoints-per-subset default. */
export const defaultMaxEndpointsPerSubset = 1000;

type EndpointAddress = NonNullable<NonNullable<Endpoints['subsets']>[number]['addresses']>[number];
type CorePort = NonNullable<NonNullable<Endpoints['subsets']>[number]['ports']>[number];

export interface MirrorResult {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Addresses that are not IPs (event InvalidIPAddress). */
  invalidAddresses: number;
  /** Addresses not mirrored, invalid ones included (event TooManyAddressesToMirror when more than the invalid). */
  addressesSkipped: number;
}

interface Desired {
  addressType: AddressType;
  ports: EndpointPort[];
  endpoints: Map<string, Endpoint>;
}

const addressTypes: AddressType[] = ['IPv4', 'IPv6'];
const mirrorKey = (addressType: string, ports: EndpointPort[] | undefined) => `${addressType}-${portMapKey(ports)}`;

/** epPortsToEpsPorts, in port-map order. */
function slicePorts(ports: CorePort[] | undefined): EndpointPort[] {
  return sortPorts(
    (ports ?? []).map((p) => {
      const out: EndpointPort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
      if (p.appProtocol !== undefined) out.appProtocol = p.appProtocol;
      return out;
    }),
  );
}

/** addressToEndpoint: the canonical IP, readiness, and what the address says about itself. */
export function addressToEndpoint(address: EndpointAddress, ready: boolean): { endpoint: Endpoint; addressType: AddressType } | undefined {
  const ip = parseIPSloppy(address.ip ?? '');
  if (!ip) return undefined;
  const endpoint: Endpoint = { addresses: [formatIP(ip)], conditions: { ready } };
  if (address.targetRef) endpoint.targetRef = { ...address.targetRef };
  if (address.nodeName != null) endpoint.nodeName = address.nodeName;
  if (address.hostname) endpoint.hostname = address.hostname;
  return { endpoint, addressType: familyOfIPBytes(ip) };
}

export function mirroredSlice(endpoints: Endpoints, ports: EndpointPort[], addressType: AddressType, name?: string): EndpointSlice {
  const labels: Record<string, string> = { ...(endpoints.metadata.labels ?? {}) };
  labels[labelServiceName] = endpoints.metadata.name!;
  labels[labelManagedBy] = mirroringControllerName;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(endpoints.metadata.annotations ?? {})) {
    if (k !== annotationLastChangeTriggerTime && k !== annotationLastApplied) annotations[k] = v;
  }
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      namespace: endpoints.metadata.namespace,
      labels,
      annotations,
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Endpoints', name: endpoints.metadata.name!, uid: endpoints.metadata.uid!, controller: true, blockOwnerDeletion: true },
      ],
    },
    addressType,
    ports: ports.map((p) => ({ ...p })),
    endpoints: [],
  };
  if (name) slice.metadata.name = name;
  else slice.metadata.generateName = slicePrefix(endpoints.metadata.name!);
  return slice;
}

export function mirrorEndpoints(endpoints: Endpoints, existingSlices: EndpointSlice[], maxEndpointsPerSubset = defaultMaxEndpointsPerSubset): MirrorResult {
  const desired = new Map<string, Desired>();
  let invalidAddresses = 0;
  let addressesSkipped = 0;
  for (const subset of endpoints.subsets ?? []) {
    const ports = slicePorts(subset.ports);
    const keys = {} as Record<AddressType, string>;
    for (const t of addressTypes) {
      keys[t] = mirrorKey(t, ports);
      const d = desired.get(keys[t]);
      if (d) d.ports = ports;
      else desired.set(keys[t], { addressType: t, ports, endpoints: new Map() });
    }
    const total = (subset.addresses?.length ?? 0) + (subset.notReadyAddresses?.length ?? 0);
    let added = 0;
    const lists: [EndpointAddress[], boolean][] = [
      [subset.addresses ?? [], true],
      [subset.notReadyAddresses ?? [], false],
    ];
    for (const [list, ready] of lists) {
      for (const address of list) {
        // At most maxEndpointsPerSubset per subset: one subset, one slice.
        if (added >= maxEndpointsPerSubset) break;
        const ep = addressToEndpoint(address, ready);
        if (!ep) {
          invalidAddresses++;
          continue;
        }
        desired.get(keys[ep.addressType])!.endpoints.set(endpointHash(ep.endpoint), ep.endpoint);
        added++;
      }
    }
    addressesSkipped += total - added;
  }

  const existingByKey = new Map<string, EndpointSlice[]>();
  for (const s of [...existingSlices].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))) {
    const k = mirrorKey(s.addressType, s.ports);
    let list = existingByKey.get(k);
    if (!list) existingByKey.set(k, (list = []));
    list.push(s);
  }

  let create: EndpointSlice[] = [];
  const update: EndpointSlice[] = [];
  const del: EndpointSlice[] = [];
  for (const [k, d] of desired) {
    const existing = existingByKey.get(k) ?? [];
    if (!d.endpoints.size) {
      del.push(...existing);
      continue;
    }
    if (existing.length) {
      del.push(...existing.slice(1));
      if (unchanged(endpoints, existing[0], d.endpoints)) continue;
    }
    const slice = mirroredSlice(endpoints, d.ports, d.addressType, existing[0]?.metadata.name);
    for (const ep of d.endpoints.values()) {
      if (slice.endpoints!.length >= maxEndpointsPerSubset) break;
      slice.endpoints!.push(ep);
    }
    (slice.metadata.name ? update : create).push(slice);
  }
  for (const [k, slices] of existingByKey) if (!desired.has(k)) del.push(...slices);

  // recycleSlices: a create and a delete of the same address type become one update.
  for (const t of addressTypes) {
    const creates = create.filter((s) => s.addressType === t);
    const deletes = del.filter((s) => s.addressType === t);
    for (let i = 0; i < creates.length && i < deletes.length; i++) {
      create = create.filter((s) => s !== creates[i]);
      del.splice(del.indexOf(deletes[i]), 1);
      creates[i].metadata.name = deletes[i].metadata.name;
      update.push(creates[i]);
    }
  }
  // No new slices for an Endpoints being deleted.
  if (endpoints.metadata.deletionTimestamp) create = [];
  return { create, update, delete: del, invalidAddresses, addressesSkipped };
}

/** totalChanges is zero and the first slice already carries the Endpoints' labels and annotations. */
function unchanged(endpoints: Endpoints, slice: EndpointSlice, desired: Map<string, Endpoint>): boolean {
  let matches = 0;
  for (const ep of slice.endpoints ?? []) {
    const got = desired.get(endpointHash(ep));
    if (!got || !endpointsEqualBeyondHash(got, ep)) return false;
    matches++;
  }
  if (matches !== desired.size) return false;
  const labels = { ...(slice.metadata.labels ?? {}) };
  delete labels[labelManagedBy];
  delete labels[labelServiceName];
  const annotations = { ...(endpoints.metadata.annotations ?? {}) };
  delete annotations[annotationLastChangeTriggerTime];
  delete annotations[annotationLastApplied];
  return sameStringMap(endpoints.metadata.labels, labels) && sameStringMap(annotations, slice.metadata.annotations);
}
