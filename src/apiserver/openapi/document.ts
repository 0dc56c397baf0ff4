// OpenAPI v3 as kube-apiserver publishes it: an index of group-versions
// (GET /openapi/v3) and one document per group-version with its paths and the
// component schemas they reach. kubectl reads it to turn on server-side field
// validation, to compute client-side apply patches and for `explain`; the
// same schemas drive the typed decoding of request bodies (typed-decode.ts).
import { createHash } from 'node:crypto';
import { GVK_EXTENSION, gvksOf, schemaNameOf, schemas, SCHEMA_PREFIX, type GroupVersionKind, type Schema } from './schemas.js';

export interface OpenApiResource {
  group: string;
  version: string;
  /** Plural resource name, e.g. services. */
  resource: string;
  kind: string;
  namespaced: boolean;
  subresources: { name: string; kind: string; group: string; version: string }[];
  /** Reviews: only POST to the collection, answered and never stored. */
  createOnly?: boolean;
  /** Custom resources: PATCH takes JSON, merge and apply patches, not strategic merge patches. */
  noStrategicMergePatch?: boolean;
}

interface GroupVersion {
  group: string;
  version: string;
}

type Operation = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

// ---------------------------------------------------------------------------
// Index

/** Upstream's form: the hex SHA-512 of the served document, uppercase. */
function hashOf(value: unknown): string {
  return createHash('sha512').update(JSON.stringify(value)).digest('hex').toUpperCase();
}

function gvPath(gv: GroupVersion): string {
  return gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
}

/**
 * GET /openapi/v3. kubectl caches each document under its `hash`. Given the
 * resources, the hash is that of the exact document; without them it is a
 * fingerprint of the group-version and the generated schemas, which is stable
 * for one build of the server.
 */
