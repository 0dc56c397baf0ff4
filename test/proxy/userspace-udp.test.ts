// The userspace UDP proxy on loopback: sessions per client spread over the
// backends, replies come back through the proxy, idle sessions close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createScheduler } from '../../src/proxy/lb/index.js';
import { startUdpProxy } from '../../src/proxy/userspace/udp-proxy.js';
import { waitFor } from '../helpers/apiserver.js';

async function backend(name: string): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, from) => socket.send(`${name}:${msg}`, from.port, from.address));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, port: socket.address().port };
}

function ask(port: number, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no UDP reply'));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(body, port, '127.0.0.1');
  });
}

test('UDP: every backend answers over new clients; sessions end when idle', async () => {
  const bs = await Promise.all(['a', 'b', 'c'].map(backend));
  const proxy = await startUdpProxy({ bind: '127.0.0.1', port: 0, scheduler: createScheduler('rr'), idleTimeoutMs: 100 });
  try {
    proxy.setEndpoints(bs.map((b) => ({ ip: '127.0.0.1', port: b.port })));
    const names = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const reply = await ask(proxy.port, `q${i}`);
      assert.match(reply, new RegExp(`^[abc]:q${i}$`));
      names.add(reply[0]);
    }
    assert.deepEqual([...names].sort(), ['a', 'b', 'c']);
    await waitFor('idle sessions closed', () => proxy.activeConnections() === 0, 3000);
  } finally {
    await proxy.close();
    for (const b of bs) b.socket.close();
  }
});

test('UDP: datagrams sent back to back by one client (a resolver\'s A and AAAA) all reach the backend and come back', async () => {
  const b = await backend('a');
  const proxy = await startUdpProxy({ bind: '127.0.0.1', port: 0, scheduler: createScheduler('rr') });
  const client = createSocket('udp4');
  try {
    proxy.setEndpoints([{ ip: '127.0.0.1', port: b.port }]);
    const replies: string[] = [];
    client.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    // Both leave before the proxy's upstream socket for this new session has connected.
    client.send('A', proxy.port, '127.0.0.1');
    client.send('AAAA', proxy.port, '127.0.0.1');
    await waitFor('both replies', () => replies.length === 2, 2000);
    assert.deepEqual(replies.sort(), ['a:A', 'a:AAAA']);
  } finally {
    client.close();
    await proxy.close();
    b.socket.close();
  }
});
