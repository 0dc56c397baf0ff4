// CEL's static types as the checker sees them, and the types of a CRD
// schema's values as upstream's SchemaDeclType derives them: integer→int,
// number→double, boolean→bool, string→string (format byte→bytes,
// duration→duration, date/date-time→timestamp), x-kubernetes-int-or-string
// →dyn, objects with properties→an object type of their escapable fields,
// additionalProperties→map(string, V), arrays→list(T). The root of a
// resource (and of an embedded resource) also has apiVersion, kind and
// metadata.name/generateName.
import type { JSONSchemaProps } from '../types.js';

/** How a schema's set and map lists compare and concatenate. */
export type ListSemantics = { kind: 'set' } | { kind: 'map'; keys: string[] };

export type CelType =
  | { kind: 'int' | 'uint' | 'double' | 'bool' | 'string' | 'bytes' | 'null' | 'duration' | 'timestamp' | 'dyn' | 'error' }
  | { kind: 'list'; elem: CelType; /** x-kubernetes-list-type set or map: equality and + as upstream's. */ semantics?: ListSemantics }
  | { kind: 'map'; key: CelType; value: CelType }
  | { kind: 'object'; name: string; fields: Map<string, { type: CelType; schema: JSONSchemaProps }> }
  | { kind: 'optional'; elem: CelType }
  | { kind: 'type'; of: CelType }
  | { kind: 'param'; name: string }
  | { kind: 'opaque'; name: string };

const simple = <K extends 'int' | 'uint' | 'double' | 'bool' | 'string' | 'bytes' | 'null' | 'duration' | 'timestamp' | 'dyn' | 'error'>(kind: K) => ({ kind }) as CelType;
export const T = {
  int: simple('int'),
  uint: simple('uint'),
  double: simple('double'),
  bool: simple('bool'),
  string: simple('string'),
  bytes: simple('bytes'),
  null: simple('null'),
  duration: simple('duration'),
  timestamp: simple('timestamp'),
  dyn: simple('dyn'),
  error: simple('error'),
  list: (elem: CelType): CelType => ({ kind: 'list', elem }),
  map: (key: CelType, value: CelType): CelType => ({ kind: 'map', key, value }),
  optional: (elem: CelType): CelType => ({ kind: 'optional', elem }),
  type: (of: CelType): CelType => ({ kind: 'type', of }),
  param: (name: string): CelType => ({ kind: 'param', name }),
  opaque: (name: string): CelType => ({ kind: 'opaque', name }),
};

/** A type as cel-go's messages print it: "int", "list(string)", "map(string, int)". */
export function formatType(t: CelType): string {
  switch (t.kind) {
    case 'list':
      return `list(${formatType(t.elem)})`;
    case 'map':
      return `map(${formatType(t.key)}, ${formatType(t.value)})`;
    case 'object':
      return t.name;
    case 'optional':
      return `optional_type(${formatType(t.elem)})`;
    case 'type':
      return `type(${formatType(t.of)})`;
    case 'param':
      return t.name;
    case 'opaque':
      return t.name;
    case 'duration':
      return 'google.protobuf.Duration';
    case 'timestamp':
      return 'google.protobuf.Timestamp';
    case 'null':
      return 'null_type';
    default:
      return t.kind;
  }
}

const reservedNames = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** A property name as CEL rules spell it (upstream's cel.Escape), or undefined when it cannot be accessed. */
export function escapeName(name: string): string | undefined {
  if (!name || /^[0-9]/.test(name)) return undefined;
  if (reservedNames.has(name)) return `__${name}__`;
  if (/[^A-Za-z0-9_./-]/.test(name)) return undefined;
  return name.replace(/__|[./-]/g, (s) => ({ __: '__underscores__', '.': '__dot__', '-': '__dash__', '/': '__slash__' })[s]!);
}

const objectMetaRoot: Record<string, JSONSchemaProps> = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } },
};

/** The schema of a resource root as CEL sees it: its own properties plus apiVersion, kind and metadata.name/generateName. */
export function withTypeAndObjectMeta(s: JSONSchemaProps): JSONSchemaProps {
  return { ...s, properties: { ...s.properties, ...objectMetaRoot } };
}

