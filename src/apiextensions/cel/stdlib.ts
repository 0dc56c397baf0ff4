// CEL's standard definitions (cel-spec langdef.md "Standard Definitions"):
// arithmetic with overflow checks, comparisons (with cross-type numeric
// comparisons, as Kubernetes enables them), equality, `in`, size, the
// string predicates, the type conversions, the timestamp and duration
// accessors, and the optional type's functions.
import { define, global, lengthCost, member } from './functions.js';
import { T, type CelType } from './types.js';
import {
  celCompare, celEquals, CelError, CelMap, checkInt, listSemantics, mapListKey, checkTimestamp, checkUint, codePoints, Duration, formatValue, MAX_INT, MIN_INT,
  Optional, parseDuration, parseTimestamp, Timestamp, TypeValue, typeName, UInt, type CelValue,
} from './values.js';
import { compileRegex } from './regex.js';

const A = T.param('A');
const B = T.param('B');
const num = (v: CelValue) => v as bigint;
const u = (v: CelValue) => (v as UInt).v;
const dbl = (v: CelValue) => v as number;
const dur = (v: CelValue) => (v as Duration).ns;
const ts = (v: CelValue) => (v as Timestamp).ns;

/** List concatenation; set lists add the elements not already there, map lists merge by key (the right side's items win). */
function concat(a: CelValue[], b: CelValue[]): CelValue[] {
  const sem = listSemantics.get(a) ?? listSemantics.get(b);
  if (!sem) return [...a, ...b];
  let out: CelValue[];
  if (sem.kind === 'set') {
    out = [...a];
    for (const x of b) if (!out.some((y) => celEquals(x, y))) out.push(x);
  } else {
    out = [...a];
    const at = new Map(out.map((x, i) => [mapListKey(x, sem.keys), i]));
    for (const x of b) {
      const i = at.get(mapListKey(x, sem.keys));
      if (i === undefined) out.push(x);
      else out[i] = x;
    }
  }
  listSemantics.set(out, sem);
  return out;
}

function checkDuration(ns: bigint): Duration {
  if (ns > MAX_INT || ns < MIN_INT) throw new CelError('duration overflow');
  return new Duration(ns);
}

// Arithmetic.
define(
  '_+_',
  global('add_int64', [T.int, T.int], T.int, (a, b) => checkInt(num(a) + num(b))),
  global('add_uint64', [T.uint, T.uint], T.uint, (a, b) => checkUint(u(a) + u(b))),
  global('add_double', [T.double, T.double], T.double, (a, b) => dbl(a) + dbl(b)),
  global('add_string', [T.string, T.string], T.string, (a, b) => (a as string) + (b as string), (a, b) => lengthCost(a) + lengthCost(b)),
  global('add_bytes', [T.bytes, T.bytes], T.bytes, (a, b) => new Uint8Array([...(a as Uint8Array), ...(b as Uint8Array)])),
  global('add_list', [T.list(A), T.list(A)], T.list(A), (a, b) => concat(a as CelValue[], b as CelValue[]), (a, b) => lengthCost(a) + lengthCost(b)),
  global('add_duration_duration', [T.duration, T.duration], T.duration, (a, b) => checkDuration(dur(a) + dur(b))),
  global('add_timestamp_duration', [T.timestamp, T.duration], T.timestamp, (a, b) => checkTimestamp(ts(a) + dur(b))),
  global('add_duration_timestamp', [T.duration, T.timestamp], T.timestamp, (a, b) => checkTimestamp(dur(a) + ts(b))),
);
define(
  '_-_',
  global('subtract_int64', [T.int, T.int], T.int, (a, b) => checkInt(num(a) - num(b))),
  global('subtract_uint64', [T.uint, T.uint], T.uint, (a, b) => checkUint(u(a) - u(b))),
  global('subtract_double', [T.double, T.double], T.double, (a, b) => dbl(a) - dbl(b)),
  global('subtract_duration_duration', [T.duration, T.duration], T.duration, (a, b) => checkDuration(dur(a) - dur(b))),
  global('subtract_timestamp_duration', [T.timestamp, T.duration], T.timestamp, (a, b) => checkTimestamp(ts(a) - dur(b))),
  global('subtract_timestamp_timestamp', [T.timestamp, T.timestamp], T.duration, (a, b) => checkDuration(ts(a) - ts(b))),
);
define(
  '_*_',
  global('multiply_int64', [T.int, T.int], T.int, (a, b) => checkInt(num(a) * num(b))),
  global('multiply_uint64', [T.uint, T.uint], T.uint, (a, b) => checkUint(u(a) * u(b))),
  global('multiply_double', [T.double, T.double], T.double, (a, b) => dbl(a) * dbl(b)),
);
define(
  '_/_',
  global('divide_int64', [T.int, T.int], T.int, (a, b) => {
    if (num(b) === 0n) throw new CelError('division by zero');
    return checkInt(num(a) / num(b));
  }),
  global('divide_uint64', [T.uint, T.uint], T.uint, (a, b) => {
    if (u(b) === 0n) throw new CelError('division by zero');
    return new UInt(u(a) / u(b));
  }),
  global('divide_double', [T.double, T.double], T.double, (a, b) => dbl(a) / dbl(b)),
);
define(
  '_%_',
  global('modulo_int64', [T.int, T.int], T.int, (a, b) => {
    if (num(b) === 0n) throw new CelError('modulus by zero');
    if (num(a) === MIN_INT && num(b) === -1n) throw new CelError('integer overflow');
    return num(a) % num(b);
  }),
  global('modulo_uint64', [T.uint, T.uint], T.uint, (a, b) => {
    if (u(b) === 0n) throw new CelError('modulus by zero');
    return new UInt(u(a) % u(b));
  }),
);
define(
  '-_',
  global('negate_int64', [T.int], T.int, (a) => checkInt(-num(a))),
  global('negate_double', [T.double], T.double, (a) => -dbl(a)),
);

