// CEL's runtime values in JavaScript: int as bigint, uint and the other
// types without a JS counterpart as small classes, double as number,
// string, bool, null, bytes as Uint8Array, lists as arrays and maps as
// CelMap. Errors are thrown as CelError and absorbed by the logical
// operators as the cel-spec describes. Equality and ordering follow the
// spec's heterogeneous equality (numbers compare across int/uint/double).

export class CelError extends Error {}

export const MAX_INT = (1n << 63n) - 1n;
export const MIN_INT = -(1n << 63n);
export const MAX_UINT = (1n << 64n) - 1n;

export class UInt {
  constructor(readonly v: bigint) {}
}

/** A duration in nanoseconds (range: ±(2^63-1) ns as Go's time.Duration). */
export class Duration {
  constructor(readonly ns: bigint) {}
}

/** A timestamp: nanoseconds since the Unix epoch, UTC. */
export class Timestamp {
  constructor(readonly ns: bigint) {}
}

/** A value of a CEL type: what type(x) returns. */
export class TypeValue {
  constructor(readonly name: string) {}
}

export class Optional {
  constructor(readonly value: CelValue | undefined) {}
  get hasValue(): boolean {
    return this.value !== undefined;
  }
}

/** An object of a schema type: declared fields only, absent ones not set. */
export class CelObject {
  constructor(
    readonly typeName: string,
    readonly fields: Map<string, CelValue>,
  ) {}
}

/** An opaque value of an extension library (URL, Quantity, ...). */
export abstract class Opaque {
  abstract readonly typeName: string;
  abstract equals(other: Opaque): boolean;
}

export type CelValue =
  | bigint
  | UInt
  | number
  | string
  | boolean
  | null
  | Uint8Array
  | CelValue[]
  | CelMap
  | CelObject
  | Duration
  | Timestamp
  | TypeValue
  | Optional
  | Opaque;

/** Lists of a schema's x-kubernetes-list-type set or map, with what makes them so. */
export const listSemantics = new WeakMap<CelValue[], { kind: 'set' } | { kind: 'map'; keys: string[] }>();

/** A map list's item key (its key fields' values), for equality and concatenation. */
export function mapListKey(item: CelValue, keys: string[]): string {
  if (!(item instanceof CelObject)) return '';
  return keys.map((k) => { const v = item.fields.get(k); return v === undefined ? '-' : formatValue(v); }).join('\u0000');
}

/** Equality of lists: element by element, or as upstream's set lists (same size, every element in the other) and map lists (by key). */
function listEquals(a: CelValue[], b: CelValue[]): boolean {
  if (a.length !== b.length) return false;
  const sem = listSemantics.get(a) ?? listSemantics.get(b);
  if (!sem) return a.every((x, i) => celEquals(x, b[i]));
  if (sem.kind === 'set') return a.every((x) => b.some((y) => celEquals(x, y)));
  const byKey = new Map(b.map((y) => [mapListKey(y, sem.keys), y]));
  return a.every((x) => {
    const y = byKey.get(mapListKey(x, sem.keys));
    return y !== undefined && celEquals(x, y);
  });
}

/** A CEL map: keys are int, uint, string or bool; int and uint keys that are equal are the same key. */
export class CelMap {
  private readonly entries = new Map<string, [CelValue, CelValue]>();
  static keyOf(k: CelValue): string {
    if (typeof k === 'string') return `s${k}`;
    if (typeof k === 'bigint') return `n${k}`;
    if (k instanceof UInt) return `n${k.v}`;
    if (typeof k === 'number' && Number.isInteger(k)) return `n${BigInt(k)}`;
    if (typeof k === 'boolean') return `b${k}`;
    throw new CelError(`unsupported key type: ${typeName(k)}`);
  }
  set(k: CelValue, v: CelValue): void {
    this.entries.set(CelMap.keyOf(k), [k, v]);
  }
  has(k: CelValue): boolean {
    if (typeof k === 'number' && !Number.isInteger(k)) return false;
    return this.entries.has(CelMap.keyOf(k));
  }
  get(k: CelValue): CelValue | undefined {
    if (typeof k === 'number' && !Number.isInteger(k)) return undefined;
    return this.entries.get(CelMap.keyOf(k))?.[1];
  }
  get size(): number {
    return this.entries.size;
  }
  keys(): CelValue[] {
    return [...this.entries.values()].map((e) => e[0]);
  }
  pairs(): [CelValue, CelValue][] {
    return [...this.entries.values()];
  }
}

