// bench/proxy: bulk TCP throughput (each way) and connections per second to one backend,
// direct, through the kubesvc userspace proxy socket, and through haproxy
// (tcp mode) doing the same job — all on loopback, each proxy in its own process.
// Run: npx tsx bench/proxy.ts   (haproxy: Debian package haproxy; BENCH_PROXY_PROFILE=DIR writes
// the kubesvc proxy process's CPU profile there)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printTable, type Row } from './report.js';
import { backend, bulk, bulkBytes, download, concurrency, connections, connsPerSecond, haproxyConfig, waitForListener } from './tcp-load.js';

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

/** node --cpu-prof for the proxy process when BENCH_PROXY_PROFILE names a directory. */
function profileFlags(): string[] {
  const dir = process.env.BENCH_PROXY_PROFILE;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
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
  const results: Record<string, { gbps: number; down: number; cps: number }> = {};
  results.direct = { gbps: await bulk('127.0.0.1', b.port), down: await download('127.0.0.1', b.port), cps: await connsPerSecond('127.0.0.1', b.port) };

  const proxy = spawn(process.execPath, [...profileFlags(), '--import', 'tsx', join(import.meta.dirname, 'proxy-server.ts'), String(b.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const proxyPort = await waitForPort(proxy, /port=(\d+)/);
  results.kubesvc = { gbps: await bulk('127.0.0.1', proxyPort), down: await download('127.0.0.1', proxyPort), cps: await connsPerSecond('127.0.0.1', proxyPort) };
  proxy.kill('SIGTERM');
  await new Promise((r) => (proxy.exitCode === null && proxy.signalCode === null ? proxy.once('exit', r) : r(undefined)));

  const haproxyBin = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));
  let haproxy: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-bench-haproxy-'));
  if (haproxyBin) {
    const port = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(`127.0.0.1:${port}`, `127.0.0.1:${b.port}`, 1));
    haproxy = spawn(haproxyBin, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForListener('127.0.0.1', port);
    results.haproxy = { gbps: await bulk('127.0.0.1', port), down: await download('127.0.0.1', port), cps: await connsPerSecond('127.0.0.1', port) };
    haproxy.kill('SIGTERM');
  }
  rmSync(dir, { recursive: true, force: true });
  b.server.close();

  const rows: Row[] = [
    { figure: 'bulk TCP upload, kubesvc vs direct', value: results.kubesvc.gbps, unit: 'Gbit/s', peer: results.direct.gbps, peerName: 'direct', lowerIsBetter: false },
    { figure: 'bulk TCP download, kubesvc vs direct', value: results.kubesvc.down, unit: 'Gbit/s', peer: results.direct.down, peerName: 'direct', lowerIsBetter: false },
    { figure: 'connections/s, kubesvc vs direct', value: results.kubesvc.cps, unit: 'conn/s', peer: results.direct.cps, peerName: 'direct', lowerIsBetter: false },
  ];
  if (results.haproxy) {
    rows.push(
      { figure: 'bulk TCP upload, kubesvc vs haproxy', value: results.kubesvc.gbps, unit: 'Gbit/s', peer: results.haproxy.gbps, peerName: 'haproxy', lowerIsBetter: false },
      { figure: 'bulk TCP download, kubesvc vs haproxy', value: results.kubesvc.down, unit: 'Gbit/s', peer: results.haproxy.down, peerName: 'haproxy', lowerIsBetter: false },
      { figure: 'connections/s, kubesvc vs haproxy', value: results.kubesvc.cps, unit: 'conn/s', peer: results.haproxy.cps, peerName: 'haproxy', lowerIsBetter: false },
    );
  }
  printTable(`bench/proxy: userspace proxy socket on loopback, ${bulkBytes >> 20} MiB bulk each way, ${connections} connections × ${concurrency} parallel (goals: ≥ 60% of direct, ≥ 0.8× haproxy with 1 thread)`, rows);
  if (!results.haproxy) console.log('haproxy not installed (Debian package haproxy): peer skipped');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
