// The joined machine's load balancer to the API servers: the order it tries
// them in, the servers it learns from the kubernetes Endpoints, and real
// connections on loopback passing to the first server that answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import { apiServersFromEndpoints, createApiLoadBalancer, tryOrder } from '../../src/agent/api-load-balancer.js';
import { nodePortsOf } from '../../src/agent/node-port-publisher.js';
import { parseServerFlag } from '../../src/cli/join.js';
import type { KubeObject } from '../../src/api/object.js';

const a = { host: '198.51.100.11', port: 6443 };
const b = { host: '198.51.100.12', port: 6443 };

test('servers are tried from the last one that answered; those seen down last', () => {
  assert.deepEqual(tryOrder([a, b], undefined, new Map(), 0), [a, b]);
  assert.deepEqual(tryOrder([a, b], '198.51.100.12:6443', new Map(), 0), [b, a]);
  assert.deepEqual(tryOrder([a, b], undefined, new Map([['198.51.100.11:6443', 10]]), 5), [b, a]);
  assert.deepEqual(tryOrder([a, b], undefined, new Map([['198.51.100.11:6443', 10]]), 15), [a, b]);
});

test('the kubernetes Endpoints give the servers a machine can dial, not the in-cluster address or loopback', () => {
  const ep = { metadata: { name: 'kubernetes' }, subsets: [{ addresses: [{ ip: '198.51.100.11' }, { ip: '172.18.0.1' }, { ip: '127.0.0.1' }, { ip: '198.51.100.12' }], ports: [{ name: 'https', port: 6443 }] }] } as unknown as KubeObject;
  assert.deepEqual(apiServersFromEndpoints(ep), [a, b]);
  assert.deepEqual(apiServersFromEndpoints(undefined), []);
});

test('join --server: https only, port 6443 by default', () => {
  assert.deepEqual(parseServerFlag('https://198.51.100.11:6443'), { url: 'https://198.51.100.11:6443', host: '198.51.100.11', port: 6443 });
  assert.deepEqual(parseServerFlag('cp.example:7443'), { url: 'https://cp.example:7443', host: 'cp.example', port: 7443 });
  assert.equal(parseServerFlag('https://cp.example').url, 'https://cp.example:6443');
  assert.throws(() => parseServerFlag('http://198.51.100.11:6443'), /HTTPS only/);
  assert.throws(() => parseServerFlag(undefined), /--server is required/);
});

test('NodePorts published: the ports of NodePort and LoadBalancer Services, by protocol', () => {
  const svc = (type: string, ports: object[]) => ({ metadata: { name: 'x' }, spec: { type, ports } }) as never;
  const all = [svc('NodePort', [{ port: 80, nodePort: 30080 }, { port: 53, protocol: 'UDP', nodePort: 30053 }]), svc('LoadBalancer', [{ port: 80, nodePort: 30001 }]), svc('ClusterIP', [{ port: 80 }])];
  assert.deepEqual(nodePortsOf(all, 'TCP'), [30001, 30080]);
  assert.deepEqual(nodePortsOf(all, 'UDP'), [30053]);
});

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
}

function roundTrip(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1');
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('end', () => resolve(got));
    c.on('error', reject);
    c.end('hi');
  });
}

test('connections pass whole to the first server that answers, and on to another when it goes', async () => {
  const named = (name: string) => createServer((s) => s.on('data', (d) => s.end(`${name}:${d}`)));
  const one = named('one');
  const two = named('two');
  const [p1, p2] = [await listen(one), await listen(two)];
  const lb = createApiLoadBalancer([{ host: '127.0.0.1', port: p1 }, { host: '127.0.0.1', port: p2 }]);
  const front = createServer();
  lb.serve(front);
  const port = await listen(front);
  try {
    assert.equal(await roundTrip(port), 'one:hi');
    await new Promise((r) => one.close(r));
    assert.equal(await roundTrip(port), 'two:hi');
    assert.deepEqual(lb.targets()[0], { host: '127.0.0.1', port: p2 });
  } finally {
    lb.close();
    two.close();
  }
});
