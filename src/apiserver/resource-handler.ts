// Serves one resource request (get, list, watch, create, update, patch,
// delete, deletecollection and the status/scale/binding subresources) over
// the registry, with kubectl's content negotiation.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlainObject, nowTimestamp, type KubeObject } from '../api/object.js';
import { parseFieldSelector, parseLabelSelector, SelectorParseError, type FieldRequirement, type Selector } from '../api/selectors.js';
import { errors, successStatus } from '../api/status.js';
import type { DeleteOptions, ListOptions, WriteOptions, WriteResult } from '../registry/registry.js';
import type { UserInfo } from '../auth/user.js';
import { requestToken } from './reviews/token-request.js';
import { apiVersionOf, type ResourceDef } from '../registry/resource.js';
import { checkObject, decodeObject, parseFieldValidation, parseStructured, type FieldValidation } from './decode.js';
import { decodeTyped } from './openapi/typed-decode.js';
import { addWarnings, readBody, sendObject } from './http-io.js';
import { applyPatch } from './patch/index.js';
import { agentSocketFor, proxyPodLog } from './node-proxy.js';
import { applyConfiguration, fieldManagerScope, managerOf, recordUpdate } from './apply.js';
import type { RequestInfo } from './request-info.js';
import { scaleHandlers } from './scale.js';
import { evictionHandler } from './eviction.js';
import { partialObject, renderingFor, toTable, type IncludeObject } from './tables.js';
import { serveWatch } from './watch.js';
import type { HandlerContext } from './handler-context.js';
import { chunkRequest, listChunk } from './list-chunking.js';
import { queryBool, queryInt64 } from './query-params.js';
import { validateWriteOptions } from './write-options.js';

const gr = (def: ResourceDef) => ({ group: def.group, resource: def.resource });

function listOptions(q: URLSearchParams): ListOptions {
  let labelSelector: Selector | undefined;
  let fieldSelector: FieldRequirement[] | undefined;
  try {
    if (q.get('labelSelector')) labelSelector = parseLabelSelector(q.get('labelSelector')!);
    if (q.get('fieldSelector')) fieldSelector = parseFieldSelector(q.get('fieldSelector')!);
  } catch (e) {
    if (e instanceof SelectorParseError) throw errors.badRequest(`unable to parse requirement: ${e.message}`);
    throw e;
  }
  return { labelSelector, fieldSelector };
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function isDryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  if (v.some((x) => x !== 'All' && x !== '')) throw errors.badRequest(`Invalid dry run value: ${v.join(',')}`);
  return v.includes('All');
}

function respondObject(req: IncomingMessage, res: ServerResponse, def: ResourceDef, code: number, obj: KubeObject, q: URLSearchParams) {
  const rendering = renderingFor(req.headers.accept);
  if (rendering === 'table') {
    sendObject(req, res, code, toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion, includeObject: includeObject(q) }));
  } else if (rendering === 'partial') {
    sendObject(req, res, code, partialObject(obj));
  } else {
    sendObject(req, res, code, obj);
  }
}

function respondWrite(req: IncomingMessage, res: ServerResponse, def: ResourceDef, result: WriteResult, q: URLSearchParams, warnings: string[] = []) {
  addWarnings(res, [...warnings, ...result.warnings]);
  respondObject(req, res, def, result.created ? 201 : 200, result.object, q);
}

