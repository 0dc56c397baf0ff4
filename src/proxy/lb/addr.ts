// Addresses as the IPVS hash functions see them: an IPv4 address in host byte
// order (ntohl), an IPv6 address folded to 32 bits by XOR of its four words.
// Parsing is src/net/addr.ts's; what is here is load balancing's own.
import { parseIPStrict, uint32At } from '../../net/addr.js';

const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/**
 * "::ffff:a.b.c.d" (how a dual-stack Node socket reports an IPv4 peer) becomes
 * "a.b.c.d": the kernel would see that connection as IPv4. A zone ("%eth0") is
 * dropped.
 */
export function canonicalIP(ip: string): string {
  const bare = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  const m = MAPPED_V4.exec(bare);
  return m ? m[1]! : bare;
}

/**
 * addr_fold of ip_vs_sh/dh/lblc/mh_hashkey: the IPv4 address, or for IPv6 the
 * XOR of its four 32-bit words, in host order.
 */
export function foldAddress(ip: string): number {
  const a = parseIPStrict(canonicalIP(ip));
  if (!a) throw new TypeError(`invalid IP address "${ip}"`);
  let fold = 0;
  // An IPv4 address is the last word of its 16-byte form.
  for (let i = a.bits === 32 ? 12 : 0; i < 16; i += 4) fold ^= uint32At(a.ip, i);
  return fold >>> 0;
}
