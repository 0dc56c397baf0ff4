// GET /openapi/v2: the Swagger 2.0 document kubectl downloads for client-side
// validation (kinds whose v3 document offers no PATCH with fieldValidation,
// e.g. the create-only reviews), as JSON and as gnostic protobuf, with the
// ETag handling of upstream's handler.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { gunzipSync } from 'node:zlib';
import { parse as yamlParse } from 'yaml';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { convertSchema, swaggerDocument } from '../src/apiserver/openapi/v2.js';
import { openApiV2Root } from '../src/apiserver/openapi/v2-protobuf.js';
import { groupVersionDocument, type OpenApiResource } from '../src/apiserver/openapi/document.js';
import schemas from '../src/apiserver/openapi/schemas.json' with { type: 'json' };

type Json = Record<string, any>;

const PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const PROTOBUF_CURRENT = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
});
after(async () => {
  await api?.stop();
});

/** A GET as the admin, with the body's bytes (the protobuf form is binary). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, any>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(api.server.url + path, { method: 'GET', headers, ca: api.admin.ca, cert: api.admin.cert, key: api.admin.key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Schema as gnostic's message decodes, back into JSON (enough to compare with what was encoded). */
function schemaFromProto(s: Json): Json {
  const out: Json = {};
  const simple: Record<string, string> = {
    _ref: '$ref', format: 'format', title: 'title', description: 'description', pattern: 'pattern', required: 'required',
    discriminator: 'discriminator', read_only: 'readOnly', unique_items: 'uniqueItems', maximum: 'maximum', minimum: 'minimum',
    max_length: 'maxLength', min_length: 'minLength', max_items: 'maxItems', min_items: 'minItems',
  };
  for (const [proto, json] of Object.entries(simple)) if (s[proto] !== undefined) out[json] = typeof s[proto] === 'object' && 'low' in s[proto] ? Number(s[proto]) : s[proto];
  if (s.default) out.default = yamlParse(s.default.yaml);
  if (s.enum) out.enum = s.enum.map((a: Json) => yamlParse(a.yaml));
  if (s.type) out.type = s.type.value.length === 1 ? s.type.value[0] : s.type.value;
  if (s.items) out.items = schemaFromProto(s.items.schema[0]);
  if (s.all_of) out.allOf = s.all_of.map(schemaFromProto);
  if (s.properties) out.properties = Object.fromEntries(s.properties.additional_properties.map((p: Json) => [p.name, schemaFromProto(p.value)]));
  if (s.additional_properties) out.additionalProperties = s.additional_properties.schema ? schemaFromProto(s.additional_properties.schema) : s.additional_properties.boolean;
  for (const e of s.vendor_extension ?? []) out[e.name] = yamlParse(e.value.yaml);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A JSON schema as proto3 carries it: scalar keywords at their zero value ("", false, 0) are not on the wire, upstream's either. */
function withoutZeroScalars(s: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    // Zero scalars are not on the wire; a default or example is an Any, kept whatever its value.
    if ((v === '' || v === false || v === 0) && k !== 'default' && k !== 'example') continue;
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Json).map(([n, p]) => [n, withoutZeroScalars(p)]));
    else if (k === 'items' || (k === 'additionalProperties' && typeof v === 'object')) out[k] = withoutZeroScalars(v);
    else if (k === 'allOf') out[k] = (v as Json[]).map(withoutZeroScalars);
    else out[k] = v;
  }
  return out;
}

test('definitions are the v3 schemas in v2 form, as upstream publishes them', () => {
  const all = schemas as Record<string, Json>;
  // A reference with a description sits beside $ref (v3 wraps it in allOf).
  const service = convertSchema(all['io.k8s.api.core.v1.Service']!);
  assert.deepEqual(service.properties.spec, {
    $ref: '#/definitions/io.k8s.api.core.v1.ServiceSpec',
    description: all['io.k8s.api.core.v1.Service']!.properties.spec.description,
  });
  assert.deepEqual(service['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Service', version: 'v1' }]);
  // Extensions beside a wrapped reference stay.
  const strategy = convertSchema(all['io.k8s.api.apps.v1.DeploymentSpec']!).properties.strategy;
  assert.equal(strategy.$ref, '#/definitions/io.k8s.api.apps.v1.DeploymentStrategy');
  assert.equal(strategy['x-kubernetes-patch-strategy'], 'retainKeys');
  assert.equal(strategy.allOf, undefined);
  // Unions have no v2 form: upstream's v2 says these are strings.
  assert.deepEqual(convertSchema(all['io.k8s.apimachinery.pkg.util.intstr.IntOrString']!), {
    description: all['io.k8s.apimachinery.pkg.util.intstr.IntOrString']!.description,
    format: 'int-or-string',
    type: 'string',
  });
  assert.deepEqual(convertSchema(all['io.k8s.apimachinery.pkg.api.resource.Quantity']!), {
    description: all['io.k8s.apimachinery.pkg.api.resource.Quantity']!.description,
    type: 'string',
  });
  // Items refs lose the v3 wrapper; nullable goes with its type.
  assert.deepEqual(convertSchema({ type: 'array', items: { allOf: [{ $ref: '#/components/schemas/a.B' }], default: {} } }), {
    items: { $ref: '#/definitions/a.B' },
    type: 'array',
  });
  assert.deepEqual(convertSchema({ type: 'string', nullable: true, description: 'd' }), { description: 'd' });
});

