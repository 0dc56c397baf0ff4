// IP and CIDR parsing as Kubernetes does it. Upstream validates with
// k8s.io/utils/net ParseIPSloppy/ParseCIDRSloppy (Go's pre-1.17 parser, which
// still accepts IPv4 octets with leading zeros) and judges IP "specialness"
// with Go's net.IP predicates, so both are reproduced here over a 16-byte
// form. node:net's stricter isIP stands in for Go's netip (the "canonical
// input" check behind upstream's warnings).
import { isIP } from 'node:net';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';

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

/** Go's To4: the IPv4 address when the bytes are IPv4(-mapped), else null. */
export function to4(ip: IPBytes): number[] | null {
  for (let i = 0; i < 12; i++) if (ip[i] !== v4InV6Prefix[i]) return null;
  return [ip[12], ip[13], ip[14], ip[15]];
}

/** net.IP.String(): dotted quad for IPv4 (also IPv4-mapped), RFC 5952 for IPv6. */
export function formatIP(ip: IPBytes): string {
  const v4 = to4(ip);
  if (v4) return v4.join('.');
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
  const prefix16 = bits === 32 ? m.n + 96 : m.n;
  const network = ip.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix16 - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  return { ip, prefix: m.n, bits, network };
}

export function isValidCIDR(value: string): boolean {
  return parseCIDRSloppy(value) !== null;
}

/** net.IPNet.String(): an IPv4(-mapped) network prints as IPv4 with the mask shortened. */
function formatIPNet(c: ParsedCIDR): string {
  const prefix = to4(c.network) && c.bits === 128 ? Math.max(0, c.prefix - 96) : c.prefix;
  return `${formatIP(c.network)}/${prefix}`;
}

/** The canonical network spelling of a CIDR string (host bits cleared), or undefined. */
export function canonicalCIDR(value: string): string | undefined {
  const c = parseCIDRSloppy(value);
  return c ? formatIPNet(c) : undefined;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCIDRSloppy(cidr);
  const a = parseIPSloppy(ip);
  if (!c || !a) return false;
  if (familyOfIPBytes(c.ip) !== familyOfIPBytes(a)) return false;
  const prefix16 = c.bits === 32 ? c.prefix + 96 : c.prefix;
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, prefix16 - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((a[i] & mask) !== c.network[i]) return false;
  }
  return true;
}

const invalidIPMsg = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
const invalidCIDRMsg = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

/** validation.IsValidIP. */
export function validateIP(value: string, path: string): FieldError[] {
  return isValidIPString(value) ? [] : [fieldErrors.invalid(path, value, invalidIPMsg)];
}

/** validation.IsValidIPv4Address (IPv4 EndpointSlices). */
export function validateIPv4Address(value: string, path: string): FieldError[] {
  return isIPv4String(value) ? [] : [fieldErrors.invalid(path, value, 'must be a valid IPv4 address')];
}

/** validation.IsValidIPv6Address (IPv6 EndpointSlices). */
export function validateIPv6Address(value: string, path: string): FieldError[] {
  return isIPv6String(value) ? [] : [fieldErrors.invalid(path, value, 'must be a valid IPv6 address')];
}

/** validation.IsValidCIDR. */
export function validateCIDR(value: string, path: string): FieldError[] {
  return isValidCIDR(value) ? [] : [fieldErrors.invalid(path, value, invalidCIDRMsg)];
}

function isUnspecified(ip: IPBytes): boolean {
  const v4 = to4(ip);
  return v4 ? v4.every((b) => b === 0) : ip.every((b) => b === 0);
}

function isLoopback(ip: IPBytes): boolean {
  const v4 = to4(ip);
  if (v4) return v4[0] === 127;
  return ip.slice(0, 15).every((b) => b === 0) && ip[15] === 1;
}

function isLinkLocalUnicast(ip: IPBytes): boolean {
  const v4 = to4(ip);
  if (v4) return v4[0] === 169 && v4[1] === 254;
  return ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80;
}

function isLinkLocalMulticast(ip: IPBytes): boolean {
  const v4 = to4(ip);
  if (v4) return v4[0] === 224 && v4[1] === 0 && v4[2] === 0;
  return ip[0] === 0xff && (ip[1] & 0x0f) === 0x02;
}

/**
 * ValidateNonSpecialIP (ValidateEndpointIP in newer releases): endpoint and
 * external IPs may not be unspecified, loopback or link-local, since traffic
 * to them would never leave the node (or would hit node-local services such
 * as cloud metadata endpoints).
 */
export function validateNonSpecialIP(value: string, path: string): FieldError[] {
  const ip = parseIPSloppy(value);
  if (!ip) return [fieldErrors.invalid(path, value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  if (isUnspecified(ip)) errs.push(fieldErrors.invalid(path, value, `may not be unspecified (${value})`));
  if (isLoopback(ip)) errs.push(fieldErrors.invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (isLinkLocalUnicast(ip)) errs.push(fieldErrors.invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (isLinkLocalMulticast(ip)) {
    errs.push(fieldErrors.invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  }
  return errs;
}

/** Is the text an IPv6 address written with an embedded IPv4-mapped tail (netip's Is4In6)? */
function is4In6Text(value: string, ip: IPBytes): boolean {
  return value.includes(':') && to4(ip) !== null;
}

/**
 * GetWarningsForIP: values Kubernetes still accepts but plans to reject
 * (leading zeros, IPv4-mapped IPv6) or that are not in RFC 5952 form.
 */
export function getWarningsForIP(path: string, value: string): string[] {
  const ip = parseIPSloppy(value);
  if (!ip) return [];
  const strict = isIP(value) !== 0;
  if (!strict || is4In6Text(value, ip)) {
    return [`${path}: non-standard IP address ${JSON.stringify(value)} will be considered invalid in a future Kubernetes release: use ${JSON.stringify(formatIP(ip))}`];
  }
  if (value.includes(':') && formatIP(ip) !== value) {
    return [`${path}: IPv6 address ${JSON.stringify(value)} should be in RFC 5952 canonical format (${JSON.stringify(formatIP(ip))})`];
  }
  return [];
}

/** GetWarningsForCIDR: ambiguous host bits, non-standard spellings, non-canonical IPv6. */
export function getWarningsForCIDR(path: string, value: string): string[] {
  const c = parseCIDRSloppy(value);
  if (!c) return [];
  const warnings: string[] = [];
  const net = formatIPNet(c);
  if (!c.ip.every((b, i) => b === c.network[i])) {
    const single = `${formatIP(c.ip)}/${to4(c.ip) ? 32 : 128}`;
    warnings.push(`${path}: CIDR value ${JSON.stringify(value)} is ambiguous in this context (should be ${JSON.stringify(net)} or ${JSON.stringify(single)}?)`);
  }
  const slash = value.indexOf('/');
  const addrText = value.slice(0, slash);
  const maskText = value.slice(slash + 1);
  const strict = isIP(addrText) !== 0 && /^(0|[1-9][0-9]*)$/.test(maskText);
  if (!strict || is4In6Text(addrText, c.ip)) {
    warnings.push(`${path}: non-standard CIDR value ${JSON.stringify(value)} will be considered invalid in a future Kubernetes release: use ${JSON.stringify(net)}`);
  }
  const prefixString = `${formatIP(c.ip)}/${c.prefix}`;
  if (warnings.length === 0 && addrText.includes(':') && prefixString !== value) {
    warnings.push(`${path}: IPv6 CIDR value ${JSON.stringify(value)} should be in RFC 5952 canonical format (${JSON.stringify(prefixString)})`);
  }
  return warnings;
}
