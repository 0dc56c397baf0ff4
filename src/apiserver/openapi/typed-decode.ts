// Typed decoding of a request body, as kube-apiserver decodes every body
// into its Go structs before defaulting, admission or validation run. The
// kind's OpenAPI schema says what Go type each field has; a value of another
// JSON type is refused with encoding/json's own words (the first mismatch in
// document order, as Go keeps the first), and nothing reaches the store:
//   json: cannot unmarshal string into Go struct field Probe.spec.containers.readinessProbe.periodSeconds of type int32
// Types with their own decoding answer as theirs do: IntOrString (via an
// int32), Quantity (ParseQuantity), Time (RFC 3339). Nulls decode as Go's
// do: an absent field; in a list or map, the element type's zero value.
// Unknown fields are collected with strict decoding's paths and dropped.
//
// Not kept from Go: string fields of named types (v1.Protocol,
// v1.ServiceType, …) are reported as `string`; the schemas do not carry the
// Go type names of plain strings.
import { QUANTITY_FORMAT_WRONG, quantityError } from '../../api/quantity.js';
import { jsonKind, type NumberLiterals } from '../../api/json.js';
import { refOf, schemaNameOf, schemas, type GroupVersionKind, type Schema } from './schemas.js';

interface IntType {
  t: 'int';
  go: 'int32' | 'int64';
  min: bigint;
  max: bigint;
}

type GoType =
  | { t: 'struct'; schema: string; name: string; go: string }
  | { t: 'slice'; item: GoType; go: string }
  | { t: 'map'; value: GoType; go: string }
  | { t: 'string' | 'bool' | 'bytes' | 'float' | 'intOrString' | 'quantity' | 'time' | 'any'; go: string; layout?: string }
  | IntType;

const RFC3339 = '2006-01-02T15:04:05Z07:00';
const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

const STRING: GoType = { t: 'string', go: 'string' };
const BOOL: GoType = { t: 'bool', go: 'bool' };
const BYTES: GoType = { t: 'bytes', go: '[]uint8' };
const FLOAT: GoType = { t: 'float', go: 'float64' };
const INT32: IntType = { t: 'int', go: 'int32', min: -(2n ** 31n), max: 2n ** 31n - 1n };
const INT64: IntType = { t: 'int', go: 'int64', min: -(2n ** 63n), max: 2n ** 63n - 1n };
const INT_OR_STRING: GoType = { t: 'intOrString', go: 'intstr.IntOrString' };
const QUANTITY: GoType = { t: 'quantity', go: 'resource.Quantity' };
const TIME: GoType = { t: 'time', go: 'v1.Time', layout: RFC3339 };
const MICRO_TIME: GoType = { t: 'time', go: 'v1.MicroTime', layout: RFC3339_MICRO };
const ANY: GoType = { t: 'any', go: 'interface {}' };

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const named: Record<string, GoType> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': INT_OR_STRING,
  'io.k8s.apimachinery.pkg.api.resource.Quantity': QUANTITY,
  [`${META}Time`]: TIME,
  [`${META}MicroTime`]: MICRO_TIME,
};

const structs = new Map<string, GoType>();
const fieldTables = new Map<string, Map<string, GoType>>();

/** The Go type of a named schema: a struct where it has properties; FieldsV1, Patch and the like take any JSON. */
function namedType(name: string): GoType {
  const known = named[name];
  if (known) return known;
  let t = structs.get(name);
  if (!t) {
    if (!schemas[name]?.properties) return ANY;
    const parts = name.split('.');
    t = { t: 'struct', schema: name, name: parts.at(-1)!, go: `${parts.at(-2)}.${parts.at(-1)}` };
    structs.set(name, t);
  }
  return t;
}

function typeOf(s: Schema): GoType {
  const ref = refOf(s);
  if (ref) return namedType(ref);
  switch (s.type) {
    case 'array': {
      const item = s.items ? typeOf(s.items) : ANY;
      return { t: 'slice', item, go: `[]${item.go}` };
    }
    case 'object': {
      if (!s.additionalProperties || typeof s.additionalProperties !== 'object') return ANY;
      const value = typeOf(s.additionalProperties);
      return { t: 'map', value, go: `map[string]${value.go}` };
    }
    case 'string':
      return s.format === 'byte' ? BYTES : s.format === 'date-time' ? TIME : STRING;
    case 'integer':
      return s.format === 'int64' ? INT64 : INT32;
    case 'number':
      return FLOAT;
    case 'boolean':
      return BOOL;
  }
  return ANY;
}

