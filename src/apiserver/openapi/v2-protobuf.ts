// The protobuf encoding of the OpenAPI v2 document: gnostic's openapi.v2
// messages (github.com/google/gnostic-models, OpenAPIv2.proto), which is what
// kube-apiserver serves as application/com.github.proto-openapi.spec.v2…
// +protobuf and client-go's DiscoveryClient.OpenAPISchema unmarshals.
// Upstream gets there by parsing its JSON with gnostic's compiler; this walks
// the same JSON into the same messages:
// - every JSON object that is a map (paths, definitions, properties,
//   responses, …) becomes a repeated Named* pair list, in the JSON's order;
// - `x-` keys become vendor_extension pairs, and free-form values (default,
//   enum, example, extension values) an Any holding the value as YAML text,
//   which is how kubectl reads them back;
// - a parameter is a JSON reference, a body parameter, or one of the
//   header/formData/query/path sub-schemas chosen by its `in`.
// Only the messages and fields a Kubernetes document uses are declared; the
// field numbers are gnostic's.
import { createRequire } from 'node:module';
import type { Root, Type } from 'protobufjs';
import { stringify as yamlStringify } from 'yaml';

type Json = Record<string, any>;

const PROTO = `
syntax = "proto3";
package openapi.v2;

message Any { google.protobuf.Any value = 1; string yaml = 2; }
message NamedAny { string name = 1; Any value = 2; }

message Document {
  string swagger = 1; Info info = 2; string host = 3; string base_path = 4; repeated string schemes = 5;
  repeated string consumes = 6; repeated string produces = 7; Paths paths = 8; Definitions definitions = 9;
  ParameterDefinitions parameters = 10; ResponseDefinitions responses = 11; repeated SecurityRequirement security = 12;
  SecurityDefinitions security_definitions = 13; repeated Tag tags = 14; ExternalDocs external_docs = 15;
  repeated NamedAny vendor_extension = 16;
}
message Info {
  string title = 1; string version = 2; string description = 3; string terms_of_service = 4; Contact contact = 5;
  License license = 6; repeated NamedAny vendor_extension = 7;
}
message Contact { string name = 1; string url = 2; string email = 3; repeated NamedAny vendor_extension = 4; }
message License { string name = 1; string url = 2; repeated NamedAny vendor_extension = 3; }
message ExternalDocs { string description = 1; string url = 2; repeated NamedAny vendor_extension = 3; }
message Tag { string name = 1; string description = 2; ExternalDocs external_docs = 3; repeated NamedAny vendor_extension = 4; }

message Paths { repeated NamedAny vendor_extension = 1; repeated NamedPathItem path = 2; }
message NamedPathItem { string name = 1; PathItem value = 2; }
message PathItem {
  string _ref = 1; Operation get = 2; Operation put = 3; Operation post = 4; Operation delete = 5; Operation options = 6;
  Operation head = 7; Operation patch = 8; repeated ParametersItem parameters = 9; repeated NamedAny vendor_extension = 10;
}
message Operation {
  repeated string tags = 1; string summary = 2; string description = 3; ExternalDocs external_docs = 4; string operation_id = 5;
  repeated string produces = 6; repeated string consumes = 7; repeated ParametersItem parameters = 8; Responses responses = 9;
  repeated string schemes = 10; bool deprecated = 11; repeated SecurityRequirement security = 12;
  repeated NamedAny vendor_extension = 13;
}

message ParametersItem { oneof oneof { Parameter parameter = 1; JsonReference json_reference = 2; } }
message JsonReference { string _ref = 1; string description = 2; }
message Parameter { oneof oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } }
message BodyParameter {
  string description = 1; string name = 2; string in = 3; bool required = 4; Schema schema = 5; repeated NamedAny vendor_extension = 6;
}
message NonBodyParameter {
  oneof oneof {
    HeaderParameterSubSchema header_parameter_sub_schema = 1; FormDataParameterSubSchema form_data_parameter_sub_schema = 2;
    QueryParameterSubSchema query_parameter_sub_schema = 3; PathParameterSubSchema path_parameter_sub_schema = 4;
  }
}
message HeaderParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; string format = 6;
  PrimitivesItems items = 7; string collection_format = 8; Any default = 9; double maximum = 10; bool exclusive_maximum = 11;
  double minimum = 12; bool exclusive_minimum = 13; int64 max_length = 14; int64 min_length = 15; string pattern = 16;
  int64 max_items = 17; int64 min_items = 18; bool unique_items = 19; repeated Any enum = 20; double multiple_of = 21;
  repeated NamedAny vendor_extension = 22;
}
message PathParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; string format = 6;
  PrimitivesItems items = 7; string collection_format = 8; Any default = 9; double maximum = 10; bool exclusive_maximum = 11;
  double minimum = 12; bool exclusive_minimum = 13; int64 max_length = 14; int64 min_length = 15; string pattern = 16;
  int64 max_items = 17; int64 min_items = 18; bool unique_items = 19; repeated Any enum = 20; double multiple_of = 21;
  repeated NamedAny vendor_extension = 22;
}
message QueryParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; bool allow_empty_value = 5; string type = 6;
  string format = 7; PrimitivesItems items = 8; string collection_format = 9; Any default = 10; double maximum = 11;
  bool exclusive_maximum = 12; double minimum = 13; bool exclusive_minimum = 14; int64 max_length = 15; int64 min_length = 16;
  string pattern = 17; int64 max_items = 18; int64 min_items = 19; bool unique_items = 20; repeated Any enum = 21;
  double multiple_of = 22; repeated NamedAny vendor_extension = 23;
}
message FormDataParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; bool allow_empty_value = 5; string type = 6;
  string format = 7; PrimitivesItems items = 8; string collection_format = 9; Any default = 10; double maximum = 11;
  bool exclusive_maximum = 12; double minimum = 13; bool exclusive_minimum = 14; int64 max_length = 15; int64 min_length = 16;
  string pattern = 17; int64 max_items = 18; int64 min_items = 19; bool unique_items = 20; repeated Any enum = 21;
  double multiple_of = 22; repeated NamedAny vendor_extension = 23;
}
message PrimitivesItems {
  string type = 1; string format = 2; PrimitivesItems items = 3; string collection_format = 4; Any default = 5;
  double maximum = 6; bool exclusive_maximum = 7; double minimum = 8; bool exclusive_minimum = 9; int64 max_length = 10;
  int64 min_length = 11; string pattern = 12; int64 max_items = 13; int64 min_items = 14; bool unique_items = 15;
  repeated Any enum = 16; double multiple_of = 17; repeated NamedAny vendor_extension = 18;
}
message ParameterDefinitions { repeated NamedParameter additional_properties = 1; }
message NamedParameter { string name = 1; Parameter value = 2; }

message Responses { repeated NamedResponseValue response_code = 1; repeated NamedAny vendor_extension = 2; }
message NamedResponseValue { string name = 1; ResponseValue value = 2; }
message ResponseValue { oneof oneof { Response response = 1; JsonReference json_reference = 2; } }
message Response {
  string description = 1; SchemaItem schema = 2; Headers headers = 3; Examples examples = 4; repeated NamedAny vendor_extension = 5;
}
message SchemaItem { oneof oneof { Schema schema = 1; FileSchema file_schema = 2; } }
message FileSchema {
  string format = 1; string title = 2; string description = 3; Any default = 4; repeated string required = 5; string type = 6;
  bool read_only = 7; ExternalDocs external_docs = 8; Any example = 9; repeated NamedAny vendor_extension = 10;
}
message Headers { repeated NamedHeader additional_properties = 1; }
message NamedHeader { string name = 1; Header value = 2; }
message Header {
  string type = 1; string format = 2; PrimitivesItems items = 3; string collection_format = 4; Any default = 5;
  double maximum = 6; bool exclusive_maximum = 7; double minimum = 8; bool exclusive_minimum = 9; int64 max_length = 10;
  int64 min_length = 11; string pattern = 12; int64 max_items = 13; int64 min_items = 14; bool unique_items = 15;
  repeated Any enum = 16; double multiple_of = 17; string description = 18; repeated NamedAny vendor_extension = 19;
}
message Examples { repeated NamedAny additional_properties = 1; }
message ResponseDefinitions { repeated NamedResponse additional_properties = 1; }
message NamedResponse { string name = 1; Response value = 2; }

message Definitions { repeated NamedSchema additional_properties = 1; }
message NamedSchema { string name = 1; Schema value = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message Schema {
  string _ref = 1; string format = 2; string title = 3; string description = 4; Any default = 5; double multiple_of = 6;
  double maximum = 7; bool exclusive_maximum = 8; double minimum = 9; bool exclusive_minimum = 10; int64 max_length = 11;
  int64 min_length = 12; string pattern = 13; int64 max_items = 14; int64 min_items = 15; bool unique_items = 16;
  int64 max_properties = 17; int64 min_properties = 18; repeated string required = 19; repeated Any enum = 20;
  AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22; ItemsItem items = 23; repeated Schema all_of = 24;
  Properties properties = 25; string discriminator = 26; bool read_only = 27; Xml xml = 28; ExternalDocs external_docs = 29;
  Any example = 30; repeated NamedAny vendor_extension = 31;
}
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message TypeItem { repeated string value = 1; }
message ItemsItem { repeated Schema schema = 1; }
message Xml {
  string name = 1; string namespace = 2; string prefix = 3; bool attribute = 4; bool wrapped = 5; repeated NamedAny vendor_extension = 6;
}

message SecurityDefinitions { repeated NamedSecurityDefinitionsItem additional_properties = 1; }
message NamedSecurityDefinitionsItem { string name = 1; SecurityDefinitionsItem value = 2; }
message SecurityDefinitionsItem {
  oneof oneof { BasicAuthenticationSecurity basic_authentication_security = 1; ApiKeySecurity api_key_security = 2; }
}
message BasicAuthenticationSecurity { string type = 1; string description = 2; repeated NamedAny vendor_extension = 3; }
message ApiKeySecurity { string type = 1; string name = 2; string in = 3; string description = 4; repeated NamedAny vendor_extension = 5; }
message SecurityRequirement { repeated NamedStringArray additional_properties = 1; }
message NamedStringArray { string name = 1; StringArray value = 2; }
message StringArray { repeated string value = 1; }
`;

