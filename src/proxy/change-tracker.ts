// Service and EndpointSlice events → the proxy's snapshot, kube-proxy's
// ServiceChangeTracker + EndpointsChangeTracker: events only mark services
// dirty; currentSnapshot() rebuilds just those services' entries and shares
// everything else with the previous snapshot, so one change among 10,000
// services costs one service's work (the snapshot's maps are derived from the
// previous ones, layered-map.ts, not copied).
import { resourceTypes, type Client } from '../client/client.js';
import { createInformer, type Informer } from '../client/informer.js';
import { logger } from '../util/log.js';
import { LayeredMap } from './layered-map.js';
import { annotationLastChangeTriggerTime, annotationTopologyAwareHints, annotationTopologyMode, labelServiceProxyName, labelTopologyZone } from '../api/labels.js';
import type { IPFamily } from '../net/addr.js';
import {
  buildServiceEntry,
  nodeContext,
  proxyLabelSelector,
  servicePortEntriesEqual,
  sliceServiceKey,
  type EndpointSlice,
  type Node,
  type Service,
  type NodeContext,
  type ProxySnapshot,
  type ServiceEntry,
  type ServicePortEntry,
} from './snapshot.js';

const log = logger('proxy-change-tracker');

/** The counters kube-proxy's trackers keep (metrics.ts implements them with prom-client). */
export interface ChangeMetrics {
  serviceChangesTotal: { inc(): void };
  serviceChangesPending: { set(v: number): void };
  endpointChangesTotal: { inc(): void };
  endpointChangesPending: { set(v: number): void };
}

export interface SnapshotBuilderOptions {
  nodeName: string;
  nodeZone?: string;
  ipFamily?: IPFamily;
  serviceProxyName?: string;
  /** Trigger times before this (ms since epoch) are ignored, as upstream's trackerStartTime. Default: now. */
  startTime?: number;
}

export interface SnapshotBuilder {
  /** Each returns whether the event changed something the proxy programs. */
  setService(svc: Service): boolean;
  deleteService(svc: Service): boolean;
  setSlice(slice: EndpointSlice): boolean;
  deleteSlice(slice: EndpointSlice): boolean;
  /** The node's topology zone changed: every service is recategorized. */
  setNodeZone(zone: string): boolean;
  /** The latest snapshot; rebuilds only the services changed since the last call. */
  snapshot(): ProxySnapshot;
  /** Whether snapshot() would rebuild anything. */
  dirty(): boolean;
  /** Services with pending Service changes, services with pending EndpointSlice changes. */
  pending(): { services: number; endpoints: number };
  /**
   * endpoints.kubernetes.io/last-change-trigger-time values (ms since epoch) of
   * the slice changes folded into snapshots since the last call: the input of
   * kubeproxy_network_programming_duration_seconds once the sync succeeds.
   */
  takeTriggerTimes(): number[];
}

