// IP addresses and CIDRs: the one place that parses and prints them. Pure, no
// I/O, nothing above src/net imported. Parsing is Go's: k8s.io/utils/net
// ParseIPSloppy/ParseCIDRSloppy (net.ParseIP before Go 1.17, which still takes
// IPv4 octets with leading zeros) over a 16-byte form, printing is
// net.IP.String() and net.IPNet.String(). node:net's stricter isIP stands in
// for Go's netip where a caller wants only the canonical spellings (the
// proxies' rule writers, the API's warnings). On top: the conversions callers
// need (IPv4 as a 32-bit number for the allocators, any address as a 128-bit
// one for the load balancer pool, masks, containment).
import { isIP, isIPv6 } from 'node:net';

export type IPFamily = 'IPv4' | 'IPv6';

/** 16-byte address; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) as Go does. */
export type IPBytes = Uint8Array;

const v4InV6Prefix = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Go's dtoi: decimal digits, any number of leading zeros, stops at the first non-digit. */
function dtoi(s: string): { n: number; used: number } | null {
  let n = 0;
  let i = 0;
  for (; i < s.length && s[i] >= '0' && s[i] <= '9'; i++) {
    n = n * 10 + (s.charCodeAt(i) - 48);
    if (n >= 0xffffff) return null;
  }
  return i === 0 ? null : { n, used: i };
}

/** Go's xtoi for IPv6 groups: hex digits, leading zeros allowed. */
function xtoi(s: string): { n: number; used: number } | null {
  let n = 0;
  let i = 0;
  for (; i < s.length; i++) {
    if (!/[0-9a-fA-F]/.test(s[i])) break;
    n = n * 16 + parseInt(s[i], 16);
    if (n >= 0xffffff) return null;
  }
  return i === 0 ? null : { n, used: i };
}

function parseIPv4Bytes(s: string): number[] | null {
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    if (i > 0) {
      if (s[0] !== '.') return null;
      s = s.slice(1);
    }
    const r = dtoi(s);
    if (!r || r.n > 0xff) return null;
    out.push(r.n);
    s = s.slice(r.used);
  }
  return s.length === 0 ? out : null;
}

function parseIPv6Bytes(s: string): IPBytes | null {
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return ip;
  }
  let i = 0;
  while (i < 16) {
    const r = xtoi(s);
    if (!r || r.n > 0xffff) return null;
    if (r.used < s.length && s[r.used] === '.') {
      // Embedded IPv4 tail, only where the last 32 bits belong.
      if (ellipsis < 0 && i !== 12) return null;
      if (i + 4 > 16) return null;
      const v4 = parseIPv4Bytes(s);
      if (!v4) return null;
      ip.set(v4, i);
      i += 4;
      s = '';
      break;
    }
    ip[i] = r.n >> 8;
    ip[i + 1] = r.n & 0xff;
    i += 2;
    s = s.slice(r.used);
    if (s.length === 0) break;
    if (s[0] !== ':' || s.length === 1) return null;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return null;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return null;
  if (i < 16) {
    if (ellipsis < 0) return null;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j];
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    // "::" must stand for at least one zero group.
    return null;
  }
  return ip;
}

function v4ToBytes(v4: number[]): IPBytes {
  return Uint8Array.from([...v4InV6Prefix, ...v4]);
}

/** netutils.ParseIPSloppy: the first '.' or ':' decides the family, as in Go's ParseIP. */
export function parseIPSloppy(s: string): IPBytes | null {
  for (const ch of s) {
    if (ch === '.') {
      const v4 = parseIPv4Bytes(s);
      return v4 ? v4ToBytes(v4) : null;
    }
    if (ch === ':') return parseIPv6Bytes(s);
  }
  return null;
}

/**
 * Only the canonical spellings, as Go's netip.ParseAddr takes them (node:net's
 * isIP stands in: no leading zeros; an IPv6 zone is accepted and dropped).
 * `bits` is the family as written: "::ffff:1.2.3.4" is 128 here.
 */
export function parseIPStrict(s: string): { ip: IPBytes; bits: 32 | 128 } | null {
  const version = isIP(s);
  if (version === 0) return null;
  const ip = parseIPSloppy(version === 6 ? s.split('%', 1)[0] : s);
  return ip ? { ip, bits: version === 4 ? 32 : 128 } : null;
}

/** Go's To4: the IPv4 address when the bytes are IPv4(-mapped), else null. */
export function to4(ip: IPBytes): number[] | null {
  for (let i = 0; i < 12; i++) if (ip[i] !== v4InV6Prefix[i]) return null;
  return [ip[12], ip[13], ip[14], ip[15]];
}

/**
 * RFC 5952 for all 16 bytes, IPv4-mapped ones included ("::ffff:102:304").
 * With `dottedTail`, as inet_ntop prints (BIND, c-ares, Node's net module):
 * IPv4-compatible and IPv4-mapped addresses end in a dotted quad
 * ("::1.2.3.4", "::ffff:1.2.3.4").
 */