const GOOGLE_ANY = `
syntax = "proto3";
package google.protobuf;
message Any { string type_url = 1; bytes value = 2; }
`;

let cachedRoot: Root | undefined;

/** The openapi.v2 messages (exported for tests that decode what is served). */
export function openApiV2Root(): Root {
  if (!cachedRoot) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof import('protobufjs');
    const root = new protobuf.Root();
    protobuf.parse(GOOGLE_ANY, root, { keepCase: true });
    protobuf.parse(PROTO, root, { keepCase: true });
    root.resolveAll();
    cachedRoot = root;
  }
  return cachedRoot;
}

/** The serialized openapi.v2.Document of a Swagger 2.0 document. */
export function encodeSwagger(doc: Json): Buffer {
  const type: Type = openApiV2Root().lookupType('openapi.v2.Document');
  return Buffer.from(type.encode(document(doc)).finish());
}

// ---------------------------------------------------------------------------
// JSON → message objects (field names as in the .proto)

/** A free-form value, carried as YAML text as gnostic's compiler writes it. */
function any(value: unknown): Json {
  return { yaml: yamlStringify(value, { lineWidth: 0 }) };
}

function extensions(o: Json): Json[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, value]) => ({ name, value: any(value) }));
}

function named<T>(o: Json | undefined, value: (v: any) => T): { name: string; value: T }[] {
  return Object.entries(o ?? {}).map(([name, v]) => ({ name, value: value(v) }));
}

