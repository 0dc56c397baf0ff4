// bench/dns: the cluster DNS server under dnsperf. 10,000 ClusterIP Services
// in a real API server, a standalone `kubesvc dns` listing them, and dnsmasq
// serving the same 10,000 names from a hosts file as the peer — both on
// loopback, both single-threaded, both queried with the same shuffled names
// and the same dnsperf settings in the same run: saturated throughput (with
// its average latency and the server's CPU per query), then latency
// percentiles at a fixed rate both sustain, then resident memory.
// Run: npm run build && npx tsx bench/dns.ts [--services N] [--seconds S]
//   (Debian packages dnsperf and dnsmasq-base; BENCH_NODE_FLAGS="--cpu-prof" profiles kubesvc dns)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, resourceTypes } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { NODE_FLAGS } from '../src/agent/image-resolve.js';
import { RRClass, RRType } from '../src/dns/types.js';
import { parseMessage, serializeMessage } from '../src/dns/wire.js';
import { percentile, printTable, type Row } from './report.js';

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : NaN);
const total = flag('--services') || 10_000;
/** Length of each saturated dnsperf run. */
const seconds = flag('--seconds') || 15;
const latencySeconds = 5;
/** dnsperf: simulated clients (source ports) and queries kept in flight (more than ~200 overflows a default UDP receive buffer at the first burst). */
const dnsperfClients = 4;
const outstanding = 100;
const createConcurrency = 50;
const zone = 'cluster.local';
const repo = join(import.meta.dirname, '..');
const built = join(repo, 'dist/kubesvc.js');
if (!existsSync(built)) {
  console.log('bench/dns: run `npm run build` first (it measures the built kubesvc dns, as the coredns pod runs it)');
  process.exit(1);
}

const name = (i: number) => `svc-${String(i).padStart(5, '0')}`;
const fqdn = (i: number) => `${name(i)}.default.svc.${zone}`;
const ipOf = (i: number) => `10.100.${(i >> 8) & 255}.${i & 255}`;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds the process has used, user and system. */
function cpuSeconds(pid: number): { user: number; sys: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
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

/** The built kubesvc (dist/kubesvc.js, as npm start and the pods run it); resolves with the process and the first match of `ready` in its output. */
function startKubesvc(cmd: string[], ready: RegExp, nodeFlags: string[] = []): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...nodeFlags, built, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = ready.exec(out);
      if (m) resolve({ child, match: m });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`kubesvc ${cmd[0]} exited ${code}: ${out}`)));
  });
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
}

function dnsperf(bin: string, port: number, queryFile: string, pid: number, opts: { seconds: number; qps?: number; verbose?: boolean }): PerfResult {
  const argv = ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(opts.seconds), '-c', String(dnsperfClients), '-q', String(outstanding), '-t', '2', '-O', 'suppress=timeouts,congestion,sendfailed,sockready,unexpected'];
  if (opts.qps) argv.push('-Q', String(opts.qps));
  if (opts.verbose) argv.push('-v');
  const cpu0 = cpuSeconds(pid);
  const r = spawnSync(bin, argv, { encoding: 'utf8', maxBuffer: 512 << 20, timeout: (opts.seconds + 30) * 1000 });
  const cpu1 = cpuSeconds(pid);
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

