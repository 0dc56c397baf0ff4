// The EndpointSlice reconciler as a pure function (upstream
// staging/src/k8s.io/endpointslice/reconciler.go): from a Service, the pods it
// selects, the nodes they run on and the slices that exist, the slices to
// create, update and delete. Churn is kept low: endpoints stay in the slice
// they are in, new ones fill the fullest slices first, a slice that would be
// deleted is reused instead of creating another, and an unchanged state writes
// nothing.
import {
  annotationLastChangeTriggerTime,
  annotationTopologyAwareHints,
  annotationTopologyMode,
  labelHeadless,
  labelManagedBy,
  labelServiceName,
} from '../../api/labels.js';
import { deepClone } from '../../api/object.js';
import type { EndpointSlice, Node, Pod, Service } from './pod-endpoints.js';
import {
  addressTypesFor,
  endpointHash,
  endpointPortsFor,
  endpointsEqualBeyondHash,
  endpointSliceControllerName,
  isServiceIPSet,
  podToEndpoint,
  portMapKey,
  sameStringMap,
  shouldPodBeInEndpoints,
  type AddressType,
  type Endpoint,
  type EndpointPort,
} from './pod-endpoints.js';

export interface ReconcileInput {
  service: Service;
  /** Pods the Service's selector matches, in its namespace. */
  pods: Pod[];
  node(name: string): Node | undefined;
  /** Slices labelled for this Service and managed by this controller, not being deleted. */
  existingSlices: EndpointSlice[];
  maxEndpointsPerSlice: number;
  /** Value for endpoints.kubernetes.io/last-change-trigger-time on written slices; undefined clears it. */
  triggerTime?: string;
  controllerName?: string;
  /** Honour PreferSameZone / PreferSameNode (the PreferSameTrafficDistribution gate; on since 1.34). */
  preferSameTrafficDistribution?: boolean;
}

export interface ReconcileResult {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Pods left out because their node is unknown (they come back when it appears). */
  podsOnMissingNodes: string[];
}

interface DesiredGroup {
  addressType: AddressType;
  ports: EndpointPort[];
  /** By endpointHash, in pod order (PopAny takes the first). */
  endpoints: Map<string, Endpoint>;
}

const reservedLabels = new Set([labelServiceName, labelManagedBy, labelHeadless]);

/** setEndpointSliceLabels: Service labels (less reserved ones) + reserved ones; changed = non-reserved labels differ. */
export function sliceLabels(slice: EndpointSlice | undefined, svc: Service, controllerName: string): { labels: Record<string, string>; changed: boolean } {
  const sliceOwn: Record<string, string> = {};
  for (const [k, v] of Object.entries(slice?.metadata.labels ?? {})) if (!reservedLabels.has(k)) sliceOwn[k] = v;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (!reservedLabels.has(k)) labels[k] = v;
  const changed = !sameStringMap(sliceOwn, labels);
  if (!isServiceIPSet(svc)) labels[labelHeadless] = '';
  labels[labelServiceName] = svc.metadata.name!;
  labels[labelManagedBy] = controllerName;
  return { labels, changed };
}

/** getEndpointSlicePrefix: "<name>-" unless that is too long to be a name prefix. */
export function slicePrefix(name: string): string {
  const prefix = `${name}-`;
  // NameIsDNSSubdomain(prefix, true) allows the 5-character random suffix within 253.
  return prefix.length + 5 > 253 ? name : prefix;
}

export function ownerRefFor(svc: Service) {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** ownedBy: an ownerReference to this very Service (uid, kind Service, apiVersion v1). */
export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata.ownerReferences ?? []).some((o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1');
}

export function newEndpointSlice(svc: Service, ports: EndpointPort[], addressType: AddressType, controllerName: string): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: slicePrefix(svc.metadata.name!),
      namespace: svc.metadata.namespace,
      labels: sliceLabels(undefined, svc, controllerName).labels,
      ownerReferences: [ownerRefFor(svc)],
    },
    addressType,
    ports: ports.map((p) => ({ ...p })),
    endpoints: [],
  };
}

