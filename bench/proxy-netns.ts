// bench/proxy-netns (root): the proxy as a node runs it — a standalone
// `kubesvc proxy` in each mode (userspace, iptables, nftables) in a network
// namespace this bench creates, programmed from a real API server, traffic to
// a ClusterIP. Measures bulk TCP (client → backend and back), connections/s and each short request's
// latency through the ClusterIP next to, in the same rounds, direct-to-backend
// and haproxy (tcp mode, its own process, the same backend code, same namespace) with
// one thread (as one Node process) and with one per CPU, with the CPU time the
// userspace proxy and haproxy spend per GiB and per connection; and the time from an
// EndpointSlice write to the proxy serving the new endpoint, next to the time
// the same write takes to reach a plain API watcher. Notes under the table: per-round ratios, the
// kernel's share of each proxy's CPU per connection, and this process's own CPU per connection
// (when it nears a core, the load generator bounds connections/s, for every target alike).
// The load generator, the backends and the API client are this one process.
// Run: sudo npx tsx bench/proxy-netns.ts [--rounds 3]   (needs iptables; haproxy optional;
// BENCH_PROXY_MODES=userspace,iptables,nftables picks modes; BENCH_PROXY_PROFILE=DIR writes each
// kubesvc proxy's CPU profile there)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, resourceTypes } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { dataDirTransport } from '../src/cli/client-flags.js';
import { componentUsers } from '../src/auth/user.js';
import { insideNetns, runInNetns } from './netns.js';
import { percentile, printTable, type Row } from './report.js';
import { cpuSeconds } from './server-process.js';
import { ask, backend, bulk, bulkBytes, download, concurrency, connections, haproxyConfig, shortConnections, waitForListener } from './tcp-load.js';

const repo = join(import.meta.dirname, '..');
const backendIP = '10.250.0.1';
const clusterIP = '10.96.100.100';
const flips = 10;
const modes = (process.env.BENCH_PROXY_MODES ?? 'userspace,iptables,nftables').split(',');
const rounds = Number(process.argv.find((a, i) => process.argv[i - 1] === '--rounds') ?? 3);
const cpus = availableParallelism();

if (!insideNetns) runInNetns('proxy', import.meta.filename, backendIP);

/** node --cpu-prof for the kubesvc proxy processes when BENCH_PROXY_PROFILE names a directory. */
const profileFlags = (args: string[]) => (process.env.BENCH_PROXY_PROFILE && args[0] === 'proxy' ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROXY_PROFILE] : []);