async function main(): Promise<void> {
  const dnsperfBin = which('dnsperf');
  if (!dnsperfBin) {
    console.log('bench/dns: dnsperf not installed (Debian package dnsperf); skipped');
    return;
  }
  const dnsmasqBin = which('dnsmasq');
  const loadBefore = loadavg()[0];

  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-bench-dns-'));
  let apiserver: ChildProcess | undefined;
  let dns: ChildProcess | undefined;
  let dnsmasq: ChildProcess | undefined;
  let client: ReturnType<typeof createClient> | undefined;
  try {
    apiserver = (await startKubesvc(['apiserver', '--data-dir', dataDir, '--port', '0'], /apiserver info ready/)).child;
    client = createClient(createTransport({ server: 'http://localhost', socketPath: join(dataDir, 'apiserver.sock') }), 'bench');
    const services = client.resource(resourceTypes.services);
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
        }
      }),
    );
    const createSeconds = (performance.now() - createStarted) / 1000;

    // kubesvc dns: listed from the API; ready once the last Service answers.
    // The coredns pod's flags unless BENCH_NODE_FLAGS says otherwise.
    const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? NODE_FLAGS;
    const dnsStarted = performance.now();
    const started = await startKubesvc(
      ['dns', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--upstream', 'none', '--health', '', '--ready', '', '--metrics', ''],
      /listen=127\.0\.0\.1:(\d+)/,
      nodeFlags,
    );
    dns = started.child;
    const dnsPort = Number(started.match[1]);
    await until('kubesvc dns answering the last Service', async () => (await queryA(dnsPort, fqdn(total - 1)))?.[0] === ipOf(total - 1));
    const syncSeconds = (performance.now() - dnsStarted) / 1000;
    const dnsRssSynced = rssMb(dns.pid!);

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
    const hostsFile = join(dataDir, 'hosts');
    writeFileSync(hostsFile, order.map((i) => `${ipOf(i)} ${fqdn(i)}\n`).join(''));

    let peerPort = 0;
    if (dnsmasqBin) {
      peerPort = await freePort();
      dnsmasq = spawn(
        dnsmasqBin,
        [
          '--conf-file=/dev/null',
          '--keep-in-foreground',
          '--no-resolv',
          '--no-hosts',
          `--addn-hosts=${hostsFile}`,
          `--port=${peerPort}`,
          '--listen-address=127.0.0.1',
          '--bind-interfaces',
          `--local=/${zone}/`,
          '--local-ttl=5',
          '--cache-size=10000',
          '--pid-file=',
          '--log-facility=-',
          ...(process.getuid?.() === 0 ? ['--user=root'] : []),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      dnsmasq.stderr!.on('data', (d) => (err += d));
      const exited = new Promise<never>((_, reject) => dnsmasq!.once('exit', (code) => reject(new Error(`dnsmasq exited ${code}: ${err}`))));
      exited.catch(() => undefined);
      await Promise.race([until('dnsmasq answering the last name', async () => (await queryA(peerPort, fqdn(total - 1)))?.[0] === ipOf(total - 1), 10_000), exited]);
    }

    // Saturated: dnsperf sends as fast as answers come back, `outstanding` in flight.
    const check = (who: string, r: PerfResult) => {
      if (!r.completed || r.noerror < r.completed * 0.99) throw new Error(`${who}: only ${r.noerror} of ${r.completed} answers (${r.sent} queries) were NOERROR`);
    };
    const kube = dnsperf(dnsperfBin, dnsPort, queryFile, dns.pid!, { seconds });
    check('kubesvc dns', kube);
    const peer = dnsmasq ? dnsperf(dnsperfBin, peerPort, queryFile, dnsmasq.pid!, { seconds }) : undefined;
    if (peer) check('dnsmasq', peer);

    // Latency at a fixed rate both servers sustain with room to spare (a quarter of the slower one's saturated rate, at most 2,000/s).
    const rate = Math.max(100, Math.min(2_000, Math.floor(Math.min(kube.qps, peer?.qps ?? Infinity) / 4 / 100) * 100));
    const kubeFixed = dnsperf(dnsperfBin, dnsPort, queryFile, dns.pid!, { seconds: latencySeconds, qps: rate, verbose: true });
    const peerFixed = dnsmasq ? dnsperf(dnsperfBin, peerPort, queryFile, dnsmasq.pid!, { seconds: latencySeconds, qps: rate, verbose: true }) : undefined;

    const dnsRss = rssMb(dns.pid!);
    const peerRss = dnsmasq ? rssMb(dnsmasq.pid!) : NaN;
    const floorRss = await nodeFloorMb(nodeFlags);

    const vs = (figure: string, value: number, unit: string, peerValue: number | undefined, lowerIsBetter = true): Row =>
      peerValue === undefined || Number.isNaN(peerValue) ? { figure, value, unit, lowerIsBetter } : { figure, value, unit, peer: peerValue, peerName: 'dnsmasq', lowerIsBetter };
    const rows: Row[] = [
      vs('QPS, saturated', kube.qps, 'q/s', peer?.qps, false),
      { figure: 'QPS, saturated (target)', value: kube.qps, unit: 'q/s', peer: 25_000, peerName: 'target', lowerIsBetter: false },
      vs('latency avg, saturated', kube.avgMs, 'ms', peer?.avgMs),
      vs('latency stddev, saturated', kube.stddevMs, 'ms', peer?.stddevMs),
      vs('server CPU per query', kube.cpuUs, 'µs', peer?.cpuUs),
      vs(`latency avg at ${rate} q/s`, kubeFixed.avgMs, 'ms', peerFixed?.avgMs),
      vs(`latency p50 at ${rate} q/s`, percentile(kubeFixed.latencies, 50), 'ms', peerFixed && percentile(peerFixed.latencies, 50)),
      vs(`latency p99 at ${rate} q/s`, percentile(kubeFixed.latencies, 99), 'ms', peerFixed && percentile(peerFixed.latencies, 99)),
      vs(`latency p99.9 at ${rate} q/s`, percentile(kubeFixed.latencies, 99.9), 'ms', peerFixed && percentile(peerFixed.latencies, 99.9)),
      vs(`RSS with ${total} Services, after load`, dnsRss, 'MB', peerRss),
      { figure: 'RSS (target: objects/1000 + 30 MB)', value: dnsRss, unit: 'MB', peer: total / 1000 + 30, peerName: 'target' },
      { figure: 'RSS once synced, before load', value: dnsRssSynced, unit: 'MB' },
      { figure: `RSS of an idle node ${nodeFlags.join(' ')} (floor)`, value: floorRss, unit: 'MB' },
    ];
    printTable(
      `bench/dns: kubesvc dns (built, node ${nodeFlags.join(' ')}) with ${total} ClusterIP Services${dnsmasq ? ' vs dnsmasq with the same names in a hosts file' : ''}; UDP on loopback; ` +
        `dnsperf -c ${dnsperfClients} -q ${outstanding}, ${seconds} s saturated, then ${latencySeconds} s at ${rate} q/s`,
      rows,
    );
    const lost = (who: string, r: PerfResult | undefined) => (r && r.lost ? `${who} ${r.lost} of ${r.sent} (${((r.lost / r.sent) * 100).toFixed(2)}%)` : undefined);
    const losses = [lost('kubesvc saturated', kube), lost('dnsmasq saturated', peer), lost('kubesvc fixed-rate', kubeFixed), lost('dnsmasq fixed-rate', peerFixed)].filter(Boolean);
    console.log(`setup: ${total} Services created in ${createSeconds.toFixed(1)} s (${createConcurrency} in flight); kubesvc dns answering the last one ${syncSeconds.toFixed(1)} s after start`);
    const split = (r: PerfResult) => `${r.cpuUs.toFixed(1)} µs (${(r.cpuUs - r.sysUs).toFixed(1)} user + ${r.sysUs.toFixed(1)} kernel)`;
    console.log(`server CPU per query, saturated: kubesvc dns ${split(kube)}${peer ? `; dnsmasq ${split(peer)}` : ''}`);
    if (losses.length) console.log(`lost queries (timed out or dropped, counted out of QPS): ${losses.join('; ')}`);
    if (loadBefore > cpus().length / 2) {
      console.log(`warning: 1-minute load average ${loadBefore.toFixed(1)} on ${cpus().length} CPUs before the start (other work running): figures, latency tails most, are noisy`);
    }
    if (!dnsmasqBin) console.log('dnsmasq not installed (Debian package dnsmasq-base): peer skipped');
  } finally {
    client?.close();
    await Promise.all([stop(dns), stop(dnsmasq)]);
    await stop(apiserver);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
