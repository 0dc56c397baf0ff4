// Addresses as the IPVS hash functions see them: an IPv4 address in host byte
// order (ntohl), an IPv6 address folded to 32 bits by XOR of its four words.
import { isIPv4, isIPv6 } from 'node:net';

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

export function ipv4ToU32(ip: string): number {
  const parts = ip.split('.');
  return ((Number(parts[0]) << 24) | (Number(parts[1]) << 16) | (Number(parts[2]) << 8) | Number(parts[3])) >>> 0;
}

/** The eight 16-bit groups of a valid IPv6 address. */
export function ipv6Groups(ip: string): number[] {
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes('.')) {
    const v4 = ipv4ToU32(dotted);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const gap = text.indexOf('::');
  if (gap < 0) return groups(text);
  const left = groups(text.slice(0, gap));
  const right = groups(text.slice(gap + 2));
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * addr_fold of ip_vs_sh/dh/lblc/mh_hashkey: the IPv4 address, or for IPv6 the
 * XOR of its four 32-bit words, in host order.
 */
export function foldAddress(ip: string): number {
  const a = canonicalIP(ip);
  if (isIPv4(a)) return ipv4ToU32(a);
  if (!isIPv6(a)) throw new TypeError(`invalid IP address "${ip}"`);
  const g = ipv6Groups(a);
  let fold = 0;
  for (let i = 0; i < 8; i += 2) fold ^= ((g[i]! << 16) | g[i + 1]!) >>> 0;
  return fold >>> 0;
}