export function formatIPv6(ip: IPBytes, opts: { dottedTail?: boolean } = {}): string {
  // Longest run of two or more zero groups becomes "::" (first one on ties).
  let e0 = -1;
  let e1 = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && ip[j] === 0 && ip[j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  if (e1 - e0 <= 2) e0 = e1 = -1;
  if (opts.dottedTail && e0 === 0 && (e1 === 12 || (e1 === 10 && ip[10] === 0xff && ip[11] === 0xff))) {
    return `::${e1 === 10 ? 'ffff:' : ''}${ip.subarray(12).join('.')}`;
  }
  let s = '';
  for (let i = 0; i < 16; i += 2) {
    if (i === e0) {
      s += '::';
      i = e1 - 2;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += ((ip[i] << 8) | ip[i + 1]).toString(16);
  }
  return s;
}

/** net.IP.String(): dotted quad for IPv4 (also IPv4-mapped), RFC 5952 for IPv6. */
export function formatIP(ip: IPBytes): string {
  const v4 = to4(ip);
  return v4 ? v4.join('.') : formatIPv6(ip);
}

/** The Go-canonical spelling of an IP string, or undefined when it does not parse. */
export function canonicalIP(value: string): string | undefined {
  const ip = parseIPSloppy(value);
  return ip ? formatIP(ip) : undefined;
}

export function isValidIPString(value: string): boolean {
  return parseIPSloppy(value) !== null;
}

/** netutils.IPFamilyOf: IPv4-mapped IPv6 counts as IPv4, as in Go. */
export function familyOfIPBytes(ip: IPBytes): IPFamily {
  return to4(ip) ? 'IPv4' : 'IPv6';
}

export function ipFamilyOf(value: string): IPFamily | undefined {
  const ip = parseIPSloppy(value);
  return ip ? familyOfIPBytes(ip) : undefined;
}

export function isIPv4String(value: string): boolean {
  return ipFamilyOf(value) === 'IPv4';
}

export function isIPv6String(value: string): boolean {
  return ipFamilyOf(value) === 'IPv6';
}

/** netutils.IsDualStackIPStrings: true when both families occur (count is checked elsewhere). */
export function isDualStackIPs(values: string[]): boolean {
  const fams = new Set(values.map(ipFamilyOf));
  return fams.has('IPv4') && fams.has('IPv6');
}

/**
 * kube-proxy's family test, "not IPv6 means IPv4", on the address as written:
 * node:net's isIPv6 as parseIPStrict takes it ("::ffff:1.2.3.4" and
 * "fe80::1%eth0" are IPv6), and what is no address at all counts as IPv4.
 */
export function familyAsWritten(value: string): IPFamily {
  // Every IPv6 text has a colon: most values are IPv4, and isIPv6's expression is slow (the proxy asks per endpoint).
  return value.includes(':') && isIPv6(value) ? 'IPv6' : 'IPv4';
}

/** The family of an address or CIDR by how it was written (32 or 128 bits). */
export function familyOfBits(bits: 32 | 128): IPFamily {
  return bits === 32 ? 'IPv4' : 'IPv6';
}

/** The address with all but its first `ones` bits (of 128) cleared. */
function maskIP(ip: IPBytes, ones: number): IPBytes {
  return ip.map((b, i) => {
    const keep = Math.max(0, Math.min(8, ones - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

export function sameIP(a: IPBytes, b: IPBytes): boolean {
  return a.every((x, i) => x === b[i]);
}

export interface ParsedCIDR {
  /** The address as written (host bits kept). */
  ip: IPBytes;
  /** Prefix length relative to the parsed length (32 for IPv4 text, 128 otherwise). */
  prefix: number;
  /** 32 or 128: how the address text was parsed. */
  bits: 32 | 128;
  /** The network address (host bits cleared). */
  network: IPBytes;
}

/** A prefix length of the written family as a length over the 16-byte form. */
function ones(bits: 32 | 128, prefix: number): number {
  return bits === 32 ? prefix + 96 : prefix;
}

function cidrOf(ip: IPBytes, bits: 32 | 128, prefix: number): ParsedCIDR {
  return { ip, prefix, bits, network: maskIP(ip, ones(bits, prefix)) };
}

/** netutils.ParseCIDRSloppy: Go's ParseCIDR with the sloppy IPv4 parser. */
export function parseCIDRSloppy(value: string): ParsedCIDR | null {
  const slash = value.indexOf('/');
  if (slash < 0) return null;
  const addr = value.slice(0, slash);
  const mask = value.slice(slash + 1);
  const v4 = parseIPv4Bytes(addr);
  const ip = v4 ? v4ToBytes(v4) : parseIPv6Bytes(addr);
  const bits: 32 | 128 = v4 ? 32 : 128;
  const m = dtoi(mask);
  if (!ip || !m || m.used !== mask.length || m.n > bits) return null;
  return cidrOf(ip, bits, m.n);
}

/** "address/prefix" as the proxies' rule writers take it: the address as parseIPStrict, the prefix as 1-3 decimal digits. */
export function parseCIDRStrict(value: string): ParsedCIDR | null {
  const slash = value.indexOf('/');
  if (slash < 0) return null;
  const a = parseIPStrict(value.slice(0, slash));
  const mask = value.slice(slash + 1);
  if (!a || !/^\d{1,3}$/.test(mask) || Number(mask) > a.bits) return null;
  return cidrOf(a.ip, a.bits, Number(mask));
}

export function isValidCIDR(value: string): boolean {
  return parseCIDRSloppy(value) !== null;
}

/** net.IPNet.String(): an IPv4(-mapped) network prints as IPv4 with the mask shortened. */
export function formatIPNet(c: ParsedCIDR): string {
  const prefix = to4(c.network) && c.bits === 128 ? Math.max(0, c.prefix - 96) : c.prefix;
  return `${formatIP(c.network)}/${prefix}`;
}

/** The canonical network spelling of a CIDR string (host bits cleared), or undefined. */
export function canonicalCIDR(value: string): string | undefined {
  const c = parseCIDRSloppy(value);
  return c ? formatIPNet(c) : undefined;
}

/** Whether the address lies in the network (the address taken at the CIDR's own length). */
export function inCIDR(c: ParsedCIDR, ip: IPBytes): boolean {
  return sameIP(maskIP(ip, ones(c.bits, c.prefix)), c.network);
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCIDRSloppy(cidr);
  const a = parseIPSloppy(ip);
  if (!c || !a) return false;
  if (familyOfIPBytes(c.ip) !== familyOfIPBytes(a)) return false;
  return inCIDR(c, a);
}

/** All 16 bytes as one 128-bit number (IPv4 as IPv4-mapped: 0xffff_xxxxxxxx), for range arithmetic. */
export function ipToBigInt(ip: IPBytes): bigint {
  let n = 0n;
  for (const b of ip) n = (n << 8n) | BigInt(b);
  return n;
}

/** The inverse of ipToBigInt: the low 128 bits as 16 bytes. */
export function bigIntToIP(n: bigint): IPBytes {
  const out = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

// ---- IPv4 as a 32-bit number: the allocators' and the node network's arithmetic ----

/** The big-endian 32-bit word at a byte offset: offset 12 is the IPv4 address of IPv4(-mapped) bytes. */
export function uint32At(ip: IPBytes, offset: number): number {
  return ((ip[offset] << 24) | (ip[offset + 1] << 16) | (ip[offset + 2] << 8) | ip[offset + 3]) >>> 0;
}

/** Dotted-quad text only (Go's IPv4 parser: leading zeros allowed) as an unsigned 32-bit number, or null. */
export function ipv4ToNumber(text: string): number | null {
  const v4 = parseIPv4Bytes(text);
  return v4 ? uint32At(v4ToBytes(v4), 12) : null;
}

/** As ipv4ToNumber, throwing `invalid IPv4 address "…"` instead of answering null. */
export function parseIPv4(text: string): number {
  const n = ipv4ToNumber(text);
  if (n === null) throw new Error(`invalid IPv4 address "${text}"`);
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface IPv4CIDR {
  /** Network address as a 32-bit number. */
  network: number;
  prefix: number;
}

/**
 * "a.b.c.d/n" whose address is the network address (no host bits set). Throws
 * `invalid CIDR "…"` (with the reason where there is one) or, for a bad
 * address, `invalid IPv4 address "…"`.
 */
export function parseIPv4CIDR(cidr: string): IPv4CIDR {
  const c = parseCIDRSloppy(cidr);
  if (!c || c.bits !== 32) {
    const slash = cidr.indexOf('/');
    const prefix = cidr.slice(slash + 1);
    if (slash > 0 && /^\d{1,2}$/.test(prefix)) {
      if (Number(prefix) > 32) throw new Error(`invalid CIDR "${cidr}": prefix length must be at most 32`);
      parseIPv4(cidr.slice(0, slash));
    }
    throw new Error(`invalid CIDR "${cidr}"`);
  }
  if (!sameIP(c.ip, c.network)) throw new Error(`invalid CIDR "${cidr}": host bits are set`);
  return { network: uint32At(c.network, 12), prefix: c.prefix };
}

export function formatIPv4CIDR(c: IPv4CIDR): string {
  return `${formatIPv4(c.network)}/${c.prefix}`;
}

export function ipv4CIDRContains(c: IPv4CIDR, ip: number): boolean {
  const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
  return (ip & mask) >>> 0 === c.network;
}
