// Kubernetes resource quantities ("100m", "128Mi", "1e3", "2G"): whether a
// text is one, with resource.ParseQuantity's errors, and its value as a
// number, enough for QoS classes and the downward API's resourceFieldRef.

export const QUANTITY_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_SUFFIX_WRONG = "unable to parse quantity's suffix";

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * Why `text` is not a quantity, in ParseQuantity's words, or undefined when it
 * is one. The scan is upstream's: sign, digits, fraction, then a suffix of
 * [eEinumkKMGTP] letters with an optional signed exponent; the suffix must be
 * a known one (binary Ki…Ei, decimal n…E) or e/E and an exponent.
 */
export function quantityError(text: string): string | undefined {
  if (text === '') return QUANTITY_FORMAT_WRONG;
  if (text === '0') return undefined;
  let pos = 0;
  if (text[0] === '+' || text[0] === '-') pos++;
  const intStart = pos;
  while (isDigit(text[pos])) pos++;
  let digits = pos - intStart;
  if (text[pos] === '.') {
    pos++;
    const fracStart = pos;
    while (isDigit(text[pos])) pos++;
    digits += pos - fracStart;
  }
  if (digits === 0) return QUANTITY_FORMAT_WRONG;
  const suffixStart = pos;
  while (pos < text.length && 'eEinumkKMGTP'.includes(text[pos]!)) pos++;
  if (pos < text.length) {
    if (text[pos] === '-' || text[pos] === '+') pos++;
    while (isDigit(text[pos])) pos++;
    if (pos < text.length) return QUANTITY_FORMAT_WRONG;
  }
  const suffix = text.slice(suffixStart);
  if (Object.hasOwn(binary, suffix) || Object.hasOwn(decimal, suffix)) return undefined;
  if (/^[eE][+-]?\d+$/.test(suffix)) return undefined;
  return QUANTITY_SUFFIX_WRONG;
}

/** The quantity's value in base units (cores, bytes); undefined when it is not a quantity. */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return n * (binary[suffix] ?? decimal[suffix] ?? 1);
}
