// bench/proxy: bulk TCP throughput and connections per second to one backend,
// direct, through the kubesvc userspace proxy socket, and through haproxy
// (tcp mode) doing the same job — all on loopback, each proxy in its own process.
// Run: npx tsx bench/proxy.ts   (haproxy: Debian package haproxy)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printTable, type Row } from './report.js';

const bulkBytes = 512 * 1024 * 1024;
const connections = 2000;
const concurrency = 20;

/** A backend that discards what it reads, and answers "ok" to each short request. */
async function backend(): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', () => {});
    s.on('end', () => s.end('ok'));
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

function bulk(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(256 * 1024, 120);
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let sent = 0;
    const started = performance.now();
    const pump = () => {
      while (sent < bulkBytes) {
        sent += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    s.on('connect', pump);
    s.on('data', () => {});
    s.on('end', () => resolve((bulkBytes * 8) / ((performance.now() - started) / 1000) / 1e9));
    s.on('error', reject);
  });
}

async function connsPerSecond(port: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      s.on('connect', () => s.end('x'));
      s.on('data', () => {});
      s.on('end', () => resolve());
      s.on('error', reject);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < connections) await one();
    }),
  );
  return connections / ((performance.now() - started) / 1000);
}

function waitForPort(child: ChildProcess, pattern: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function main() {
  const b = await backend();
  const results: Record<string, { gbps: number; cps: number }> = {};
  results.direct = { gbps: await bulk(b.port), cps: await connsPerSecond(b.port) };

  const proxy = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'proxy-server.ts'), String(b.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const proxyPort = await waitForPort(proxy, /port=(\d+)/);
  results.kubesvc = { gbps: await bulk(proxyPort), cps: await connsPerSecond(proxyPort) };
  proxy.kill('SIGTERM');

  const haproxyBin = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));
  let haproxy: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-bench-haproxy-'));
  if (haproxyBin) {
    const port = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(
      cfg,
      `global\n  maxconn 4000\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend f\n  bind 127.0.0.1:${port}\n  default_backend b\nbackend b\n  server s1 127.0.0.1:${b.port}\n`,
    );
    haproxy = spawn(haproxyBin, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'inherit'] });
    // haproxy logs nothing when ready in -db mode: wait until the port answers.
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const s = connect({ host: '127.0.0.1', port });
        s.on('connect', () => (s.destroy(), r(true)));
        s.on('error', () => r(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    results.haproxy = { gbps: await bulk(port), cps: await connsPerSecond(port) };
    haproxy.kill('SIGTERM');
  }
  rmSync(dir, { recursive: true, force: true });
  b.server.close();

  const rows: Row[] = [
    { figure: 'bulk TCP, kubesvc vs direct', value: results.kubesvc.gbps, unit: 'Gbit/s', peer: results.direct.gbps, peerName: 'direct', lowerIsBetter: false },
    { figure: 'connections/s, kubesvc vs direct', value: results.kubesvc.cps, unit: 'conn/s', peer: results.direct.cps, peerName: 'direct', lowerIsBetter: false },
  ];
  if (results.haproxy) {
    rows.push(
      { figure: 'bulk TCP, kubesvc vs haproxy', value: results.kubesvc.gbps, unit: 'Gbit/s', peer: results.haproxy.gbps, peerName: 'haproxy', lowerIsBetter: false },
      { figure: 'connections/s, kubesvc vs haproxy', value: results.kubesvc.cps, unit: 'conn/s', peer: results.haproxy.cps, peerName: 'haproxy', lowerIsBetter: false },
    );
  }
  printTable(`bench/proxy: userspace proxy socket on loopback, ${bulkBytes >> 20} MiB bulk, ${connections} connections × ${concurrency} parallel (goals: ≥ 60% of direct, ≥ 0.8× haproxy)`, rows);
  if (!results.haproxy) console.log('haproxy not installed (Debian package haproxy): peer skipped');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