const RESOURCES: OpenApiResource[] = [
  {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
    subresources: [],
  },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false, subresources: [], createOnly: true },
];

test('operations are upstream-shaped, with upstream-named shared parameters', () => {
  const doc = swaggerDocument([
    groupVersionDocument({ group: '', version: 'v1' }, RESOURCES.slice(0, 1)),
    groupVersionDocument({ group: 'authorization.k8s.io', version: 'v1' }, RESOURCES.slice(1)),
  ]);
  assert.equal(doc.swagger, '2.0');
  assert.deepEqual(doc.info, { title: 'Kubernetes', version: 'v1.32.0' });
  assert.deepEqual(Object.keys(doc).slice(0, 3), ['swagger', 'info', 'paths']);
  const collection = doc.paths['/api/v1/namespaces/{namespace}/configmaps'];
  // Names upstream's swagger.json uses for the same parameters (their hash is of the parameter's JSON).
  assert.deepEqual(collection.parameters, [{ $ref: '#/parameters/namespace-vgWSWtn3' }, { $ref: '#/parameters/pretty-tJGM1-ng' }]);
  assert.deepEqual(doc.parameters['pretty-tJGM1-ng'], {
    description: "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
    in: 'query',
    name: 'pretty',
    type: 'string',
    uniqueItems: true,
  });
  const create = collection.post;
  assert.equal(create.operationId, 'createCoreV1NamespacedConfigMap');
  assert.deepEqual(create.consumes, ['*/*']);
  assert.deepEqual(create.produces, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  assert.deepEqual(create.schemes, ['https']);
  assert.equal(create['x-kubernetes-action'], 'post');
  assert.deepEqual(create['x-kubernetes-group-version-kind'], { group: '', kind: 'ConfigMap', version: 'v1' });
  // body first (parameters sorted by name), the kind's own body inline, dryRun and fieldValidation never shared.
  assert.deepEqual(create.parameters[0], { in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.api.core.v1.ConfigMap' } });
  assert.deepEqual(create.parameters.slice(1).map((p: Json) => p.name ?? p.$ref), ['dryRun', '#/parameters/fieldManager-Qy4HdaTW', 'fieldValidation']);
  assert.deepEqual(create.responses['201'], { description: 'Created', schema: { $ref: '#/definitions/io.k8s.api.core.v1.ConfigMap' } });
  // All list parameters are shared; where the v3 description is upstream's word for word, so is the name.
  const list = collection.get.parameters.map((p: Json) => p.$ref as string);
  assert.deepEqual(
    list.map((r: string) => /^#\/parameters\/([A-Za-z]+)-[\w-]{8}$/.exec(r)?.[1]),
    ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'],
  );
  for (const upstream of ['allowWatchBookmarks-HC2hJt-J', 'fieldSelector-xIcQKXFG', 'labelSelector-5Zw57w4C', 'resourceVersion-5WAnf1kx', 'resourceVersionMatch-t8XhRHeC', 'timeoutSeconds-yvYezaOC', 'watch-XNNPZGbK']) {
    assert.ok(list.includes(`#/parameters/${upstream}`), upstream);
  }
  const patch = doc.paths['/api/v1/namespaces/{namespace}/configmaps/{name}'].patch;
  assert.equal(patch.parameters[0].$ref, '#/parameters/body-78PwaGsr');
  assert.ok(patch.parameters.some((p: Json) => p.$ref === '#/parameters/force-tOGGb0Yi'));
  // The review: POST only, its definition reachable.
  const ssar = doc.paths['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'];
  assert.deepEqual(Object.keys(ssar).sort(), ['parameters', 'post']);
  assert.equal(ssar.post.operationId, 'createAuthorizationV1SelfSubjectAccessReview');
  assert.ok(doc.definitions['io.k8s.api.authorization.v1.ResourceAttributes']);
  // No v3 leftovers anywhere.
  const text = JSON.stringify(doc);
  assert.doesNotMatch(text, /#\/components\/|"oneOf"|"nullable"|"requestBody"|"content"/);
});

test('GET /openapi/v2 serves JSON with an ETag, and 304 for it', async () => {
  const res = await get('/openapi/v2', { Accept: 'application/json' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.headers.vary, 'Accept');
  assert.match(res.headers.etag, /^"[0-9A-F]{128}"$/);
  const doc = JSON.parse(res.body.toString());
  assert.equal(doc.swagger, '2.0');
  assert.ok(doc.paths['/api/v1/namespaces/{namespace}/pods']);
  assert.ok(doc.paths['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews']);
  assert.ok(doc.definitions['io.k8s.api.core.v1.Pod']);

  const again = await get('/openapi/v2', { Accept: 'application/json', 'If-None-Match': res.headers.etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.etag, res.headers.etag);
  const stale = await get('/openapi/v2', { Accept: 'application/json', 'If-None-Match': '"0"' });
  assert.equal(stale.status, 200);

  const gzipped = await get('/openapi/v2', { Accept: 'application/json', 'Accept-Encoding': 'gzip' });
  assert.equal(gzipped.headers['content-encoding'], 'gzip');
  assert.deepEqual(gunzipSync(gzipped.body), res.body);

  assert.equal((await get('/openapi/v2', { Accept: 'text/html' })).status, 406);
  // No Accept is */*: JSON first, as upstream.
  assert.equal((await get('/openapi/v2')).headers['content-type'], 'application/json');
});

test('GET /openapi/v2 as protobuf decodes as gnostic openapi.v2.Document', async () => {
  const json = JSON.parse((await get('/openapi/v2', { Accept: 'application/json' })).body.toString());
  const res = await get('/openapi/v2', { Accept: PROTOBUF });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], PROTOBUF_CURRENT);
  const etag = res.headers.etag;
  assert.equal((await get('/openapi/v2', { Accept: PROTOBUF_CURRENT, 'If-None-Match': etag })).status, 304);

  const Document = openApiV2Root().lookupType('openapi.v2.Document');
  const decoded = Document.toObject(Document.decode(res.body), { defaults: false, arrays: false }) as Json;
  assert.equal(decoded.swagger, '2.0');
  assert.deepEqual(decoded.info, { title: 'Kubernetes', version: 'v1.32.0' });
  // Every definition comes back as it was written.
  const definitions = decoded.definitions.additional_properties as Json[];
  assert.deepEqual(definitions.map((d) => d.name), Object.keys(json.definitions));
  for (const d of definitions) assert.deepEqual(schemaFromProto(d.value), withoutZeroScalars(json.definitions[d.name]), d.name);
  // Paths, operations, parameters (references, query, path and body ones).
  const paths = decoded.paths.path as Json[];
  assert.deepEqual(paths.map((p) => p.name), Object.keys(json.paths));
  const item = paths.find((p) => p.name === '/api/v1/namespaces/{namespace}/pods/{name}')!.value;
  assert.equal(item.parameters[0].parameter.non_body_parameter.path_parameter_sub_schema.name, 'name');
  assert.equal(item.parameters[2].json_reference._ref, '#/parameters/pretty-tJGM1-ng');
  assert.equal(item.get.operation_id, 'readCoreV1NamespacedPod');
  assert.deepEqual(yamlParse(item.get.vendor_extension.find((e: Json) => e.name === 'x-kubernetes-group-version-kind').value.yaml), { group: '', kind: 'Pod', version: 'v1' });
  assert.equal(item.put.parameters[0].parameter.body_parameter.schema._ref, '#/definitions/io.k8s.api.core.v1.Pod');
  const ok = item.get.responses.response_code.find((r: Json) => r.name === '200').value.response;
  assert.equal(ok.schema.schema._ref, '#/definitions/io.k8s.api.core.v1.Pod');
  const shared = decoded.parameters.additional_properties.find((p: Json) => p.name === 'pretty-tJGM1-ng').value;
  assert.equal(shared.non_body_parameter.query_parameter_sub_schema.unique_items, true);
  assert.equal(decoded.security_definitions.additional_properties[0].value.api_key_security.name, 'authorization');
});

const SSAR = `apiVersion: authorization.k8s.io/v1
kind: SelfSubjectAccessReview
spec:
  resourceAttributes:
    namespace: default
    verb: get
    resource: pods
`;

test('kubectl create -f of a review validates it against /openapi/v2', async () => {
  const out = await api.kubectl.ok(['create', '-f', '-', '-o', 'yaml'], { input: SSAR });
  const review = yamlParse(out);
  assert.equal(review.kind, 'SelfSubjectAccessReview');
  assert.equal(review.status.allowed, true);

  const misspelled = await api.kubectl(['create', '-f', '-', '-o', 'yaml'], { input: SSAR.replace('verb: get', 'verbz: get') });
  assert.notEqual(misspelled.code, 0);
  // kubectl's v2 (client-side) validator's wording; the server's own would be a strict decoding error.
  assert.match(
    misspelled.stderr,
    /error validating data: ValidationError\(SelfSubjectAccessReview\.spec\.resourceAttributes\): unknown field "verbz" in io\.k8s\.api\.authorization\.v1\.ResourceAttributes/,
  );
  assert.doesNotMatch(misspelled.stderr, /failed to download openapi/);
});

test('kubectl get --raw /openapi/v2 and explain (v3) both work', async () => {
  const raw = JSON.parse(await api.kubectl.ok(['get', '--raw', '/openapi/v2']));
  assert.equal(raw.swagger, '2.0');
  assert.deepEqual(raw.info, { title: 'Kubernetes', version: 'v1.32.0' });
  const explain = await api.kubectl.ok(['explain', 'selfsubjectaccessreviews.spec.resourceAttributes']);
  assert.match(explain, /FIELD: resourceAttributes <ResourceAttributes>/);
});