/** Copies the listed JSON fields (camelCase) to their proto names (snake_case), converting free-form ones to Any. */
function fields(o: Json, names: string[]): Json {
  const out: Json = {};
  for (const name of names) {
    const v = o[name];
    if (v === undefined) continue;
    const proto = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (name === 'default' || name === 'example') out[proto] = any(v);
    else if (name === 'enum') out.enum = (v as unknown[]).map(any);
    else out[proto] = v;
  }
  return out;
}

const VALIDATIONS = [
  'default', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern',
  'maxItems', 'minItems', 'uniqueItems', 'enum', 'multipleOf',
];

function document(d: Json): Json {
  return {
    ...fields(d, ['swagger', 'host', 'basePath', 'schemes', 'consumes', 'produces']),
    info: d.info && { ...fields(d.info, ['title', 'version', 'description', 'termsOfService']), vendor_extension: extensions(d.info) },
    paths: d.paths && { vendor_extension: extensions(d.paths), path: named(omitExtensions(d.paths), pathItem) },
    definitions: d.definitions && { additional_properties: named(d.definitions, schema) },
    parameters: d.parameters && { additional_properties: named(d.parameters, parameter) },
    responses: d.responses && { additional_properties: named(d.responses, response) },
    security: d.security?.map(securityRequirement),
    security_definitions: d.securityDefinitions && { additional_properties: named(d.securityDefinitions, securityDefinition) },
    tags: d.tags?.map((t: Json) => ({ ...fields(t, ['name', 'description']), vendor_extension: extensions(t) })),
    vendor_extension: extensions(d),
  };
}

function omitExtensions(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('x-')));
}

function pathItem(p: Json): Json {
  const out: Json = { vendor_extension: extensions(p) };
  if (p.$ref) out._ref = p.$ref;
  for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch']) if (p[method]) out[method] = operation(p[method]);
  if (p.parameters) out.parameters = p.parameters.map(parametersItem);
  return out;
}

