// The Kubernetes quantity library: quantity(), isQuantity() and the
// Quantity accessors and arithmetic. A quantity is held exactly as a
// fraction num/den (den a power of ten), so "1Ki", "1.5G" and "100m"
// compare and add without rounding.
import { define, global, member } from './functions.js';
import { T } from './types.js';
import { CelError, MAX_INT, MIN_INT, Opaque, type CelValue } from './values.js';

const pattern = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const binary: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const decimal: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

export class Quantity extends Opaque {
  readonly typeName = 'kubernetes.Quantity';
  constructor(
    readonly num: bigint,
    readonly den: bigint,
  ) {
    super();
  }
  compare(o: Quantity): number {
    const a = this.num * o.den;
    const b = o.num * this.den;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  equals(other: Opaque): boolean {
    return other instanceof Quantity && this.compare(other) === 0;
  }
  plus(o: Quantity, sign = 1n): Quantity {
    const den = this.den > o.den ? this.den : o.den;
    return new Quantity((this.num * den) / this.den + sign * ((o.num * den) / o.den), den);
  }
}

export function parseQuantity(s: string): Quantity {
  const m = new RegExp(pattern).exec(s);
  const number = m && /^[+-]?(\d+\.?\d*|\.\d+)$/.exec(m[1]);
  const suffix = m?.[2] ?? '';
  let scale: { mul: bigint; exp: number } | undefined;
  if (suffix in binary) scale = { mul: binary[suffix], exp: 0 };
  else if (suffix in decimal) scale = { mul: 1n, exp: decimal[suffix] };
  else if (/^[eE][-+]?\d+$/.test(suffix)) scale = { mul: 1n, exp: Number(suffix.slice(1)) };
  if (!m || !number || !scale) throw new CelError(`quantities must match the regular expression '${pattern}'`);
  const [int, frac = ''] = m[1].replace(/^[+-]/, '').split('.');
  let num = BigInt(`${int || '0'}${frac}`) * scale.mul;
  if (m[1].startsWith('-')) num = -num;
  const exp = scale.exp - frac.length;
  let den = 1n;
  if (exp >= 0) num *= 10n ** BigInt(exp);
  else den = 10n ** BigInt(-exp);
  return new Quantity(num, den);
}

const Q = T.opaque('kubernetes.Quantity');
const q = (v: CelValue) => v as Quantity;
const fromInt = (v: CelValue) => new Quantity(v as bigint, 1n);
define('quantity', global('string_to_quantity', [T.string], Q, (s) => parseQuantity(s as string)));
define(
  'isQuantity',
  global('is_quantity_string', [T.string], T.bool, (s) => {
    try {
      parseQuantity(s as string);
      return true;
    } catch {
      return false;
    }
  }),
);
define('sign', member('quantity_sign', [Q], T.int, (a) => BigInt(q(a).num > 0n ? 1 : q(a).num < 0n ? -1 : 0)));
define('isGreaterThan', member('quantity_is_greater_than', [Q, Q], T.bool, (a, b) => q(a).compare(q(b)) > 0));
define('isLessThan', member('quantity_is_less_than', [Q, Q], T.bool, (a, b) => q(a).compare(q(b)) < 0));
define('compareTo', member('quantity_compare_to', [Q, Q], T.int, (a, b) => BigInt(q(a).compare(q(b)))));
define('asApproximateFloat', member('quantity_get_float', [Q], T.double, (a) => Number(q(a).num) / Number(q(a).den)));
define(
  'asInteger',
  member('quantity_get_int', [Q], T.int, (a) => {
    const { num, den } = q(a);
    const v = num / den;
    if (num % den !== 0n || v > MAX_INT || v < MIN_INT) throw new CelError('cannot convert value to integer');
    return v;
  }),
);
define('isInteger', member('quantity_is_integer', [Q], T.bool, (a) => q(a).num % q(a).den === 0n && q(a).num / q(a).den <= MAX_INT && q(a).num / q(a).den >= MIN_INT));
define('add', member('quantity_add', [Q, Q], Q, (a, b) => q(a).plus(q(b))), member('quantity_add_int', [Q, T.int], Q, (a, b) => q(a).plus(fromInt(b))));
define('sub', member('quantity_sub', [Q, Q], Q, (a, b) => q(a).plus(q(b), -1n)), member('quantity_sub_int', [Q, T.int], Q, (a, b) => q(a).plus(fromInt(b), -1n)));