// Comparisons: same-type ones and, across int, uint and double, the numeric ones.
const ordered: [string, CelType][] = [
  ['int64', T.int], ['uint64', T.uint], ['double', T.double], ['string', T.string], ['bytes', T.bytes], ['bool', T.bool],
  ['duration', T.duration], ['timestamp', T.timestamp],
];
const numbers: [string, CelType][] = [['int64', T.int], ['uint64', T.uint], ['double', T.double]];
for (const [op, name, test] of [
  ['_<_', 'less', (c: number) => c < 0],
  ['_<=_', 'less_equals', (c: number) => c <= 0],
  ['_>_', 'greater', (c: number) => c > 0],
  ['_>=_', 'greater_equals', (c: number) => c >= 0],
] as const) {
  for (const [n, t] of ordered) define(op, global(`${name}_${n}`, [t, t], T.bool, (a, b) => test(celCompare(a, b))));
  for (const [n1, t1] of numbers) {
    for (const [n2, t2] of numbers) if (n1 !== n2) define(op, global(`${name}_${n1}_${n2}`, [t1, t2], T.bool, (a, b) => test(celCompare(a, b))));
  }
}
define('_==_', global('equals', [A, A], T.bool, (a, b) => celEquals(a, b), (a, b) => Math.min(lengthCost(a), lengthCost(b))));
define('_!=_', global('not_equals', [A, A], T.bool, (a, b) => !celEquals(a, b), (a, b) => Math.min(lengthCost(a), lengthCost(b))));
define(
  '@in',
  global('in_list', [A, T.list(A)], T.bool, (a, l) => (l as CelValue[]).some((x) => celEquals(a, x)), (_a, l) => lengthCost(l)),
  global('in_map', [A, T.map(A, B)], T.bool, (a, m) => (m as CelMap).has(a)),
);

// size
const sizeOf = (v: CelValue): CelValue => {
  if (typeof v === 'string') return BigInt(codePoints(v));
  if (v instanceof Uint8Array || Array.isArray(v)) return BigInt(v.length);
  return BigInt((v as CelMap).size);
};
for (const [n, t] of [['string', T.string], ['bytes', T.bytes], ['list', T.list(A)], ['map', T.map(A, B)]] as const) {
  define('size', global(`size_${n}`, [t], T.int, sizeOf), member(`${n}_size`, [t], T.int, sizeOf));
}

