// The Kubernetes IP and CIDR libraries: ip(), isIP(), ip.isCanonical(),
// cidr(), isCIDR() and their accessors. Addresses parse as Go's
// netip.ParseAddr (no leading zeros); zones and IPv4-mapped IPv6 addresses
// are refused, as upstream refuses them.
import { formatIP, inCIDR, parseCIDRStrict, parseIPStrict, sameIP, to4, type IPBytes, type ParsedCIDR } from '../../net/addr.js';
import { define, global, member } from './functions.js';
import { T } from './types.js';
import { CelError, Opaque, type CelValue } from './values.js';

export class IPValue extends Opaque {
  readonly typeName = 'net.IP';
  constructor(
    readonly ip: IPBytes,
    readonly bits: 32 | 128,
  ) {
    super();
  }
  equals(o: Opaque): boolean {
    return o instanceof IPValue && o.bits === this.bits && sameIP(o.ip, this.ip);
  }
  override toString(): string {
    return this.bits === 32 ? to4(this.ip)!.join('.') : formatIP(this.ip);
  }
}

export class CIDRValue extends Opaque {
  readonly typeName = 'net.CIDR';
  constructor(readonly c: ParsedCIDR) {
    super();
  }
  equals(o: Opaque): boolean {
    return o instanceof CIDRValue && o.c.bits === this.c.bits && o.c.prefix === this.c.prefix && sameIP(o.c.ip, this.c.ip);
  }
  override toString(): string {
    return `${new IPValue(this.c.ip, this.c.bits)}/${this.c.prefix}`;
  }
}

function parseAddr(s: string): IPValue {
  if (s.includes('%')) throw new CelError(`IP address ${JSON.stringify(s)} with zone value is not allowed`);
  const a = parseIPStrict(s);
  if (!a) throw new CelError(`IP Address ${JSON.stringify(s)} parse error during conversion from string: ParseAddr(${JSON.stringify(s)}): unable to parse IP`);
  if (a.bits === 128 && to4(a.ip)) throw new CelError(`IPv4-mapped IPv6 address ${JSON.stringify(s)} is not allowed`);
  return new IPValue(a.ip, a.bits);
}

function parsePrefix(s: string): CIDRValue {
  const c = parseCIDRStrict(s);
  if (!c) throw new CelError(`network address parse error during conversion from string: netip.ParsePrefix(${JSON.stringify(s)}): bad prefix`);
  if (c.bits === 128 && to4(c.ip)) throw new CelError(`IPv4-mapped IPv6 address ${JSON.stringify(s)} is not allowed`);
  return new CIDRValue(c);
}

const succeeds = (f: () => unknown) => {
  try {
    f();
    return true;
  } catch (e) {
    if (!(e instanceof CelError)) throw e;
    return false;
  }
};

const IP = T.opaque('net.IP');
const CIDR = T.opaque('net.CIDR');
const ipOf = (v: CelValue) => v as IPValue;
const cidrOf = (v: CelValue) => v as CIDRValue;
const v4 = (v: CelValue) => (ipOf(v).bits === 32 ? to4(ipOf(v).ip) : null);
const v6 = (v: CelValue) => ipOf(v).ip;

define('ip', global('string_to_ip', [T.string], IP, (s) => parseAddr(s as string)), member('cidr_ip', [CIDR], IP, (c) => new IPValue(cidrOf(c).c.ip, cidrOf(c).c.bits)));
define('isIP', global('is_ip', [T.string], T.bool, (s) => succeeds(() => parseAddr(s as string))));
define('ip.isCanonical', global('ip_is_canonical', [T.string], T.bool, (s) => parseAddr(s as string).toString() === s));
define('family', member('ip_family', [IP], T.int, (ip) => (ipOf(ip).bits === 32 ? 4n : 6n)));
define('isUnspecified', member('ip_is_unspecified', [IP], T.bool, (ip) => (v4(ip) ?? [...v6(ip)]).every((b) => b === 0)));
define('isLoopback', member('ip_is_loopback', [IP], T.bool, (ip) => (v4(ip) ? v4(ip)![0] === 127 : v6(ip).slice(0, 15).every((b) => b === 0) && v6(ip)[15] === 1)));
define('isLinkLocalMulticast', member('ip_is_link_local_multicast', [IP], T.bool, (ip) => (v4(ip) ? v4(ip)![0] === 224 && v4(ip)![1] === 0 && v4(ip)![2] === 0 : v6(ip)[0] === 0xff && (v6(ip)[1] & 0x0f) === 0x02)));
define('isLinkLocalUnicast', member('ip_is_link_local_unicast', [IP], T.bool, (ip) => (v4(ip) ? v4(ip)![0] === 169 && v4(ip)![1] === 254 : v6(ip)[0] === 0xfe && (v6(ip)[1] & 0xc0) === 0x80)));
define(
  'isGlobalUnicast',
  member('ip_is_global_unicast', [IP], T.bool, (ip) => {
    const a = v4(ip);
    if (a) return !(a.every((b) => b === 255) || a.every((b) => b === 0) || a[0] === 127 || a[0] >= 224 || (a[0] === 169 && a[1] === 254));
    const b = v6(ip);
    return !(b.every((x) => x === 0) || (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) || b[0] === 0xff || (b[0] === 0xfe && (b[1] & 0xc0) === 0x80));
  }),
);
define('cidr', global('string_to_cidr', [T.string], CIDR, (s) => parsePrefix(s as string)));
define('isCIDR', global('is_cidr', [T.string], T.bool, (s) => succeeds(() => parsePrefix(s as string))));
const containsIP = (c: CIDRValue, ip: IPValue) => ip.bits === c.c.bits && inCIDR(c.c, ip.ip);
define(
  'containsIP',
  member('cidr_contains_ip_string', [CIDR, T.string], T.bool, (c, s) => containsIP(cidrOf(c), parseAddr(s as string))),
  member('cidr_contains_ip_ip', [CIDR, IP], T.bool, (c, ip) => containsIP(cidrOf(c), ipOf(ip))),
);
const containsCIDR = (a: CIDRValue, b: CIDRValue) => a.c.bits === b.c.bits && b.c.prefix >= a.c.prefix && inCIDR(a.c, b.c.ip);
define(
  'containsCIDR',
  member('cidr_contains_cidr_string', [CIDR, T.string], T.bool, (a, s) => containsCIDR(cidrOf(a), parsePrefix(s as string))),
  member('cidr_contains_cidr', [CIDR, CIDR], T.bool, (a, b) => containsCIDR(cidrOf(a), cidrOf(b))),
);
define('prefixLength', member('cidr_prefix_length', [CIDR], T.int, (c) => BigInt(cidrOf(c).c.prefix)));
define('masked', member('cidr_masked', [CIDR], CIDR, (c) => new CIDRValue({ ...cidrOf(c).c, ip: cidrOf(c).c.network })));
define('string', global('ip_to_string', [IP], T.string, (ip) => ipOf(ip).toString()), global('cidr_to_string', [CIDR], T.string, (c) => cidrOf(c).toString()));
