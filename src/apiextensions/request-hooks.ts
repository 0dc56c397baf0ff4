// What the API server does differently for custom resources before the
// generic resource handler: strategic merge patch is refused (custom kinds
// have no patch strategy, as upstream), and the scale subresource reads the
// CRD's replica and selector paths.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../api/status.js';
import type { Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import { isCustomResourceDef } from './custom-resource.js';
import { serveCustomScale } from './scale.js';

interface ResourceRequest {
  verb: string;
  group: string;
  version: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Serves the request when it needs custom handling; false when the generic handler should. */
export async function serveCustomResourceRequest(
  req: IncomingMessage,
  res: ServerResponse,
  info: ResourceRequest,
  query: URLSearchParams,
  defs: ResourceDef[],
  registry: Registry,
): Promise<boolean> {
  const def = defs.find((d) => d.group === info.group && d.version === info.version && d.resource === info.resource);
  if (!def || !isCustomResourceDef(def)) return false;
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
  if (info.verb === 'patch' && contentType === 'application/strategic-merge-patch+json') {
    throw errors.unsupportedMediaType(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  }
  if (info.subresource === 'scale' && info.name && def.crdVersion.subresources?.scale) {
    const namespace = def.namespaced ? info.namespace : undefined;
    if (def.namespaced && !namespace) throw errors.pathNotFound();
    await serveCustomScale(req, res, info.verb, def, namespace, info.name, registry, query.getAll('dryRun').includes('All'));
    return true;
  }
  return false;
}