// Strings.
define('contains', member('contains_string', [T.string, T.string], T.bool, (a, b) => (a as string).includes(b as string), (a, b) => lengthCost(a) + lengthCost(b)));
define('startsWith', member('starts_with_string', [T.string, T.string], T.bool, (a, b) => (a as string).startsWith(b as string), (_a, b) => lengthCost(b)));
define('endsWith', member('ends_with_string', [T.string, T.string], T.bool, (a, b) => (a as string).endsWith(b as string), (_a, b) => lengthCost(b)));
const matches = (s: CelValue, re: CelValue) => compileRegex(re as string).test(s as string);
define('matches', global('matches', [T.string, T.string], T.bool, matches, (s) => lengthCost(s)), member('matches_string', [T.string, T.string], T.bool, matches, (s) => lengthCost(s)));

// Conversions.
const conversionError = (to: string) => new CelError(`type conversion error from 'string' to '${to}'`);
function toInt(v: CelValue): CelValue {
  if (typeof v === 'bigint') return v;
  if (v instanceof UInt) return checkInt(v.v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v >= 2 ** 63 || v < -(2 ** 63)) throw new CelError('integer overflow');
    return BigInt(Math.trunc(v));
  }
  if (typeof v === 'string') {
    if (!/^[+-]?\d+$/.test(v)) throw conversionError('int');
    const n = BigInt(v);
    if (n > MAX_INT || n < MIN_INT) throw conversionError('int');
    return n;
  }
  if (v instanceof Timestamp) return v.ns / 1_000_000_000n - (v.ns % 1_000_000_000n < 0n ? 1n : 0n);
  return (v as Duration).ns;
}
function toUint(v: CelValue): CelValue {
  if (v instanceof UInt) return v;
  if (typeof v === 'bigint') return checkUint(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0 || v >= 2 ** 64) throw new CelError('unsigned integer overflow');
    return new UInt(BigInt(Math.trunc(v)));
  }
  if (!/^\+?\d+$/.test(v as string)) throw conversionError('uint');
  const n = BigInt(v as string);
  if (n >= 1n << 64n) throw conversionError('uint');
  return new UInt(n);
}
function toDouble(v: CelValue): CelValue {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof UInt) return Number(v.v);
  const s = (v as string).trim() === v ? (v as string) : '';
  const n = /^[+-]?(inf(inity)?|nan)$/i.test(s) ? Number(s.replace(/inf(inity)?/i, 'Infinity').replace(/nan/i, 'NaN')) : s && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) ? Number(s) : NaN;
  if (Number.isNaN(n) && !/nan/i.test(s)) throw conversionError('double');
  return n;
}
/** A string parsed as a duration or timestamp; failures are cel-go's conversion error (overflow stays overflow). */
function stringTo(parse: (s: string) => CelValue, v: CelValue, to: string): CelValue {
  try {
    return parse(v as string);
  } catch (e) {
    if (e instanceof CelError && e.message === 'timestamp overflow') throw e;
    throw conversionError(to);
  }
}

function toBool(v: CelValue): CelValue {
  if (typeof v === 'boolean') return v;
  const s = v as string;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw conversionError('bool');
}
function toString(v: CelValue): CelValue {
  if (v instanceof Uint8Array) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(v);
    } catch {
      throw new CelError('invalid UTF-8 in bytes, cannot convert to string');
    }
  }
  return formatValue(v);
}
define('int', ...(['int', 'uint', 'double', 'string', 'timestamp', 'duration'] as const).map((k) => global(`${k}_to_int64`, [T[k]], T.int, toInt)));
define('uint', ...(['uint', 'int', 'double', 'string'] as const).map((k) => global(`${k}_to_uint64`, [T[k]], T.uint, toUint)));
define('double', ...(['double', 'int', 'uint', 'string'] as const).map((k) => global(`${k}_to_double`, [T[k]], T.double, toDouble)));
define('bool', ...(['bool', 'string'] as const).map((k) => global(`${k}_to_bool`, [T[k]], T.bool, toBool)));
define(
  'string',
  ...(['string', 'int', 'uint', 'double', 'bool', 'bytes', 'timestamp', 'duration'] as const).map((k) => global(`${k}_to_string`, [T[k]], T.string, toString)),
);
define('bytes', global('bytes_to_bytes', [T.bytes], T.bytes, (v) => v), global('string_to_bytes', [T.string], T.bytes, (v) => new TextEncoder().encode(v as string)));
define('duration', global('duration_to_duration', [T.duration], T.duration, (v) => v), global('string_to_duration', [T.string], T.duration, (v) => stringTo(parseDuration, v, 'google.protobuf.Duration')));
define(
  'timestamp',
  global('timestamp_to_timestamp', [T.timestamp], T.timestamp, (v) => v),
  global('string_to_timestamp', [T.string], T.timestamp, (v) => stringTo(parseTimestamp, v, 'google.protobuf.Timestamp')),
  global('int64_to_timestamp', [T.int], T.timestamp, (v) => checkTimestamp(num(v) * 1_000_000_000n)),
);
define('dyn', global('to_dyn', [A], T.dyn, (v) => v));
define('type', global('type', [A], T.type(A), (v) => new TypeValue(typeName(v))));