export async function handleResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL, ctx: HandlerContext, user: UserInfo): Promise<void> {
  const def = ctx.defs.find((d) => d.group === info.group && d.version === info.version && d.resource === info.resource);
  if (!def) throw errors.pathNotFound();
  const q = url.searchParams;
  const ns = def.namespaced ? info.namespace : undefined;
  const { registry } = ctx;
  const sub = info.subresource;
  if (sub && !def.subresources.some((s) => s.name === sub)) throw errors.pathNotFound();
  if (def.namespaced && !ns && info.name) throw errors.pathNotFound();
  if (def.createOnly) return createOnly(req, res, info, def, ns, user);
  if (sub === 'token') return tokenRequest(req, res, info, def, ctx);
  /** Who writes: admission that depends on the user (RBAC escalation checks) reads it. */
  const writer = { user, authorizer: ctx.auth.authorizer };

  if (sub === 'scale') return scaleHandlers(req, res, info, def, ctx, q);
  if (sub === 'binding') return bind(req, res, info, def, ctx, q);
  if (sub === 'eviction') return evictionHandler(req, res, info, def, ctx, q, user);
  if (sub === 'log' || sub === 'exec' || sub === 'attach' || sub === 'portforward') {
    // The node agent serves these (node-proxy.ts); exec arrives as an upgrade (server.ts), portforward is not served yet.
    const pod = await registry.get(def, ns, info.name!);
    if (sub === 'log') return proxyPodLog(req, res, agentSocketFor(pod, ctx.agentSocket), ns!, pod, q);
    if (sub === 'exec' || sub === 'attach') throw errors.badRequest('Upgrade request required');
    const node = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    if (!node) throw errors.badRequest(`pod ${info.name} does not have a host assigned`);
    throw errors.serviceUnavailable(`the node agent for node "${node}" is not reachable, so ${sub} is not available for pod ${info.name}`);
  }

  switch (info.verb) {
    case 'get':
      return respondObject(req, res, def, 200, await registry.get(def, ns, info.name!), q);
    case 'list':
      return list(req, res, def, ns, ctx, q);
    case 'watch':
      return serveWatch(req, res, registry, watchRequest(req, def, ns, q), ctx.watch);
    case 'create': {
      if (info.name) throw errors.methodNotSupported(gr(def), 'create');
      if (def.namespaced && !ns) throw errors.pathNotFound();
      validateWriteOptions('CreateOptions', q);
      const validation = parseFieldValidation(q.get('fieldValidation'));
      const decoded = decodeObject(await readBody(req), req.headers['content-type'], def, validation);
      def.convertOnDecode?.(decoded.object);
      recordUpdate(undefined, decoded.object, managerOf(req, q), fieldManagerScope(def, ''));
      const result = await registry.create(def, ns, decoded.object, { dryRun: isDryRun(q), fieldManager: q.get('fieldManager') ?? undefined, ...writer });
      return respondWrite(req, res, def, result, q, decoded.warnings);
    }
    case 'update': {
      validateWriteOptions('UpdateOptions', q);
      const validation = parseFieldValidation(q.get('fieldValidation'));
      const decoded = decodeObject(await readBody(req), req.headers['content-type'], def, validation);
      def.convertOnDecode?.(decoded.object);
      const subresource = sub === 'status' || sub === 'finalize' || sub === 'approval' ? sub : '';
      const result = await registry.update(
        def,
        ns,
        info.name!,
        (live) => {
          const next = structuredClone(decoded.object);
          recordUpdate(live, next, managerOf(req, q), fieldManagerScope(def, subresource));
          return next;
        },
        { ...writer, dryRun: isDryRun(q), subresource },
      );
      return respondWrite(req, res, def, result, q, decoded.warnings);
    }
    case 'patch':
      return patch(req, res, info, def, ns, ctx, q, writer);
    case 'delete':
      return remove(req, res, info, def, ns, ctx, q);
    case 'deletecollection':
      return deleteCollection(req, res, def, ns, ctx, q);
    default:
      throw errors.methodNotSupported(gr(def), info.verb);
  }
}

/** A list, or one chunk of it (limit, continue), in the rendering asked for; a Table carries the chunk's ListMeta as upstream's does. */
async function list(req: IncomingMessage, res: ServerResponse, def: ResourceDef, ns: string | undefined, ctx: HandlerContext, q: URLSearchParams) {
  const { items, metadata } = await listChunk(ctx.registry, def, ns, { ...listOptions(q), chunk: chunkRequest(q) });
  const rendering = renderingFor(req.headers.accept);
  if (rendering === 'table') {
    return sendObject(req, res, 200, { ...toTable(def, items, { includeObject: includeObject(q) }), metadata });
  }
  if (rendering === 'partial') {
    return sendObject(req, res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items: items.map(partialObject) });
  }
  sendObject(req, res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata, items });
}

