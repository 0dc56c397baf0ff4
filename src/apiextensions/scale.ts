// The scale subresource of custom resources: an autoscaling/v1 Scale whose
// spec.replicas, status.replicas and status.selector live where the CRD's
// specReplicasPath, statusReplicasPath and labelSelectorPath say, as
// upstream's customresource scale REST.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlainObject, type KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';
import { fieldErrors } from '../api/field-errors.js';
import { checkObject, parseStructured } from '../apiserver/decode.js';
import { readBody, sendObject } from '../apiserver/http-io.js';
import { applyPatch } from '../apiserver/patch/index.js';
import type { Registry } from '../registry/registry.js';
import type { CustomResourceDef } from './custom-resource.js';
import { findResults } from './jsonpath.js';
import type { ScaleSubresource } from './types.js';

function pathKeys(path: string): string[] {
  return path.replace(/^\./, '').split('.');
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = pathKeys(path);
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isPlainObject(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys.at(-1)!] = value;
}

function toScale(obj: KubeObject, scale: ScaleSubresource) {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  const specReplicas = findResults(obj, scale.specReplicasPath)[0];
  const statusReplicas = findResults(obj, scale.statusReplicasPath)[0];
  const selector = scale.labelSelectorPath ? findResults(obj, scale.labelSelectorPath)[0] : undefined;
  const status: Record<string, unknown> = { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0 };
  if (typeof selector === 'string' && selector) status.selector = selector;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status,
  };
}

export async function serveCustomScale(
  req: IncomingMessage,
  res: ServerResponse,
  verb: string,
  def: CustomResourceDef,
  namespace: string | undefined,
  name: string,
  registry: Registry,
  dryRun: boolean,
) {
  const scale = def.crdVersion.subresources!.scale!;
  if (verb === 'get') return sendObject(req, res, 200, toScale(await registry.get(def, namespace, name), scale));
  if (verb !== 'update' && verb !== 'patch') throw errors.methodNotSupported({ group: def.group, resource: def.resource }, verb);
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
  const body = parseStructured(await readBody(req), contentType || 'application/json');
  const result = await registry.update(
    def,
    namespace,
    name,
    (live) => {
      const current = toScale(live, scale);
      const wanted = verb === 'patch' ? applyPatch(contentType, current, body, 'Scale') : body;
      if (!isPlainObject(wanted) || !isPlainObject(wanted.spec)) throw errors.badRequest('the body is not a Scale');
      checkObject(wanted, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, 'Ignore');
      const meta = isPlainObject(wanted.metadata) ? (wanted.metadata as { resourceVersion?: string }) : {};
      if (meta.resourceVersion && meta.resourceVersion !== live.metadata.resourceVersion) {
        throw errors.staleObject({ group: def.group, resource: def.resource }, name);
      }
      const replicas = (wanted.spec as { replicas?: unknown }).replicas ?? 0;
      if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas)) {
        throw errors.invalid('Scale', 'autoscaling', name, [fieldErrors.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
      }
      setPath(live, scale.specReplicasPath, replicas);
      return live;
    },
    { dryRun },
  );
  sendObject(req, res, 200, toScale(result.object, scale));
}