/** placeholderSliceCompare: same namespace, labels, address type; no ports and no endpoints. */
function isSamePlaceholder(existing: EndpointSlice, placeholder: EndpointSlice): boolean {
  return (
    existing.metadata.namespace === placeholder.metadata.namespace &&
    sameStringMap(existing.metadata.labels, placeholder.metadata.labels) &&
    existing.addressType === placeholder.addressType &&
    !(existing.ports ?? []).length &&
    !(existing.endpoints ?? []).length
  );
}

export function reconcileEndpointSlices(input: ReconcileInput): ReconcileResult {
  const { service } = input;
  const controllerName = input.controllerName ?? endpointSliceControllerName;
  const supported = new Set(addressTypesFor(service));
  const result: ReconcileResult = { create: [], update: [], delete: [], podsOnMissingNodes: [] };

  const byType = new Map<string, EndpointSlice[]>();
  const unsupported: EndpointSlice[] = [];
  for (const s of [...input.existingSlices].sort(byName)) {
    if (!supported.has(s.addressType as AddressType)) {
      unsupported.push(s);
      continue;
    }
    let list = byType.get(s.addressType);
    if (!list) byType.set(s.addressType, (list = []));
    list.push(s);
  }
  // Pods in name order, so the same state always packs the same way.
  const pods = [...input.pods].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  const missing = new Set<string>();
  for (const addressType of supported) {
    const r = reconcileByAddressType(input, controllerName, pods, byType.get(addressType) ?? [], addressType, missing);
    result.create.push(...r.create);
    result.update.push(...r.update);
    result.delete.push(...r.delete);
  }
  result.delete.push(...unsupported);
  result.podsOnMissingNodes = [...missing];
  return result;
}

function byName(a: EndpointSlice, b: EndpointSlice): number {
  const x = a.metadata.name ?? '';
  const y = b.metadata.name ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

function reconcileByAddressType(
  input: ReconcileInput,
  controllerName: string,
  pods: Pod[],
  existing: EndpointSlice[],
  addressType: AddressType,
  missing: Set<string>,
): { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] } {
  const { service } = input;
  let toCreate: EndpointSlice[] = [];
  let toUpdate: EndpointSlice[] = [];
  let toDelete: EndpointSlice[] = [];

  const existingByPortMap = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (!ownedBy(s, service)) {
      toDelete.push(s);
      continue;
    }
    const key = portMapKey(s.ports);
    let list = existingByPortMap.get(key);
    if (!list) existingByPortMap.set(key, (list = []));
    list.push(s);
  }

  const desired = new Map<string, DesiredGroup>();
  const headlessWithoutPorts = !(service.spec?.ports ?? []).length && service.spec?.clusterIP === 'None';
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = headlessWithoutPorts ? [] : endpointPortsFor(service, pod);
    const key = portMapKey(ports);
    let group = desired.get(key);
    if (!group) desired.set(key, (group = { addressType, ports, endpoints: new Map() }));
    const node = pod.spec?.nodeName ? input.node(pod.spec.nodeName) : undefined;
    if (!node && !service.spec?.publishNotReadyAddresses) {
      // Skipped rather than kept forever; the node's arrival brings the Service back (upstream retries it).
      missing.add(pod.metadata.name!);
      continue;
    }
    const ep = podToEndpoint(pod, node, service, addressType);
    if (ep.addresses!.length) group.endpoints.set(endpointHash(ep), ep);
  }

  for (const [key, group] of desired) {
    const r = reconcileByPortMapping(input, controllerName, existingByPortMap.get(key) ?? [], group);
    toCreate.push(...r.create);
    toUpdate.push(...r.update);
    toDelete.push(...r.delete);
  }
  for (const [key, slices] of existingByPortMap) if (!desired.has(key)) toDelete.push(...slices);

  // No endpoints at all: keep (or make) one empty placeholder slice.
  if (existing.length === toDelete.length && toCreate.length < 1) {
    const placeholder = newEndpointSlice(service, [], addressType, controllerName);
    if (toDelete.length === 1 && isSamePlaceholder(toDelete[0], placeholder)) toDelete = [];
    else toCreate.push(placeholder);
  }

  const unchanged = existing.filter((s) => !toUpdate.some((u) => u.metadata.name === s.metadata.name) && !toDelete.some((d) => d.metadata.name === s.metadata.name));
  ({ toCreate, toUpdate } = reconcileHints(input, toCreate, toUpdate, unchanged));

  // finalize: turn creates into updates of slices that would otherwise be deleted.
  for (let i = 0; i < toDelete.length; ) {
    if (!toCreate.length) break;
    const victim = toDelete[i];
    const slice = toCreate[toCreate.length - 1];
    if (victim.addressType === slice.addressType && ownedBy(victim, service)) {
      slice.metadata.name = victim.metadata.name;
      toCreate.pop();
      toUpdate.push(slice);
      toDelete.splice(i, 1);
    } else i++;
  }
  // No new slices for a Service being deleted (the garbage collector is removing them).
  if (service.metadata.deletionTimestamp) toCreate = [];
  for (const s of [...toCreate, ...toUpdate]) {
    const annotations = { ...(s.metadata.annotations ?? {}) };
    if (input.triggerTime) annotations[annotationLastChangeTriggerTime] = input.triggerTime;
    else delete annotations[annotationLastChangeTriggerTime];
    s.metadata.annotations = annotations;
  }
  return { create: toCreate, update: toUpdate, delete: toDelete };
}

