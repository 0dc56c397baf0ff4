// bench/dns: the cluster DNS server under dnsperf. 10,000 ClusterIP Services,
// each with an EndpointSlice of one ready endpoint (as the EndpointSlice
// controller makes them), in a real API server; a standalone `kubesvc dns`
// listing them, on one core
// (--concurrency 1) and on every core (--concurrency = CPUs); as peers,
// dnsmasq (single-threaded) serving the same names from a hosts file and
// unbound (one thread per core) serving them as local data — all on
// loopback, queried with the same shuffled names and the same dnsperf
// settings in the same run, one server at a time: saturated throughput (with
// its average latency and the server's CPU per query), then latency
// percentiles at half of each server's own saturated rate, then resident
// memory (all of a server's processes) beside two floors: an idle bare node
// and `kubesvc dns` synced with an empty cluster (the same modules loaded);
// kubesvc dns ×1's also just synced (the listing's peak) and at rest some
// seconds later, before any load.
// dnsperf runs on the same machine: its own CPU per query is printed, since
// on a 2-core machine it takes a good part of one core. Node's own ceiling is
// measured beside them: a bare Node UDP responder (each query sent back, no
// DNS at all) on one and on every core under the same dnsperf. The RSS after
// load is split into the process's own (anonymous) memory and the node
// binary's pages, which every node process on the machine shares.
// kubesvc dns runs as the cluster's coredns pod runs it: the built images
// entry (`node NODE_FLAGS dist/images.js coredns …`), with its health, ready
// and metrics endpoints on.
// Run: npm run build && npx tsx bench/dns.ts [--services N] [--seconds S] [--memory-only]
//   (--memory-only: only kubesvc dns ×1 and the floors, loaded by dnsperf for S seconds (default 5): memory figures
//   while iterating, no peers or latency runs;
//   (Debian packages dnsperf, dnsmasq-base and unbound; a peer not installed is skipped with a line saying so;
//   BENCH_NODE_FLAGS="--cpu-prof" profiles kubesvc dns)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, resourceTypes } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { NODE_FLAGS } from '../src/agent/image-resolve.js';
import { kubeadmPolicy } from '../src/auth/rbac/bootstrap-policy.js';
import { componentUsers } from '../src/auth/user.js';
import { dataDirTransport } from '../src/cli/client-flags.js';
import { labelManagedBy, labelServiceName } from '../src/api/labels.js';
import { RRClass, RRType } from '../src/dns/types.js';
import { parseMessage, serializeMessage } from '../src/dns/wire.js';
import { percentile, printTable, type Row } from './report.js';
import { startBuiltChild, startKubesvc } from './server-process.js';

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : NaN);
const total = flag('--services') || 10_000;
/** Length of each saturated dnsperf run. */
const memoryOnly = args.includes('--memory-only');
const seconds = flag('--seconds') || (memoryOnly ? 5 : 15);
const latencySeconds = 5;
/** How long kubesvc dns ×1 is left idle after syncing before its memory at rest is read. */
const restSeconds = 12;
/** dnsperf: simulated clients (source ports) and queries kept in flight (more than ~200 overflows a default UDP receive buffer at the first burst). */
const dnsperfClients = 4;
const outstanding = 100;
const createConcurrency = 50;
const zone = 'cluster.local';
const repo = join(import.meta.dirname, '..');
const built = join(repo, 'dist/images.js');
if (!existsSync(built)) {
  console.log('bench/dns: run `npm run build` first (it measures the built kubesvc dns, as the coredns pod runs it)');
  process.exit(1);
}

const name = (i: number) => `svc-${String(i).padStart(5, '0')}`;
const fqdn = (i: number) => `${name(i)}.default.svc.${zone}`;
const ipOf = (i: number) => `10.100.${(i >> 8) & 255}.${i & 255}`;
const podIpOf = (i: number) => `10.244.${(i >> 8) & 255}.${i & 255}`;

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Of a process's RSS, what is its own (anonymous memory) and what is the node binary's pages (shared with every node process on the machine). */
function rssSplitMb(pid: number): { own: number; binary: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return { own: kb('Anonymous') / 1024, binary: (kb('Rss') - kb('Anonymous')) / 1024 };
}