export function openApiIndex(groupVersions: GroupVersion[], resources?: OpenApiResource[]): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions) {
    const hash = resources
      ? hashOf(groupVersionDocument(gv, resources.filter((r) => r.group === gv.group && r.version === gv.version)))
      : hashOf({ gv: gvPath(gv), schemas: schemasFingerprint() });
    paths[gvPath(gv)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=${hash}` };
  }
  return { paths };
}

let fingerprint: string | undefined;
function schemasFingerprint(): string {
  fingerprint ??= hashOf(schemas);
  return fingerprint;
}

// ---------------------------------------------------------------------------
// Group-version documents

const documentCache = new Map<string, object>();

/** GET /openapi/v3/{api/v1 | apis/GROUP/VERSION}. */
export function groupVersionDocument(gv: GroupVersion, resources: OpenApiResource[]): object {
  const key = JSON.stringify([gv, resources]);
  let doc = documentCache.get(key);
  if (!doc) {
    doc = buildDocument(gv, resources);
    documentCache.set(key, doc);
  }
  return doc;
}

function buildDocument(gv: GroupVersion, resources: OpenApiResource[]): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of resources) Object.assign(paths, resourcePaths(r));
  const roots = new Set<string>([`${META}.Status`, `${META}.DeleteOptions`, `${META}.Patch`]);
  for (const r of resources) {
    for (const kind of [{ ...r }, ...r.subresources]) {
      const name = schemaNameOf(kind);
      if (name) roots.add(name);
    }
    const list = schemaNameOf({ ...r, kind: `${r.kind}List` });
    if (list) roots.add(list);
  }
  // Kinds served only as subresources (autoscaling/v1 Scale) still get their schemas in their own group-version.
  for (const [name, s] of Object.entries(schemas)) {
    if (gvksOf(s).some((g) => g.group === gv.group && g.version === gv.version)) roots.add(name);
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths: sortObject(paths),
    components: { schemas: reachableSchemas([...roots]) },
  };
}

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The named schemas and everything they reference, sorted by name. */
function reachableSchemas(roots: string[]): Record<string, Schema> {
  const seen = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(SCHEMA_PREFIX)) add(v.slice(SCHEMA_PREFIX.length));
      else visit(v);
    }
  };
  const add = (name: string): void => {
    if (seen.has(name) || !schemas[name]) return;
    seen.add(name);
    visit(schemas[name]);
  };
  roots.forEach(add);
  return Object.fromEntries([...seen].sort().map((n) => [n, schemas[n]]));
}

// ---------------------------------------------------------------------------
// Paths and operations, shaped as upstream's (operationId, tags, parameters,
// x-kubernetes-action, x-kubernetes-group-version-kind).

function ref(name: string) {
  return { $ref: `${SCHEMA_PREFIX}${name}` };
}

function queryParam(name: string, type: 'string' | 'boolean' | 'integer', description: string) {
  return { description, in: 'query', name, schema: { type, uniqueItems: true } };
}

function pathParam(name: string, description: string) {
  return { description, in: 'path', name, required: true, schema: { type: 'string', uniqueItems: true } };
}

const PARAMS = {
  pretty: queryParam(
    'pretty',
    'string',
    "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
  ),
  namespace: pathParam('namespace', 'object name and auth scope, such as for teams and projects'),
  dryRun: queryParam(
    'dryRun',
    'string',
    'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed',
  ),
  fieldManager: queryParam(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.',
  ),
  patchFieldManager: queryParam(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).',
  ),
  fieldValidation: queryParam(
    'fieldValidation',
    'string',
    'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.',
  ),
  force: queryParam(
    'force',
    'boolean',
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
  ),
  gracePeriodSeconds: queryParam(
    'gracePeriodSeconds',
    'integer',
    'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.',
  ),
  orphanDependents: queryParam(
    'orphanDependents',
    'boolean',
    'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.',
  ),
  propagationPolicy: queryParam(
    'propagationPolicy',
    'string',
    "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
  ),
  allowWatchBookmarks: queryParam(
    'allowWatchBookmarks',
    'boolean',
    'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.',
  ),
  continue: queryParam('continue', 'string', 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize.'),
  fieldSelector: queryParam('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: queryParam('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: queryParam('limit', 'integer', 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.'),
  resourceVersion: queryParam('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  resourceVersionMatch: queryParam('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  sendInitialEvents: queryParam('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event  will be sent.'),
  timeoutSeconds: queryParam('timeoutSeconds', 'integer', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'),
  watch: queryParam('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'),
};

const LIST_PARAMS = [
  PARAMS.allowWatchBookmarks,
  PARAMS.continue,
  PARAMS.fieldSelector,
  PARAMS.labelSelector,
  PARAMS.limit,
  PARAMS.resourceVersion,
  PARAMS.resourceVersionMatch,
  PARAMS.sendInitialEvents,
  PARAMS.timeoutSeconds,
  PARAMS.watch,
];
const WRITE_PARAMS = [PARAMS.dryRun, PARAMS.fieldManager, PARAMS.fieldValidation];
const PATCH_PARAMS = [PARAMS.dryRun, PARAMS.patchFieldManager, PARAMS.fieldValidation, PARAMS.force];
const DELETE_PARAMS = [PARAMS.dryRun, PARAMS.gracePeriodSeconds, PARAMS.orphanDependents, PARAMS.propagationPolicy];

const OBJECT_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const LIST_TYPES = [
  ...OBJECT_TYPES,
  'application/json;stream=watch',
  'application/vnd.kubernetes.protobuf;stream=watch',
];
const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

function content(types: string[], schema: object) {
  return Object.fromEntries(types.map((t) => [t, { schema }]));
}

function responses(codes: string[], schemaName: string | undefined, types = OBJECT_TYPES) {
  const descriptions: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted' };
  const out: Record<string, unknown> = {};
  for (const code of codes) {
    out[code] = schemaName ? { content: content(types, ref(schemaName)), description: descriptions[code] } : { description: descriptions[code] };
  }
  out['401'] = { description: 'Unauthorized' };
  return out;
}

/** Names used in operationIds and tags: "" → CoreV1 / core_v1, discovery.k8s.io → DiscoveryV1. */
function groupNames(gv: GroupVersion) {
  const group = gv.group ? gv.group.split('.')[0] : 'core';
  const pascal = group[0].toUpperCase() + group.slice(1) + gv.version[0].toUpperCase() + gv.version.slice(1);
  return { pascal, tag: `${group}_${gv.version}` };
}

interface OperationSpec {
  verb: string;
  action: string;
  description: string;
  gvk: GroupVersionKind;
  parameters?: object[];
  requestBody?: object;
  responses: object;
}

function operation(r: OpenApiResource, spec: OperationSpec): Operation {
  const op: Operation = {
    description: spec.description,
    operationId: spec.verb,
    responses: spec.responses,
    tags: [groupNames(r).tag],
    'x-kubernetes-action': spec.action,
    [GVK_EXTENSION]: spec.gvk,
  };
  if (spec.parameters?.length) op.parameters = spec.parameters;
  if (spec.requestBody) op.requestBody = spec.requestBody;
  return op;
}

function bodyOf(schemaName: string | undefined) {
  return { content: { '*/*': { schema: schemaName ? ref(schemaName) : { type: 'object' } } }, required: true };
}

const PATCH_BODY = { content: content(PATCH_TYPES, ref(`${META}.Patch`)), required: true };
const PATCH_BODY_NO_SMP = { content: content(PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json'), ref(`${META}.Patch`)), required: true };

/** get/put/patch on an object (the item itself, status, scale). */
function readWriteOps(r: OpenApiResource, gvk: GroupVersionKind, opName: string, what: string) {
  const schema = schemaNameOf(gvk);
  const ops = (verb: string) => `${verb}${groupNames(r).pascal}${opName}`;
  return {
    get: operation(r, { verb: ops('read'), action: 'get', description: `read ${what}`, gvk, responses: responses(['200'], schema) }),
    put: operation(r, {
      verb: ops('replace'),
      action: 'put',
      description: `replace ${what}`,
      gvk,
      parameters: WRITE_PARAMS,
      requestBody: bodyOf(schema),
      responses: responses(['200', '201'], schema),
    }),
    patch: operation(r, {
      verb: ops('patch'),
      action: 'patch',
      description: `partially update ${what}`,
      gvk,
      parameters: PATCH_PARAMS,
      requestBody: r.noStrategicMergePatch ? PATCH_BODY_NO_SMP : PATCH_BODY,
      responses: responses(['200', '201'], schema),
    }),
  };
}

function resourcePaths(r: OpenApiResource): Record<string, Record<string, unknown>> {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
  const item = `${collection}/{name}`;
  const scope = r.namespaced ? 'Namespaced' : '';
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const schema = schemaNameOf(gvk);
  const listSchema = schemaNameOf({ ...gvk, kind: `${r.kind}List` });
  const { pascal } = groupNames(r);
  const nsParams = r.namespaced ? [PARAMS.namespace] : [];
  const paths: Record<string, Record<string, unknown>> = {};
  const create = operation(r, {
    verb: `create${pascal}${scope}${r.kind}`,
    action: 'post',
    description: `create ${article(r.kind)} ${r.kind}`,
    gvk,
    parameters: WRITE_PARAMS,
    requestBody: bodyOf(schema),
    responses: responses(['200', '201', '202'], schema),
  });
  if (r.createOnly) {
    paths[collection] = { post: create, parameters: [...nsParams, PARAMS.pretty] };
    return paths;
  }

  paths[collection] = {
    get: operation(r, {
      verb: `list${pascal}${scope}${r.kind}`,
      action: 'list',
      description: `list or watch objects of kind ${r.kind}`,
      gvk,
      parameters: LIST_PARAMS,
      responses: responses(['200'], listSchema, LIST_TYPES),
    }),
    post: create,
    delete: operation(r, {
      verb: `delete${pascal}Collection${scope}${r.kind}`,
      action: 'deletecollection',
      description: `delete collection of ${r.kind}`,
      gvk,
      parameters: [...DELETE_PARAMS, ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')],
      requestBody: bodyOf(`${META}.DeleteOptions`),
      responses: responses(['200'], `${META}.Status`),
    }),
    parameters: [...nsParams, PARAMS.pretty],
  };
  if (r.namespaced) {
    paths[`${base}/${r.resource}`] = {
      get: operation(r, {
        verb: `list${pascal}${r.kind}ForAllNamespaces`,
        action: 'list',
        description: `list or watch objects of kind ${r.kind}`,
        gvk,
        parameters: LIST_PARAMS,
        responses: responses(['200'], listSchema, LIST_TYPES),
      }),
      parameters: [PARAMS.pretty],
    };
  }
  const itemParams = [pathParam('name', `name of the ${r.kind}`), ...nsParams, PARAMS.pretty];
  paths[item] = {
    ...readWriteOps(r, gvk, `${scope}${r.kind}`, `the specified ${r.kind}`),
    delete: operation(r, {
      verb: `delete${pascal}${scope}${r.kind}`,
      action: 'delete',
      description: `delete ${article(r.kind)} ${r.kind}`,
      gvk,
      parameters: DELETE_PARAMS,
      requestBody: bodyOf(`${META}.DeleteOptions`),
      responses: responses(['200', '202'], `${META}.Status`),
    }),
    parameters: itemParams,
  };
  for (const sub of r.subresources) {
    const ops = subresourceOps(r, sub, scope);
    if (ops) paths[`${item}/${sub.name}`] = { ...ops, parameters: subresourceParams(r, sub.name, nsParams) };
  }
  return paths;
}

function subresourceParams(r: OpenApiResource, sub: string, nsParams: object[]): object[] {
  const name = pathParam('name', `name of the ${sub === 'scale' ? 'Scale' : sub === 'binding' ? 'Binding' : sub === 'token' ? 'TokenRequest' : r.kind}`);
  // connect operations (exec) take no `pretty`, as upstream's
  return sub === 'exec' ? [name, ...nsParams] : [name, ...nsParams, PARAMS.pretty];
}

function subresourceOps(r: OpenApiResource, sub: OpenApiResource['subresources'][number], scope: string) {
  const gvk = { group: sub.group, version: sub.version, kind: sub.kind };
  const { pascal } = groupNames(r);
  const title = sub.name[0].toUpperCase() + sub.name.slice(1);
  switch (sub.name) {
    case 'status':
      return readWriteOps(r, gvk, `${scope}${r.kind}Status`, `status of the specified ${r.kind}`);
    case 'scale':
      return readWriteOps(r, gvk, `${scope}${r.kind}Scale`, `scale of the specified ${r.kind}`);
    case 'binding':
    case 'token':
      return {
        post: operation(r, {
          verb: `create${pascal}${scope}${r.kind}${title}`,
          action: 'post',
          description: `create ${sub.name} of ${article(r.kind)} ${r.kind}`,
          gvk,
          parameters: WRITE_PARAMS,
          requestBody: bodyOf(schemaNameOf(gvk)),
          responses: responses(['200', '201', '202'], schemaNameOf(gvk)),
        }),
      };
    case 'log':
      return {
        get: operation(r, {
          verb: `read${pascal}${scope}${r.kind}Log`,
          action: 'get',
          description: `read log of the specified ${r.kind}`,
          gvk,
          parameters: LOG_PARAMS,
          responses: stringResponse(['text/plain', 'application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']),
        }),
      };
    case 'exec':
    case 'attach':
    case 'portforward':
      return Object.fromEntries(
        ['get', 'post'].map((method) => [
          method,
          operation(r, {
            verb: `connect${pascal}${method === 'get' ? 'Get' : 'Post'}${scope}${r.kind}${title}`,
            action: 'connect',
            description: `connect ${method.toUpperCase()} requests to ${sub.name} of ${r.kind}`,
            gvk,
            parameters: sub.name === 'exec' ? EXEC_PARAMS : [],
            responses: stringResponse(['*/*']),
          }),
        ]),
      );
    default:
      return schemaNameOf(gvk) ? readWriteOps(r, gvk, `${scope}${r.kind}${title}`, `${sub.name} of the specified ${r.kind}`) : undefined;
  }
}

function stringResponse(types: string[]) {
  return { '200': { content: content(types, { type: 'string' }), description: 'OK' }, '401': { description: 'Unauthorized' } };
}

const LOG_PARAMS = [
  queryParam('container', 'string', 'The container for which to stream logs. Defaults to only container if there is one container in the pod.'),
  queryParam('follow', 'boolean', 'Follow the log stream of the pod. Defaults to false.'),
  queryParam('limitBytes', 'integer', 'If set, the number of bytes to read from the server before terminating the log output. This may not display a complete final line of logging, and may return slightly more or slightly less than the specified limit.'),
  queryParam('previous', 'boolean', 'Return previous terminated container logs. Defaults to false.'),
  queryParam('sinceSeconds', 'integer', 'A relative time in seconds before the current time from which to show logs. If this value precedes the time a pod was started, only logs since the pod start will be returned. If this value is in the future, no logs will be returned. Only one of sinceSeconds or sinceTime may be specified.'),
  queryParam('tailLines', 'integer', 'If set, the number of lines from the end of the logs to show. If not specified, logs are shown from the creation of the container or sinceSeconds or sinceTime'),
  queryParam('timestamps', 'boolean', 'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.'),
];

const EXEC_PARAMS = [
  queryParam('command', 'string', 'Command is the remote command to execute. argv array. Not executed within a shell.'),
  queryParam('container', 'string', 'Container in which to execute the command. Defaults to only container if there is only one container in the pod.'),
  queryParam('stderr', 'boolean', 'Redirect the standard error stream of the pod for this call.'),
  queryParam('stdin', 'boolean', 'Redirect the standard input stream of the pod for this call. Defaults to false.'),
  queryParam('stdout', 'boolean', 'Redirect the standard output stream of the pod for this call.'),
  queryParam('tty', 'boolean', 'TTY if true indicates that a tty will be allocated for the exec call. Defaults to false.'),
];

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? 'an' : 'a';
}
