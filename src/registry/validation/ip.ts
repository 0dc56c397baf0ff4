// IP and CIDR validation as Kubernetes does it: the field errors of
// validation.IsValidIP/IsValidCIDR and friends, ValidateNonSpecialIP, and the
// GetWarningsFor* messages. Parsing lives in src/net/addr.ts (Go's sloppy
// parser, the same bytes upstream validates with); this file only judges.
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import {
  formatIP,
  formatIPNet,
  isIPv4String,
  isIPv6String,
  isValidCIDR,
  isValidIPString,
  parseCIDRSloppy,
  parseIPSloppy,
  parseIPStrict,
  sameIP,
  to4,
  type IPBytes,
} from '../../net/addr.js';

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
  const strict = parseIPStrict(value) !== null;
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
  if (!sameIP(c.ip, c.network)) {
    const single = `${formatIP(c.ip)}/${to4(c.ip) ? 32 : 128}`;
    warnings.push(`${path}: CIDR value ${JSON.stringify(value)} is ambiguous in this context (should be ${JSON.stringify(net)} or ${JSON.stringify(single)}?)`);
  }
  const slash = value.indexOf('/');
  const addrText = value.slice(0, slash);
  const maskText = value.slice(slash + 1);
  const strict = parseIPStrict(addrText) !== null && /^(0|[1-9][0-9]*)$/.test(maskText);
  if (!strict || is4In6Text(addrText, c.ip)) {
    warnings.push(`${path}: non-standard CIDR value ${JSON.stringify(value)} will be considered invalid in a future Kubernetes release: use ${JSON.stringify(net)}`);
  }
  const prefixString = `${formatIP(c.ip)}/${c.prefix}`;
  if (warnings.length === 0 && addrText.includes(':') && prefixString !== value) {
    warnings.push(`${path}: IPv6 CIDR value ${JSON.stringify(value)} should be in RFC 5952 canonical format (${JSON.stringify(prefixString)})`);
  }
  return warnings;
}
