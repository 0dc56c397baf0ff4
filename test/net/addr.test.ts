// The address module's own contract: Go's sloppy parser and printer, the
// strict reading the proxies use, and the IPv4-as-number helpers with the
// error messages the agent and the pod allocator rely on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cidrContains,
  formatIP,
  formatIPv4CIDR,
  formatIPv6,
  inCIDR,
  ipv4CIDRContains,
  ipv4ToNumber,
  parseCIDRSloppy,
  parseCIDRStrict,
  parseIPSloppy,
  parseIPStrict,
  parseIPv4,
  parseIPv4CIDR,
  uint32At,
} from '../../src/net/addr.js';

test('addr: Go prints IPv4-mapped addresses as IPv4, formatIPv6 keeps them IPv6', () => {
  const mapped = parseIPSloppy('::ffff:1.2.3.4')!;
  assert.equal(formatIP(mapped), '1.2.3.4');
  assert.equal(formatIPv6(mapped), '::ffff:102:304');
  assert.equal(formatIPv6(parseIPSloppy('2001:0db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIPv6(parseIPSloppy('::')!), '::');
});

test('addr: the strict reading takes canonical spellings only, with the family as written', () => {
  assert.equal(parseIPSloppy('010.1.1.1') !== null, true);
  assert.equal(parseIPStrict('010.1.1.1'), null);
  assert.equal(parseIPStrict('::ffff:1.2.3.4')?.bits, 128);
  assert.equal(parseIPStrict('1.2.3.4')?.bits, 32);
  assert.deepEqual(parseIPStrict('fe80::1%eth0')?.ip, parseIPSloppy('fe80::1'));
  assert.equal(parseCIDRStrict('10.0.0.0/08')?.prefix, 8);
  assert.equal(parseCIDRStrict('10.0.0.0/0008'), null);
  assert.equal(parseCIDRSloppy('10.0.0.0/0008')?.prefix, 8);
  assert.equal(parseCIDRStrict('10.0.0.0/33'), null);
  assert.equal(parseCIDRStrict('fd00::/129'), null);
  assert.equal(parseCIDRStrict('10.0.0.0'), null);
});

test('addr: containment at the CIDR own length, Go family rules for strings', () => {
  const c = parseCIDRStrict('192.168.0.1/16')!;
  assert.equal(formatIP(c.network), '192.168.0.0');
  assert.equal(inCIDR(c, parseIPSloppy('192.168.200.7')!), true);
  assert.equal(inCIDR(c, parseIPSloppy('192.169.0.0')!), false);
  assert.equal(cidrContains('10.0.0.0/8', '::ffff:10.1.2.3'), true);
  assert.equal(cidrContains('fd00::/8', '10.1.2.3'), false);
});

test('addr: IPv4 as a 32-bit number', () => {
  assert.equal(ipv4ToNumber('255.255.255.255'), 0xffffffff);
  assert.equal(ipv4ToNumber('10.096.0.010'), 0x0a60000a);
  assert.equal(ipv4ToNumber('::ffff:1.2.3.4'), null);
  assert.equal(uint32At(parseIPSloppy('1.2.3.4')!, 12), 0x01020304);
  assert.throws(() => parseIPv4('10.256.0.1'), /^Error: invalid IPv4 address "10.256.0.1"$/);
  assert.deepEqual(parseIPv4CIDR('10.244.0.0/16'), { network: 0x0af40000, prefix: 16 });
  assert.equal(formatIPv4CIDR(parseIPv4CIDR('0.0.0.0/0')), '0.0.0.0/0');
  assert.equal(ipv4CIDRContains(parseIPv4CIDR('10.0.0.4/30'), parseIPv4('10.0.0.7')), true);
  assert.equal(ipv4CIDRContains(parseIPv4CIDR('10.0.0.4/30'), parseIPv4('10.0.0.8')), false);
  assert.throws(() => parseIPv4CIDR('nonsense'), /^Error: invalid CIDR "nonsense"$/);
  assert.throws(() => parseIPv4CIDR('10.0.0.0/33'), /^Error: invalid CIDR "10.0.0.0\/33": prefix length must be at most 32$/);
  assert.throws(() => parseIPv4CIDR('fd00::/8'), /^Error: invalid IPv4 address "fd00::"$/);
  assert.throws(() => parseIPv4CIDR('10.244.0.1/24'), /^Error: invalid CIDR "10.244.0.1\/24": host bits are set$/);
});
