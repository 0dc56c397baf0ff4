// cel-go's strings extension at the version Kubernetes 1.32 uses (v2):
// charAt, indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split,
// substring, trim, join, format and strings.quote. Indexes count code points.
import { define, lengthCost, member, global } from './functions.js';
import { T } from './types.js';
import { CelError, CelMap, formatDouble, formatValue, UInt, type CelValue } from './values.js';

const cps = (v: CelValue) => [...(v as string)];
const int = (v: CelValue) => Number(v as bigint);
const outOfRange = (i: number) => new CelError(`index out of range: ${i}`);
const cost = (a: CelValue) => lengthCost(a);

function indexOf(s: string[], sub: string[], from: number, last: boolean): bigint {
  if (from < 0 || from > s.length) throw outOfRange(from);
  if (last) {
    for (let i = Math.min(from, s.length - sub.length); i >= 0; i--) if (sub.every((c, j) => s[i + j] === c)) return BigInt(i);
  } else {
    for (let i = from; i + sub.length <= s.length; i++) if (sub.every((c, j) => s[i + j] === c)) return BigInt(i);
  }
  return -1n;
}

function substring(s: string[], start: number, end: number): string {
  if (start < 0 || start > s.length) throw outOfRange(start);
  if (end < 0 || end > s.length) throw outOfRange(end);
  if (start > end) throw new CelError(`invalid substring range. start: ${start}, end: ${end}`);
  return s.slice(start, end).join('');
}

function split(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const parts = sep === '' ? [...s] : s.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  const head = parts.slice(0, n - 1);
  return [...head, parts.slice(n - 1).join(sep)];
}

function replace(s: string, from: string, to: string, n: number): string {
  if (n < 0) return from === '' ? [...s].map((c) => to + c).join('') + to : s.split(from).join(to);
  let out = '';
  let rest = s;
  for (let i = 0; i < n; i++) {
    const at = rest.indexOf(from);
    if (at < 0) break;
    out += rest.slice(0, at) + to;
    rest = rest.slice(at + from.length);
    if (from === '') {
      out += [...rest][0] ?? '';
      rest = rest.slice(([...rest][0] ?? '').length);
    }
  }
  return out + rest;
}

const S = T.string;
define(
  'charAt',
  member('string_char_at_int', [S, T.int], S, (s, i) => {
    const c = cps(s);
    if (int(i) < 0 || int(i) > c.length) throw outOfRange(int(i));
    return c[int(i)] ?? '';
  }),
);
define(
  'indexOf',
  member('string_index_of_string', [S, S], T.int, (s, sub) => indexOf(cps(s), cps(sub), 0, false), cost),
  member('string_index_of_string_int', [S, S, T.int], T.int, (s, sub, i) => indexOf(cps(s), cps(sub), int(i), false), cost),
);
define(
  'lastIndexOf',
  member('string_last_index_of_string', [S, S], T.int, (s, sub) => indexOf(cps(s), cps(sub), cps(s).length, true), cost),
  member('string_last_index_of_string_int', [S, S, T.int], T.int, (s, sub, i) => indexOf(cps(s), cps(sub), int(i), true), cost),
);
define('lowerAscii', member('string_lower_ascii', [S], S, (s) => (s as string).replace(/[A-Z]/g, (c) => c.toLowerCase()), cost));
define('upperAscii', member('string_upper_ascii', [S], S, (s) => (s as string).replace(/[a-z]/g, (c) => c.toUpperCase()), cost));
define(
  'replace',
  member('string_replace_string_string', [S, S, S], S, (s, a, b) => replace(s as string, a as string, b as string, -1), cost),
  member('string_replace_string_string_int', [S, S, S, T.int], S, (s, a, b, n) => replace(s as string, a as string, b as string, int(n)), cost),
);
define(
  'split',
  member('string_split_string', [S, S], T.list(S), (s, sep) => split(s as string, sep as string, -1), cost),
  member('string_split_string_int', [S, S, T.int], T.list(S), (s, sep, n) => split(s as string, sep as string, int(n)), cost),
);
define(
  'substring',
  member('string_substring_int', [S, T.int], S, (s, a) => substring(cps(s), int(a), cps(s).length), cost),
  member('string_substring_int_int', [S, T.int, T.int], S, (s, a, b) => substring(cps(s), int(a), int(b)), cost),
);
define('trim', member('string_trim', [S], S, (s) => (s as string).replace(/^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/gu, ''), cost));
define(
  'join',
  member('list_join', [T.list(S)], S, (l) => (l as string[]).join(''), cost),
  member('list_join_string', [T.list(S), S], S, (l, sep) => (l as string[]).join(sep as string), cost),
);
define('strings.quote', global('strings_quote', [S], S, (s) => JSON.stringify(s), cost));

/** "%s is %d".format([a, b]): the verbs %s %d %f %e %x %X %o %b (with an optional precision) and %%. */
function format(fmt: string, args: CelValue[]): string {
  let i = 0;
  return fmt.replace(/%(?:\.(\d+))?([sdfeEoxXb%])/g, (_m, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) throw new CelError(`index ${i} out of range`);
    const v = args[i++];
    const p = precision === undefined ? 6 : Number(precision);
    switch (verb) {
      case 's':
        return typeof v === 'string' ? v : typeof v === 'number' ? formatDouble(v) : Array.isArray(v) || v instanceof CelMap ? formatValue(v) : formatValue(v);
      case 'd':
        if (typeof v === 'bigint') return String(v);
        if (v instanceof UInt) return String(v.v);
        throw new CelError(`error during formatting: decimal clause can only be used on integers, was given ${typeof v === 'number' ? 'double' : 'string'}`);
      case 'f':
      case 'e':
      case 'E': {
        const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v instanceof UInt ? Number(v.v) : NaN;
        if (Number.isNaN(n) && typeof v !== 'number') throw new CelError('error during formatting: fixed-point clause can only be used on doubles');
        if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
        if (verb === 'f') return n.toFixed(p);
        const [m, e] = n.toExponential(p).split('e');
        const text = `${m}e${e[0] === '-' ? '-' : '+'}${e.replace(/^[-+]/, '').padStart(2, '0')}`;
        return verb === 'E' ? text.toUpperCase() : text;
      }
      default: {
        const base = verb === 'o' ? 8 : verb === 'b' ? 2 : 16;
        let out: string;
        if (typeof v === 'bigint') out = v < 0n ? `-${(-v).toString(base)}` : v.toString(base);
        else if (v instanceof UInt) out = v.v.toString(base);
        else if (base === 16 && (typeof v === 'string' || v instanceof Uint8Array)) out = Buffer.from(typeof v === 'string' ? Buffer.from(v) : v).toString('hex');
        else throw new CelError(`error during formatting: only integers${base === 16 ? ', byte buffers, and strings' : ''} can be formatted as ${verb === 'o' ? 'octal' : verb === 'b' ? 'binary' : 'hex'}`);
        return verb === 'X' ? out.toUpperCase() : out;
      }
    }
  });
}
define('format', member('string_format', [S, T.list(T.dyn)], S, (s, l) => format(s as string, l as CelValue[]), cost));
