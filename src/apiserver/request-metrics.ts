// The API server's own metrics on /metrics, with the process_* metrics,
// under kube-apiserver 1.32's names, labels and help texts:
// - apiserver_request_total and apiserver_request_duration_seconds: every
//   request answered, by verb, resource and code, and how long it took (a
//   watch counts when it ends, as upstream's instrumentation does). A 500 is
//   a bug (input never causes one): the counter is how an operator sees that
//   any happened;
// - apiserver_longrunning_requests: the watches open now;
// - apiserver_storage_objects: how many objects of each resource are stored,
//   counted when scraped.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { qualifiedResource } from '../api/status.js';
import { collectionPrefix } from '../registry/keys.js';
import type { ResourceDef } from '../registry/resource.js';
import type { Store } from '../storage/store.js';
import { Counter, Gauge, Histogram, Registry, registerProcessMetrics } from '../util/metrics.js';
import type { RequestInfo } from './request-info.js';

export interface RequestMetrics {
  /** A request answered: its response code and how long it took. */
  observe(req: IncomingMessage, info: RequestInfo | undefined, code: number, seconds: number): void;
  /** A long-running request (a watch) that stays counted until its response closes. */
  trackLongRunning(req: IncomingMessage, res: ServerResponse, info: RequestInfo): void;
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  contentType: string;
}

/** What apiserver_storage_objects counts: the resources kept in storage. */
export interface StoredResources {
  store: Pick<Store, 'count'>;
  defs: ResourceDef[];
}

/** Upstream's buckets: fine below a second for the API call latency SLO, up to a minute for the slow tail. */
const durationBuckets = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** The verb as the metrics report it: LIST, GET, WATCH, POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION. */
function reportedVerb(req: IncomingMessage, info: RequestInfo | undefined): string {
  if (!info?.isResourceRequest) return req.method ?? 'GET';
  if (info.verb === 'patch' && /apply-patch/.test(req.headers['content-type'] ?? '')) return 'APPLY';
  const verbs: Record<string, string> = { create: 'POST', update: 'PUT' };
  return verbs[info.verb] ?? info.verb.toUpperCase();
}

/**
 * The labels of a request, upstream's way: empty for a request that is not
 * for a resource. In name order, which is how Go's client writes them (the
 * text shows labels in the order they are given).
 */
function requestLabels(req: IncomingMessage, info: RequestInfo | undefined, extra: { code?: string; dry_run?: string } = {}) {
  const resource = info?.isResourceRequest ? info : undefined;
  return {
    ...(extra.code === undefined ? {} : { code: extra.code }),
    component: 'apiserver',
    ...(extra.dry_run === undefined ? {} : { dry_run: extra.dry_run }),
    group: resource?.group ?? '',
    resource: resource?.resource ?? '',
    scope: !resource ? '' : resource.name ? 'resource' : resource.namespace ? 'namespace' : 'cluster',
    subresource: resource?.subresource ?? '',
    verb: reportedVerb(req, info),
    version: resource?.version ?? '',
  };
}

export function createRequestMetrics(stored?: StoredResources): RequestMetrics {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const registers = [registry];
  const requests = new Counter({
    name: 'apiserver_request_total',
    help: '[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: ['code', 'component', 'dry_run', 'group', 'resource', 'scope', 'subresource', 'verb', 'version'],
    registers,
  });
  const durations = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: '[STABLE] Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: ['component', 'dry_run', 'group', 'resource', 'scope', 'subresource', 'verb', 'version'],
    buckets: durationBuckets,
    registers,
  });
  const longRunning = new Gauge({
    name: 'apiserver_longrunning_requests',
    help: '[STABLE] Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
    labelNames: ['component', 'group', 'resource', 'scope', 'subresource', 'verb', 'version'],
    registers,
  });
  if (stored) {
    // One entry per group and resource, however many versions serve it; reviews are never stored.
    const resources = new Map(stored.defs.filter((d) => !d.createOnly).map((d) => [qualifiedResource(d), d]));
    new Gauge({
      name: 'apiserver_storage_objects',
      help: '[STABLE] Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.',
      labelNames: ['resource'],
      registers,
      async collect() {
        for (const [resource, def] of resources) {
          const count = await stored.store.count(collectionPrefix(def)).catch(() => -1);
          this.set({ resource }, count);
        }
      },
    });
  }
  return {
    observe(req, info, code, seconds) {
      const dryRun = /[?&]dryRun=All/.test(req.url ?? '') ? 'All' : '';
      requests.inc(requestLabels(req, info, { code: String(code), dry_run: dryRun }));
      durations.observe(requestLabels(req, info, { dry_run: dryRun }), seconds);
    },
    trackLongRunning(req, res, info) {
      const labels = requestLabels(req, info);
      longRunning.inc(labels);
      res.once('close', () => longRunning.dec(labels));
    },
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