/**
 * The runtime's own ceiling: a bare Node UDP responder on `port` with `workers` processes sharing the socket as
 * kubesvc dns's workers do (node:cluster), that sends each query back with the QR bit set — no parse, no lookup, no
 * record: what Node's datagram path alone costs, under the same dnsperf.
 */
const nodeUdpFloorSource = `
const cluster = require('node:cluster');
const dgram = require('node:dgram');
const [port, workers] = process.argv.slice(1).map(Number);
if (cluster.isPrimary && workers > 1) {
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork().on('listening', () => ++listening === workers && console.log('listening'));
} else {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => { m[2] |= 0x80; s.send(m, r.port, r.address); });
  s.bind(port, '127.0.0.1', () => cluster.isPrimary && console.log('listening'));
}`;

async function startNodeUdpFloor(port: number, workers: number, nodeFlags: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeFlags, '-e', nodeUdpFloorSource, String(port), String(workers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout!.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`the node UDP floor exited ${code}`)));
  });
  return child;
}

/** CPU seconds the process has used, user and system. */
function cpuSeconds(pid: number): { user: number; sys: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
}

/** CPU seconds of this process's waited-for children (cutime + cstime): dnsperf's, around a spawnSync. */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function which(bin: string): string | undefined {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(':')]) {
    const p = join(dir, bin);
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return undefined;
}

/** A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both). */
async function freePort(): Promise<number> {
  for (;;) {
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const port = udp.address().port;
    const tcp = createServer();
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    udp.close();
    if (ok) {
      await new Promise((r) => tcp.close(r));
      return port;
    }
  }
}

/** One A query over UDP: the addresses answered, undefined on timeout or a non-NOERROR answer. */
function queryA(port: number, qname: string, timeoutMs = 500): Promise<string[] | undefined> {
  const sock = createSocket('udp4');
  const id = Math.floor(Math.random() * 65536);
  const { buf } = serializeMessage({
    header: { id, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: qname, type: RRType.A, class: RRClass.IN }],
    answers: [],
    authorities: [],
    additionals: [],
  });
  return new Promise((resolve) => {
    const done = (v: string[] | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('message', (m) => {
      const msg = parseMessage(m);
      if (msg.header.id !== id) return;
      done(msg.header.rcode === 0 ? msg.answers.flatMap((a) => (a.data.kind === 'A' ? [a.data.address] : [])) : undefined);
    });
    sock.on('error', () => done(undefined));
    sock.send(buf, port, '127.0.0.1');
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


interface PerfResult {
  qps: number;
  avgMs: number;
  stddevMs: number;
  sent: number;
  completed: number;
  lost: number;
  noerror: number;
  /** Per-query latencies (ms, sorted) when run verbose. */
  latencies: number[];
  /** Server CPU per completed query (µs), and the part of it spent in the kernel. */
  cpuUs: number;
  sysUs: number;
  /** dnsperf's own CPU per completed query (µs) and in cores (it shares the machine with the server). */
  dnsperfUs: number;
  dnsperfCores: number;
}

function dnsperf(bin: string, port: number, queryFile: string, pids: number[], opts: { seconds: number; qps?: number; verbose?: boolean }): PerfResult {
  const argv = ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(opts.seconds), '-c', String(dnsperfClients), '-q', String(outstanding), '-t', '2', '-O', 'suppress=timeouts,congestion,sendfailed,sockready,unexpected'];
  if (opts.qps) argv.push('-Q', String(opts.qps));
  if (opts.verbose) argv.push('-v');
  const cpu = () => pids.map(cpuSeconds).reduce((a, b) => ({ user: a.user + b.user, sys: a.sys + b.sys }), { user: 0, sys: 0 });
  const cpu0 = cpu();
  const children0 = childrenCpuSeconds();
  const r = spawnSync(bin, argv, { encoding: 'utf8', maxBuffer: 512 << 20, timeout: (opts.seconds + 30) * 1000 });
  const cpu1 = cpu();
  const dnsperfCpu = childrenCpuSeconds() - children0;
  if (r.status !== 0) throw new Error(`dnsperf ${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout.slice(-2000)}`);
  const out = r.stdout;
  const num = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) throw new Error(`dnsperf output lacks ${re}: ${out.slice(-2000)}`);
    return Number(m[1]);
  };
  const latencies: number[] = [];
  if (opts.verbose) {
    for (const m of out.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)) latencies.push(Number(m[1]) * 1000);
    latencies.sort((a, b) => a - b);
  }
  const completed = num(/Queries completed:\s+(\d+)/);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    stddevMs: num(/Latency StdDev \(s\):\s+([\d.]+)/) * 1000,
    sent: num(/Queries sent:\s+(\d+)/),
    completed,
    lost: num(/Queries lost:\s+(\d+)/),
    noerror: /NOERROR (\d+)/.test(out) ? num(/NOERROR (\d+)/) : 0,
    latencies,
    cpuUs: ((cpu1.user + cpu1.sys - cpu0.user - cpu0.sys) / Math.max(1, completed)) * 1e6,
    sysUs: ((cpu1.sys - cpu0.sys) / Math.max(1, completed)) * 1e6,
    dnsperfUs: (dnsperfCpu / Math.max(1, completed)) * 1e6,
    dnsperfCores: dnsperfCpu / opts.seconds,
  };
}

