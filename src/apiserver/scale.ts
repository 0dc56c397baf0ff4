// The scale subresource (deployments, replicasets): an autoscaling/v1 Scale
// view of spec.replicas, read and written through the parent object.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlainObject, type KubeObject } from '../api/object.js';
import { fromLabelSelector, selectorString } from '../api/selectors.js';
import { errors } from '../api/status.js';
import { fieldErrors } from '../api/field-errors.js';
import type { ResourceDef } from '../registry/resource.js';
import { checkObject, parseStructured } from './decode.js';
import { readBody, sendObject } from './http-io.js';
import { applyPatch } from './patch/index.js';
import type { RequestInfo } from './request-info.js';
import type { HandlerContext } from './handler-context.js';
import { fieldManagerScope, managerOf, recordUpdate } from './apply.js';

interface Workload extends KubeObject {
  spec?: { replicas?: number; selector?: Parameters<typeof fromLabelSelector>[0] };
  status?: { replicas?: number };
}

export function toScale(obj: Workload) {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: selectorString(fromLabelSelector(obj.spec?.selector)).replace(/^<none>$/, '') },
  };
}

export async function scaleHandlers(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, ctx: HandlerContext, q: URLSearchParams) {
  const ns = info.namespace;
  const name = info.name!;
  if (info.verb === 'get') {
    return sendObject(req, res, 200, toScale((await ctx.registry.get(def, ns, name)) as Workload));
  }
  if (info.verb !== 'update' && info.verb !== 'patch') throw errors.methodNotSupported({ group: def.group, resource: def.resource }, info.verb);
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
  const body = parseStructured(await readBody(req), contentType || 'application/json');
  const result = await ctx.registry.update(
    def,
    ns,
    name,
    (live) => {
      const current = toScale(live as Workload);
      const wanted = info.verb === 'patch' ? applyPatch(contentType, current, body, 'Scale') : body;
      if (!isPlainObject(wanted) || !isPlainObject(wanted.spec)) throw errors.badRequest('the body is not a Scale');
      checkObject(wanted, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, 'Ignore');
      const meta = isPlainObject(wanted.metadata) ? (wanted.metadata as { resourceVersion?: string }) : {};
      if (meta.resourceVersion && meta.resourceVersion !== live.metadata.resourceVersion) {
        throw errors.staleObject({ group: def.group, resource: def.resource }, name);
      }
      const replicas = (wanted.spec as { replicas?: unknown }).replicas;
      if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas)) {
        throw errors.invalid('Scale', 'autoscaling', name, [fieldErrors.invalid('spec.replicas', replicas ?? null, 'must be greater than or equal to 0')]);
      }
      const next = structuredClone(live) as Workload;
      next.spec = { ...(next.spec ?? {}), replicas };
      recordUpdate(live, next, managerOf(req, q), fieldManagerScope(def, 'scale'));
      return next;
    },
    { dryRun: q.getAll('dryRun').includes('All') },
  );
  sendObject(req, res, 200, toScale(result.object as Workload));
}