/** A watch of a collection; limit and continue mean nothing to a watch and are not read, as upstream. */
function watchRequest(req: IncomingMessage, def: ResourceDef, ns: string | undefined, q: URLSearchParams) {
  const timeout = queryInt64(q, 'timeoutSeconds');
  return {
    def,
    namespace: ns,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    list: listOptions(q),
    rendering: renderingFor(req.headers.accept),
    includeObject: includeObject(q),
    allowBookmarks: queryBool(q, 'allowWatchBookmarks'),
    timeoutSeconds: timeout && timeout > 0 ? timeout : undefined,
  };
}

async function patch(
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  def: ResourceDef,
  ns: string | undefined,
  ctx: HandlerContext,
  q: URLSearchParams,
  writer: Pick<WriteOptions, 'user' | 'authorizer'>,
) {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
  validateWriteOptions('PatchOptions', q, contentType === 'application/apply-patch+yaml');
  const body = await readBody(req);
  const validation = parseFieldValidation(q.get('fieldValidation'));
  const dryRun = isDryRun(q);
  // Apply's fieldManager is there (validateWriteOptions).
  const fieldManager = q.get('fieldManager') || undefined;
  const warnings: string[] = [];
  const subresource = info.subresource === 'status' || info.subresource === 'approval' ? info.subresource : '';

  if (contentType === 'application/apply-patch+yaml') {
    const applied = checkObject(parseStructured(body, 'application/yaml'), def, validation);
    warnings.push(...applied.warnings);
    if (applied.object.metadata.name && applied.object.metadata.name !== info.name) {
      throw errors.badRequest(`the name of the object (${applied.object.metadata.name}) does not match the name on the URL (${info.name})`);
    }
    applied.object.metadata.name = info.name;
    const scope = fieldManagerScope(def, subresource);
    const force = queryBool(q, 'force');
    const applier = fieldManager!;
    const result = await ctx.registry.update(def, ns, info.name!, (live) => applyConfiguration(live, applied.object, applier, force, scope), {
      ...writer,
      dryRun,
      subresource,
      forceAllowCreate: () => ctx.registry.create(def, ns, applyConfiguration(undefined, applied.object, applier, force, scope), { dryRun, fieldManager: applier, ...writer }),
    });
    return respondWrite(req, res, def, result, q, warnings);
  }

  if (
    contentType !== 'application/json-patch+json' &&
    contentType !== 'application/merge-patch+json' &&
    contentType !== 'application/strategic-merge-patch+json'
  ) {
    throw errors.unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
    );
  }
  const patchBody = parseStructured(body, 'application/json');
  const result = await ctx.registry.update(
    def,
    ns,
    info.name!,
    (live) => {
      let patched: unknown;
      try {
        patched = applyPatch(contentType, live, patchBody, def.kind);
      } catch (e) {
        throw e instanceof Error && !('status' in e) ? errors.badRequest(e.message) : e;
      }
      const checked = checkObject(patched, def, validation as FieldValidation);
      def.convertOnDecode?.(checked.object);
      warnings.splice(0, warnings.length, ...checked.warnings);
      recordUpdate(live, checked.object, fieldManager ?? managerOf(req, q), fieldManagerScope(def, subresource));
      return checked.object;
    },
    { ...writer, dryRun, subresource },
  );
  respondWrite(req, res, def, result, q, warnings);
}

