// ip_vs_sh.c — source hashing over a 256-bucket table.
//
// Table: buckets are dealt to the backends in list order, each backend taking
// `weight` consecutive buckets before the next one's turn (a weight-0 backend
// still takes one; it is then unavailable), round and round until all 256 are
// assigned (ip_vs_sh_reassign).
// Lookup: bucket = hash_32(ntohs(port) + ntohl(saddr), 8), with
// hash_32(v, 8) = (v * 0x61C88647 mod 2^32) >> 24 as in Linux >= 4.7; the port
// is the client's source port with the `port` option (sh-port flag), else 0.
// IPv6 source addresses are folded to 32 bits by XOR of their four words.
// Unavailable bucket owner (weight 0 or overloaded): no backend, unless the
// `fallback` option (sh-fallback flag) is set, in which case the kernel probes
// bucket (roffset + ihash) & 255 for roffset = ihash, ihash+1, ... in turn and
// takes the first available owner.
import { foldAddress } from './addr.js';
import { isUnavailable, listKey, weightOf } from './common.js';
import { hash32 } from './hash.js';
import type { Backend, Client, Scheduler } from './types.js';

export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

export interface ShOptions {
  /** IP_VS_SVC_F_SCHED_SH_FALLBACK: look further when the hashed backend is unavailable. */
  fallback?: boolean;
  /** IP_VS_SVC_F_SCHED_SH_PORT: include the client's source port in the hash. */
  port?: boolean;
}

/** ip_vs_sh_reassign: bucket -> index into `backends`, or -1 when there are none. */
export function shTable(backends: readonly Backend[]): Int32Array {
  const table = new Int32Array(SH_TAB_SIZE).fill(-1);
  if (backends.length === 0) return table;
  let p = 0;
  let count = 0;
  for (let i = 0; i < SH_TAB_SIZE; i++) {
    table[i] = p;
    if (++count >= weightOf(backends[p]!)) {
      p = (p + 1) % backends.length;
      count = 0;
    }
  }
  return table;
}

/** ip_vs_sh_hashkey. */
export function shHashKey(addrFold: number, port: number, offset: number): number {
  return (offset + hash32((port + addrFold) >>> 0, SH_TAB_BITS)) & SH_TAB_MASK;
}

export function createSh(opts: ShOptions = {}): Scheduler {
  let key: string | undefined;
  let table: Int32Array = shTable([]);

  function update(backends: readonly Backend[]): void {
    key = listKey(backends);
    table = shTable(backends);
  }

  function pick(backends: readonly Backend[], client: Client): Backend | undefined {
    if (key !== listKey(backends)) update(backends);
    const addr = foldAddress(client.ip);
    const port = opts.port ? (client.port ?? 0) : 0;
    const ihash = shHashKey(addr, port, 0);
    const owner = table[ihash]!;
    if (owner < 0) return undefined;
    const dest = backends[owner]!;
    if (!isUnavailable(dest)) return dest;
    if (!opts.fallback) return undefined;
    for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
      const roffset = (offset + ihash) % SH_TAB_SIZE;
      const d = backends[table[shHashKey(addr, port, roffset)]!]!;
      if (!isUnavailable(d)) return d;
    }
    return undefined;
  }

  return { name: 'sh', pick, update };
}
