// The EndpointSlice controller (upstream pkg/controller/endpointslice): for
// every Service with a selector, keeps the EndpointSlices it manages equal to
// what the selected pods say. Informer events only pick which Service keys to
// reconcile; reconcile reads everything from the caches.
import type { EndpointSlice, Node, Pod, Service } from './pod-endpoints.js';
import { isConflict, isNotFound, resourceTypes, ApiError } from '../../client/client.js';
import { keyOf, type Informer } from '../../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';
import {
  addPodIndexes,
  addServiceIndexes,
  addSliceIndexes,
  enqueueOnSliceChange,
  enqueueServicesOnChange,
  podNodeIndex,
  podsForSelector,
  servicesForLabels,
  slicesForOwner,
} from './indexes.js';
import {
  createTriggerTimeTracker,
  endpointSliceControllerName,
  isManagedSelectorService,
  serviceSelector,
} from './pod-endpoints.js';
import { labelManagedBy, labelServiceName, labelTopologyZone } from '../../api/labels.js';
import { reconcileEndpointSlices } from './reconciler.js';
import { createSliceTracker } from './tracker.js';
import { errorMessage } from '../../util/errors.js';

const workers = 5;

export function createEndpointSliceController(ctx: ControllerContext): Controller {
  const slicesClient = ctx.client.resource<EndpointSlice>(resourceTypes.endpointslices);
  const tracker = createSliceTracker();
  const triggerTimes = createTriggerTimeTracker();
  /** Services whose last sync waited for the slice cache to catch up with our writes. */
  const waiting = new Set<string>();
  let services!: Informer<Service>;
  let pods!: Informer<Pod>;
  let nodes!: Informer<Node>;
  let slices!: Informer<EndpointSlice>;
  let running = false;

  const { queue, log } = queueFor('endpointslice-controller', reconcile, workers);
  const enqueue = (key: string) => {
    if (running) queue.add(key);
  };
  const managed = (s: EndpointSlice) => s.metadata.labels?.[labelManagedBy] === endpointSliceControllerName;
  const ownerOf = (s: EndpointSlice) => {
    const svc = s.metadata.labels?.[labelServiceName];
    return svc ? `${s.metadata.namespace}/${svc}` : undefined;
  };

  function onSliceEvent(slice: EndpointSlice, deleted: boolean) {
    if (!managed(slice)) return;
    const owner = ownerOf(slice);
    if (!owner) return;
    if (tracker.observe(owner, slice, deleted) || waiting.has(owner)) enqueue(owner);
  }

  function enqueueServicesOfNode(nodeName: string) {
    const keys = new Set<string>();
    for (const pod of pods.byIndex(podNodeIndex, nodeName)) {
      for (const k of servicesForLabels(services, pod.metadata.namespace, pod.metadata.labels)) keys.add(k);
    }
    keys.forEach(enqueue);
  }

  async function deleteSlices(owner: string, list: EndpointSlice[]) {
    for (const s of list) {
      try {
        await slicesClient.delete(s.metadata.namespace, s.metadata.name!);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      tracker.deleted(owner, s);
    }
  }

  async function reconcile(key: string): Promise<void> {
    const svc = services.get(key);
    const existing = slicesForOwner(slices, key).filter((s) => managed(s) && !s.metadata.deletionTimestamp);
    if (!svc) {
      // Upstream leaves this to the garbage collector (the slices are owned by the
      // Service); deleting here too converges even without one.
      waiting.delete(key);
      triggerTimes.forget(key);
      await deleteSlices(key, existing);
      return;
    }
    if (!isManagedSelectorService(svc)) return;
    if (tracker.stale(key, existing)) {
      waiting.add(key);
      return;
    }
    waiting.delete(key);
    const selected = podsForSelector(pods, svc.metadata.namespace!, serviceSelector(svc)!);
    const triggerTime = triggerTimes.compute(key, svc, selected);
    const plan = reconcileEndpointSlices({
      service: svc,
      pods: selected,
      node: (name) => nodes.get(name),
      existingSlices: existing,
      maxEndpointsPerSlice: ctx.options.maxEndpointsPerSlice,
      triggerTime,
    });
    if (plan.podsOnMissingNodes.length) log.info('skipping pods whose node is unknown', { service: key, pods: plan.podsOnMissingNodes.join(',') });
    try {
      await apply(key, svc, plan.create, plan.update, plan.delete);
    } catch (e) {
      if (!isConflict(e) && !isNotFound(e)) {
        ctx.events.event(svc, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${key}: ${errorMessage(e)}`);
      }
      throw e;
    }
  }

  async function apply(key: string, svc: Service, create: EndpointSlice[], update: EndpointSlice[], del: EndpointSlice[]) {
    const ns = svc.metadata.namespace!;
    const writes = [
      ...create.map(async (s) => {
        try {
          tracker.written(key, await slicesClient.create(ns, s));
        } catch (e) {
          // A terminating namespace refuses creates for good: nothing to retry.
          if (e instanceof ApiError && e.code === 403 && /terminat/i.test(e.message)) return;
          throw e;
        }
      }),
      ...update.map(async (s) => tracker.written(key, await slicesClient.update(s))),
    ];
    const results = await Promise.allSettled(writes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await deleteSlices(key, del);
  }

  return {
    name: 'endpointslice-controller',
    setup() {
      services = ctx.factory.informer<Service>(resourceTypes.services);
      pods = ctx.factory.informer<Pod>(resourceTypes.pods);
      nodes = ctx.factory.informer<Node>(resourceTypes.nodes);
      slices = ctx.factory.informer<EndpointSlice>(resourceTypes.endpointslices);
      addServiceIndexes(services);
      addPodIndexes(pods);
      addSliceIndexes(slices);
      enqueueServicesOnChange(services, pods, enqueue);
      // A node's zone is copied into endpoints, and pods on unknown nodes wait for theirs.
      nodes.on({
        add: (n) => enqueueServicesOfNode(n.metadata.name!),
        update: (o, n) => {
          if (o.metadata.labels?.[labelTopologyZone] !== n.metadata.labels?.[labelTopologyZone]) enqueueServicesOfNode(n.metadata.name!);
        },
        delete: (n) => enqueueServicesOfNode(n.metadata.name!),
      });
      enqueueOnSliceChange(slices, ownerOf, managed, enqueue, onSliceEvent);
    },
    run() {
      running = true;
      for (const s of services.list()) enqueue(keyOf(s));
      // Slices of Services deleted while we were not running.
      for (const s of slices.list()) {
        const owner = ownerOf(s);
        if (owner && managed(s) && !services.get(owner)) enqueue(owner);
      }
      log.info('started', { services: services.list().length });
    },
    stop() {
      running = false;
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
