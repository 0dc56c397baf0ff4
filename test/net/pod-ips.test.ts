import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIPv4, parseIPv4, parseIPv4CIDR } from '../../src/net/addr.js';
import { createPodIPAllocator, gatewayOf } from '../../src/net/pod-ips.js';

test('pod IPs: never the network address, the gateway or broadcast', () => {
  const a = createPodIPAllocator('10.244.3.0/24');
  assert.equal(a.gateway, '10.244.3.1');
  const got = new Set<string>();
  for (let i = 0; i < 253; i++) got.add(a.allocate());
  assert.equal(got.size, 253);
  assert.ok(!got.has('10.244.3.0') && !got.has('10.244.3.1') && !got.has('10.244.3.255'));
  assert.ok(got.has('10.244.3.2') && got.has('10.244.3.254'));
  assert.equal(a.free(), 0);
  assert.throws(() => a.allocate(), /no IP addresses available in range 10\.244\.3\.2-10\.244\.3\.254/);
});

test('pod IPs: next-fit, a released address comes back only after the rest', () => {
  const a = createPodIPAllocator('10.244.0.0/24');
  assert.equal(a.allocate(), '10.244.0.2');
  assert.equal(a.allocate(), '10.244.0.3');
  a.release('10.244.0.2');
  assert.equal(a.allocate(), '10.244.0.4');
  for (let i = 5; i <= 254; i++) assert.equal(a.allocate(), `10.244.0.${i}`);
  assert.equal(a.allocate(), '10.244.0.2', 'wraps around to the released address');
  assert.throws(() => a.allocate(), /no IP addresses available/);
});

test('pod IPs: restored from the addresses in use, never handing out a live one', () => {
  const inUse = ['10.244.1.2', '10.244.1.7', '10.244.1.3'];
  const a = createPodIPAllocator('10.244.1.0/24', inUse);
  assert.deepEqual(a.inUse(), ['10.244.1.2', '10.244.1.3', '10.244.1.7']);
  const next = a.allocate();
  assert.ok(!inUse.includes(next));
  assert.equal(next, '10.244.1.8', 'continues after the highest restored address');
  assert.ok(a.has('10.244.1.7'));
  assert.throws(() => a.claim('10.244.1.7'), /already in use/);
  assert.throws(() => a.claim('10.244.1.1'), /not an allocatable pod IP/);
  assert.throws(() => a.claim('10.244.2.5'), /not an allocatable pod IP/);
  assert.throws(() => createPodIPAllocator('10.244.1.0/24', ['10.244.1.255']), /not an allocatable/);
});

test('pod IPs: small ranges and bad input', () => {
  const a = createPodIPAllocator('10.0.0.4/30');
  assert.equal(a.allocate(), '10.0.0.6');
  assert.throws(() => a.allocate(), /no IP addresses available/);
  assert.throws(() => createPodIPAllocator('10.244.0.1/24'), /host bits are set/);
  assert.throws(() => createPodIPAllocator('10.244.0.0/31'), /between \/8 and \/30/);
  assert.throws(() => createPodIPAllocator('10.244.0/24'), /invalid IPv4 address/);
  assert.throws(() => parseIPv4('10.256.0.1'), /invalid IPv4/);
  assert.equal(formatIPv4(parseIPv4('255.255.255.255')), '255.255.255.255');
  assert.deepEqual(parseIPv4CIDR('0.0.0.0/0'), { network: 0, prefix: 0 });
  assert.equal(gatewayOf('10.244.7.0/24'), '10.244.7.1');
});