function serviceKeyOf(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/** The parts of a Service kube-proxy reads; an update that leaves them alone is no change (upstream compares ServicePortMaps). */
function serviceFingerprint(svc: Service): string {
  const a = svc.metadata.annotations ?? {};
  return JSON.stringify([
    svc.metadata.labels?.[labelServiceProxyName],
    a[annotationTopologyMode],
    a[annotationTopologyAwareHints],
    svc.spec,
    svc.status?.loadBalancer,
  ]);
}

/** The parts of a slice kube-proxy reads (upstream endpointSliceInfo). */
function sliceFingerprint(slice: EndpointSlice): string {
  return JSON.stringify([slice.metadata.labels, slice.addressType, slice.ports, slice.endpoints]);
}

function parseTriggerTime(slice: EndpointSlice): number | undefined {
  const v = slice.metadata.annotations?.[annotationLastChangeTriggerTime];
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

export function createSnapshotBuilder(opts: SnapshotBuilderOptions): SnapshotBuilder {
  let ctx: NodeContext = nodeContext(opts.nodeName, opts.nodeZone ?? '', { ipFamily: opts.ipFamily, serviceProxyName: opts.serviceProxyName });
  const startTime = opts.startTime ?? Date.now();
  const services = new Map<string, Service>();
  const serviceFps = new Map<string, string>();
  /** service key → slice name → slice */
  const slicesBySvc = new Map<string, Map<string, EndpointSlice>>();
  /** "ns/sliceName" → fingerprint and owning service key (a slice's label may move it). */
  const sliceFps = new Map<string, { fp: string; svc: string }>();
  const svcDirty = new Set<string>();
  const epDirty = new Set<string>();
  const triggerTimes = new Map<string, number[]>();
  let checkedOutTimes: number[] = [];
  let current: ProxySnapshot = { nodeName: ctx.nodeName, nodeZone: ctx.nodeZone, ipFamily: ctx.ipFamily, servicePorts: new Map(), services: new Map() };

  function removeSlice(sliceId: string, svcKey: string, name: string) {
    const m = slicesBySvc.get(svcKey);
    m?.delete(name);
    if (m && m.size === 0) slicesBySvc.delete(svcKey);
    sliceFps.delete(sliceId);
    epDirty.add(svcKey);
  }

  return {
    setService(svc) {
      const key = serviceKeyOf(svc);
      const fp = serviceFingerprint(svc);
      services.set(key, svc);
      if (serviceFps.get(key) === fp) return false;
      serviceFps.set(key, fp);
      svcDirty.add(key);
      return true;
    },
    deleteService(svc) {
      const key = serviceKeyOf(svc);
      if (!services.delete(key)) return false;
      serviceFps.delete(key);
      svcDirty.add(key);
      return true;
    },
    setSlice(slice) {
      const sliceId = serviceKeyOf(slice);
      const name = slice.metadata.name ?? '';
      const svcKey = sliceServiceKey(slice);
      const prev = sliceFps.get(sliceId);
      if (!svcKey) {
        // Lost its service-name label: upstream cannot key it and ignores it; we drop what it contributed.
        if (prev) {
          removeSlice(sliceId, prev.svc, name);
          return true;
        }
        return false;
      }
      const fp = sliceFingerprint(slice);
      let m = slicesBySvc.get(svcKey);
      if (!m) slicesBySvc.set(svcKey, (m = new Map()));
      m.set(name, slice);
      if (prev && prev.fp === fp && prev.svc === svcKey) return false;
      if (prev && prev.svc !== svcKey) removeSlice(sliceId, prev.svc, name);
      sliceFps.set(sliceId, { fp, svc: svcKey });
      epDirty.add(svcKey);
      const t = parseTriggerTime(slice);
      if (t !== undefined && t > startTime) {
        let list = triggerTimes.get(svcKey);
        if (!list) triggerTimes.set(svcKey, (list = []));
        list.push(t);
      }
      return true;
    },
    deleteSlice(slice) {
      const sliceId = serviceKeyOf(slice);
      const prev = sliceFps.get(sliceId);
      if (!prev) return false;
      removeSlice(sliceId, prev.svc, slice.metadata.name ?? '');
      // A deletion's trigger time dates from the slice's last update, not from this change (upstream drops them too).
      triggerTimes.delete(prev.svc);
      return true;
    },
    setNodeZone(zone) {
      if (zone === ctx.nodeZone) return false;
      ctx = { ...ctx, nodeZone: zone };
      for (const k of services.keys()) epDirty.add(k);
      for (const k of current.services.keys()) epDirty.add(k);
      return true;
    },
    dirty: () => svcDirty.size > 0 || epDirty.size > 0 || current.nodeZone !== ctx.nodeZone,
    pending: () => ({ services: svcDirty.size, endpoints: epDirty.size }),
    snapshot() {
      if (svcDirty.size === 0 && epDirty.size === 0 && current.nodeZone === ctx.nodeZone) return current;
      const keys = new Set([...svcDirty, ...epDirty]);
      svcDirty.clear();
      epDirty.clear();
      const nextServices = LayeredMap.derive(current.services);
      const nextPorts = LayeredMap.derive(current.servicePorts);
      for (const key of keys) {
        const old = nextServices.get(key);
        const svc = services.get(key);
        const built = svc ? buildServiceEntry(svc, slicesBySvc.get(key)?.values() ?? [], ctx) : undefined;
        const times = triggerTimes.get(key);
        if (times) {
          checkedOutTimes.push(...times);
          triggerTimes.delete(key);
        }
        if (old) for (const p of old.ports) nextPorts.delete(p.key);
        if (!built) {
          nextServices.delete(key);
          continue;
        }
        // Keep unchanged port entries by reference: consumers (diffSnapshots, partial syncs) compare by identity first.
        const oldByKey = new Map<string, ServicePortEntry>(old?.ports.map((p) => [p.key, p]) ?? []);
        const ports = built.ports.map((p) => {
          const prev = oldByKey.get(p.key);
          return prev && servicePortEntriesEqual(prev, p) ? prev : p;
        });
        const entry: ServiceEntry =
          old &&
          old.ports.length === ports.length &&
          old.ports.every((p, i) => p === ports[i]) &&
          old.healthCheckNodePort === built.healthCheckNodePort &&
          old.localReadyEndpoints === built.localReadyEndpoints
            ? old
            : { ...built, ports };
        nextServices.set(key, entry);
        for (const p of entry.ports) nextPorts.set(p.key, p);
      }
      current = {
        nodeName: ctx.nodeName,
        nodeZone: ctx.nodeZone,
        ipFamily: ctx.ipFamily,
        servicePorts: nextPorts.seal(),
        services: nextServices.seal(),
        rebuiltFrom: { base: new WeakRef(current), services: keys },
      };
      return current;
    },
    takeTriggerTimes() {
      const out = checkedOutTimes;
      checkedOutTimes = [];
      return out;
    },
  };
}

export interface ChangeTrackerOptions {
  nodeName: string;
  ipFamily?: IPFamily;
  serviceProxyName?: string;
  /** Creates informers with kube-proxy's label selectors (and a field selector for this node). */
  client?: Client;
  /**
   * Or informers to share (e.g. from the all-in-one process's factory); they may
   * be unfiltered — the builder applies the same selection. Started by start()
   * unless they already have synced.
   */
  informers?: { services: Informer<Service>; endpointSlices: Informer<EndpointSlice>; nodes?: Informer<Node> };
  metrics?: ChangeMetrics;
  /** Called after every event that needs a sync: wire to runner.run() and the healthz server's queuedUpdate(). */
  onChange?: () => void;
  /** Called on every event for this node (eligibility for /healthz), with undefined when it was deleted. */
  onNode?: (node: Node | undefined) => void;
}

export interface ChangeTracker {
  /** Starts the informers and resolves once all have listed; then asks for a first sync. */
  start(): Promise<void>;
  stop(): void;
  hasSynced(): boolean;
  currentSnapshot(): ProxySnapshot;
  takeTriggerTimes(): number[];
  pending(): { services: number; endpoints: number };
  /** This node's object, when seen. */
  node(): Node | undefined;
}

export function createChangeTracker(opts: ChangeTrackerOptions): ChangeTracker {
  if (!opts.client && !opts.informers) throw new Error('createChangeTracker needs a client or informers');
  const selector = proxyLabelSelector(opts.serviceProxyName);
  const informers = opts.informers ?? {
    services: createInformer<Service>(opts.client!.resource<Service>(resourceTypes.services), { labelSelector: selector }),
    endpointSlices: createInformer<EndpointSlice>(opts.client!.resource<EndpointSlice>(resourceTypes.endpointslices), { labelSelector: selector }),
    nodes: createInformer<Node>(opts.client!.resource<Node>(resourceTypes.nodes), { fieldSelector: `metadata.name=${opts.nodeName}` }),
  };
  const builder = createSnapshotBuilder({ nodeName: opts.nodeName, ipFamily: opts.ipFamily, serviceProxyName: opts.serviceProxyName });
  const m = opts.metrics;
  let synced = false;
  let thisNode: Node | undefined;

  function changed(yes: boolean) {
    const p = builder.pending();
    m?.serviceChangesPending.set(p.services);
    m?.endpointChangesPending.set(p.endpoints);
    // Before the first full list the first sync is triggered by start(), as upstream waits for the Synced handlers.
    if (yes && synced) opts.onChange?.();
  }
  informers.services.on({
    add: (s) => {
      m?.serviceChangesTotal.inc();
      changed(builder.setService(s));
    },
    update: (_o, s) => {
      m?.serviceChangesTotal.inc();
      changed(builder.setService(s));
    },
    delete: (s) => {
      m?.serviceChangesTotal.inc();
      changed(builder.deleteService(s));
    },
  });
  informers.endpointSlices.on({
    add: (s) => {
      m?.endpointChangesTotal.inc();
      changed(builder.setSlice(s));
    },
    update: (_o, s) => {
      m?.endpointChangesTotal.inc();
      changed(builder.setSlice(s));
    },
    delete: (s) => {
      m?.endpointChangesTotal.inc();
      changed(builder.deleteSlice(s));
    },
  });
  const onNodeEvent = (n: Node | undefined) => {
    if (n && n.metadata.name !== opts.nodeName) return;
    thisNode = n;
    opts.onNode?.(n);
    // A deleted Node keeps the last zone: the rules stay as they were rather than flapping.
    if (n) changed(builder.setNodeZone(n.metadata.labels?.[labelTopologyZone] ?? ''));
  };
  informers.nodes?.on({
    add: (n) => onNodeEvent(n),
    update: (_o, n) => onNodeEvent(n),
    delete: (n) => {
      if (n.metadata.name === opts.nodeName) onNodeEvent(undefined);
    },
  });

  return {
    async start() {
      const all = [informers.services, informers.endpointSlices, ...(informers.nodes ? [informers.nodes] : [])];
      await Promise.all(all.filter((i) => !i.hasSynced()).map((i) => i.start()));
      // Shared informers may have listed before our handlers were added: fold in their caches (idempotent).
      for (const s of informers.services.list()) builder.setService(s);
      for (const s of informers.endpointSlices.list()) builder.setSlice(s);
      const n = informers.nodes?.list().find((x) => x.metadata.name === opts.nodeName);
      if (n) onNodeEvent(n);
      synced = true;
      log.info('caches synced', { services: informers.services.list().length, endpointSlices: informers.endpointSlices.list().length });
      opts.onChange?.();
    },
    stop() {
      if (opts.informers) return; // shared informers belong to their owner
      informers.services.stop();
      informers.endpointSlices.stop();
      informers.nodes?.stop();
    },
    hasSynced: () => synced,
    currentSnapshot() {
      const snap = builder.snapshot();
      m?.serviceChangesPending.set(0);
      m?.endpointChangesPending.set(0);
      return snap;
    },
    takeTriggerTimes: () => builder.takeTriggerTimes(),
    pending: () => builder.pending(),
    node: () => thisNode,
  };
}