/** The name of a value's type as CEL's type() and its error messages print it. */
export function typeName(v: CelValue): string {
  if (v === null) return 'null_type';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof UInt) return 'uint';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof CelMap) return 'map';
  if (v instanceof CelObject) return v.typeName;
  if (v instanceof Duration) return 'google.protobuf.Duration';
  if (v instanceof Timestamp) return 'google.protobuf.Timestamp';
  if (v instanceof TypeValue) return 'type';
  if (v instanceof Optional) return 'optional_type';
  return v.typeName;
}

export function checkInt(n: bigint): bigint {
  if (n > MAX_INT || n < MIN_INT) throw new CelError('integer overflow');
  return n;
}

export function checkUint(n: bigint): UInt {
  if (n > MAX_UINT || n < 0n) throw new CelError('unsigned integer overflow');
  return new UInt(n);
}

function numeric(v: CelValue): number | bigint | undefined {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  if (v instanceof UInt) return v.v;
  return undefined;
}

/** Compares two numbers of any CEL numeric type exactly (-1, 0, 1), or NaN when one is NaN. */
function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  const [x, y, flip] = typeof a === 'number' ? [a, b as bigint, 1] : [b as number, a as bigint, -1];
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return flip;
  if (x === -Infinity) return -flip;
  const fx = Math.floor(x);
  const bx = BigInt(fx);
  let c = bx < y ? -1 : bx > y ? 1 : fx === x ? 0 : 1;
  c *= flip;
  return c;
}

export function celEquals(a: CelValue, b: CelValue): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined || nb !== undefined) return na !== undefined && nb !== undefined && compareNumbers(na, nb) === 0;
  if (a === null || b === null) return a === b;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && listEquals(a, b);
  if (a instanceof CelMap) {
    if (!(b instanceof CelMap) || a.size !== b.size) return false;
    return a.pairs().every(([k, v]) => {
      const w = b.get(k);
      return w !== undefined && celEquals(v, w);
    });
  }
  if (a instanceof CelObject) {
    if (!(b instanceof CelObject) || a.fields.size !== b.fields.size) return false;
    return [...a.fields].every(([k, v]) => b.fields.has(k) && celEquals(v, b.fields.get(k)!));
  }
  if (a instanceof Uint8Array) return b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  if (a instanceof Duration) return b instanceof Duration && a.ns === b.ns;
  if (a instanceof Timestamp) return b instanceof Timestamp && a.ns === b.ns;
  if (a instanceof TypeValue) return b instanceof TypeValue && a.name === b.name;
  if (a instanceof Optional) {
    if (!(b instanceof Optional)) return false;
    return a.value === undefined || b.value === undefined ? a.value === b.value : celEquals(a.value, b.value);
  }
  if (a instanceof Opaque) return b instanceof Opaque && a.typeName === b.typeName && a.equals(b);
  return false;
}

/** Ordering for <, <=, >, >=: numbers across types, strings, bytes, bools, durations, timestamps. */
export function celCompare(a: CelValue, b: CelValue): number {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return compareNumbers(na, nb);
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length - b.length;
  }
  if (a instanceof Duration && b instanceof Duration) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  if (a instanceof Timestamp && b instanceof Timestamp) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  if (a instanceof Opaque && b instanceof Opaque && 'compare' in a && a.typeName === b.typeName) {
    return (a as Opaque & { compare(o: Opaque): number }).compare(b);
  }
  throw new CelError('no such overload');
}

/** Strings order by code point, as Go compares UTF-8 bytes. */
export function compareStrings(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (c) return c < 0 ? -1 : 1;
  }
  return x.length - y.length;
}