// Timestamp and duration accessors, in UTC or the time zone given.
function zoned(t: CelValue, tz?: CelValue): Date {
  const ms = Number((t as Timestamp).ns / 1_000_000n);
  return new Date(ms + offsetMinutes(ms, tz as string | undefined) * 60_000);
}
function offsetMinutes(ms: number, tz?: string): number {
  if (!tz || tz === 'UTC') return 0;
  const fixed = /^([+-])?(\d{2}):(\d{2})$/.exec(tz);
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3]));
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(new Date(ms));
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(parts.find((p) => p.type === 'timeZoneName')?.value ?? '');
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  } catch {
    throw new CelError(`unknown time zone ${tz}`);
  }
}
const startOfYear = (d: Date) => Date.UTC(d.getUTCFullYear(), 0, 1);
const getters: [string, (d: Date) => number][] = [
  ['getFullYear', (d) => d.getUTCFullYear()],
  ['getMonth', (d) => d.getUTCMonth()],
  ['getDate', (d) => d.getUTCDate()],
  ['getDayOfMonth', (d) => d.getUTCDate() - 1],
  ['getDayOfWeek', (d) => d.getUTCDay()],
  ['getDayOfYear', (d) => Math.floor((d.getTime() - startOfYear(d)) / 86_400_000)],
  ['getHours', (d) => d.getUTCHours()],
  ['getMinutes', (d) => d.getUTCMinutes()],
  ['getSeconds', (d) => d.getUTCSeconds()],
  ['getMilliseconds', (d) => d.getUTCMilliseconds()],
];
for (const [name, get] of getters) {
  define(
    name,
    member(`timestamp_to_${name}`, [T.timestamp], T.int, (t) => BigInt(get(zoned(t)))),
    member(`timestamp_to_${name}_with_tz`, [T.timestamp, T.string], T.int, (t, tz) => BigInt(get(zoned(t, tz)))),
  );
}
const perUnit: Record<string, bigint> = { getHours: 3600_000_000_000n, getMinutes: 60_000_000_000n, getSeconds: 1_000_000_000n, getMilliseconds: 1_000_000n };
for (const [name, unit] of Object.entries(perUnit)) define(name, member(`duration_to_${name}`, [T.duration], T.int, (d) => dur(d) / unit));

// Optional values.
const isZero = (v: CelValue): boolean =>
  v === null || v === 0n || v === 0 || v === '' || v === false || (v instanceof UInt && v.v === 0n) || ((v instanceof Uint8Array || Array.isArray(v)) && v.length === 0) ||
  (v instanceof CelMap && v.size === 0) || (v instanceof Duration && v.ns === 0n) || (v instanceof Timestamp && v.ns === 0n);
const opt = (v: CelValue) => v as Optional;
define('optional.of', global('optional_of', [A], T.optional(A), (v) => new Optional(v)));
define('optional.ofNonZeroValue', global('optional_ofNonZeroValue', [A], T.optional(A), (v) => new Optional(isZero(v) ? undefined : v)));
// optional.none()'s element type is free: it joins with any other ("[?optional.none(), ?optional.of(1)]").
define('optional.none', global('optional_none', [], T.optional(T.param('_free')), () => new Optional(undefined)));
define('hasValue', member('optional_hasValue', [T.optional(A)], T.bool, (o) => opt(o).hasValue));
define(
  'value',
  member('optional_value', [T.optional(A)], A, (o) => {
    if (!opt(o).hasValue) throw new CelError('optional.none() dereference');
    return opt(o).value!;
  }),
);
define('orValue', member('optional_orValue_value', [T.optional(A), A], A, (o, v) => (opt(o).hasValue ? opt(o).value! : v)));
define('or', member('optional_or_optional', [T.optional(A), T.optional(A)], T.optional(A), (o, p) => (opt(o).hasValue ? o : p)));