/** RSS of an idle node process with the same flags: the floor under any kubesvc command. */
async function nodeFloorMb(nodeFlags: string[]): Promise<number> {
  const child = spawn(process.execPath, [...nodeFlags, '-e', 'console.log("up"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise((resolve, reject) => {
      child.stdout!.once('data', resolve);
      child.once('exit', (code) => reject(new Error(`node exited ${code}`)));
    });
    await new Promise((r) => setTimeout(r, 300));
    return rssMb(child.pid!);
  } finally {
    await stop(child);
  }
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A server under test: where it listens, the processes whose CPU and memory it uses, and how to stop it. */
interface Server {
  name: string;
  port: number;
  child: ChildProcess;
}

/** The process and its children (kubesvc dns --concurrency N forks its workers). */
function treeOf(pid: number): number[] {
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  return [pid, ...children.flatMap(treeOf)];
}

/** The built coredns image's process (`node NODE_FLAGS dist/images.js coredns ARGS`, as the agent runs it), resolved once its log matches `ready`. */
const startCoreDns = (argv: string[], ready: RegExp, nodeFlags: string[]) => startBuiltChild('images.js', ['coredns', ...argv], ready, nodeFlags);

const treeRssMb = (pid: number) => treeOf(pid).reduce((sum, p) => sum + rssMb(p), 0);