function operation(op: Json): Json {
  return {
    ...fields(op, ['tags', 'summary', 'description', 'operationId', 'produces', 'consumes', 'schemes', 'deprecated']),
    parameters: (op.parameters ?? []).map(parametersItem),
    responses: op.responses && {
      response_code: named(omitExtensions(op.responses), (r: Json) => (r.$ref ? { json_reference: { _ref: r.$ref } } : { response: response(r) })),
      vendor_extension: extensions(op.responses),
    },
    security: op.security?.map(securityRequirement),
    vendor_extension: extensions(op),
  };
}

function parametersItem(p: Json): Json {
  return p.$ref ? { json_reference: { _ref: p.$ref, ...fields(p, ['description']) } } : { parameter: parameter(p) };
}

const SUB_SCHEMAS: Record<string, string> = {
  header: 'header_parameter_sub_schema',
  formData: 'form_data_parameter_sub_schema',
  query: 'query_parameter_sub_schema',
  path: 'path_parameter_sub_schema',
};

function parameter(p: Json): Json {
  if (p.in === 'body') {
    return { body_parameter: { ...fields(p, ['description', 'name', 'in', 'required']), schema: p.schema && schema(p.schema), vendor_extension: extensions(p) } };
  }
  const sub = {
    ...fields(p, ['required', 'in', 'description', 'name', 'allowEmptyValue', 'type', 'format', 'collectionFormat', ...VALIDATIONS]),
    items: p.items && primitivesItems(p.items),
    vendor_extension: extensions(p),
  };
  // An `in` gnostic has no sub-schema for fails its parse upstream; here it is sent as a query parameter.
  return { non_body_parameter: { [SUB_SCHEMAS[p.in] ?? SUB_SCHEMAS.query!]: sub } };
}

function primitivesItems(i: Json): Json {
  return {
    ...fields(i, ['type', 'format', 'collectionFormat', ...VALIDATIONS]),
    items: i.items && primitivesItems(i.items),
    vendor_extension: extensions(i),
  };
}

function response(r: Json): Json {
  return {
    ...fields(r, ['description']),
    schema: r.schema && (r.schema.type === 'file' ? { file_schema: fileSchema(r.schema) } : { schema: schema(r.schema) }),
    headers: r.headers && { additional_properties: named(r.headers, (h: Json) => ({ ...fields(h, ['type', 'format', 'collectionFormat', 'description', ...VALIDATIONS]), items: h.items && primitivesItems(h.items), vendor_extension: extensions(h) })) },
    examples: r.examples && { additional_properties: named(r.examples, any) },
    vendor_extension: extensions(r),
  };
}

function fileSchema(s: Json): Json {
  return { ...fields(s, ['format', 'title', 'description', 'default', 'required', 'type', 'readOnly', 'example']), vendor_extension: extensions(s) };
}

function schema(s: Json): Json {
  const out: Json = {
    ...fields(s, [
      'format', 'title', 'description', 'default', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
      'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required',
      'enum', 'discriminator', 'readOnly', 'example',
    ]),
    vendor_extension: extensions(s),
  };
  if (s.$ref !== undefined) out._ref = s.$ref;
  if (s.type !== undefined) out.type = { value: Array.isArray(s.type) ? s.type : [s.type] };
  if (s.items !== undefined) out.items = { schema: (Array.isArray(s.items) ? s.items : [s.items]).map(schema) };
  if (s.allOf !== undefined) out.all_of = s.allOf.map(schema);
  if (s.properties !== undefined) out.properties = { additional_properties: named(s.properties, schema) };
  if (s.additionalProperties !== undefined) {
    out.additional_properties = typeof s.additionalProperties === 'boolean' ? { boolean: s.additionalProperties } : { schema: schema(s.additionalProperties) };
  }
  if (s.xml !== undefined) out.xml = { ...fields(s.xml, ['name', 'namespace', 'prefix', 'attribute', 'wrapped']), vendor_extension: extensions(s.xml) };
  if (s.externalDocs !== undefined) out.external_docs = { ...fields(s.externalDocs, ['description', 'url']), vendor_extension: extensions(s.externalDocs) };
  return out;
}

function securityRequirement(r: Record<string, string[]>): Json {
  return { additional_properties: named(r, (scopes: string[]) => ({ value: scopes })) };
}

function securityDefinition(d: Json): Json {
  const body = { ...fields(d, ['type', 'name', 'in', 'description']), vendor_extension: extensions(d) };
  // Kubernetes declares only bearer tokens (apiKey); basic is the one other scheme it ever used.
  return d.type === 'basic' ? { basic_authentication_security: body } : { api_key_security: body };
}