async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const body = await readBody(req);
  const opts: DeleteOptions = { dryRun: isDryRun(q) };
  if (body.length && body.toString().trim()) {
    const parsed = parseStructured(body, req.headers['content-type']);
    if (isPlainObject(parsed)) {
      const typed = decodeTyped({ group: '', version: 'v1', kind: 'DeleteOptions' }, parsed);
      if (typed.error) throw errors.badRequest(typed.error);
      if (typeof parsed.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = parsed.gracePeriodSeconds;
      if (typeof parsed.propagationPolicy === 'string') opts.propagationPolicy = parsed.propagationPolicy;
      if (isPlainObject(parsed.preconditions)) opts.preconditions = parsed.preconditions as DeleteOptions['preconditions'];
      if (Array.isArray(parsed.dryRun) && parsed.dryRun.includes('All')) opts.dryRun = true;
    }
  }
  const gracePeriodSeconds = queryInt64(q, 'gracePeriodSeconds');
  if (gracePeriodSeconds !== undefined) opts.gracePeriodSeconds = gracePeriodSeconds;
  if (q.get('propagationPolicy')) opts.propagationPolicy = q.get('propagationPolicy')!;
  if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
    throw errors.badRequest(`propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  return opts;
}

async function remove(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, ns: string | undefined, ctx: HandlerContext, q: URLSearchParams) {
  const opts = await deleteOptions(req, q);
  const { object, deleted } = await ctx.registry.delete(def, ns, info.name!, opts);
  if (!deleted || def.resource === 'pods') return respondObject(req, res, def, 200, object, q);
  sendObject(req, res, 200, successStatus({ name: object.metadata.name, group: def.group, kind: def.resource, uid: object.metadata.uid }));
}

async function deleteCollection(req: IncomingMessage, res: ServerResponse, def: ResourceDef, ns: string | undefined, ctx: HandlerContext, q: URLSearchParams) {
  const opts = await deleteOptions(req, q);
  const { items, resourceVersion } = await ctx.registry.list(def, ns, listOptions(q));
  const deleted: KubeObject[] = [];
  for (const item of items) {
    try {
      deleted.push((await ctx.registry.delete(def, item.metadata.namespace, item.metadata.name!, opts)).object);
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
    }
  }
  sendObject(req, res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion }, items: deleted });
}

/** pods/{name}/binding: the scheduler's write, assigning spec.nodeName once. */
async function bind(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, ctx: HandlerContext, q: URLSearchParams) {
  if (info.verb !== 'create') throw errors.methodNotSupported(gr(def), info.verb);
  const body = checkObject(parseStructured(await readBody(req), req.headers['content-type']), { group: '', version: 'v1', kind: 'Binding' }, 'Ignore').object;
  const target = isPlainObject(body.target) ? (body.target as { name?: string }) : undefined;
  if (!target?.name) throw errors.invalid('Binding', '', info.name ?? '', [{ type: 'FieldValueRequired', field: 'target.name', hasValue: false, detail: '' }]);
  await ctx.registry.update(
    def,
    info.namespace,
    info.name!,
    (pod) => {
      const spec = (pod.spec ??= {}) as { nodeName?: string };
      if (spec.nodeName) throw errors.conflict(gr(def), info.name!, `pod ${info.name} is already assigned to node "${spec.nodeName}"`);
      spec.nodeName = target.name;
      // Upstream's binding also marks the pod scheduled, in the same write.
      const status = ((pod.status ??= {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: null }[] });
      const conditions = (status.conditions ??= []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowTimestamp() });
      status.conditions = conditions;
      return pod;
    },
    { dryRun: isDryRun(q), subresource: 'binding' },
  );
  sendObject(req, res, 201, successStatus());
}

/** A review: decoded and checked like any object, answered by the resource, never stored (201 with the status). */
async function createOnly(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, ns: string | undefined, user: UserInfo) {
  if (info.verb !== 'create' || info.name) throw errors.methodNotSupported(gr(def), info.verb);
  if (def.namespaced && !ns) throw errors.pathNotFound();
  const decoded = decodeObject(await readBody(req), req.headers['content-type'], def, 'Ignore');
  const answer = await def.createOnly!(decoded.object, { user, namespace: ns });
  sendObject(req, res, 201, answer);
}

/** serviceaccounts/{name}/token: a TokenRequest, answered with a signed token. */
async function tokenRequest(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, ctx: HandlerContext) {
  if (info.verb !== 'create') throw errors.methodNotSupported(gr(def), info.verb);
  if (!ctx.extensions) throw errors.pathNotFound();
  const body = decodeObject(await readBody(req), req.headers['content-type'], { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, 'Ignore').object;
  const coreDef = (resource: string) => ctx.defs.find((d) => d.resource === resource && d.group === '')!;
  const { answer, warnings } = await requestToken({ registry: ctx.registry, def: coreDef, extensions: ctx.extensions }, info.namespace!, info.name!, body);
  addWarnings(res, warnings);
  sendObject(req, res, 201, answer);
}