async function main(): Promise<void> {
  const dnsperfBin = which('dnsperf');
  if (!dnsperfBin) {
    console.log('bench/dns: dnsperf not installed (Debian package dnsperf); skipped');
    return;
  }
  const dnsmasqBin = which('dnsmasq');
  const unboundBin = which('unbound');
  const cores = cpus().length;
  const loadBefore = loadavg();

  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-bench-dns-'));
  let apiserver: ChildProcess | undefined;
  const servers: Server[] = [];
  let client: ReturnType<typeof createClient> | undefined;
  try {
    apiserver = (await startKubesvc(['apiserver', '--data-dir', dataDir, '--port', '0'], /apiserver\] "ready"/)).child;
    client = createClient(createTransport(dataDirTransport(dataDir, componentUsers.admin)), 'bench');
    // kubeadm's system:coredns role and binding (`kubesvc up` makes them with the coredns add-on): kubesvc dns lists as coredns.
    const clusterRoles = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false };
    for (const role of kubeadmPolicy.clusterRoles) await client.resource(clusterRoles).create(undefined, role as never);
    for (const binding of kubeadmPolicy.clusterRoleBindings) await client.resource({ ...clusterRoles, resource: 'clusterrolebindings', kind: 'ClusterRoleBinding' }).create(undefined, binding as never);
    // The coredns pod's node flags unless BENCH_NODE_FLAGS says otherwise.
    const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? NODE_FLAGS;
    // The pod's endpoints on (ports of the kernel's choosing); no upstreams (nothing leaves loopback).
    const dnsArgs = (concurrency: number) => ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--upstream', 'none', '--autopath', '--health', '127.0.0.1:0', '--ready', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--concurrency', String(concurrency)];
    // The floor of kubesvc dns itself: synced with a cluster of nothing but the kubernetes Service.
    const empty = await startCoreDns(dnsArgs(1), /listen="127\.0\.0\.1:(\d+)"/, nodeFlags);
    let emptyRss: number;
    try {
      const port = Number(empty.match[1]);
      await until('kubesvc dns answering on an empty cluster', async () => (await queryA(port, `kubernetes.default.svc.${zone}`))?.length === 1);
      await new Promise((r) => setTimeout(r, 300));
      emptyRss = treeRssMb(empty.child.pid!);
    } finally {
      await stop(empty.child);
    }

    const services = client.resource(resourceTypes.services);
    const slices = client.resource(resourceTypes.endpointslices);
    let next = 0;
    const createStarted = performance.now();
    await Promise.all(
      Array.from({ length: createConcurrency }, async () => {
        while (next < total) {
          const i = next++;
          await services.create('default', {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: name(i) },
            spec: { type: 'ClusterIP', clusterIP: ipOf(i), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
          });
          await slices.create('default', {
            apiVersion: 'discovery.k8s.io/v1',
            kind: 'EndpointSlice',
            metadata: { name: `${name(i)}-x1`, labels: { [labelServiceName]: name(i), [labelManagedBy]: 'endpointslice-controller.k8s.io' } },
            addressType: 'IPv4',
            endpoints: [{ addresses: [podIpOf(i)], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: `${name(i)}-pod`, uid: randomUUID() } }],
            ports: [{ name: 'http', port: 9376, protocol: 'TCP' }],
          } as never);
        }
      }),
    );
    const createSeconds = (performance.now() - createStarted) / 1000;

    // kubesvc dns on one core and on every core: listed from the API; ready once the last Service answers.
    const syncSeconds: number[] = [];
    const syncedRss: number[] = [];
    let restRss = NaN;
    for (const concurrency of memoryOnly ? [1] : [1, cores]) {
      const dnsStarted = performance.now();
      const started = await startCoreDns(dnsArgs(concurrency), /listen="127\.0\.0\.1:(\d+)"/, nodeFlags);
      const server = { name: `kubesvc dns ×${concurrency}`, port: Number(started.match[1]), child: started.child };
      servers.push(server);
      // Every worker has its own index: each must answer the last name (UDP spreads queries over them, so ask a few times).
      await until(`${server.name} answering the last Service`, async () => {
        for (let k = 0; k < 4 * concurrency; k++) if ((await queryA(server.port, fqdn(total - 1)))?.[0] !== ipOf(total - 1)) return false;
        return true;
      });
      syncSeconds.push((performance.now() - dnsStarted) / 1000);
      syncedRss.push(treeRssMb(server.child.pid!));
      // Just synced is the listing's peak: V8's memory reducer gives back what the listing left some seconds later.
      if (concurrency === 1) {
        await new Promise((r) => setTimeout(r, restSeconds * 1000));
        restRss = treeRssMb(server.child.pid!);
      }
    }

    // The same names, shuffled (a fixed seed: every run asks in the same order).
    let seed = 0x2545f491;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const order = Array.from({ length: total }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const queryFile = join(dataDir, 'queries.txt');
    writeFileSync(queryFile, order.map((i) => `${fqdn(i)} A\n`).join(''));

    if (memoryOnly) {
      const [server] = servers;
      const r = dnsperf(dnsperfBin, server.port, queryFile, treeOf(server.child.pid!), { seconds });
      const afterLoad = treeRssMb(server.child.pid!);
      const floorRss = await nodeFloorMb(nodeFlags);
      printTable(`bench/dns --memory-only: kubesvc dns ×1 (built coredns image, node ${nodeFlags.join(' ')}) with ${total} Services, dnsperf ${seconds} s`, [
        { figure: 'RSS once synced, before load', value: syncedRss[0], unit: 'MB', peer: 64, peerName: 'goal', lowerIsBetter: true },
        { figure: `RSS at rest, ${restSeconds} s after syncing, before load`, value: restRss, unit: 'MB', peer: 64, peerName: 'goal', lowerIsBetter: true },
        { figure: `RSS after ${seconds} s of load`, value: afterLoad, unit: 'MB', peer: 64, peerName: 'goal', lowerIsBetter: true },
        { figure: 'peak RSS (listing and load)', value: rssMb(server.child.pid!, 'VmHWM'), unit: 'MB' },
        { figure: 'RSS synced with an empty cluster (its floor)', value: emptyRss, unit: 'MB' },
        { figure: `RSS of an idle bare node ${nodeFlags.join(' ')} (node's floor)`, value: floorRss, unit: 'MB' },
        { figure: 'QPS, saturated (alone: no peer to compare with)', value: r.qps, unit: 'q/s' },
      ]);
      console.log(`setup: ${total} Services and slices created in ${createSeconds.toFixed(1)} s; answering the last one ${syncSeconds[0].toFixed(1)} s after start`);
      console.log(`load average (1, 5, 15 min): ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after, on ${cores} CPUs`);
      return;
    }

    const skipped: string[] = [];
    /** Starts a peer and waits until it answers the last name; a peer that dies first is reported and left out. */
    const startPeer = async (peerName: string, port: number, bin: string, argv: string[]): Promise<void> => {
      const child = spawn(bin, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${peerName} exited ${code}: ${err}`))));
      exited.catch(() => undefined);
      try {
        await Promise.race([until(`${peerName} answering the last name`, async () => (await queryA(port, fqdn(total - 1)))?.[0] === ipOf(total - 1), 20_000), exited]);
        servers.push({ name: peerName, port, child });
      } catch (e) {
        skipped.push(`${peerName} did not start (${(e as Error).message.split('\n')[0]}): left out`);
        await stop(child);
      }
    };
    if (dnsmasqBin) {
      const port = await freePort();
      const hostsFile = join(dataDir, 'hosts');
      writeFileSync(hostsFile, order.map((i) => `${ipOf(i)} ${fqdn(i)}\n`).join(''));
      await startPeer('dnsmasq', port, dnsmasqBin, [
        '--conf-file=/dev/null',
        '--keep-in-foreground',
        '--no-resolv',
        '--no-hosts',
        `--addn-hosts=${hostsFile}`,
        `--port=${port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        `--local=/${zone}/`,
        '--local-ttl=5',
        '--cache-size=10000',
        '--pid-file=',
        '--log-facility=-',
        ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      ]);
    } else skipped.push('dnsmasq not installed (Debian package dnsmasq-base): skipped');
    if (unboundBin) {
      // Authoritative local data only (a static local zone): nothing is ever resolved beyond loopback.
      const port = await freePort();
      const conf = join(dataDir, 'unbound.conf');
      writeFileSync(
        conf,
        [
          'server:',
          `  interface: 127.0.0.1@${port}`,
          `  port: ${port}`,
          `  num-threads: ${cores}`,
          '  so-reuseport: yes',
          '  do-daemonize: no',
          '  chroot: ""',
          '  username: ""',
          `  directory: "${dataDir}"`,
          '  pidfile: ""',
          '  use-syslog: no',
          '  logfile: ""',
          '  verbosity: 0',
          '  do-ip6: no',
          '  access-control: 127.0.0.0/8 allow',
          `  local-zone: "${zone}." static`,
          ...order.map((i) => `  local-data: "${fqdn(i)}. 5 IN A ${ipOf(i)}"`),
          '',
        ].join('\n'),
      );
      await startPeer(`unbound ×${cores}`, port, unboundBin, ['-d', '-c', conf]);
    } else skipped.push('unbound not installed (Debian package unbound): skipped');

    // Saturated: dnsperf sends as fast as answers come back, `outstanding` in flight; one server at a time.
    const check = (who: string, r: PerfResult) => {
      if (!r.completed || r.noerror < r.completed * 0.99) throw new Error(`${who}: only ${r.noerror} of ${r.completed} answers (${r.sent} queries) were NOERROR`);
    };
    const saturated = new Map<string, PerfResult>();
    for (const s of servers) {
      const r = dnsperf(dnsperfBin, s.port, queryFile, treeOf(s.child.pid!), { seconds });
      check(s.name, r);
      saturated.set(s.name, r);
    }
    // Latency at half of each server's own saturated rate.
    const half = new Map<string, { rate: number; r: PerfResult }>();
    for (const s of servers) {
      const rate = Math.max(100, Math.floor(saturated.get(s.name)!.qps / 2 / 100) * 100);
      half.set(s.name, { rate, r: dnsperf(dnsperfBin, s.port, queryFile, treeOf(s.child.pid!), { seconds: latencySeconds, qps: rate, verbose: true }) });
    }
    const rss = new Map(servers.map((s) => [s.name, treeRssMb(s.child.pid!)]));
    const rssSplit = rssSplitMb(servers.find((s) => s.name === 'kubesvc dns ×1')!.child.pid!);
    // Node's own ceiling under the same dnsperf: the bare responder on 1 and on every core.
    const floorQps: number[] = [];
    for (const workers of [1, cores]) {
      const port = await freePort();
      const floor = await startNodeUdpFloor(port, workers, nodeFlags);
      try {
        floorQps.push(dnsperf(dnsperfBin, port, queryFile, treeOf(floor.pid!), { seconds }).qps);
      } finally {
        await stop(floor);
      }
    }
    const floorRss = await nodeFloorMb(nodeFlags);
    const loadAfter = loadavg();

    const one = 'kubesvc dns ×1';
    const all = `kubesvc dns ×${cores}`;
    const peers = servers.filter((s) => !s.name.startsWith('kubesvc'));
    const rows: Row[] = [];
    const against = (figure: string, who: string, pick: (n: string) => number, unit: string, lowerIsBetter: boolean, goal?: { value: number; name: string }) => {
      const value = pick(who);
      if (goal) rows.push({ figure: `${figure}, ${who}`, value, unit, peer: goal.value, peerName: goal.name, lowerIsBetter });
      for (const p of peers) rows.push({ figure: `${figure}, ${who}`, value, unit, peer: pick(p.name), peerName: p.name, lowerIsBetter });
    };
    const qps = (n: string) => saturated.get(n)!.qps;
    const dnsmasqQps = saturated.get('dnsmasq')?.qps;
    against('QPS, saturated', one, qps, 'q/s', false, dnsmasqQps ? { value: dnsmasqQps / 2, name: 'goal ½ dnsmasq' } : undefined);
    against('QPS, saturated', all, qps, 'q/s', false, dnsmasqQps ? { value: dnsmasqQps, name: 'goal 1× dnsmasq' } : undefined);
    rows.push({ figure: `QPS, saturated, ${one}`, value: qps(one), unit: 'q/s', peer: floorQps[0], peerName: "node's UDP floor ×1" });
    rows.push({ figure: `QPS, saturated, ${all}`, value: qps(all), unit: 'q/s', peer: floorQps[1], peerName: `node's UDP floor ×${cores}` });
    if (dnsmasqQps) rows.push({ figure: `QPS, saturated, node's UDP floor ×${cores} (no DNS at all)`, value: floorQps[1], unit: 'q/s', peer: dnsmasqQps, peerName: 'dnsmasq' });
    for (const s of [one, all]) against('server CPU per query', s, (n) => saturated.get(n)!.cpuUs, 'µs', true);
    for (const s of [one, all]) against('latency avg, saturated', s, (n) => saturated.get(n)!.avgMs, 'ms', true);
    for (const s of [one, all]) {
      const p99 = (n: string) => percentile(half.get(n)!.r.latencies, 99);
      against('latency p99 at ½ saturation', s, p99, 'ms', true, { value: 1, name: 'goal' });
    }
    for (const s of [one, all]) against(`RSS with ${total} Services, after load`, s, (n) => rss.get(n)!, 'MB', true, { value: 64, name: 'goal' });
    rows.push({ figure: 'RSS after load, ×1: its own (anonymous memory)', value: rssSplit.own, unit: 'MB' });
    rows.push({ figure: "RSS after load, ×1: the node binary's pages (shared)", value: rssSplit.binary, unit: 'MB' });
    rows.push({ figure: 'RSS once synced, before load, ×1', value: syncedRss[0], unit: 'MB' });
    rows.push({ figure: `RSS at rest, ${restSeconds} s after syncing, before load, ×1`, value: restRss, unit: 'MB' });
    rows.push({ figure: `RSS once synced, before load, ×${cores} (all processes)`, value: syncedRss[1], unit: 'MB' });
    rows.push({ figure: 'RSS of kubesvc dns ×1 synced with an empty cluster (its floor)', value: emptyRss, unit: 'MB' });
    rows.push({ figure: `RSS of an idle bare node ${nodeFlags.join(' ')} (node's floor)`, value: floorRss, unit: 'MB' });
    printTable(
      `bench/dns: kubesvc dns (built, node ${nodeFlags.join(' ')}) with ${total} ClusterIP Services on 1 and ${cores} cores (--concurrency)` +
        `${peers.length ? `, vs ${peers.map((p) => p.name).join(' and ')} serving the same names` : ''}; UDP on loopback; ` +
        `dnsperf -c ${dnsperfClients} -q ${outstanding}, ${seconds} s saturated per server, then ${latencySeconds} s at half its saturated rate`,
      rows,
    );
    console.log(`setup: ${total} Services and their EndpointSlices created in ${createSeconds.toFixed(1)} s (${createConcurrency} in flight); kubesvc dns answering the last one ${syncSeconds.map((s) => s.toFixed(1)).join(' s (×1) and ')} s (×${cores}) after start`);
    const split = (r: PerfResult) => `${r.cpuUs.toFixed(1)} µs (${(r.cpuUs - r.sysUs).toFixed(1)} user + ${r.sysUs.toFixed(1)} kernel)`;
    console.log(`server CPU per query, saturated: ${servers.map((s) => `${s.name} ${split(saturated.get(s.name)!)}`).join('; ')}`);
    console.log(
      `dnsperf's own CPU per query, saturated (same machine, ${cores} CPUs): ${servers.map((s) => `against ${s.name} ${saturated.get(s.name)!.dnsperfUs.toFixed(1)} µs (${saturated.get(s.name)!.dnsperfCores.toFixed(2)} cores)`).join('; ')}`,
    );
    console.log(`half-saturation rates: ${servers.map((s) => `${s.name} ${half.get(s.name)!.rate} q/s`).join('; ')}`);
    const lost = [...servers.flatMap((s) => [[`${s.name} saturated`, saturated.get(s.name)!], [`${s.name} at ½`, half.get(s.name)!.r]] as const)]
      .filter(([, r]) => r.lost)
      .map(([who, r]) => `${who} ${r.lost} of ${r.sent} (${((r.lost / r.sent) * 100).toFixed(2)}%)`);
    if (lost.length) console.log(`lost queries (timed out or dropped, counted out of QPS): ${lost.join('; ')}`);
    console.log(`load average (1, 5, 15 min): ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after, on ${cores} CPUs`);
    if (loadBefore[0] > cores / 2) console.log('warning: other work was running before the start: figures, latency tails most, are noisy');
    for (const s of skipped) console.log(s);
  } finally {
    client?.close();
    await Promise.all(servers.map((s) => stop(s.child)));
    await stop(apiserver);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
