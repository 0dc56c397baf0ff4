// The EndpointSlice mirroring controller (upstream
// pkg/controller/endpointslicemirroring): Endpoints that users write for
// Services without a selector are mirrored into EndpointSlices, so consumers
// that read only slices (kube-proxy, DNS) see them. Mirrored slices go away
// when the Service gains a selector or disappears, or the Endpoints does.
import { annotationLeaderElection, labelManagedBy, labelServiceName, labelSkipMirror } from '../api/labels.js';
import type { EndpointSlice, Endpoints, Service } from './endpointslice/pod-endpoints.js';
import { isNotFound, resourceTypes, ApiError } from '../client/client.js';
import { keyOf, type Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';
import { addSliceIndexes, enqueueOnSliceChange, slicesForOwner } from './endpointslice/indexes.js';
import { defaultMaxEndpointsPerSubset, mirrorEndpoints } from './endpointslice/mirroring.js';
import { mirroringControllerName, serviceSelector } from './endpointslice/pod-endpoints.js';
import { createSliceTracker } from './endpointslice/tracker.js';

const workers = 5;

/** shouldMirror: not opted out with the skip-mirror label, not a leader-election record. */
export function shouldMirror(ep: Endpoints | undefined): boolean {
  if (!ep) return false;
  if (ep.metadata.labels?.[labelSkipMirror] === 'true') return false;
  return ep.metadata.annotations?.[annotationLeaderElection] === undefined;
}

export function createEndpointSliceMirroringController(ctx: ControllerContext): Controller {
  const slicesClient = ctx.client.resource<EndpointSlice>(resourceTypes.endpointslices);
  const tracker = createSliceTracker();
  const waiting = new Set<string>();
  const maxEndpointsPerSubset = defaultMaxEndpointsPerSubset;
  let endpoints!: Informer<Endpoints>;
  let services!: Informer<Service>;
  let slices!: Informer<EndpointSlice>;
  let running = false;

  const { queue, log } = queueFor('endpointslice-mirroring-controller', reconcile, workers);
  const enqueue = (key: string) => {
    if (running) queue.add(key);
  };
  const managed = (s: EndpointSlice) => s.metadata.labels?.[labelManagedBy] === mirroringControllerName;
  const ownerOf = (s: EndpointSlice) => {
    const name = s.metadata.labels?.[labelServiceName];
    return name ? `${s.metadata.namespace}/${name}` : undefined;
  };
  const selectorless = (s: Service) => serviceSelector(s) === undefined;

  function onSliceEvent(slice: EndpointSlice, deleted: boolean) {
    if (!managed(slice)) return;
    const owner = ownerOf(slice);
    if (!owner) return;
    if (tracker.observe(owner, slice, deleted) || waiting.has(owner)) enqueue(owner);
  }

  async function deleteMirrored(key: string) {
    waiting.delete(key);
    const mirrored = slicesForOwner(slices, key).filter(managed);
    const errors: unknown[] = [];
    for (const s of mirrored) {
      try {
        await slicesClient.delete(s.metadata.namespace, s.metadata.name!);
      } catch (e) {
        if (!isNotFound(e)) errors.push(e);
      }
    }
    tracker.forget(key);
    if (errors.length) throw errors[0];
  }

  async function reconcile(key: string): Promise<void> {
    const ep = endpoints.get(key);
    if (!ep || !shouldMirror(ep)) return deleteMirrored(key);
    const svc = services.get(key);
    // Only the Endpoints of an existing selector-less Service are mirrored.
    if (!svc || !selectorless(svc)) return deleteMirrored(key);
    const existing = slicesForOwner(slices, key).filter(managed);
    if (tracker.stale(key, existing)) {
      waiting.add(key);
      return;
    }
    waiting.delete(key);
    const plan = mirrorEndpoints(ep, existing, maxEndpointsPerSubset);
    if (plan.invalidAddresses > 0) {
      ctx.events.event(ep, 'Warning', 'InvalidIPAddress', `Skipped ${plan.invalidAddresses} invalid IP addresses when mirroring to EndpointSlices`);
    }
    if (plan.addressesSkipped > plan.invalidAddresses) {
      log.warn('addresses skipped: more than the maximum per subset', { endpoints: key, skipped: plan.addressesSkipped });
      ctx.events.event(
        ep,
        'Warning',
        'TooManyAddressesToMirror',
        `A max of ${maxEndpointsPerSubset} addresses can be mirrored to EndpointSlices per Endpoints subset. ${plan.addressesSkipped} addresses were skipped`,
      );
    }
    const ns = ep.metadata.namespace;
    for (const s of plan.create) {
      try {
        tracker.written(key, await slicesClient.create(ns, s));
      } catch (e) {
        if (e instanceof ApiError && e.code === 403 && /terminat/i.test(e.message)) return;
        throw e;
      }
    }
    for (const s of plan.update) tracker.written(key, await slicesClient.update(s));
    for (const s of plan.delete) {
      try {
        await slicesClient.delete(ns, s.metadata.name!);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      tracker.deleted(key, s);
    }
  }

  return {
    name: 'endpointslice-mirroring-controller',
    setup() {
      endpoints = ctx.factory.informer<Endpoints>(resourceTypes.endpoints);
      services = ctx.factory.informer<Service>(resourceTypes.services);
      slices = ctx.factory.informer<EndpointSlice>(resourceTypes.endpointslices);
      addSliceIndexes(slices);
      services.on({
        add: (s) => {
          if (selectorless(s)) enqueue(keyOf(s));
        },
        update: (o, s) => {
          if (selectorless(o) !== selectorless(s)) enqueue(keyOf(s));
        },
        delete: (s) => {
          if (selectorless(s)) enqueue(keyOf(s));
        },
      });
      endpoints.on({
        add: (e) => {
          if (shouldMirror(e)) enqueue(keyOf(e));
        },
        update: (o, e) => {
          if (o.metadata.resourceVersion === e.metadata.resourceVersion) return;
          if (shouldMirror(o) || shouldMirror(e)) enqueue(keyOf(e));
        },
        delete: (e) => {
          if (shouldMirror(e)) enqueue(keyOf(e));
        },
      });
      enqueueOnSliceChange(slices, ownerOf, managed, enqueue, onSliceEvent);
    },
    run() {
      running = true;
      for (const e of endpoints.list()) if (shouldMirror(e)) enqueue(keyOf(e));
      // Mirrored slices whose Endpoints went away while we were not running.
      for (const s of slices.list()) {
        const owner = ownerOf(s);
        if (owner && managed(s) && !endpoints.get(owner)) enqueue(owner);
      }
      log.info('started', { endpoints: endpoints.list().length });
    },
    stop() {
      running = false;
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
