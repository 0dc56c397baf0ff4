// The Endpoints controller (upstream pkg/controller/endpoint): one v1
// Endpoints per selector Service, named like it, listing the selected pods.
// Endpoints of Services without a selector belong to their users.
import type { Endpoints, Pod, Service } from './endpointslice/pod-endpoints.js';
import { isNotFound, resourceTypes, ApiError } from '../client/client.js';
import { keyOf, splitKey, type Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';
import { desiredEndpoints } from './endpoints-subsets.js';
import { addPodIndexes, addServiceIndexes, enqueueServicesOnChange, podsForSelector } from './endpointslice/indexes.js';
import { annotationLeaderElection } from '../api/labels.js';
import { createTriggerTimeTracker, isManagedSelectorService, serviceSelector } from './endpointslice/pod-endpoints.js';
import { errorMessage } from '../util/errors.js';

const workers = 5;

export function createEndpointsController(ctx: ControllerContext): Controller {
  const endpointsClient = ctx.client.resource<Endpoints>(resourceTypes.endpoints);
  const triggerTimes = createTriggerTimeTracker();
  /**
   * staleEndpointsTracker: the resourceVersion our last update replaced (the
   * cache still showing it is stale), or '' after a create not seen yet.
   */
  const replaced = new Map<string, string>();
  /** resourceVersions we wrote, to tell our own echoes from other writers' changes. */
  const written = new Map<string, string>();
  const waiting = new Set<string>();
  let services!: Informer<Service>;
  let pods!: Informer<Pod>;
  let endpoints!: Informer<Endpoints>;
  let running = false;

  const { queue, log } = queueFor('endpoints-controller', reconcile, workers);
  const enqueue = (key: string) => {
    if (running) queue.add(key);
  };

  function onEndpointsEvent(ep: Endpoints, deleted: boolean) {
    const key = keyOf(ep);
    replaced.delete(key);
    if (waiting.has(key)) return enqueue(key);
    if (deleted) return enqueue(key);
    const ours = written.get(key) === ep.metadata.resourceVersion;
    if (ours) {
      written.delete(key);
      return;
    }
    // Someone else changed an Endpoints we manage: put it back.
    const svc = services.get(key);
    if (svc && isManagedSelectorService(svc)) enqueue(key);
  }

  function isStale(key: string, current: Endpoints | undefined): boolean {
    const rv = replaced.get(key);
    if (rv === undefined) return false;
    if (rv === '' ? !current : current?.metadata.resourceVersion === rv) return true;
    replaced.delete(key);
    return false;
  }

  async function reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = services.get(key);
    if (!svc) {
      // The Service is gone: so is its Endpoints (the registry also does this on delete).
      waiting.delete(key);
      replaced.delete(key);
      written.delete(key);
      triggerTimes.forget(key);
      try {
        await endpointsClient.delete(namespace, name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    if (!isManagedSelectorService(svc)) return;
    const current = endpoints.get(key);
    if (isStale(key, current)) {
      waiting.add(key);
      return;
    }
    waiting.delete(key);
    const selected = podsForSelector(pods, namespace!, serviceSelector(svc)!);
    const triggerTime = triggerTimes.compute(key, svc, selected);
    const next = desiredEndpoints(svc, selected, current, triggerTime);
    if (!next) return;
    try {
      if (!current) {
        const created = await endpointsClient.create(namespace, next);
        written.set(key, created.metadata.resourceVersion ?? '');
        replaced.set(key, '');
      } else {
        const updated = await endpointsClient.update(next);
        written.set(key, updated.metadata.resourceVersion ?? '');
        if (updated.metadata.resourceVersion !== current.metadata.resourceVersion) replaced.set(key, current.metadata.resourceVersion ?? '');
      }
    } catch (e) {
      // A terminating namespace refuses creates for good: nothing to retry.
      if (!current && e instanceof ApiError && e.code === 403 && /terminat/i.test(e.message)) return;
      if (!(e instanceof ApiError && e.code === 409)) {
        ctx.events.event(
          next,
          'Warning',
          current ? 'FailedToUpdateEndpoint' : 'FailedToCreateEndpoint',
          current ? `Failed to update endpoint ${key}: ${errorMessage(e)}` : `Failed to create endpoint for service ${key}: ${errorMessage(e)}`,
        );
      }
      throw e;
    }
  }

  return {
    name: 'endpoints-controller',
    setup() {
      services = ctx.factory.informer<Service>(resourceTypes.services);
      pods = ctx.factory.informer<Pod>(resourceTypes.pods);
      endpoints = ctx.factory.informer<Endpoints>(resourceTypes.endpoints);
      addServiceIndexes(services);
      addPodIndexes(pods);
      enqueueServicesOnChange(services, pods, enqueue);
      endpoints.on({
        add: (e) => onEndpointsEvent(e, false),
        update: (o, e) => {
          if (o.metadata.resourceVersion !== e.metadata.resourceVersion) onEndpointsEvent(e, false);
        },
        delete: (e) => onEndpointsEvent(e, true),
      });
    },
    run() {
      running = true;
      for (const s of services.list()) enqueue(keyOf(s));
      // checkLeftoverEndpoints: Endpoints whose Service went away while we were not running.
      for (const e of endpoints.list()) {
        if (e.metadata.annotations?.[annotationLeaderElection] !== undefined) continue;
        if (!services.get(keyOf(e))) enqueue(keyOf(e));
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
