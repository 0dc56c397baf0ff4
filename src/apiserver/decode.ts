// Request bodies into objects: JSON, YAML or protobuf (kubectl 1.32's
// generator commands), decoded as the endpoint's kind the way kube-apiserver
// decodes into its Go types (typed-decode.ts) before anything else sees them:
// a value of the wrong type is a 400 and nothing is stored. Unknown and
// duplicate fields are handled per fieldValidation (Strict → 400, Warn →
// warning, Ignore) and never stored.
import { parse as yamlParse } from 'yaml';
import { jsonKind, JsonSyntaxError, parseJson, type NumberLiterals } from '../api/json.js';
import { isPlainObject, type KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';
import { apiVersionOf } from '../registry/resource.js';
import { decodeTyped } from './openapi/typed-decode.js';
import { decodeObject as decodeProtobuf, isProtobufContentType } from './protobuf/read.js';
import { errorMessage } from '../util/errors.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(value: string | null): FieldValidation {
  if (value === null || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw errors.badRequest(`fieldValidation must be one of Ignore, Warn, or Strict, got ${value}`);
}

/** A parsed body, with what JSON.parse would lose (see api/json.ts); YAML bodies have neither. */
export interface StructuredBody {
  value: unknown;
  duplicates: string[];
  literals?: NumberLiterals;
}

/** Parses a JSON or YAML body; 400 on malformed input. */
export function parseBody(body: Buffer, contentType: string | undefined): StructuredBody {
  const text = body.toString('utf8');
  if (!text.trim()) throw errors.badRequest('the body of the request was empty');
  const yamlish = !!contentType && /yaml/.test(contentType);
  try {
    return yamlish ? { value: yamlParse(text), duplicates: [] } : parseJson(text);
  } catch (e) {
    const why = e instanceof JsonSyntaxError ? e.message : e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw errors.badRequest(`${yamlish ? 'yaml' : 'json'} parse error: ${why}`);
  }
}

/**
 * Parses JSON or YAML text into a value (a patch, DeleteOptions), or a
 * protobuf object (an Eviction, a Binding, as typed clients send them); 400
 * on malformed input.
 */
export function parseStructured(body: Buffer, contentType: string | undefined): unknown {
  if (isProtobufContentType(contentType)) return protobufBody(body).value;
  return parseBody(body, contentType).value;
}

/**
 * A protobuf body in its JSON shape. Go's encoder writes every non-pointer
 * field, so zero values are read as unset and defaults apply as with JSON;
 * pointer fields are kept as sent (replicas: 0).
 */
function protobufBody(body: Buffer): StructuredBody {
  try {
    return { value: decodeProtobuf(body, { zeroIsUnset: true }), duplicates: [] };
  } catch (e) {
    throw errors.badRequest(errorMessage(e));
  }
}

interface Expected {
  group: string;
  version: string;
  kind: string;
}

export interface Decoded {
  object: KubeObject;
  warnings: string[];
}

/** Decodes a whole object for create/update, defaulting apiVersion/kind from the URL as upstream does. */
export function decodeObject(body: Buffer, contentType: string | undefined, expected: Expected, validation: FieldValidation): Decoded {
  let parsed: StructuredBody;
  if (isProtobufContentType(contentType)) {
    parsed = protobufBody(body);
  } else if (!contentType || /json|yaml/.test(contentType)) {
    parsed = parseBody(body, contentType);
  } else {
    throw errors.unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  }
  return checkObject(parsed.value, expected, validation, parsed);
}

/**
 * Decodes a value as the expected kind: the kind and version it names, then
 * every field's type (400 with Go's words on the first mismatch), then
 * unknown and duplicate fields per fieldValidation. Patched and applied
 * objects come through here too, so no patch can store a wrong type.
 */
export function checkObject(value: unknown, expected: Expected, validation: FieldValidation, body?: StructuredBody): Decoded {
  const expectedVersion = apiVersionOf(expected);
  const cannot = (why: string) => errors.badRequest(`${expected.kind} in version "${expected.version}" cannot be handled as a ${expected.kind}: ${why}`);
  if (!isPlainObject(value)) throw cannot('the body is not an object');
  const obj = value as KubeObject;
  for (const field of ['apiVersion', 'kind'] as const) {
    const v = obj[field];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      throw errors.badRequest(`couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKind(v)} into Go struct field .${field} of type string`);
    }
  }
  if (obj.apiVersion && obj.apiVersion !== expectedVersion) {
    throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedVersion})`);
  }
  if (obj.kind && obj.kind !== expected.kind) throw cannot(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${expected.kind})`);
  const typed = decodeTyped(expected, obj as Record<string, unknown>, body?.literals);
  if (typed.error) throw cannot(typed.error);
  obj.metadata ??= {};
  const problems = [...typed.unknown.map((f) => `unknown field "${f}"`), ...(body?.duplicates ?? []).map((f) => `duplicate field "${f}"`)];
  if (validation === 'Strict' && problems.length) throw cannot(`strict decoding error: ${problems.join(', ')}`);
  return { object: obj, warnings: validation === 'Warn' ? problems : [] };
}
