// bench/proxy-netns (root): the proxy as a node runs it — a standalone
// `kubesvc proxy` in each mode (userspace, iptables, nftables) in a network
// namespace this bench creates, programmed from a real API server, traffic to
// a ClusterIP. Measures bulk TCP and connections/s through the ClusterIP
// next to direct-to-backend and haproxy (tcp mode) in the same namespace, and
// the time from an EndpointSlice write to the proxy serving the new endpoint,
// next to the time the same write takes to reach a plain API watcher.
// Run: sudo npx tsx bench/proxy-netns.ts   (needs iptables; haproxy optional)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, resourceTypes } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { insideNetns, runInNetns } from './netns.js';
import { percentile, printTable, type Row } from './report.js';
import { ask, backend, bulk, bulkBytes, concurrency, connections, connsPerSecond, haproxyConfig, waitForListener } from './tcp-load.js';

const repo = join(import.meta.dirname, '..');
const backendIP = '10.250.0.1';
const clusterIP = '10.96.100.100';
const flips = 10;
const modes = ['userspace', 'iptables', 'nftables'];

if (!insideNetns) runInNetns('proxy', import.meta.filename, backendIP);

function startKubesvc(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      if (ready.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`kubesvc ${args[0]} exited ${code}: ${out}`)));
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-bench-netns-'));
const children: ChildProcess[] = [];
try {
  children.push(await startKubesvc(['apiserver', '--data-dir', dataDir, '--port', '0'], /apiserver\] "ready"/));
  const client = createClient(createTransport({ server: 'http://localhost', socketPath: join(dataDir, 'apiserver.sock') }), 'bench');
  const backends = [await backend(backendIP, 9001, 'a'), await backend(backendIP, 9002, 'b')];
  await client.resource(resourceTypes.services).create('default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'bench' },
    spec: { clusterIP, ports: [{ port: 80, protocol: 'TCP' }] },
  });
  const slices = client.resource(resourceTypes.endpointslices);
  const sliceFor = (port: number) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'bench-manual', labels: { 'kubernetes.io/service-name': 'bench' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [backendIP], conditions: { ready: true } }],
    ports: [{ name: '', port, protocol: 'TCP' }],
  });
  let slice = await slices.create('default', sliceFor(9001));
  let currentId = 'a';

  const results: Record<string, { gbps: number; cps: number }> = {};
  results.direct = { gbps: await bulk(backendIP, 9001), cps: await connsPerSecond(backendIP, 9001) };
  const haproxyBin = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));
  if (haproxyBin) {
    const cfg = join(dataDir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(`${backendIP}:9100`, `${backendIP}:9001`));
    const haproxy = spawn(haproxyBin, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(haproxy);
    await waitForListener(backendIP, 9100);
    results.haproxy = { gbps: await bulk(backendIP, 9100), cps: await connsPerSecond(backendIP, 9100) };
    haproxy.kill('SIGTERM');
  }

  // Each mode in turn: its proxy started, measured through the ClusterIP, stopped (taking its rules with it).
  const rows: Row[] = [];
  let watched: ((rv: string) => void) | undefined;
  const watch = slices.watch('default', { resourceVersion: slice.metadata.resourceVersion }, (e) => watched?.(e.object.metadata.resourceVersion!), () => undefined);
  for (const mode of modes) {
    const proxy = await startKubesvc(['proxy', '--data-dir', dataDir, '--hostname-override', 'bench-node', '--proxy-mode', mode], /proxy\] "ready"/);
    children.push(proxy);
    await until(`the ClusterIP served (${mode})`, async () => (await ask(clusterIP, 80)) === currentId);
    // The bulk and connection tests need port 9001 ("a") behind the service.
    const r = { gbps: await bulk(clusterIP, 80), cps: await connsPerSecond(clusterIP, 80) };
    // EndpointSlice write → the proxy serving the new endpoint; and → a plain watcher seeing it (the floor).
    const toServe: number[] = [];
    const toWatch: number[] = [];
    for (let i = 0; i < flips; i++) {
      // Past minSyncPeriod (1 s) since the last sync, as an isolated change in a quiet cluster.
      await new Promise((res) => setTimeout(res, 1100));
      const [port, id] = currentId === 'a' ? [9002, 'b'] : [9001, 'a'];
      const seen = new Promise<number>((resolve) => (watched = () => resolve(performance.now())));
      const t0 = performance.now();
      slice = await slices.update({ ...sliceFor(port), metadata: { ...slice.metadata } } as typeof slice);
      currentId = id;
      let served = 0;
      while (!served) if ((await ask(clusterIP, 80)) === id) served = performance.now();
      toServe.push(served - t0);
      toWatch.push((await seen) - t0);
    }
    toServe.sort((x, y) => x - y);
    toWatch.sort((x, y) => x - y);
    proxy.kill('SIGTERM');
    await new Promise((res) => (proxy.exitCode === null ? proxy.once('exit', res) : res(undefined)));
    rows.push(
      { figure: `${mode}: bulk TCP via ClusterIP vs direct`, value: r.gbps, unit: 'Gbit/s', peer: results.direct.gbps, peerName: 'direct', lowerIsBetter: false },
      { figure: `${mode}: connections/s via ClusterIP vs direct`, value: r.cps, unit: 'conn/s', peer: results.direct.cps, peerName: 'direct', lowerIsBetter: false },
    );
    if (results.haproxy) {
      rows.push(
        { figure: `${mode}: bulk TCP via ClusterIP vs haproxy`, value: r.gbps, unit: 'Gbit/s', peer: results.haproxy.gbps, peerName: 'haproxy', lowerIsBetter: false },
        { figure: `${mode}: connections/s via ClusterIP vs haproxy`, value: r.cps, unit: 'conn/s', peer: results.haproxy.cps, peerName: 'haproxy', lowerIsBetter: false },
      );
    }
    rows.push(
      { figure: `${mode}: EndpointSlice write → served, p50`, value: percentile(toServe, 50), unit: 'ms', peer: percentile(toWatch, 50), peerName: 'API watch floor' },
      { figure: `${mode}: EndpointSlice write → served, p99`, value: percentile(toServe, 99), unit: 'ms', peer: percentile(toWatch, 99), peerName: 'API watch floor' },
    );
    // Back to "a" for the next mode's bulk test.
    if (currentId !== 'a') {
      slice = await slices.update({ ...sliceFor(9001), metadata: { ...slice.metadata } } as typeof slice);
      currentId = 'a';
    }
  }
  watch.close();
  printTable(
    `bench/proxy-netns: kubesvc proxy per mode in a network namespace, traffic to a ClusterIP; ${bulkBytes >> 20} MiB bulk, ${connections} connections × ${concurrency} parallel, ${flips} EndpointSlice changes (goals: userspace ≥ 0.6× direct and ≥ 0.8× haproxy; kernel modes ≥ 0.97× direct)`,
    rows,
  );
  if (!results.haproxy) console.log('haproxy not installed (Debian package haproxy): peer skipped');
  for (const b of backends) b.server.close();
  client.close();
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  rmSync(dataDir, { recursive: true, force: true });
}
