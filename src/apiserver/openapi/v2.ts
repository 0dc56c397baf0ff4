// OpenAPI v2 (Swagger 2.0) as kube-apiserver publishes it at /openapi/v2:
// one document for every served kind, as JSON or as the gnostic protobuf
// encoding client-go's DiscoveryClient.OpenAPISchema asks for. kubectl reads
// it for client-side validation, which it falls back to for kinds whose v3
// document shows no PATCH with fieldValidation (the create-only reviews).
//
// The document is derived from the v3 group-version documents the server
// serves (document.ts, with whatever schemas the server adds to them), so
// every kind listed there is here too: paths and operations are
// rewritten into v2's shape (body parameters, consumes/produces, schemes) and
// the component schemas become definitions without v3-only constructs.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { SCHEMA_PREFIX, type Schema } from './schemas.js';
import { encodeSwagger } from './v2-protobuf.js';

type Json = Record<string, any>;

interface GroupVersion {
  group: string;
  version: string;
}

const DEFINITIONS_PREFIX = '#/definitions/';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

// ---------------------------------------------------------------------------
// The document

/** A group-version's OpenAPI v3 document, as served at /openapi/v3/…. */
export type V3DocumentOf = (gv: GroupVersion) => object;

/** The Swagger 2.0 document of the given group-versions' v3 documents. */
export function swaggerDocument(v3Documents: object[]): Json {
  const paths: Record<string, Json> = {};
  const definitions: Record<string, Json> = {};
  for (const v3 of v3Documents as Json[]) {
    for (const [path, item] of Object.entries(v3.paths as Record<string, Json>)) paths[path] = pathItem(item);
    for (const [name, schema] of Object.entries(v3.components.schemas as Record<string, Schema>)) definitions[name] ??= convertSchema(schema);
  }
  const parameters = shareParameters(paths);
  // Field order as upstream's encoder writes the document's top level; everything below is sorted by key.
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths: sortKeys(paths),
    definitions: sortKeys(definitions),
    parameters: sortKeys(parameters),
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
    security: [{ BearerToken: [] }],
  };
}

function pathItem(item: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(item)) {
    if (key === 'parameters') out.parameters = sortParameters((value as Json[]).map(nonBodyParameter));
    else if (METHODS.includes(key)) out[key] = operation(value as Json);
    else out[key] = value;
  }
  return sortKeys(out);
}

/**
 * A v3 operation in v2's shape: the request body becomes the `body`
 * parameter and its media types `consumes` ("*\/*" when there is none, as
 * upstream declares even for reads), the responses' media types `produces`.
 */
function operation(op: Json): Json {
  const out: Json = { ...op };
  delete out.requestBody;
  const parameters = ((op.parameters as Json[] | undefined) ?? []).map(nonBodyParameter);
  const body = op.requestBody as Json | undefined;
  let consumes = ['*/*'];
  if (body) {
    const content = Object.entries(body.content as Record<string, Json>);
    consumes = content.map(([type]) => type);
    const param: Json = { in: 'body', name: 'body', schema: convertSchema(content[0]![1].schema) };
    if (body.required) param.required = true;
    parameters.push(param);
  }
  if (parameters.length) out.parameters = sortParameters(parameters);
  else delete out.parameters;
  const produces: string[] = [];
  const responses: Json = {};
  for (const [code, response] of Object.entries(op.responses as Record<string, Json>)) {
    const r: Json = { description: response.description };
    const content = Object.entries((response.content ?? {}) as Record<string, Json>);
    for (const [type] of content) if (!produces.includes(type)) produces.push(type);
    if (content.length) r.schema = convertSchema(content[0]![1].schema);
    responses[code] = r;
  }
  out.consumes = consumes;
  if (produces.length) out.produces = produces;
  out.responses = responses;
  out.schemes = ['https'];
  return sortKeys(out);
}

/** A v3 query/path parameter: v2 has its type and validations on the parameter itself. */
function nonBodyParameter(p: Json): Json {
  const { schema, ...rest } = p;
  return sortKeys({ ...rest, ...(schema as Json | undefined) });
}