/** A struct's fields by JSON name, compiled on first use (schemas may refer to themselves). */
function fieldsOf(schema: string): Map<string, GoType> {
  let fields = fieldTables.get(schema);
  if (!fields) {
    fields = new Map();
    for (const [name, prop] of Object.entries((schemas[schema]!.properties ?? {}) as Record<string, Schema>)) fields.set(name, typeOf(prop));
    fieldTables.set(schema, fields);
  }
  return fields;
}

export interface TypedDecodeResult {
  /** The first value of the wrong type, in Go's words; when set, nothing else counts. */
  error?: string;
  /** Fields the kind does not have, named as strict decoding names them; they were removed. */
  unknown: string[];
}

/** Where a value sits, for the error: the innermost struct and the field path from the root (no indices or map keys, as Go's). */
interface Context {
  struct: string;
  goPath: string;
}

class Mismatch {
  constructor(readonly message: string) {}
}

/**
 * Decodes `obj` as the kind's Go type would: returns the first type
 * mismatch, or the unknown fields (removed from `obj`). Nulls are resolved in
 * place. `literals` are the body's number literals where JS changed them
 * (parseJson), so an integer field refuses 1.0 or 1e3 as Go does.
 */
export function decodeTyped(gvk: GroupVersionKind, obj: Record<string, unknown>, literals?: NumberLiterals): TypedDecodeResult {
  const schema = schemaNameOf(gvk);
  const unknown: string[] = [];
  if (!schema) return { unknown };
  const root = namedType(schema);
  if (root.t !== 'struct') return { unknown };

  const literalOf = (container: object, key: string | number, n: number) => literals?.get(container)?.get(key) ?? String(n);
  const fail = (message: string): never => {
    throw new Mismatch(message);
  };
  const mismatch = (what: string, type: GoType, ctx: Context): never =>
    fail(`json: cannot unmarshal ${what} into Go struct field ${ctx.struct}.${ctx.goPath} of type ${type.go}`);

  const walkStruct = (value: Record<string, unknown>, type: Extract<GoType, { t: 'struct' }>, goPath: string, path: string, isRoot: boolean) => {
    const fields = fieldsOf(type.schema);
    for (const key of Object.keys(value)) {
      const field = fields.get(key);
      if (!field) {
        if (!(isRoot && (key === 'apiVersion' || key === 'kind'))) {
          unknown.push(path ? `${path}.${key}` : key);
          delete value[key];
        }
        continue;
      }
      if (value[key] === null) {
        delete value[key];
        continue;
      }
      check(value, key, field, { struct: type.name, goPath: goPath ? `${goPath}.${key}` : key }, path ? `${path}.${key}` : key);
    }
  };

  /** Checks container[key] against `type`; nulls inside lists and maps become the element type's zero value. */
  const check = (container: Record<string, unknown> | unknown[], key: string | number, type: GoType, ctx: Context, path: string): void => {
    const value = (container as Record<string | number, unknown>)[key];
    switch (type.t) {
      case 'struct':
        if (!isObject(value)) return mismatch(jsonKind(value), type, ctx);
        return walkStruct(value, type, ctx.goPath, path, false);
      case 'slice':
        if (!Array.isArray(value)) return mismatch(jsonKind(value), type, ctx);
        for (let i = 0; i < value.length; i++) {
          if (value[i] === null) value[i] = zeroOf(type.item);
          else check(value, i, type.item, ctx, `${path}[${i}]`);
        }
        return;
      case 'map':
        if (!isObject(value)) return mismatch(jsonKind(value), type, ctx);
        for (const k of Object.keys(value)) {
          if (value[k] === null) value[k] = zeroOf(type.value);
          else check(value, k, type.value, ctx, `${path}.${k}`);
        }
        return;
      case 'string':
        if (typeof value !== 'string') mismatch(jsonKind(value), type, ctx);
        return;
      case 'bool':
        if (typeof value !== 'boolean') mismatch(jsonKind(value), type, ctx);
        return;
      case 'bytes': {
        if (typeof value !== 'string') return mismatch(jsonKind(value), type, ctx);
        const bad = base64Error(value);
        if (bad !== undefined) fail(`illegal base64 data at input byte ${bad}`);
        return;
      }
      case 'int': {
        if (typeof value !== 'number') return mismatch(jsonKind(value), type, ctx);
        const literal = literalOf(container, key, value);
        // The stored value is a JS number: the top 512 int64 values round up to 2^63 and would not decode again.
        if (!fitsInt(literal, type.min, type.max) || BigInt(value) > type.max) mismatch(`number ${literal}`, type, ctx);
        return;
      }
      case 'float':
        if (typeof value !== 'number') return mismatch(jsonKind(value), type, ctx);
        if (!Number.isFinite(value)) mismatch(`number ${literalOf(container, key, value)}`, type, ctx);
        return;
      case 'intOrString': {
        // IntOrString.UnmarshalJSON: a quoted value is the string, anything else goes into an int32 (with no field context).
        if (typeof value === 'string') return;
        const what = typeof value === 'number' ? `number ${literalOf(container, key, value)}` : jsonKind(value);
        if (typeof value !== 'number' || !fitsInt(literalOf(container, key, value), INT32.min, INT32.max)) {
          fail(`json: cannot unmarshal ${what} into Go value of type int32`);
        }
        return;
      }
      case 'quantity': {
        const text = typeof value === 'string' ? value.trim() : typeof value === 'number' ? literalOf(container, key, value) : undefined;
        const error = text === undefined ? QUANTITY_FORMAT_WRONG : quantityError(text);
        if (error) fail(error);
        return;
      }
      case 'time': {
        if (typeof value !== 'string') return fail(`json: cannot unmarshal ${jsonKind(value)} into Go value of type string`);
        const error = timeError(value, type.layout!);
        if (error) fail(error);
        return;
      }
      case 'any':
        return;
    }
  };

  try {
    walkStruct(obj, root, '', '', true);
  } catch (e) {
    if (e instanceof Mismatch) return { error: e.message, unknown };
    throw e;
  }
  return { unknown };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value a null decodes to inside a list or map: the element type's zero value (nil, written as null, for lists, maps and any). */
function zeroOf(type: GoType): unknown {
  switch (type.t) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    case 'int':
    case 'float':
    case 'intOrString':
      return 0;
    case 'quantity':
      return '0';
    case 'struct':
      return {};
    default:
      return null;
  }
}

