// Request bodies into objects: JSON, YAML or protobuf (kubectl 1.32's
// generator commands), checked against the endpoint's kind, with unknown
// fields handled per fieldValidation (Strict → 400, Warn → warning, Ignore).
import { parse as yamlParse } from 'yaml';
import { isPlainObject, type KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';
import { apiVersionOf } from '../registry/resource.js';
import { unknownFields } from './openapi/document.js';
import { decodeProtobufObject, isProtobufContentType } from './protobuf.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(value: string | null): FieldValidation {
  if (value === null || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw errors.badRequest(`fieldValidation must be one of Ignore, Warn, or Strict, got ${value}`);
}

/** Parses JSON or YAML text into a value; 400 on malformed input. */
export function parseStructured(body: Buffer, contentType: string | undefined): unknown {
  const text = body.toString('utf8');
  if (!text.trim()) throw errors.badRequest('the body of the request was empty');
  const yamlish = !!contentType && /yaml/.test(contentType);
  try {
    return yamlish ? yamlParse(text) : JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw errors.badRequest(`${yamlish ? 'yaml' : 'json'} parse error: ${why}`);
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
  let value: unknown;
  if (isProtobufContentType(contentType)) {
    try {
      value = decodeProtobufObject(body).object;
    } catch (e) {
      throw errors.badRequest(e instanceof Error ? e.message : String(e));
    }
  } else if (!contentType || /json|yaml/.test(contentType)) {
    value = parseStructured(body, contentType);
  } else {
    throw errors.unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  }
  return checkObject(value, expected, validation);
}

export function checkObject(value: unknown, expected: Expected, validation: FieldValidation): Decoded {
  const expectedVersion = apiVersionOf(expected);
  if (!isPlainObject(value)) {
    throw errors.badRequest(`${expected.kind} in version "${expected.version}" cannot be handled as a ${expected.kind}: the body is not an object`);
  }
  const obj = value as KubeObject;
  if (obj.apiVersion !== undefined && obj.apiVersion !== expectedVersion) {
    throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedVersion})`);
  }
  if (obj.kind !== undefined && obj.kind !== expected.kind) {
    throw errors.badRequest(
      `${String(obj.kind)} in version "${expected.version}" cannot be handled as a ${expected.kind}: the kind in the data (${String(obj.kind)}) does not match the expected kind (${expected.kind})`,
    );
  }
  if (obj.metadata !== undefined && !isPlainObject(obj.metadata)) {
    throw errors.badRequest(`${expected.kind} in version "${expected.version}" cannot be handled as a ${expected.kind}: metadata must be an object`);
  }
  obj.metadata ??= {};
  const warnings: string[] = [];
  if (validation !== 'Ignore') {
    const unknown = unknownFields(expected, obj);
    if (unknown.length && validation === 'Strict') {
      throw errors.badRequest(
        `${expected.kind} in version "${expected.version}" cannot be handled as a ${expected.kind}: strict decoding error: ${unknown
          .map((f) => `unknown field "${f}"`)
          .join(', ')}`,
      );
    }
    for (const f of unknown) warnings.push(`unknown field "${f}"`);
    for (const f of unknown) dropField(obj, f);
  } else {
    for (const f of unknownFields(expected, obj)) dropField(obj, f);
  }
  return { object: obj, warnings };
}

/** Removes a field named like `spec.ports[0].foo` (unknown fields are dropped, never stored). */
export function dropField(obj: unknown, path: string): void {
  const steps = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let cur: unknown = obj;
  for (let i = 0; i < steps.length - 1; i++) {
    const s = steps[i];
    cur = s.startsWith('[') ? (cur as unknown[])[Number(s.slice(1, -1))] : (cur as Record<string, unknown>)[s];
    if (cur === null || typeof cur !== 'object') return;
  }
  const last = steps[steps.length - 1];
  if (last && !last.startsWith('[') && isPlainObject(cur)) delete cur[last];
}
