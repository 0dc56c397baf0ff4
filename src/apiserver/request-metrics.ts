// apiserver_request_total, as kube-apiserver counts every request it
// answered by verb, resource and code, served on /metrics with the process_*
// metrics. A 500 here is a bug (input never causes one): the counter is how
// an operator sees that any happened.
import type { IncomingMessage } from 'node:http';
import { Counter, Registry, registerProcessMetrics } from '../util/metrics.js';
import type { RequestInfo } from './request-info.js';

export interface RequestMetrics {
  observe(req: IncomingMessage, info: RequestInfo | undefined, code: number): void;
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  contentType: string;
}

/** The verb as the metric reports it: LIST, GET, WATCH, POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION. */
function reportedVerb(req: IncomingMessage, info: RequestInfo | undefined): string {
  if (!info?.isResourceRequest) return req.method ?? 'GET';
  if (info.verb === 'patch' && /apply-patch/.test(req.headers['content-type'] ?? '')) return 'APPLY';
  const verbs: Record<string, string> = { create: 'POST', update: 'PUT' };
  return verbs[info.verb] ?? info.verb.toUpperCase();
}

export function createRequestMetrics(): RequestMetrics {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: ['code', 'component', 'dry_run', 'group', 'resource', 'scope', 'subresource', 'verb', 'version'],
    registers: [registry],
  });
  return {
    observe(req, info, code) {
      const resource = info?.isResourceRequest ? info : undefined;
      requests.inc({
        code: String(code),
        component: 'apiserver',
        dry_run: /[?&]dryRun=All/.test(req.url ?? '') ? 'All' : '',
        group: resource?.group ?? '',
        resource: resource?.resource ?? '',
        scope: !resource ? '' : resource.name ? 'resource' : resource.namespace ? 'namespace' : 'cluster',
        subresource: resource?.subresource ?? '',
        verb: reportedVerb(req, info),
        version: resource?.version ?? '',
      });
    },
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
