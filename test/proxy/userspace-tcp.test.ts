// The userspace proxy socket on loopback: every backend is reached, a dead
// backend is skipped by the retry with no failed request, half-close works,
// affinity sticks, no endpoints means an immediate refusal, and bulk bytes
// arrive intact both ways past slow readers (the reused read buffers) —
// with each relay: bare libuv handles (the default) and net.Socket (the
// fallback for a Node without them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createScheduler, createAffinity, withAffinity } from '../../src/proxy/lb/index.js';
import { startTcpProxy, type RelayKind } from '../../src/proxy/userspace/tcp-proxy.js';
import { uvHandles } from '../../src/proxy/userspace/uv-handles.js';
import { waitFor } from '../helpers/apiserver.js';

/** A backend that answers "<name>:<what it read>" once the client half-closes. */
async function backend(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('end', () => s.end(`${name}:${got}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

function request(port: number, body = 'ping'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.end(body);
  });
}

/** `size` bytes of a pattern that differs at every offset of a read buffer (a reused buffer overwritten too early shows). */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) b.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
  return b;
}

const sha = (chunks: Buffer[]) => createHash('sha256').update(Buffer.concat(chunks)).digest('hex');

/** Reads `s` to its end slowly (paused between reads, so the writer meets backpressure); resolves with what it read. */
function readSlowly(s: Socket): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => {
      got.push(d);
      s.pause();
      setTimeout(() => s.resume(), 1);
    });
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

/**
 * A listener that never accepts (a child process whose event loop blocks once it listens, backlog 1)
 * with its accept queue filled: a further SYN is dropped, so a dial to it hangs until its timeout.
 */
async function blackhole(): Promise<{ port: number; stop: () => void }> {
  const code = "const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>{console.log(s.address().port);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})";
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', (c) => reject(new Error(`blackhole listener exited ${c}`)));
  });
  const fillers = Array.from({ length: 4 }, () => connect({ host: '127.0.0.1', port }).on('error', () => {}));
  return { port, stop: () => (fillers.forEach((f) => f.destroy()), child.kill('SIGKILL')) };
}

for (const relay of ['handles', 'sockets'] as RelayKind[]) {
  test(`${relay}: round robin over three backends, retry past a dead one, half-close relayed`, async () => {
    const bs = await Promise.all(['a', 'b', 'c'].map(backend));
    const proxy = await startTcpProxy({ bind: '127.0.0.1', port: 0, scheduler: createScheduler('rr'), relay });
    try {
      proxy.setEndpoints(bs.map((b) => ({ ip: '127.0.0.1', port: b.port })));
      const seen = new Map<string, number>();
      for (let i = 0; i < 30; i++) {
        const reply = await request(proxy.port, `req${i}`);
        assert.match(reply, new RegExp(`^[abc]:req${i}$`));
        seen.set(reply[0], (seen.get(reply[0]) ?? 0) + 1);
      }
      assert.deepEqual([...seen.values()], [10, 10, 10]);
      // Backend b dies but is still listed (endpoints lag): every request still succeeds.
      await new Promise((r) => bs[1].server.close(r));
      const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => request(proxy.port, `x${i}`)));
      assert.ok(replies.every((r) => /^[ac]:x\d+$/.test(r)), replies.join(','));
      assert.equal(proxy.activeConnections(), 0);
    } finally {
      await proxy.close();
      for (const b of bs) b.server.close();
    }
  });

  test(`${relay}: ClientIP affinity keeps a client on one backend; no endpoints refuses at once`, async () => {
    const bs = await Promise.all(['a', 'b', 'c'].map(backend));
    const proxy = await startTcpProxy({ bind: '127.0.0.1', port: 0, scheduler: withAffinity(createScheduler('rr'), createAffinity(600)), relay });
    try {
      proxy.setEndpoints(bs.map((b) => ({ ip: '127.0.0.1', port: b.port })));
      const first = (await request(proxy.port))[0];
      for (let i = 0; i < 10; i++) assert.equal((await request(proxy.port))[0], first);
      proxy.setEndpoints([]);
      const started = Date.now();
      await assert.rejects(request(proxy.port), /ECONNRESET/);
      assert.ok(Date.now() - started < 1000, 'refused without hanging');
    } finally {
      await proxy.close();
      for (const b of bs) b.server.close();
    }
  });

  test(`${relay}: bulk bytes arrive intact both ways past slow readers, with half-close`, async () => {
    const up = pattern(6 << 20, 1);
    const down = pattern(6 << 20, 2);
    let uploaded: Promise<Buffer[]> | undefined;
    const server = createServer({ allowHalfOpen: true }, (s) => {
      uploaded = readSlowly(s);
      // The download goes while the upload still arrives; the FIN once both are done.
      s.write(down);
      void uploaded.then(() => s.end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const proxy = await startTcpProxy({ bind: '127.0.0.1', port: 0, scheduler: createScheduler('rr'), relay });
    try {
      proxy.setEndpoints([{ ip: '127.0.0.1', port: (server.address() as { port: number }).port }]);
      const c = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
      const downloaded = readSlowly(c);
      for (let at = 0; at < up.length; at += 100_000) c.write(up.subarray(at, at + 100_000));
      c.end();
      assert.equal(sha(await downloaded), sha([down]), 'download intact');
      assert.equal(sha(await uploaded!), sha([up]), 'upload intact');
      c.destroy();
    } finally {
      await proxy.close();
      server.close();
    }
  });

  test(`${relay}: a backend that does not answer the dial is given up after its timeout, the next one serves`, async () => {
    const hole = await blackhole();
    const good = await backend('g');
    const proxy = await startTcpProxy({ bind: '127.0.0.1', port: 0, scheduler: createScheduler('rr'), dialTimeoutsMs: [100, 200, 400, 800], relay });
    try {
      proxy.setEndpoints([{ ip: '127.0.0.1', port: hole.port }, { ip: '127.0.0.1', port: good.port }]);
      const started = Date.now();
      const replies = await Promise.all(Array.from({ length: 4 }, (_, i) => request(proxy.port, `t${i}`)));
      assert.deepEqual(replies.sort(), ['g:t0', 'g:t1', 'g:t2', 'g:t3']);
      assert.ok(Date.now() - started < 900, `served after the first timeout (${Date.now() - started} ms)`);
    } finally {
      await proxy.close();
      good.server.close();
      hole.stop();
    }
  });

  test(`${relay}: a backend's reset closes the client's side too`, async () => {
    const server = createServer((s) => s.once('data', () => s.resetAndDestroy()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const proxy = await startTcpProxy({ bind: '127.0.0.1', port: 0, scheduler: createScheduler('rr'), relay });
    try {
      proxy.setEndpoints([{ ip: '127.0.0.1', port: (server.address() as { port: number }).port }]);
      const c = connect({ host: '127.0.0.1', port: proxy.port });
      c.on('error', () => {});
      const closed = new Promise<void>((r) => c.once('close', () => r()));
      c.write('x');
      await closed;
      await waitFor('the relay to let go of the connection', () => proxy.activeConnections() === 0, 2000);
    } finally {
      await proxy.close();
      server.close();
    }
  });
}

test('this Node offers the libuv handles the default relay uses', { skip: process.env.CI === 'true' ? false : !uvHandles && 'libuv handles not reachable in this Node (net.Socket relay used)' }, () => {
  assert.ok(uvHandles, 'process.binding tcp_wrap/stream_wrap reachable');
});