/** strconv.ParseInt(literal, 10, 64) and the type's range. */
function fitsInt(literal: string, min: bigint, max: bigint): boolean {
  if (!/^-?\d+$/.test(literal)) return false;
  const n = BigInt(literal);
  return n >= min && n <= max;
}

/** The byte at which base64.StdEncoding stops reading `s`, or undefined when it decodes (it skips \r and \n). */
function base64Error(s: string): number | undefined {
  const text = s.replace(/[\r\n]/g, '');
  const valid = /^[A-Za-z0-9+/]*$/;
  const padAt = text.indexOf('=');
  const body = padAt < 0 ? text : text.slice(0, padAt);
  if (!valid.test(body)) return [...body].findIndex((c) => !/[A-Za-z0-9+/]/.test(c));
  if (padAt < 0) return text.length % 4 === 0 ? undefined : text.length - (text.length % 4);
  const padding = text.slice(padAt);
  const ok = (padding === '=' && text.length % 4 === 0 && body.length % 4 === 3) || (padding === '==' && text.length % 4 === 0 && body.length % 4 === 2);
  return ok ? undefined : padAt;
}

/**
 * Why time.Parse(layout, s) fails for the RFC 3339 layouts, in its words,
 * or undefined when it parses.
 */
function timeError(s: string, layout: string): string | undefined {
  const micro = layout === RFC3339_MICRO;
  const elements: [name: string, pattern: RegExp][] = [
    ['2006', /^\d{4}/],
    ['-', /^-/],
    ['01', /^\d{2}/],
    ['-', /^-/],
    ['02', /^\d{2}/],
    ['T', /^T/],
    ['15', /^\d{2}/],
    [':', /^:/],
    ['04', /^\d{2}/],
    [':', /^:/],
    ['05', /^\d{2}/],
    ...(micro ? ([['.000000', /^\.\d{6}/]] as [string, RegExp][]) : ([['', /^(\.\d+)?/]] as [string, RegExp][])),
    ['Z07:00', /^(Z|[+-]\d{2}:\d{2})/],
  ];
  let rest = s;
  const values: string[] = [];
  for (const [name, pattern] of elements) {
    const m = pattern.exec(rest);
    if (!m) return `parsing time ${goQuote(s)} as ${goQuote(layout)}: cannot parse ${goQuote(rest)} as ${goQuote(name)}`;
    values.push(m[0]);
    rest = rest.slice(m[0].length);
  }
  if (rest) return `parsing time ${goQuote(s)}: extra text: ${goQuote(rest)}`;
  const [year, , month, , day, , hour, , minute, , second] = values.map(Number);
  const daysIn = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (month! < 1 || month! > 12) return `parsing time ${goQuote(s)}: month out of range`;
  if (day! < 1 || day! > daysIn) return `parsing time ${goQuote(s)}: day out of range`;
  if (hour! > 23) return `parsing time ${goQuote(s)}: hour out of range`;
  if (minute! > 59) return `parsing time ${goQuote(s)}: minute out of range`;
  if (second! > 59) return `parsing time ${goQuote(s)}: second out of range`;
  return undefined;
}

/** strconv.Quote for the texts these errors show: JSON's escaping is the same for them. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}
