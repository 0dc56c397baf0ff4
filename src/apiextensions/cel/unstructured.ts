// Custom objects' JSON values as CEL values of their schema's types, as
// upstream's UnstructuredToVal sees them: integers as int, numbers as
// double, byte/duration/date/date-time strings decoded, objects with
// properties as objects of the declared fields (under their escaped
// names), additionalProperties as maps, arrays as lists, and values typed
// dyn (int-or-string) by their JSON kind.
import { isPlainObject } from '../../api/object.js';
import { escapeName, type CelType } from './types.js';
import { CelError, CelMap, CelObject, listSemantics, parseDate, parseDuration, parseTimestamp, type CelValue } from './values.js';
import type { JSONSchemaProps } from '../types.js';

/** Converts `value` to a CEL value of type `t`; `format` is the schema's string format. */
export function toCel(value: unknown, t: CelType, format?: string): CelValue {
  if (value === null || value === undefined) return null;
  switch (t.kind) {
    case 'int':
      if (typeof value !== 'number') throw mismatch(value, t);
      return BigInt(Math.trunc(value));
    case 'double':
      if (typeof value !== 'number') throw mismatch(value, t);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw mismatch(value, t);
      return value;
    case 'string':
      if (typeof value !== 'string') throw mismatch(value, t);
      return value;
    case 'bytes':
      if (typeof value !== 'string') throw mismatch(value, t);
      return new Uint8Array(Buffer.from(value, 'base64'));
    case 'duration':
      if (typeof value !== 'string') throw mismatch(value, t);
      return parseDuration(value);
    case 'timestamp':
      if (typeof value !== 'string') throw mismatch(value, t);
      return format === 'date' || /^\d{4}-\d{2}-\d{2}$/.test(value) ? parseDate(value) : parseTimestamp(value);
    case 'list': {
      if (!Array.isArray(value)) throw mismatch(value, t);
      const list = value.map((v) => toCel(v, t.elem));
      if (t.semantics) listSemantics.set(list, t.semantics);
      return list;
    }
    case 'map': {
      if (!isPlainObject(value)) throw mismatch(value, t);
      const m = new CelMap();
      for (const [k, v] of Object.entries(value)) m.set(k, toCel(v, t.value));
      return m;
    }
    case 'object': {
      if (!isPlainObject(value)) throw mismatch(value, t);
      const fields = new Map<string, CelValue>();
      for (const [k, v] of Object.entries(value)) {
        const name = escapedKey(k);
        const f = name === undefined ? undefined : t.fields.get(name);
        if (f && v !== undefined) fields.set(name!, toCel(v, f.type, f.schema.format));
      }
      return new CelObject(t.name, fields);
    }
    default:
      return dynOf(value);
  }
}

const escaped = new Map<string, string | undefined>();
function escapedKey(k: string): string | undefined {
  if (!escaped.has(k)) escaped.set(k, escapeName(k));
  return escaped.get(k);
}

/** A JSON value without a schema type: numbers that are integers as int, objects as maps. */
export function dynOf(value: unknown): CelValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(dynOf);
  const m = new CelMap();
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) m.set(k, dynOf(v));
  return m;
}

function mismatch(value: unknown, t: CelType): CelError {
  return new CelError(`unsupported value for type ${t.kind}: ${JSON.stringify(value)}`);
}

/** The schema type string upstream prints as the value of CEL rule errors ("object", "string", ...). */
export function schemaTypeName(s: JSONSchemaProps): string {
  return s.type ?? '';
}
