// ip_vs_mh.c — Maglev hashing (Eisenbud et al., NSDI '16, section 3.4).
//
// Lookup table size: a prime chosen by CONFIG_IP_VS_MH_TAB_INDEX (default 12)
// from {251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071} at
// index TAB_INDEX - 8, so 4093 by default (251 needs TAB_INDEX 8).
//
// Each backend gets a permutation of the table positions: offset =
// h1 mod size, skip = h2 mod (size - 1) + 1, where h1/h2 hash
// ntohs(port) + ntohl(addr) of the backend. Backends then take turns, in list
// order, claiming their next free preferred position; a backend's turns per
// round are last_weight / gcd(last weights), shifted right so that the
// largest needs at most TAB_INDEX/2 bits, and at least 1 for a non-zero last
// weight. last_weight is the latest non-zero weight: quiescing a backend
// (weight 0) keeps its positions, so other clients do not move; a backend
// added with weight 0 gets none.
// A client maps to position h1(ntohs(sport) + ntohl(saddr)) mod size (sport
// only with the `port` option, the mh-port flag; IPv6 folded by XOR). An
// unavailable owner (weight 0 or overloaded) means no backend unless the
// `fallback` option (mh-fallback) is set: then positions
// h1(roffset + port + addr) mod size are tried for roffset = ihash, ihash+1...
//
// Hash: the kernel uses hsiphash with fixed keys (h1: both key words
// 2654435761, h2: both 2654446892). On 64-bit kernels hsiphash is
// SipHash-1-3 truncated to 32 bits over the little-endian u32, which is what
// hsiphashU32 computes, so tables and picks match an x86-64/arm64 kernel
// exactly. (32-bit kernels run HalfSipHash-1-3 and differ.)
import { foldAddress } from './addr.js';
import { gcd, isUnavailable, listKey, weightOf } from './common.js';
import { hsiphashU32, type SipKey } from './hash.js';
import type { Backend, Client, Scheduler } from './types.js';

export const MH_PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
export const MH_DEFAULT_TAB_INDEX = 12;

const HASH1: SipKey = { k0: 2654435761n, k1: 2654435761n };
const HASH2: SipKey = { k0: 2654446892n, k1: 2654446892n };

export interface MhOptions {
  /** IP_VS_SVC_F_SCHED_MH_FALLBACK: look further when the hashed backend is unavailable. */
  fallback?: boolean;
  /** IP_VS_SVC_F_SCHED_MH_PORT: include the client's source port in the hash. */
  port?: boolean;
  /** CONFIG_IP_VS_MH_TAB_INDEX, 8..17; default 12 (table size 4093). */
  tabIndex?: number;
}

function tabGeometry(tabIndex: number): { size: number; bits: number } {
  if (!Number.isInteger(tabIndex) || tabIndex < 8 || tabIndex > 17) {
    throw new RangeError(`mh tabIndex must be an integer from 8 to 17, got ${tabIndex}`);
  }
  return { size: MH_PRIMES[tabIndex - 8]!, bits: Math.floor(tabIndex / 2) };
}

/** ip_vs_mh_hashkey. */
export function mhHashKey(addrFold: number, port: number, key: SipKey, offset: number): number {
  return hsiphashU32(key, (offset + port + addrFold) >>> 0);
}

function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * ip_vs_mh_permutate + ip_vs_mh_populate: position -> index into `backends`
 * (-1 when no backend has a non-zero last weight). `lastWeights` defaults to
 * the current weights.
 */
export function mhLookupTable(
  backends: readonly Backend[],
  lastWeights: readonly number[] = backends.map(weightOf),
  tabIndex = MH_DEFAULT_TAB_INDEX,
): Int32Array {
  const { size, bits } = tabGeometry(tabIndex);
  const lookup = new Int32Array(size).fill(-1);
  // ip_vs_mh_reassign refuses more destinations than positions (-EINVAL).
  if (backends.length > size) return lookup;
  let g = 0;
  for (const w of lastWeights) if (w > 0) g = g > 0 ? gcd(w, g) : w;
  if (g < 1) return lookup;
  const mw = Math.floor(Math.max(...lastWeights) / g);
  const rshift = Math.max(0, fls(mw) - bits);

  const n = backends.length;
  const perm = new Array<number>(n);
  const skip = new Array<number>(n);
  const turns = new Array<number>(n);
  backends.forEach((b, i) => {
    const addr = foldAddress(b.ip);
    perm[i] = mhHashKey(addr, b.port, HASH1, 0) % size;
    skip[i] = (mhHashKey(addr, b.port, HASH2, 0) % (size - 1)) + 1;
    const lw = lastWeights[i]!;
    turns[i] = Math.floor(lw / g) >> rshift || (lw !== 0 ? 1 : 0);
  });

  const taken = new Uint8Array(size);
  let filled = 0;
  let dtCount = 0;
  for (;;) {
    for (let i = 0; i < n; ) {
      if (turns[i]! < 1) {
        i++;
        continue;
      }
      let c = perm[i]!;
      while (taken[c]) {
        perm[i] = perm[i]! + skip[i]!;
        if (perm[i]! >= size) perm[i] = perm[i]! - size;
        c = perm[i]!;
      }
      taken[c] = 1;
      lookup[c] = i;
      if (++filled === size) return lookup;
      if (++dtCount >= turns[i]!) {
        dtCount = 0;
        i++;
      }
    }
  }
}

export function createMh(opts: MhOptions = {}): Scheduler {
  const tabIndex = opts.tabIndex ?? MH_DEFAULT_TAB_INDEX;
  const { size } = tabGeometry(tabIndex);
  const lastWeight = new Map<string, number>();
  let key: string | undefined;
  let lookup: Int32Array = new Int32Array(size).fill(-1);

  function update(backends: readonly Backend[]): void {
    key = listKey(backends);
    const present = new Set(backends.map((b) => b.id));
    for (const id of lastWeight.keys()) if (!present.has(id)) lastWeight.delete(id);
    for (const b of backends) {
      const w = weightOf(b);
      // "keep the last_weight with latest non-0 weight" (__ip_vs_update_dest)
      if (!lastWeight.has(b.id) || w !== 0) lastWeight.set(b.id, w);
    }
    lookup = mhLookupTable(
      backends,
      backends.map((b) => lastWeight.get(b.id)!),
      tabIndex,
    );
  }

  function pick(backends: readonly Backend[], client: Client): Backend | undefined {
    if (key !== listKey(backends)) update(backends);
    const addr = foldAddress(client.ip);
    const port = opts.port ? (client.port ?? 0) : 0;
    const ihash = mhHashKey(addr, port, HASH1, 0) % size;
    const owner = lookup[ihash]!;
    if (owner < 0) return undefined;
    const dest = backends[owner]!;
    if (!isUnavailable(dest)) return dest;
    if (!opts.fallback) return undefined;
    for (let offset = 0; offset < size; offset++) {
      const roffset = (offset + ihash) % size;
      const d = backends[lookup[mhHashKey(addr, port, HASH1, roffset) % size]!]!;
      if (!isUnavailable(d)) return d;
    }
    return undefined;
  }

  return { name: 'mh', pick, update };
}