function reconcileByPortMapping(
  input: ReconcileInput,
  controllerName: string,
  existing: EndpointSlice[],
  group: DesiredGroup,
): { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] } {
  const { service, maxEndpointsPerSlice: max } = input;
  const desiredSet = group.endpoints;
  const slicesByName = new Map<string, EndpointSlice>();
  const unchangedNames = new Set<string>();
  const updateNames = new Set<string>();
  const deleteNames = new Set<string>();

  // 1. Drop endpoints no longer desired, refresh changed ones, follow Service label changes.
  for (const s of existing) {
    const name = s.metadata.name!;
    slicesByName.set(name, s);
    const kept: Endpoint[] = [];
    let endpointUpdated = false;
    for (const ep of s.endpoints ?? []) {
      const h = endpointHash(ep);
      const got = desiredSet.get(h);
      if (!got) continue;
      kept.push(got);
      if (!endpointsEqualBeyondHash(got, ep)) endpointUpdated = true;
      desiredSet.delete(h);
    }
    const { labels, changed } = sliceLabels(s, service, controllerName);
    if (endpointUpdated || (s.endpoints ?? []).length !== kept.length) {
      if (!kept.length) deleteNames.add(name);
      else {
        const copy = deepClone(s);
        copy.endpoints = kept;
        copy.metadata.labels = labels;
        slicesByName.set(name, copy);
        updateNames.add(name);
      }
    } else if (changed) {
      const copy = deepClone(s);
      copy.metadata.labels = labels;
      slicesByName.set(name, copy);
      updateNames.add(name);
    } else unchangedNames.add(name);
  }

  const popAny = (): Endpoint => {
    const [h, ep] = desiredSet.entries().next().value as [string, Endpoint];
    desiredSet.delete(h);
    return ep;
  };

  // 2. Fill the slices already being updated, fullest first.
  if (desiredSet.size && updateNames.size) {
    const slices = [...updateNames].map((n) => slicesByName.get(n)!).sort((a, b) => (b.endpoints ?? []).length - (a.endpoints ?? []).length);
    for (const s of slices) {
      s.endpoints ??= [];
      while (desiredSet.size && s.endpoints.length < max) s.endpoints.push(popAny());
    }
  }

  // 3. Put what is left into the unchanged slice it fits best, else new slices.
  const create: EndpointSlice[] = [];
  while (desiredSet.size) {
    let fill: EndpointSlice | undefined;
    if (desiredSet.size < max && unchangedNames.size) {
      const candidate = sliceToFill([...unchangedNames].map((n) => slicesByName.get(n)!), desiredSet.size, max);
      if (candidate) {
        fill = deepClone(candidate);
        slicesByName.set(fill.metadata.name!, fill);
      }
    }
    fill ??= newEndpointSlice(service, group.ports, group.addressType, controllerName);
    fill.endpoints ??= [];
    while (desiredSet.size && fill.endpoints.length < max) fill.endpoints.push(popAny());
    if (fill.metadata.name) {
      updateNames.add(fill.metadata.name);
      unchangedNames.delete(fill.metadata.name);
    } else create.push(fill);
  }

  return {
    create,
    update: [...updateNames].map((n) => slicesByName.get(n)!),
    delete: [...deleteNames].map((n) => slicesByName.get(n)!),
  };
}

