// ip_vs_dh.c — destination hashing over a 256-bucket table.
//
// Table: bucket i belongs to backend i mod n in list order; weights play no
// part (ip_vs_dh_reassign).
// Lookup: bucket = (ntohl(daddr) * 2654435761) & 255. The kernel keeps the low
// byte of the product, so for IPv4 only the last octet of the destination
// matters (10.96.0.1 and 192.168.7.1 share a bucket); IPv6 destinations are
// folded to 32 bits by XOR first.
// The destination is the address the client connected to. A userspace proxy
// listens on one ClusterIP:port per service port, so every connection through
// one scheduler lands on the same backend unless the service is also reached
// on other addresses (node IPs, external IPs) and the proxy passes them as
// `client.destIp`. Unavailable bucket owner (weight 0 or overloaded): no
// backend; dh has no fallback.
import { foldAddress } from './addr.js';
import { isUnavailable } from './common.js';
import { knuthHashLowBits } from './hash.js';
import type { Backend, Client, Scheduler } from './types.js';

export const DH_TAB_SIZE = 256;

export interface DhOptions {
  /** Destination used when a pick's client carries no destIp (the service's ClusterIP). */
  destIp?: string;
}

export function dhHashKey(addrFold: number): number {
  return knuthHashLowBits(addrFold, DH_TAB_SIZE - 1);
}

export function pickDestinationHash(backends: readonly Backend[], destIp: string): Backend | undefined {
  if (backends.length === 0) return undefined;
  // The table maps bucket i to backend i mod n (backends past the 256th get
  // none), so the lookup needs no stored table.
  const dest = backends[dhHashKey(foldAddress(destIp)) % backends.length]!;
  return isUnavailable(dest) ? undefined : dest;
}

export function createDh(opts: DhOptions = {}): Scheduler {
  return {
    name: 'dh',
    pick(backends: readonly Backend[], client: Client): Backend | undefined {
      const destIp = client.destIp ?? opts.destIp;
      if (destIp === undefined) throw new TypeError('dh scheduler: no destination address (client.destIp or the destIp option)');
      return pickDestinationHash(backends, destIp);
    },
  };
}
