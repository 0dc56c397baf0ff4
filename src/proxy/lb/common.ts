// Small helpers shared by the schedulers, each the counterpart of a kernel idiom.
import type { Backend } from './types.js';

/** IPVS weights are non-negative integers; anything else counts as the nearest valid weight below. */
export function weightOf(b: Backend): number {
  return b.weight > 0 ? Math.floor(b.weight) : 0;
}

/**
 * ip_vs_dest_conn_overhead(): an active connection is reckoned 256 times the
 * cost of an inactive one.
 */
export function connOverhead(b: Backend): number {
  return b.activeConns * 256 + b.inactiveConns;
}

/** Quiesced (weight 0) or over its upper threshold: the kernel's is_unavailable(). */
export function isUnavailable(b: Backend): boolean {
  return weightOf(b) <= 0 || b.overloaded === true;
}

/**
 * Identity of a destination list for stateful schedulers: the kernel rebuilds
 * their state on add_dest/del_dest/upd_dest, i.e. when ids, order or weights
 * change, but not when connection counts or the overload flag do.
 */
export function listKey(backends: readonly Backend[]): string {
  return backends.map((b) => `${b.id}\u0000${weightOf(b)}`).join('\u0001');
}

export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