/** The length of a string in code points, as CEL's size(). */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** CEL's string(x) and the format of values in messages. */
export function formatValue(v: CelValue): string {
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return formatDouble(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  if (v instanceof UInt) return String(v.v);
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (v instanceof Duration) return formatDuration(v);
  if (v instanceof Timestamp) return formatTimestamp(v);
  if (v instanceof TypeValue) return v.name;
  if (Array.isArray(v)) return `[${v.map(quoted).join(', ')}]`;
  if (v instanceof CelMap) return `{${v.pairs().map(([k, x]) => `${quoted(k)}: ${quoted(x)}`).join(', ')}}`;
  if (v instanceof Optional) return v.value === undefined ? 'optional.none()' : `optional.of(${quoted(v.value)})`;
  if (v instanceof CelObject) return `{${[...v.fields].map(([k, x]) => `${k}: ${quoted(x)}`).join(', ')}}`;
  return String(v);
}

function quoted(v: CelValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : formatValue(v);
}

/** A double as Go's %g (shortest digits; an exponent below -4 or from 6 on) in CEL's string() conversion. */
export function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  const [mantissa, e] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

const units: [string, bigint][] = [
  ['h', 3600_000_000_000n],
  ['m', 60_000_000_000n],
  ['s', 1_000_000_000n],
  ['ms', 1_000_000n],
  ['us', 1_000n],
  ['µs', 1_000n],
  ['μs', 1_000n],
  ['ns', 1n],
];

/** Parses a Go duration string ("1h30m", "-1.5s", "300ms"). */
export function parseDuration(s: string): Duration {
  const bad = () => new CelError(`invalid duration argument`);
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return new Duration(0n);
  if (!rest) throw bad();
  let total = 0n;
  while (rest) {
    const m = /^(\d*)(?:\.(\d*))?(h|ms|us|µs|μs|ns|m|s)/.exec(rest);
    if (!m || (!m[1] && !m[2])) throw bad();
    const unit = units.find((u) => u[0] === m[3])![1];
    total += BigInt(m[1] || '0') * unit;
    if (m[2]) total += (BigInt(m[2]) * unit) / 10n ** BigInt(m[2].length);
    rest = rest.slice(m[0].length);
  }
  if (total > MAX_INT) throw bad();
  return new Duration(neg ? -total : total);
}

/** A duration as CEL's string() prints it: seconds with a fraction, "1.5s". */
export function formatDuration(d: Duration): string {
  const neg = d.ns < 0n;
  const abs = neg ? -d.ns : d.ns;
  const secs = abs / 1_000_000_000n;
  const frac = abs % 1_000_000_000n;
  const fracText = frac ? `.${String(frac).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${neg ? '-' : ''}${secs}${fracText}s`;
}

/** Parses an RFC 3339 timestamp. */
export function parseTimestamp(s: string): Timestamp {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new CelError(`invalid timestamp "${s}"`);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (Number.isNaN(ms) || +m[2] > 12 || +m[3] > 31 || +m[4] > 23 || +m[5] > 59 || +m[6] > 60) throw new CelError(`invalid timestamp "${s}"`);
  let ns = BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0') || '0');
  if (m[8] !== 'Z' && m[8] !== 'z') {
    const sign = m[8][0] === '-' ? -1n : 1n;
    const [h, mi] = m[8].slice(1).split(':').map(BigInt);
    ns -= sign * (h * 3600n + mi * 60n) * 1_000_000_000n;
  }
  return checkTimestamp(ns);
}

/** A date ("2006-01-02") as a timestamp at midnight UTC, as upstream's format: date fields. */
export function parseDate(s: string): Timestamp {
  return parseTimestamp(`${s}T00:00:00Z`);
}

const MIN_TS = -62135596800n * 1_000_000_000n; // 0001-01-01T00:00:00Z
const MAX_TS = 253402300799n * 1_000_000_000n + 999_999_999n; // 9999-12-31T23:59:59.999999999Z

export function checkTimestamp(ns: bigint): Timestamp {
  if (ns < MIN_TS || ns > MAX_TS) throw new CelError('timestamp overflow');
  return new Timestamp(ns);
}

export function formatTimestamp(t: Timestamp): string {
  const ms = Number(t.ns / 1_000_000n - (t.ns % 1_000_000n < 0n ? 1n : 0n));
  const frac = ((t.ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const base = new Date(ms).toISOString().slice(0, 19);
  const fracText = frac ? `.${String(frac).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${base}${fracText}Z`;
}