function startKubesvc(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...profileFlags(args), '--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

interface Target {
  name: string;
  host: string;
  port: number;
  /** The proxy process in the path, whose CPU time is measured (none when direct). */
  pid?: number;
}

interface Samples {
  name: string;
  gbps: number[];
  down: number[];
  cps: number[];
  p50: number[];
  p99: number[];
  /** Proxy CPU seconds per GiB relayed (upload and download together). */
  cpuPerGiB: number[];
  /** Proxy CPU microseconds per short connection. */
  cpuPerConn: number[];
  /** The share of that CPU spent in the kernel (system time). */
  sysShare: number[];
  /** This process's CPU microseconds per short connection (the load generator and the backends). */
  loadCpuPerConn: number[];
}

/** A process's user and system CPU seconds (clock ticks: /proc/PID/stat fields 14 and 15). */
function userSys(pid: number): [number, number] {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [Number(fields[11]) / 100, Number(fields[12]) / 100];
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

/** `rounds` rounds, each measuring every target in turn (the order rotating), so a burst of outside load hits them alike. */
async function measure(targets: Target[]): Promise<Samples[]> {
  // The load generator's own warm-up (its first thousands of connections cost it twice the CPU) against
  // the direct peer only, so it does not fall on the round's first target; the proxies start cold.
  const direct = targets.find((t) => t.name === 'direct');
  if (direct) {
    await shortConnections(direct.host, direct.port);
    await shortConnections(direct.host, direct.port);
  }
  const out = targets.map((t) => ({ name: t.name, gbps: [] as number[], down: [] as number[], cps: [] as number[], p50: [] as number[], p99: [] as number[], cpuPerGiB: [] as number[], cpuPerConn: [] as number[], sysShare: [] as number[], loadCpuPerConn: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < targets.length; k++) {
      const i = (k + r) % targets.length;
      const { host, port, pid } = targets[i];
      const cpu = () => (pid ? cpuSeconds(pid) : NaN);
      const c0 = cpu();
      out[i].gbps.push(await bulk(host, port));
      out[i].down.push(await download(host, port));
      const c1 = cpu();
      const [u1, s1] = pid ? userSys(pid) : [NaN, NaN];
      const l0 = process.cpuUsage();
      const c = await shortConnections(host, port);
      const l1 = process.cpuUsage(l0);
      out[i].loadCpuPerConn.push((l1.user + l1.system) / connections);
      const [u2, s2] = pid ? userSys(pid) : [NaN, NaN];
      out[i].sysShare.push((s2 - s1) / (u2 - u1 + (s2 - s1)));
      out[i].cpuPerGiB.push((c1 - c0) / ((2 * bulkBytes) / 2 ** 30));
      out[i].cpuPerConn.push(((cpu() - c1) * 1e6) / connections);
      out[i].cps.push(c.cps);
      out[i].p50.push(percentile(c.latencyMs, 50));
      out[i].p99.push(percentile(c.latencyMs, 99));
    }
  }
  return out;
}

const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(' ');
const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-bench-netns-'));
const children: ChildProcess[] = [];
try {
  children.push(await startKubesvc(['apiserver', '--data-dir', dataDir, '--port', '0'], /apiserver\] "ready"/));
  const client = createClient(createTransport(dataDirTransport(dataDir, componentUsers.admin)), 'bench');
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

  // The peers, running through the whole bench: direct to backend "a", haproxy with one thread and with one per CPU.
  // Each peer has a backend of its own (the same code as "a"): short connections leave TIME_WAIT
  // sockets keyed by their destination, and peers sharing one would slow each other's connect().
  const peerBackend = async (port: number) => (backends.push(await backend(backendIP, port, 'a')), `${backendIP}:${port}`);
  await peerBackend(9003);
  const targets: Target[] = [{ name: 'direct', host: backendIP, port: 9003 }];
  const haproxyBin = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));
  if (haproxyBin) {
    for (const [threads, port, backendPort] of [[1, 9100, 9004], [cpus, 9101, 9005]]) {
      const cfg = join(dataDir, `haproxy-${threads}.cfg`);
      writeFileSync(cfg, haproxyConfig(`${backendIP}:${port}`, await peerBackend(backendPort), threads));
      const haproxy = spawn(haproxyBin, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(haproxy);
      await waitForListener(backendIP, port);
      targets.push({ name: threads === 1 ? 'haproxy, 1 thread' : `haproxy, ${threads} threads`, host: backendIP, port, pid: haproxy.pid });
    }
  }

  // Each mode in turn: its proxy started, measured through the ClusterIP beside the peers, stopped (taking its rules with it).
  const rows: Row[] = [];
  const notes: string[] = [];
  const measured = new Map<string, Samples>();
  let watched: ((rv: string) => void) | undefined;
  const watch = slices.watch('default', { resourceVersion: slice.metadata.resourceVersion }, (e) => watched?.(e.object.metadata.resourceVersion!), () => undefined);
  for (const mode of modes) {
    const proxy = await startKubesvc(['proxy', '--data-dir', dataDir, '--hostname-override', 'bench-node', '--proxy-mode', mode], /proxy\] "ready"/);
    children.push(proxy);
    await until(`the ClusterIP served (${mode})`, async () => (await ask(clusterIP, 80)) === currentId);
    // The bulk and connection tests need port 9001 ("a") behind the service.
    const m = await measure([{ name: mode, host: clusterIP, port: 80, pid: mode === 'userspace' ? proxy.pid : undefined }, ...targets]);
    const [self, ...peers] = m;
    for (const x of m) measured.set(x.name, x);
    for (const peer of peers) {
      rows.push(
        { figure: `${mode}: bulk TCP upload via ClusterIP vs ${peer.name}`, value: median(self.gbps), unit: 'Gbit/s', peer: median(peer.gbps), peerName: peer.name, lowerIsBetter: false },
        { figure: `${mode}: bulk TCP download via ClusterIP vs ${peer.name}`, value: median(self.down), unit: 'Gbit/s', peer: median(peer.down), peerName: peer.name, lowerIsBetter: false },
        { figure: `${mode}: connections/s via ClusterIP vs ${peer.name}`, value: median(self.cps), unit: 'conn/s', peer: median(peer.cps), peerName: peer.name, lowerIsBetter: false },
        { figure: `${mode}: request latency p50 vs ${peer.name}`, value: median(self.p50), unit: 'ms', peer: median(peer.p50), peerName: peer.name },
        { figure: `${mode}: request latency p99 vs ${peer.name}`, value: median(self.p99), unit: 'ms', peer: median(peer.p99), peerName: peer.name },
      );
      if (self.cpuPerGiB.every(Number.isFinite) && peer.cpuPerGiB.every(Number.isFinite)) {
        // CPU spent per unit of work: what the load on a shared machine disturbs least.
        rows.push(
          { figure: `${mode}: proxy CPU per GiB relayed vs ${peer.name}`, value: median(self.cpuPerGiB), unit: 's', peer: median(peer.cpuPerGiB), peerName: peer.name },
          { figure: `${mode}: proxy CPU per connection vs ${peer.name}`, value: median(self.cpuPerConn), unit: 'µs', peer: median(peer.cpuPerConn), peerName: peer.name },
        );
      }
      const perRound = (f: (x: Samples) => number[]) => f(self).map((v, i) => (v / f(peer)[i]).toFixed(2)).join(' ');
      notes.push(`${mode}/${peer.name} per round: upload ${perRound((x) => x.gbps)}; download ${perRound((x) => x.down)}; conn/s ${perRound((x) => x.cps)}; p50 ${perRound((x) => x.p50)}`);
      if (self.sysShare.every(Number.isFinite) && peer.sysShare.every(Number.isFinite)) {
        const shares = (x: Samples) => x.sysShare.map((v) => `${Math.round(v * 100)}%`).join(' ');
        notes.push(`${mode}/${peer.name} proxy CPU per connection in the kernel, per round: ${shares(self)} vs ${shares(peer)}; CPU µs per connection: ${self.cpuPerConn.map((v) => v.toFixed(0)).join(' ')} vs ${peer.cpuPerConn.map((v) => v.toFixed(0)).join(' ')}`);
      }
    }
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
    await new Promise((res) => (proxy.exitCode === null && proxy.signalCode === null ? proxy.once('exit', res) : res(undefined)));
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
    `bench/proxy-netns: kubesvc proxy per mode in a network namespace, traffic to a ClusterIP; medians of ${rounds} rounds (targets interleaved) of ${bulkBytes >> 20} MiB bulk each way and ${connections} connections × ${concurrency} parallel; ${flips} EndpointSlice changes; ${cpus} CPUs, load average ${loadAtStart} at start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at end (goals: userspace ≥ 0.6× direct and ≥ 0.8× haproxy with 1 thread; kernel modes ≥ 0.97× direct)`,
    rows,
  );
  for (const n of notes) console.log(n);
  // Whether the load generator (this process: clients and backends) is the bound: its CPU per connection beside each target's connections/s.
  const all = [...measured.values()];
  for (const x of all) console.log(`load generator CPU µs per connection toward ${x.name}, per round: ${x.loadCpuPerConn.map((v) => v.toFixed(0)).join(' ')} (conn/s ${x.cps.map((v) => v.toFixed(0)).join(' ')})`);
  if (!haproxyBin) console.log('haproxy not installed (Debian package haproxy): peer skipped');
  for (const b of backends) b.server.close();
  client.close();
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  rmSync(dataDir, { recursive: true, force: true });
}
