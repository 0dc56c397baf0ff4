// Whether a kind's message declaration can carry every field the kind can
// hold: each property of its OpenAPI schema (the one the server publishes),
// and of every schema below it, needs a field of the matching shape. A kind
// with a gap is answered in JSON only, so protobuf never drops data.
import { refOf, schemas, type Schema } from '../openapi/schemas.js';
import { isKind, isStringList, message, type FieldDecl, type MessageDecl } from './declarations.js';

/** The schema paths (Pod.spec.containers.foo) that the declaration of `messageName` lacks or shapes differently. */
export function missingFields(schemaName: string, messageName: string): string[] {
  const gaps: string[] = [];
  walk(schemaName, messageName, schemaName.slice(schemaName.lastIndexOf('.') + 1), gaps, new Set(), true);
  return gaps;
}

function findField(msg: MessageDecl, name: string): FieldDecl | undefined {
  for (const f of msg.fields) {
    if (f.inline) {
      const inner = findField(message(f.type), name);
      if (inner) return inner;
    } else if (f.name === name) return f;
  }
  return undefined;
}

// Types whose JSON is not their message's shape: checked as leaves.
const LEAF_TYPES = new Set([
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  'io.k8s.apimachinery.pkg.api.resource.Quantity',
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
]);

function walk(schemaName: string, messageName: string, path: string, gaps: string[], seen: Set<string>, top: boolean): void {
  const key = `${schemaName}→${messageName}`;
  if (seen.has(key)) return;
  seen.add(key);
  const schema = schemas[schemaName];
  if (!schema) return void gaps.push(`${path} (no schema ${schemaName})`);
  const msg = message(messageName);
  for (const [prop, propSchema] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    // Carried by the envelope at the top; implied by the field's type below (see isKind).
    if ((top || isKind(msg)) && (prop === 'apiVersion' || prop === 'kind')) continue;
    const at = `${path}.${prop}`;
    const f = findField(msg, prop);
    if (!f) {
      gaps.push(at);
      continue;
    }
    checkShape(f, propSchema, at, gaps, seen);
  }
}

function checkShape(f: FieldDecl, s: Schema, at: string, gaps: string[], seen: Set<string>): void {
  let valueSchema = s;
  if (s.type === 'array') {
    if (!f.repeated) return void gaps.push(`${at} (an array, declared ${f.map ? 'a map' : 'single'})`);
    valueSchema = s.items ?? {};
  } else if (s.type === 'object' && s.additionalProperties) {
    if (!f.map) return void gaps.push(`${at} (a map, declared ${f.repeated ? 'repeated' : 'single'})`);
    valueSchema = s.additionalProperties === true ? {} : s.additionalProperties;
  } else if (f.repeated || f.map) {
    return void gaps.push(`${at} (declared ${f.map ? 'a map' : 'repeated'}, the schema has ${s.type ?? refOf(s) ?? 'no type'})`);
  }
  const ref = refOf(valueSchema);
  if (isStringList(f.type)) {
    if (valueSchema.type !== 'array' || valueSchema.items?.type !== 'string') gaps.push(`${at} (${valueSchema.type ?? ref}, declared ${f.type}: a list of strings)`);
    return;
  }
  if (f.scalar) {
    const jsonType = f.type === 'string' || f.type === 'bytes' ? 'string' : f.type === 'bool' ? 'boolean' : 'integer';
    if (ref || (valueSchema.type && valueSchema.type !== jsonType)) gaps.push(`${at} (${valueSchema.type ?? ref}, declared ${f.type})`);
    else if ((valueSchema.format === 'byte') !== (f.type === 'bytes')) gaps.push(`${at} (format ${valueSchema.format ?? 'none'}, declared ${f.type})`);
    return;
  }
  if (LEAF_TYPES.has(f.type)) {
    if (ref !== f.type) gaps.push(`${at} (${ref ?? valueSchema.type}, declared ${f.type})`);
    return;
  }
  if (!ref) return void gaps.push(`${at} (${valueSchema.type ?? 'no type'}, declared ${f.type})`);
  walk(ref, f.type, at, gaps, seen, false);
}
