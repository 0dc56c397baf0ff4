// The cluster DNS on several cores (workers.ts): the workers share one UDP
// port and one TCP port, every one of them answers, /ready waits for all,
// /metrics sums them, and stopping leaves no worker process behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startDnsWorkers } from '../../src/dns/workers.js';
import { parseMessage, serializeMessage } from '../../src/dns/wire.js';
import { RRClass, RRType } from '../../src/dns/types.js';

const fixture = join(import.meta.dirname, 'fixtures', 'dns-worker.ts');

function whoQuery(id: number): Buffer {
  return serializeMessage({
    header: { id, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: 'who.cluster.local', type: RRType.TXT, class: RRClass.IN }],
    answers: [],
    authorities: [],
    additionals: [],
  }).buf;
}

const pidOf = (reply: Buffer) => {
  const d = parseMessage(reply).answers[0]?.data;
  return d?.kind === 'TXT' ? Number(d.texts[0]) : NaN;
};

/** `n` queries at once from one socket: the pids that answered. */
async function burst(port: number, n: number): Promise<number[]> {
  const sock = createSocket('udp4');
  const pids: number[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    sock.on('message', (m) => {
      pids.push(pidOf(m));
      if (pids.length === n) {
        clearTimeout(timer);
        resolve();
      }
    });
    for (let i = 0; i < n; i++) sock.send(whoQuery(i), port, '127.0.0.1');
  });
  sock.close();
  return pids;
}

function overTcp(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const q = whoQuery(7);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    const c = connect(port, '127.0.0.1', () => c.write(Buffer.concat([len, q])));
    let got = Buffer.alloc(0);
    c.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        c.destroy();
        resolve(pidOf(got.subarray(2)));
      }
    });
    c.on('error', reject);
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('workers share the port, all answer, ready waits for all, metrics are summed, stop leaves none behind', async () => {
  const dns = await startDnsWorkers({ concurrency: 2, host: '127.0.0.1', upstreams: [], health: '', ready: '127.0.0.1:0', metrics: '127.0.0.1:0', exec: { file: fixture, args: [] } });
  const seen = new Set<number>();
  try {
    // Synced after a moment in each worker: /ready is 503 until every one says so.
    const ready = `http://127.0.0.1:${dns.httpPorts.ready}/ready`;
    const deadline = Date.now() + 10_000;
    while ((await fetch(ready)).status !== 200) {
      assert.ok(Date.now() < deadline, '/ready never became 200');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(dns.isSynced(), true);

    let answered = 0;
    for (let round = 0; round < 20 && seen.size < 2; round++) {
      const pids = await burst(dns.port, 200);
      answered += pids.length;
      for (const p of pids) seen.add(p);
    }
    assert.equal(seen.size, 2, `answers came from ${[...seen].join(', ')}`);
    for (const p of seen) assert.notEqual(p, process.pid);
    assert.ok(seen.has(await overTcp(dns.port)));
    answered++;

    const metrics = await (await fetch(`http://127.0.0.1:${dns.httpPorts.metrics}/metrics`)).text();
    const counts = [...metrics.matchAll(/^coredns_dns_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.equal(counts, answered, metrics);
  } finally {
    await dns.stop();
  }
  for (const p of seen) assert.equal(alive(p), false, `worker ${p} still running`);
});
