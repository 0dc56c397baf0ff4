// The Kubernetes CEL libraries CRD rules commonly use (k8s.io/apiserver
// pkg/cel/library): lists (isSorted, sum, min, max, indexOf, lastIndexOf),
// regex (find, findAll), URLs (url, isURL and the accessors) and cel-go's
// sets extension (sets.contains, sets.equivalent, sets.intersects).
import { define, global, lengthCost, member } from './functions.js';
import { compileRegex } from './regex.js';
import { T, type CelType } from './types.js';
import { celCompare, celEquals, CelError, CelMap, checkInt, checkUint, Duration, MAX_INT, MIN_INT, Opaque, UInt, type CelValue } from './values.js';

// Lists.
const comparable: [string, CelType][] = [
  ['int', T.int], ['uint', T.uint], ['double', T.double], ['bool', T.bool], ['duration', T.duration], ['timestamp', T.timestamp], ['string', T.string], ['bytes', T.bytes],
];
const zero: Record<string, CelValue> = { int: 0n, uint: new UInt(0n), double: 0, duration: new Duration(0n) };
const list = (v: CelValue) => v as CelValue[];
for (const [name, t] of comparable) {
  define('isSorted', member(`list_${name}_is_sorted_bool`, [T.list(t)], T.bool, (l) => list(l).every((x, i) => i === 0 || celCompare(list(l)[i - 1], x) <= 0), lengthCost));
  for (const [op, keep] of [['min', (c: number) => c < 0], ['max', (c: number) => c > 0]] as const) {
    define(
      op,
      member(`list_${name}_${op}_${name}`, [T.list(t)], t, (l) => {
        if (!list(l).length) throw new CelError(`${op} called on empty list`);
        return list(l).reduce((best, x) => (keep(celCompare(x, best)) ? x : best));
      }, lengthCost),
    );
  }
  if (name in zero) {
    define(
      'sum',
      member(`list_${name}_sum_${name}`, [T.list(t)], t, (l) => list(l).reduce((acc, x) => add(acc, x), zero[name]), lengthCost),
    );
  }
}
function add(a: CelValue, b: CelValue): CelValue {
  if (typeof a === 'bigint' && typeof b === 'bigint') return checkInt(a + b);
  if (a instanceof UInt && b instanceof UInt) return checkUint(a.v + b.v);
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (!(a instanceof Duration && b instanceof Duration)) throw new CelError('no such overload');
  const ns = (a as Duration).ns + (b as Duration).ns;
  if (ns > MAX_INT || ns < MIN_INT) throw new CelError('duration overflow');
  return new Duration(ns);
}
const A = T.param('A');
define('indexOf', member('list_a_index_of_int', [T.list(A), A], T.int, (l, x) => BigInt(list(l).findIndex((y) => celEquals(x, y))), lengthCost));
define('lastIndexOf', member('list_a_last_index_of_int', [T.list(A), A], T.int, (l, x) => BigInt(list(l).findLastIndex((y) => celEquals(x, y))), lengthCost));

// Regex.
define('find', member('string_find_string', [T.string, T.string], T.string, (s, re) => regexOf(re).exec(s as string)?.[0] ?? '', lengthCost));
define(
  'findAll',
  member('string_find_all_string', [T.string, T.string], T.list(T.string), (s, re) => findAll(s as string, re, -1), lengthCost),
  member('string_find_all_string_int', [T.string, T.string, T.int], T.list(T.string), (s, re, n) => findAll(s as string, re, Number(n as bigint)), lengthCost),
);
function regexOf(re: CelValue): RegExp {
  try {
    return compileRegex(re as string);
  } catch (e) {
    throw new CelError(`Illegal regex: ${(e as Error).message.replace(/^given regex is invalid: /, '')}`);
  }
}
function findAll(s: string, re: CelValue, n: number): string[] {
  if (n === 0) return [];
  const g = new RegExp(regexOf(re).source, regexOf(re).flags + 'g');
  const out: string[] = [];
  for (const m of s.matchAll(g)) {
    if (n > 0 && out.length >= n) break;
    out.push(m[0]);
  }
  return out;
}

// URLs, parsed as Go's url.ParseRequestURI accepts them: absolute URLs or absolute paths.
export class URLValue extends Opaque {
  readonly typeName = 'kubernetes.URL';
  constructor(
    readonly scheme: string,
    readonly host: string,
    readonly path: string,
    readonly query: string,
    readonly text: string,
  ) {
    super();
  }
  equals(other: Opaque): boolean {
    return other instanceof URLValue && other.text === this.text;
  }
}
const URL_T = T.opaque('kubernetes.URL');
function parseURL(s: string): URLValue {
  const m = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#.*)?$/.exec(s);
  if (!m || (!m[1] && !s.startsWith('/')) || /[\s]/.test(s) || (m[1] && !m[2] && !m[3].startsWith('/'))) {
    throw new CelError(`URL parse error during conversion from string: parse ${JSON.stringify(s)}: invalid URI for request`);
  }
  return new URLValue(m[1] ?? '', m[2] ?? '', m[3], m[4] ?? '', s);
}
const urlOf = (v: CelValue) => v as URLValue;
function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  return host.replace(/:\d*$/, '');
}
define('url', global('string_to_url', [T.string], URL_T, (s) => parseURL(s as string)));
define(
  'isURL',
  global('is_url_string', [T.string], T.bool, (s) => {
    try {
      parseURL(s as string);
      return true;
    } catch {
      return false;
    }
  }),
);
define('getScheme', member('url_get_scheme', [URL_T], T.string, (u) => urlOf(u).scheme));
define('getHost', member('url_get_host', [URL_T], T.string, (u) => urlOf(u).host));
define('getHostname', member('url_get_hostname', [URL_T], T.string, (u) => hostname(urlOf(u).host)));
define('getPort', member('url_get_port', [URL_T], T.string, (u) => /:(\d*)$/.exec(urlOf(u).host.replace(/^\[.*\]/, ''))?.[1] ?? ''));
define('getEscapedPath', member('url_get_escaped_path', [URL_T], T.string, (u) => urlOf(u).path));
define(
  'getQuery',
  member('url_get_query', [URL_T], T.map(T.string, T.list(T.string)), (u) => {
    const m = new CelMap();
    for (const [k, v] of new URLSearchParams(urlOf(u).query)) m.set(k, [...((m.get(k) as string[] | undefined) ?? []), v]);
    return m;
  }),
);

// Sets.
define('sets.contains', global('list_sets_contains_list', [T.list(A), T.list(A)], T.bool, (a, b) => list(b).every((x) => list(a).some((y) => celEquals(x, y))), lengthCost));
define(
  'sets.equivalent',
  global('list_sets_equivalent_list', [T.list(A), T.list(A)], T.bool, (a, b) =>
    list(b).every((x) => list(a).some((y) => celEquals(x, y))) && list(a).every((x) => list(b).some((y) => celEquals(x, y))), lengthCost),
);
define('sets.intersects', global('list_sets_intersects_list', [T.list(A), T.list(A)], T.bool, (a, b) => list(a).some((x) => list(b).some((y) => celEquals(x, y))), lengthCost));