/** Upstream's builder sorts parameters by name, then by location. */
function sortParameters(params: Json[]): Json[] {
  const key = (p: Json) => `${p.name ?? ''}\u0000${p.in ?? ''}`;
  return [...params].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

// ---------------------------------------------------------------------------
// Schemas: v3 component schemas as v2 definitions

const V2_SCHEMA_KEYS = new Set([
  '$ref', 'format', 'title', 'description', 'default', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required', 'enum',
  'additionalProperties', 'type', 'items', 'allOf', 'properties', 'discriminator', 'readOnly', 'xml', 'externalDocs', 'example',
]);
const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean']);

/**
 * One v3 schema in v2's vocabulary:
 * - references point into #/definitions/, and a reference v3 wraps in
 *   `allOf` to carry a description sits beside `$ref` again, as upstream's v2
 *   writes it (without the default v3 adds there);
 * - `oneOf`/`anyOf` have no v2 form: a union of scalars that includes
 *   strings (IntOrString, Quantity) is published as `type: string`, as those
 *   types declare themselves for v2 upstream; other unions are dropped,
 *   leaving the value unconstrained;
 * - `nullable` is dropped together with the type, as kube-apiserver does
 *   when it publishes custom resource schemas in v2, so null stays valid;
 * - other keywords v2 does not know (not, writeOnly, deprecated) are dropped;
 *   `x-` extensions are kept.
 */
export function convertSchema(schema: Schema): Json {
  if (!schema || typeof schema !== 'object') return schema;
  const wrapped = schema.allOf as Schema[] | undefined;
  if (wrapped?.length === 1 && typeof wrapped[0]?.$ref === 'string' && !schema.$ref) {
    const { allOf: _allOf, default: _default, ...rest } = schema;
    return convertSchema({ ...rest, $ref: wrapped[0].$ref });
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-')) out[key] = value;
    else if (!V2_SCHEMA_KEYS.has(key)) continue;
    else if (key === '$ref') out.$ref = typeof value === 'string' && value.startsWith(SCHEMA_PREFIX) ? DEFINITIONS_PREFIX + value.slice(SCHEMA_PREFIX.length) : value;
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, convertSchema(v)]));
    else if (key === 'items') out.items = Array.isArray(value) ? value.map(convertSchema) : convertSchema(value as Schema);
    else if (key === 'allOf') out.allOf = (value as Schema[]).map(convertSchema);
    else if (key === 'additionalProperties') out.additionalProperties = typeof value === 'boolean' ? value : convertSchema(value as Schema);
    else out[key] = value;
  }
  const union = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (union && out.type === undefined) {
    const types = union.map((s) => s.type);
    if (types.every((t) => PRIMITIVES.has(t)) && types.includes('string')) out.type = 'string';
  }
  if (schema.nullable === true) delete out.type;
  return sortKeys(out);
}

// ---------------------------------------------------------------------------
// Shared parameters

/**
 * Upstream's builder moves the parameters operations have in common into the
 * document's `parameters`, named `<name>-<hash>` (the first 6 bytes of the
 * FNV-1 64 hash of the parameter's JSON, base64url), and refers to them. Not
 * shared: `name` (its description names the kind), dryRun and
 * fieldValidation (older kubectls look for them inline to detect support)
 * and body parameters of the kind's own schema.
 */
function shareParameters(paths: Record<string, Json>): Record<string, Json> {
  const shareable = (p: Json) =>
    !p.$ref &&
    !((p.in === 'query' || p.in === 'path') && p.name === 'name') &&
    !(p.in === 'query' && (p.name === 'fieldValidation' || p.name === 'dryRun')) &&
    !(p.in === 'body' && p.name === 'body' && !String(p.schema?.$ref ?? '').startsWith(`${DEFINITIONS_PREFIX}io.k8s.apimachinery`));
  const lists: Json[][] = [];
  for (const item of Object.values(paths)) {
    for (const method of METHODS) if (item[method]?.parameters) lists.push(item[method].parameters);
    if (item.parameters) lists.push(item.parameters);
  }
  const byJson = new Map<string, Json>();
  for (const list of lists) for (const p of list) if (shareable(p)) byJson.set(goParameterJson(p), p);
  const names = new Map<string, string>();
  const shared: Record<string, Json> = {};
  for (const key of [...byJson.keys()].sort()) {
    const p = byJson.get(key)!;
    let name = `${p.name || 'param'}-${fnvHash(key)}`;
    for (let i = 1; shared[name]; i++) name = `${p.name}-${i}`;
    shared[name] = p;
    names.set(key, name);
  }
  for (const list of lists) {
    list.forEach((p, i) => {
      const name = shareable(p) ? names.get(goParameterJson(p)) : undefined;
      if (name) list[i] = { $ref: `#/parameters/${name}` };
    });
  }
  return shared;
}

/** Go's field order for a parameter (validations, simple schema, then its own properties). */
const GO_PARAMETER_ORDER = [
  'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems',
  'uniqueItems', 'multipleOf', 'enum', 'type', 'nullable', 'format', 'items', 'collectionFormat', 'default', 'example',
  'description', 'name', 'in', 'required', 'schema', 'allowEmptyValue', '$ref',
];

/** The bytes upstream hashes: Go's encoding/json output, which escapes <, > and & (and U+2028/9). */
function goParameterJson(p: Json): string {
  const ordered: Json = {};
  for (const key of GO_PARAMETER_ORDER) if (p[key] !== undefined) ordered[key] = key === 'schema' ? goSchemaOrder(p[key]) : p[key];
  for (const key of Object.keys(p).filter((k) => k.startsWith('x-')).sort()) ordered[key] = p[key];
  return JSON.stringify(ordered).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A body parameter's schema is a reference: `$ref` first, anything else after it. */
function goSchemaOrder(s: Json): Json {
  const { $ref, ...rest } = s;
  return $ref === undefined ? rest : { $ref, ...rest };
}

function fnvHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) h = ((h * 0x100000001b3n) & 0xffffffffffffffffn) ^ BigInt(byte);
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(h);
  return bytes.subarray(0, 6).toString('base64url');
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ---------------------------------------------------------------------------
// Serving

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const OPENAPI_V2_PROTOBUF_DEPRECATED = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

