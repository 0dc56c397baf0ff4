import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AllocationError, createIPAllocator } from '../src/allocator/ip-allocator.js';
import { createPortAllocator } from '../src/allocator/port-allocator.js';
import { ipAddressKey, ipAddressPrefix } from '../src/allocator/ip-address.js';
import { decodeRangeAllocation, serviceNodePortsKey } from '../src/allocator/range-allocation.js';
import type { KubeObject } from '../src/api/object.js';
import type { StatusError } from '../src/api/status.js';
import { createRegistry } from '../src/registry/registry.js';
import { createServiceAllocation } from '../src/registry/services/allocation.js';
import { servicesResource } from '../src/registry/services/resource.js';
import { openEtcdStore } from '../src/storage/etcd/store.js';
import { openSqliteStore } from '../src/storage/sqlite.js';
import type { Store } from '../src/storage/store.js';
import { etcdSkipReason, startEtcd, type TestEtcd } from './helpers/etcd.js';

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

test('bitmap snapshot: upstream\'s big.Int bytes (big-endian, bit i for index i), and back', () => {
  const p = createPortAllocator('30000-32767');
  assert.equal(p.snapshot().length, 0);
  p.allocate(30000);
  p.allocate(30009);
  // 2^0 + 2^9 = 0x0201.
  assert.deepEqual([...p.snapshot()], [0x02, 0x01]);
  const again = createPortAllocator('30000-32767', undefined, p.snapshot());
  assert.deepEqual([again.isAllocated(30000), again.isAllocated(30009), again.isAllocated(30001), again.used()], [true, true, false, 2]);
  p.allocate(32767);
  assert.equal(p.snapshot().length, Math.ceil(2768 / 8));
});

/** Two API servers' Service registries over one store: each its own allocation hints, as two processes have. */
function twoServers(store: Store, nodePortRange = '30000-32767') {
  const server = () => {
    const allocation = createServiceAllocation({ store, serviceClusterIPRange: '10.96.0.0/24', serviceNodePortRange: nodePortRange });
    const def = servicesResource({ allocation, cluster: { ipFamilies: ['IPv4'] }, deleteEndpoints: async () => undefined });
    return { registry: createRegistry(store), def, allocation };
  };
  return [server(), server()] as const;
}

const nodePortService = (name: string, nodePort?: number): KubeObject => ({
  metadata: { name },
  spec: { type: 'NodePort', selector: { app: name }, ports: [{ port: 80, ...(nodePort ? { nodePort } : {}) }] },
});

function allocationTests(open: () => Promise<{ store: Store; close(): Promise<void> }>) {
  test('two API servers on one store never hand out one ClusterIP or NodePort twice; the store records both', async () => {
    const { store, close } = await open();
    const [a, b] = twoServers(store);
    await a.allocation.restore([]);
    await b.allocation.restore([]);
    const created = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).registry.create((i % 2 ? a : b).def, 'default', nodePortService(`s${i}`))),
    );
    const ips = created.map((r) => (r.object.spec as { clusterIP: string }).clusterIP);
    const ports = created.map((r) => (r.object.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort);
    assert.equal(new Set(ips).size, 60);
    assert.equal(new Set(ports).size, 60);
    const stored = await store.list(ipAddressPrefix);
    assert.deepEqual(stored.items.map((i) => i.key.slice(ipAddressPrefix.length)).sort(), [...ips].sort());
    const range = createPortAllocator('30000-32767', undefined, decodeRangeAllocation((await store.get(serviceNodePortsKey))!.value).data);
    assert.ok(ports.every((p) => range.isAllocated(p)) && range.used() === 60);
    // A port named by a request, taken through the other server: upstream's error, nothing written.
    await a.registry.create(a.def, 'default', nodePortService('fixed', 30002));
    await assert.rejects(b.registry.create(b.def, 'default', nodePortService('again', 30002)), (e: StatusError) => e.code === 422 && /spec.ports\[0\].nodePort: Invalid value: 30002: provided port is already allocated/.test(e.message));
    assert.equal(await store.get('/registry/services/specs/default/again'), undefined);
    // Deleted through one server, the port and address are free for the other at once.
    const fixedIP = ((await a.registry.get(a.def, 'default', 'fixed')).spec as { clusterIP: string }).clusterIP;
    await a.registry.delete(a.def, 'default', 'fixed');
    assert.equal(await store.get(ipAddressKey(fixedIP)), undefined);
    const wanted = nodePortService('again', 30002);
    (wanted.spec as { clusterIP?: string }).clusterIP = fixedIP;
    const reused = await b.registry.create(b.def, 'default', wanted);
    assert.equal((reused.object.spec as { clusterIP: string }).clusterIP, fixedIP);
    // A type change to ClusterIP frees the node port in the same write.
    await b.registry.update(b.def, 'default', 'again', (o) => {
      const spec = o.spec as { type: string; ports: { nodePort?: number }[] };
      spec.type = 'ClusterIP';
      delete spec.ports[0]!.nodePort;
      return o;
    });
    const after = createPortAllocator('30000-32767', undefined, decodeRangeAllocation((await store.get(serviceNodePortsKey))!.value).data);
    assert.equal(after.isAllocated(30002), false);
    await close();
  });

  test('a small range: one server fills it, the other learns from the store, and releases elsewhere are found when it looks full', async () => {
    const { store, close } = await open();
    const [a, b] = twoServers(store, '30000-30019');
    await a.allocation.restore([]);
    await b.allocation.restore([]);
    for (let i = 0; i < 20; i++) await a.registry.create(a.def, 'default', nodePortService(`p${i}`));
    await assert.rejects(b.registry.create(b.def, 'default', nodePortService('full')), (e: StatusError) => e.code === 500 && /failed to allocate a nodePort: range is full/.test(e.message));
    await a.registry.delete(a.def, 'default', 'p7');
    const got = await b.registry.create(b.def, 'default', nodePortService('fits'));
    assert.ok((got.object.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort >= 30000);
    await close();
  });

  test('a store from before allocations were stored is repaired from its Services at start', async () => {
    const { store, close } = await open();
    const svc = { metadata: { name: 'old', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.96.0.77', clusterIPs: ['10.96.0.77'], ports: [{ port: 80, nodePort: 30123 }] } };
    await store.create('/registry/services/specs/default/old', JSON.stringify(svc));
    const [a] = twoServers(store);
    await a.allocation.restore([svc as never]);
    assert.ok(await store.get(ipAddressKey('10.96.0.77')));
    const range = createPortAllocator('30000-32767', undefined, decodeRangeAllocation((await store.get(serviceNodePortsKey))!.value).data);
    assert.ok(range.isAllocated(30123));
    await assert.rejects(a.registry.create(a.def, 'default', nodePortService('clash', 30123)), /provided port is already allocated/);
    await close();
  });
}

describe('Service allocations in the store: SQLite', () => {
  allocationTests(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubesvc-alloc-'));
    const store = openSqliteStore(join(dir, 'state.db'));
    return { store, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  });
});

describe('Service allocations in the store: etcd', { skip: etcdSkipReason() }, () => {
  let etcd: TestEtcd | undefined;
  let n = 0;
  before(async () => {
    etcd = await startEtcd();
  });
  after(() => etcd?.stop());
  allocationTests(async () => {
    const store = openEtcdStore({ endpoints: [etcd!.url], prefix: `/kubesvc-alloc-${++n}/registry` });
    return { store, close: () => store.close() };
  });
});
