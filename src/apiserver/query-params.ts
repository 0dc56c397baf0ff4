// Query parameters read as kube-apiserver's parameter codec reads them into
// ListOptions, GetOptions, DeleteOptions, PodLogOptions, … (apimachinery's
// string-slice conversions): the first value of a repeated parameter counts.
import { errors } from '../api/status.js';

/**
 * A boolean parameter. Only its absence, "0" or "false" in any case is false;
 * every other value, the empty string included, is true — so the Python
 * client's `watch=True` watches, as it does against kube-apiserver.
 */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return v !== '0' && v.toLowerCase() !== 'false';
}

const int64Max = 2n ** 63n - 1n;
const int64Min = -(2n ** 63n);

/**
 * An int64 parameter (limit, timeoutSeconds, gracePeriodSeconds, …):
 * undefined when absent; a value strconv.ParseInt refuses is a 400 worded
 * as Go's error, which is what kube-apiserver answers.
 */
export function queryInt64(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n > int64Max || n < int64Min) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(n);
}