interface Representation {
  body: Buffer;
  gzip?: Buffer;
}

interface Served {
  key: string;
  etag: string;
  lastModified: Date;
  json: Representation;
  proto?: Representation;
}

let served: Served | undefined;

/**
 * The document's bytes, built again only when the v3 documents change; the
 * ETag is the hex SHA-512 of the JSON, as upstream's.
 */
function current(groupVersions: GroupVersion[], documentOf: V3DocumentOf): Served {
  const docs = groupVersions.map(documentOf);
  const key = createHash('sha256').update(JSON.stringify(docs)).digest('hex');
  if (served?.key !== key) {
    const body = Buffer.from(JSON.stringify(swaggerDocument(docs)));
    const etag = createHash('sha512').update(body).digest('hex').toUpperCase();
    // A rebuilt but identical document keeps its Last-Modified.
    const lastModified = served?.etag === etag ? served.lastModified : new Date(Math.floor(Date.now() / 1000) * 1000);
    served = { key, etag, lastModified, json: { body } };
  }
  return served;
}

/** Accept's media ranges by preference: quality, then specific over wildcard (goautoneg's order). */
function mediaRanges(accept: string | undefined): { type: string; subtype: string }[] {
  const ranges = (accept || '*/*').split(',').flatMap((part, index) => {
    const [range, ...params] = part.split(';').map((s) => s.trim());
    if (!range) return [];
    const [type, subtype] = range === '*' ? ['*', '*'] : range.split('/');
    if (!type || !subtype) return [];
    const q = params.map((p) => /^q=([\d.]+)$/i.exec(p)).find(Boolean);
    return [{ type: type.toLowerCase(), subtype: subtype.toLowerCase(), q: q ? Number(q[1]) : 1, index }];
  });
  const specificity = (r: { type: string; subtype: string }) => (r.type === '*' ? 0 : r.subtype === '*' ? 1 : 2);
  return ranges.sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.index - b.index);
}

/** Whether If-None-Match names the current entity tag (weak comparison, "*" matching any). */
function noneMatchHit(header: string, etag: string): boolean {
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === `"${etag}"`;
  });
}

/**
 * GET /openapi/v2 as upstream's handler answers it: the first acceptable of
 * JSON and protobuf (the deprecated `@v1.0` protobuf name is answered with
 * the current one), 406 when neither is; ETag and Last-Modified with the
 * conditional requests net/http's ServeContent honours (304 for a matching
 * If-None-Match, or an If-Modified-Since not older than the document when
 * there is none); gzip when the client takes it; Vary: Accept.
 */
export function serveOpenApiV2(req: IncomingMessage, res: ServerResponse, groupVersions: GroupVersion[], documentOf: V3DocumentOf): void {
  res.setHeader('Vary', 'Accept');
  const choice = mediaRanges(req.headers.accept)
    .map((r) => {
      const matches = (type: string) => (r.type === '*' || r.type === 'application') && (r.subtype === '*' || r.subtype === type);
      if (matches('json')) return 'json';
      if (matches(OPENAPI_V2_PROTOBUF.slice('application/'.length)) || matches(OPENAPI_V2_PROTOBUF_DEPRECATED.slice('application/'.length))) return 'proto';
      return undefined;
    })
    .find(Boolean);
  if (!choice) {
    res.writeHead(406);
    res.end();
    return;
  }
  const doc = current(groupVersions, documentOf);
  if (choice === 'proto') doc.proto ??= { body: encodeSwagger(JSON.parse(doc.json.body.toString())) };
  const rep = choice === 'proto' ? doc.proto! : doc.json;
  const readOnly = req.method === 'GET' || req.method === 'HEAD';
  res.setHeader('Etag', `"${doc.etag}"`);
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined ? noneMatchHit(ifNoneMatch, doc.etag) : readOnly && notModifiedSince(req.headers['if-modified-since'], doc.lastModified)) {
    res.writeHead(readOnly ? 304 : 412);
    res.end();
    return;
  }
  res.setHeader('Last-Modified', doc.lastModified.toUTCString());
  res.setHeader('Content-Type', choice === 'proto' ? OPENAPI_V2_PROTOBUF : 'application/json');
  let body = rep.body;
  if (/\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''))) {
    rep.gzip ??= gzipSync(rep.body);
    body = rep.gzip;
    res.setHeader('Content-Encoding', 'gzip');
  }
  res.setHeader('Content-Length', body.length);
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function notModifiedSince(header: string | undefined, lastModified: Date): boolean {
  if (!header) return false;
  const since = Date.parse(header);
  return !Number.isNaN(since) && lastModified.getTime() <= since;
}
