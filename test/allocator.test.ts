import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AllocationError, createIPAllocator } from '../src/allocator/ip-allocator.js';
import { createPortAllocator } from '../src/allocator/port-allocator.js';

test('IP allocator: range, static band, errors as upstream', () => {
  const a = createIPAllocator('10.96.0.0/12');
  assert.equal(a.addressAt(0), '10.96.0.1');
  a.allocate('10.96.0.10');
  assert.throws(() => a.allocate('10.96.0.10'), (e: AllocationError) => e.message === 'provided IP is already allocated');
  assert.throws(
    () => a.allocate('192.168.7.7'),
    (e: AllocationError) => e.message === 'the provided IP (192.168.7.7) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
  );
  // Dynamic allocation avoids the static band (the first 256 addresses) while the upper band has room.
  for (let i = 0; i < 200; i++) {
    const ip = a.allocateNext();
    const [, , c] = ip.split('.').map(Number);
    assert.ok(!(ip.startsWith('10.96.0.') || (c === 1 && ip.endsWith('.0'))), `${ip} is in the static band`);
  }
});

test('IP allocator: a small range fills and reports range is full', () => {
  const a = createIPAllocator('10.0.0.0/29');
  const got = new Set<string>();
  for (let i = 0; i < 6; i++) got.add(a.allocateNext());
  assert.equal(got.size, 6);
  assert.ok(!got.has('10.0.0.0') && !got.has('10.0.0.7'));
  assert.throws(() => a.allocateNext(), (e: AllocationError) => e.message === 'range is full');
  a.release('10.0.0.3');
  assert.equal(a.allocateNext(), '10.0.0.3');
});

test('port allocator: default range and static band 30000-30085', () => {
  const p = createPortAllocator('30000-32767');
  assert.throws(
    () => p.allocate(1234),
    (e: AllocationError) => e.message === 'provided port is not in the valid range. The range of valid ports is 30000-32767',
  );
  p.allocate(30002);
  assert.throws(() => p.allocate(30002), (e: AllocationError) => e.message === 'provided port is already allocated');
  for (let i = 0; i < 500; i++) assert.ok(p.allocateNext() >= 30086);
});
