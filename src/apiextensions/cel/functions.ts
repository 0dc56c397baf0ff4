// The registry of CEL function overloads the checker resolves calls
// against and the evaluator dispatches to: each overload has its argument
// types (the receiver first for member-style calls), its result type, its
// implementation and optionally a runtime cost beyond the call's own 1.
import type { CelType } from './types.js';
import { CelError, CelMap, CelObject, Duration, Opaque, Optional, Timestamp, TypeValue, UInt, type CelValue } from './values.js';

export interface Overload {
  id: string;
  /** Called as target.fn(args) rather than fn(args). */
  receiver: boolean;
  args: CelType[];
  result: CelType;
  impl: (...args: CelValue[]) => CelValue;
  /** Extra runtime cost of one call, e.g. proportional to a string's length. */
  cost?: (...args: CelValue[]) => number;
}

const registry = new Map<string, Overload[]>();

export function define(name: string, ...overloads: Overload[]): void {
  const list = registry.get(name) ?? [];
  list.push(...overloads);
  registry.set(name, list);
}

/** Shorthand for a global overload. */
export function global(id: string, args: CelType[], result: CelType, impl: Overload['impl'], cost?: Overload['cost']): Overload {
  return { id, receiver: false, args, result, impl, cost };
}

/** Shorthand for a member overload: args[0] is the receiver. */
export function member(id: string, args: CelType[], result: CelType, impl: Overload['impl'], cost?: Overload['cost']): Overload {
  return { id, receiver: true, args, result, impl, cost };
}

export function overloadsOf(name: string): Overload[] {
  return registry.get(name) ?? [];
}

/** Whether a runtime value is of (or may stand for) a static type. */
export function valueMatches(t: CelType, v: CelValue): boolean {
  switch (t.kind) {
    case 'dyn':
    case 'param':
    case 'error':
      return true;
    case 'int':
      return typeof v === 'bigint';
    case 'uint':
      return v instanceof UInt;
    case 'double':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'bytes':
      return v instanceof Uint8Array;
    case 'null':
      return v === null;
    case 'duration':
      return v instanceof Duration;
    case 'timestamp':
      return v instanceof Timestamp;
    case 'list':
      return Array.isArray(v);
    case 'map':
      return v instanceof CelMap;
    case 'object':
      return v instanceof CelObject;
    case 'optional':
      return v instanceof Optional;
    case 'type':
      return v instanceof TypeValue;
    case 'opaque':
      return v instanceof Opaque && v.typeName === t.name;
    default:
      return false;
  }
}

/** Picks the overload of `candidates` the runtime arguments match, or fails as cel-go does. */
export function dispatch(candidates: Overload[], args: CelValue[]): Overload {
  const o = candidates.find((c) => c.args.length === args.length && c.args.every((t, i) => valueMatches(t, args[i])));
  if (!o) throw new CelError('no such overload');
  return o;
}

/** The string/bytes/list size cost factor cel-go charges for traversals (0.1 per element). */
export function lengthCost(v: CelValue): number {
  if (typeof v === 'string') return Math.ceil(v.length * 0.1);
  if (v instanceof Uint8Array) return Math.ceil(v.length * 0.1);
  if (Array.isArray(v)) return v.length;
  return 0;
}