/** getSliceToFill: the slice closest to full once numEndpoints are added, if any has room. */
export function sliceToFill(slices: EndpointSlice[], numEndpoints: number, max: number): EndpointSlice | undefined {
  let closestDiff = max;
  let closest: EndpointSlice | undefined;
  for (const s of slices) {
    const diff = max - (numEndpoints + (s.endpoints ?? []).length);
    if (diff >= 0 && diff < closestDiff) {
      closestDiff = diff;
      closest = s;
      if (diff === 0) return s;
    }
  }
  return closest;
}

type Hints = { forZones?: { name: string }[]; forNodes?: { name: string }[] };

/**
 * trafficdist.ReconcileHints: with trafficDistribution PreferClose /
 * PreferSameZone every ready endpoint gets a hint for its own zone (and with
 * PreferSameNode for its node too); otherwise hints are removed. Unchanged
 * slices whose hints are wrong become updates. (Topology-aware "Auto" hints,
 * which need the node CPU topology cache, are not computed: they are removed.)
 */
function reconcileHints(
  input: ReconcileInput,
  toCreate: EndpointSlice[],
  toUpdate: EndpointSlice[],
  unchanged: EndpointSlice[],
): { toCreate: EndpointSlice[]; toUpdate: EndpointSlice[] } {
  const td = input.service.spec?.trafficDistribution;
  const preferSame = input.preferSameTrafficDistribution ?? true;
  const annotations = input.service.metadata.annotations ?? {};
  const autoHints = ['Auto', 'auto'].includes(annotations[annotationTopologyAwareHints] ?? annotations[annotationTopologyMode] ?? '');
  const close = !autoHints && (td === 'PreferClose' || (preferSame && (td === 'PreferSameZone' || td === 'PreferSameNode')));
  const nodeHints = close && td === 'PreferSameNode';

  const ready = (ep: Endpoint) => ep.conditions?.ready === true;
  const hintsOf = (ep: Endpoint) => ep.hints as Hints | undefined;
  const needsUpdate = (s: EndpointSlice): boolean =>
    (s.endpoints ?? []).some((ep) => {
      const h = hintsOf(ep);
      if (!close) return h !== undefined && h !== null;
      if (!ready(ep)) return false;
      if (ep.zone) {
        if (!h || h.forZones?.length !== 1 || h.forZones[0].name !== ep.zone) return true;
      } else if (h?.forZones?.length) return true;
      if (ep.nodeName && nodeHints) {
        if (!h || h.forNodes?.length !== 1 || h.forNodes[0].name !== ep.nodeName) return true;
      } else if (h?.forNodes?.length) return true;
      return false;
    });
  const update = (s: EndpointSlice) => {
    for (const ep of s.endpoints ?? []) {
      if (!close) {
        delete ep.hints;
        continue;
      }
      if (!ready(ep)) continue;
      const h: Hints = {};
      if (ep.zone) h.forZones = [{ name: ep.zone }];
      if (ep.nodeName && nodeHints) h.forNodes = [{ name: ep.nodeName }];
      if (h.forZones || h.forNodes) ep.hints = h as Endpoint['hints'];
      else delete ep.hints;
    }
  };
  for (const s of unchanged) if (needsUpdate(s)) toUpdate.push(deepClone(s));
  for (const s of toCreate) update(s);
  for (const s of toUpdate) update(s);
  return { toCreate, toUpdate };
}