/** The CEL type of values of `s`, or undefined where upstream leaves them out of CEL (no type). */
export function schemaType(s: JSONSchemaProps | undefined, isResourceRoot: boolean, name = 'object'): CelType | undefined {
  if (!s) return undefined;
  if (s['x-kubernetes-int-or-string']) return T.dyn;
  if (isResourceRoot) s = withTypeAndObjectMeta(s);
  switch (s.type) {
    case 'array': {
      const items = schemaType(s.items, !!s.items?.['x-kubernetes-embedded-resource'], name);
      if (!items) return undefined;
      const lt = s['x-kubernetes-list-type'];
      const keys = (s['x-kubernetes-list-map-keys'] ?? []).map(escapeName).filter((k): k is string => !!k);
      if (lt === 'set') return { kind: 'list', elem: items, semantics: { kind: 'set' } };
      if (lt === 'map' && keys.length) return { kind: 'list', elem: items, semantics: { kind: 'map', keys } };
      return T.list(items);
    }
    case 'object': {
      const ap = s.additionalProperties;
      if (ap && typeof ap === 'object') {
        const value = schemaType(ap, !!ap['x-kubernetes-embedded-resource'], name);
        return value && T.map(T.string, value);
      }
      const fields = new Map<string, { type: CelType; schema: JSONSchemaProps }>();
      for (const [prop, ps] of Object.entries(s.properties ?? {})) {
        const escaped = escapeName(prop);
        const type = schemaType(ps, !!ps['x-kubernetes-embedded-resource'], `${name}.${prop}`);
        if (escaped && type) fields.set(escaped, { type, schema: ps });
      }
      return { kind: 'object', name, fields };
    }
    case 'string':
      if (s.format === 'byte') return T.bytes;
      if (s.format === 'duration') return T.duration;
      if (s.format === 'date' || s.format === 'date-time') return T.timestamp;
      return T.string;
    case 'boolean':
      return T.bool;
    case 'number':
      return T.double;
    case 'integer':
      return T.int;
    default:
      return undefined;
  }
}

/** Substitutes bound type parameters. */
export function substitute(t: CelType, bindings: Map<string, CelType>): CelType {
  switch (t.kind) {
    case 'param':
      return bindings.has(t.name) ? substitute(bindings.get(t.name)!, bindings) : t;
    case 'list':
      return T.list(substitute(t.elem, bindings));
    case 'map':
      return T.map(substitute(t.key, bindings), substitute(t.value, bindings));
    case 'optional':
      return T.optional(substitute(t.elem, bindings));
    case 'type':
      return T.type(substitute(t.of, bindings));
    default:
      return t;
  }
}

/**
 * Whether a value of type `actual` may be passed where `formal` is
 * expected, binding type parameters as it goes (dyn matches everything).
 */
export function assignable(formal: CelType, actual: CelType, bindings: Map<string, CelType>): boolean {
  if (formal.kind === 'param') {
    const bound = bindings.get(formal.name);
    if (bound) {
      if (assignable(bound, actual, bindings)) return true;
      if (assignable(actual, bound, bindings)) {
        bindings.set(formal.name, actual);
        return true;
      }
      return false;
    }
    bindings.set(formal.name, actual);
    return true;
  }
  if (actual.kind === 'param') return assignable(actual, formal, bindings);
  if (formal.kind === 'dyn' || actual.kind === 'dyn' || actual.kind === 'error' || formal.kind === 'error') return true;
  if (formal.kind === 'null') return actual.kind === 'null';
  if (actual.kind === 'null') return ['duration', 'timestamp', 'object', 'opaque', 'optional', 'null'].includes(formal.kind);
  if (formal.kind !== actual.kind) return false;
  switch (formal.kind) {
    case 'list':
      return assignable(formal.elem, (actual as { elem: CelType }).elem, bindings);
    case 'optional':
      return assignable(formal.elem, (actual as { elem: CelType }).elem, bindings);
    case 'type':
      return assignable(formal.of, (actual as { of: CelType }).of, bindings);
    case 'map': {
      const a = actual as { key: CelType; value: CelType };
      return assignable(formal.key, a.key, bindings) && assignable(formal.value, a.value, bindings);
    }
    case 'object':
      return formal.name === (actual as { name: string }).name;
    case 'opaque':
      return formal.name === (actual as { name: string }).name;
    default:
      return true;
  }
}

/** The most specific common type of two types (for list/map literals and ternaries), dyn when they differ. */
export function join(a: CelType, b: CelType): CelType {
  if (a.kind === 'error') return b;
  if (b.kind === 'error') return a;
  if (a.kind === 'dyn' || b.kind === 'dyn') return T.dyn;
  if (assignable(a, b, new Map()) && assignable(b, a, new Map())) return a.kind === 'null' ? b : a;
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  return T.dyn;
}

export function isDynOrError(t: CelType): boolean {
  return t.kind === 'dyn' || t.kind === 'error';
}
