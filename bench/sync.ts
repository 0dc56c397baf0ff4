// bench/sync (root): rule programming at scale in the kernel modes. 10,000
// Services × 10 endpoints go through the proxy's own snapshot builder and a
// mode's rule builder into the kernel of a network namespace this bench
// creates: the full sync, then one Service's endpoints changed (a partial
// sync), split between generating the rules (ours) and the kernel tool
// applying them (iptables-restore / nft: the floor any implementation pays,
// upstream's included), rule counts and memory.
// Modes: iptables through each backend (nf_tables, Debian's default, and legacy: the proxy uses the one the node's
// rules are in), nftables (upstream's layout) and nftables-maps (endpoints as map elements), beside nft loading the
// same elements written by hand.
// Run: sudo npx tsx bench/sync.ts [--services N]   (needs iptables and nft; BENCH_SYNC_CAP_MS caps each apply,
// BENCH_SYNC_MODES=iptables,nftables,nftables-maps picks modes)
import { spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createSnapshotBuilder } from '../src/proxy/change-tracker.js';
import { buildIptablesRules, jumpRules, type IptablesRuleContext, type IptablesRuleSet } from '../src/proxy/iptables/rules.js';
import { countRules, renderPartialRestore, renderTableReplacement } from '../src/proxy/iptables/restore.js';
import { countChains, countElements, countRules as countNftRules, renderFullTransaction, renderIncrementalTransaction } from '../src/proxy/nftables/render.js';
import { buildNftablesRules, type NftablesRuleContext, type NftRuleSet } from '../src/proxy/nftables/rules.js';
import { openNftSession, type NftSession } from '../src/proxy/nftables/nft-session.js';
import type { EndpointSlice, ProxySnapshot, Service } from '../src/proxy/snapshot.js';
import { insideNetns, runInNetns } from './netns.js';
import { printTable, type Row } from './report.js';

if (!insideNetns) runInNetns('sync', import.meta.filename, '172.18.0.2');

const count = Number(process.argv.find((a, i) => process.argv[i - 1] === '--services') ?? 10_000);
const perService = 10;

function service(i: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'bench', name: `svc-${i}` },
    spec: { type: 'ClusterIP', clusterIP: `10.100.${i >> 8}.${i & 255}`, clusterIPs: [`10.100.${i >> 8}.${i & 255}`], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  } as Service;
}

function slice(i: number, generation = 0): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'bench', name: `svc-${i}-abcde`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: perService }, (_, j) => ({
      addresses: [`10.${128 + ((i * perService + j + generation) >> 16)}.${((i * perService + j + generation) >> 8) & 255}.${(i * perService + j + generation) & 255}`],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${j % 3}`,
    })),
  } as EndpointSlice;
}

const mb = (n: number) => n / 1024 / 1024;
const ms = (since: number) => performance.now() - since;
/** The longest a full apply may take before the bench stops waiting (the kernel tools are the slow part at scale). */
const applyCapMs = Number(process.env.BENCH_SYNC_CAP_MS ?? 120_000);

/** Runs a kernel tool on `input`; its time in ms, or undefined when it ran past the cap. */
function timeTool(argv: string[], input: string): number | undefined {
  const t = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { input, maxBuffer: 1 << 30, timeout: applyCapMs });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return undefined;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return ms(t);
}

interface Mode<R> {
  name: string;
  tool: string[];
  /** The full sync's tool when it differs (iptables replaces tables it owns, as a fresh namespace's are). */
  fullTool?: string[];
  build(snapshot: ProxySnapshot): R;
  full(rules: R): string;
  partial(rules: R, previous: R): string;
  counts(rules: R): Row[];
  cleanup(): void;
  /** How the proxier applies a partial sync when it is not `tool` in a new process (nftables: a long-lived nft -i). */
  session?: { name: string; open(): NftSession };
  /** The full payload checked only (parsed and evaluated, not committed), to split the tool's time from the kernel's. */
  checkTool?: string[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A Service whose one endpoint is real: a TCP server in this namespace, for the first-packet latency. */
const probeIP = '10.99.0.1';
const probeEndpoint = '10.250.0.1';
function addProbe(builder: ReturnType<typeof createSnapshotBuilder>): void {
  builder.setService({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'bench', name: 'probe' },
    spec: { type: 'ClusterIP', clusterIP: probeIP, clusterIPs: [probeIP], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  } as Service);
  builder.setSlice({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'bench', name: 'probe-abcde', labels: { 'kubernetes.io/service-name': 'probe' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: [probeEndpoint], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-0' }],
  } as EndpointSlice);
}

/** Connect time (ms) of a new TCP connection: its SYN is a first packet through the nat rules. */
function connectTime(host: string, port: number): Promise<number> {
  const t = performance.now();
  return new Promise<number>((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      resolve(ms(t));
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** First-packet latency through the probe's ClusterIP beside a direct connection to its endpoint, with `services` Services programmed. */
async function firstPacketRows(modeName: string, services: number): Promise<Row[]> {
  // Alternated, so that both see the same moments (this process's garbage collection, the kernel's work after a commit).
  const through: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < 1000; i++) {
    through.push(await connectTime(probeIP, 80));
    direct.push(await connectTime(probeEndpoint, 8080));
  }
  return [
    { figure: `${modeName}: first packet (TCP connect) through a ClusterIP at ${services} Services, p50`, value: percentile(through, 50) * 1000, unit: 'µs', peer: percentile(direct, 50) * 1000, peerName: 'direct' },
    { figure: `${modeName}: first packet (TCP connect) through a ClusterIP at ${services} Services, p99`, value: percentile(through, 99) * 1000, unit: 'µs', peer: percentile(direct, 99) * 1000, peerName: 'direct' },
  ];
}

/** The first-packet latency with only 10 Services programmed: what the latency at scale is compared with. */
async function firstPacketAtTen<R>(mode: Mode<R>): Promise<Row[]> {
  const builder = createSnapshotBuilder({ nodeName: 'node-0' });
  for (let i = 0; i < 10; i++) {
    builder.setService(service(i));
    builder.setSlice(slice(i));
  }
  addProbe(builder);
  timeTool(mode.fullTool ?? mode.tool, mode.full(mode.build(builder.snapshot())));
  const rows = await firstPacketRows(mode.name, 10);
  mode.cleanup();
  return rows;
}

function filledBuilder(services = count): ReturnType<typeof createSnapshotBuilder> {
  const builder = createSnapshotBuilder({ nodeName: 'node-0' });
  for (let i = 0; i < services; i++) {
    builder.setService(service(i));
    builder.setSlice(slice(i));
  }
  addProbe(builder);
  return builder;
}

async function measure<R>(mode: Mode<R>): Promise<Row[]> {
  // The code warmed up (compiled) on a small table first, so the full sync's figure is not its compile time.
  mode.full(mode.build(filledBuilder(Math.min(count, 1000)).snapshot()));
  const builder = filledBuilder();
  const rssBefore = process.memoryUsage().rss;
  let t = performance.now();
  const first = builder.snapshot();
  let rules = mode.build(first);
  const payload = mode.full(rules);
  const generateMs = ms(t);
  const rss = process.memoryUsage().rss;
  const checkMs = mode.checkTool ? timeTool(mode.checkTool, payload) : undefined;
  const applyMs = timeTool(mode.fullTool ?? mode.tool, payload);
  const rows: Row[] = [
    { figure: `${mode.name}: full sync: generate the rules`, value: generateMs, unit: 'ms' },
    applyMs === undefined
      ? { figure: `${mode.name}: full sync: kernel tool applying them (stopped at the cap)`, value: applyCapMs, unit: 'ms+' }
      : { figure: `${mode.name}: full sync: kernel tool applying them`, value: applyMs, unit: 'ms' },
    { figure: `${mode.name}: full sync total`, value: generateMs + (applyMs ?? applyCapMs), unit: applyMs === undefined ? 'ms+' : 'ms', peer: 2000, peerName: 'target' },
  ];
  if (checkMs !== undefined) rows.splice(2, 0, { figure: `${mode.name}: full sync: of which nft's own work (nft -c: parsed and evaluated, not committed)`, value: checkMs, unit: 'ms' });
  const gen: number[] = [];
  const total: number[] = [];
  const byProcess: number[] = [];
  let lines = 0;
  const session = mode.session?.open();
  for (let k = 1; k <= 7; k++) {
    const i = Math.floor((k * count) / 9);
    t = performance.now();
    builder.setSlice(slice(i, k * 1000));
    const next = mode.build(builder.snapshot());
    const text = mode.partial(next, rules);
    gen.push(ms(t));
    lines = text.split('\n').length;
    // Only meaningful on top of an applied full sync. Odd changes through the proxier's way, even ones by a new process.
    if (applyMs !== undefined) {
      if (session && k % 2 === 1) {
        await session.apply(text);
        total.push(ms(t));
      } else {
        const tool = timeTool(mode.tool, text);
        (session ? byProcess : total).push(tool === undefined ? NaN : ms(t));
      }
    }
    rules = next;
  }
  session?.close();
  rows.push(
    { figure: `${mode.name}: one service changed: generate (median of ${gen.length})`, value: median(gen), unit: 'ms' },
    applyMs === undefined
      ? { figure: `${mode.name}: one service changed: applied (full sync did not finish)`, value: NaN, unit: 'ms' }
      : { figure: `${mode.name}: one service changed: generate + apply${mode.session ? ` (${mode.session.name})` : ''} (median of ${total.length})`, value: median(total), unit: 'ms', peer: 20, peerName: 'target' },
    ...(byProcess.length ? [{ figure: `${mode.name}: one service changed: generate + apply (${mode.tool.join(' ')}, a process per sync; median of ${byProcess.length})`, value: median(byProcess), unit: 'ms' }] : []),
    { figure: `${mode.name}: one service changed: payload`, value: lines, unit: 'lines' },
    ...mode.counts(rules),
    { figure: `${mode.name}: full payload`, value: mb(Buffer.byteLength(payload)), unit: 'MB' },
    { figure: `${mode.name}: process RSS after building (grew by)`, value: mb(rss), unit: `MB (+${mb(rss - rssBefore).toFixed(0)})` },
  );
  if (applyMs !== undefined) rows.push(...(await firstPacketRows(mode.name, count)));
  mode.cleanup();
  rows.push(...(await firstPacketAtTen(mode)));
  return rows;
}

const iptablesCtx: IptablesRuleContext = { clusterCIDRs: ['10.128.0.0/9'] };
/** The iptables mode through one backend's tools: nf_tables (Debian's default `iptables`) or legacy x_tables. */
function iptablesMode(backend: 'nft' | 'legacy'): Mode<IptablesRuleSet> {
  const name = `iptables (${backend === 'nft' ? 'nf_tables' : 'legacy'} backend)`;
  return {
    name,
    tool: [`iptables-${backend}-restore`, '-w', '--noflush'],
    fullTool: [`iptables-${backend}-restore`, '-w'],
    build: (snap) => buildIptablesRules(snap, iptablesCtx),
    full: (r) => renderTableReplacement(r, jumpRules()),
    partial: (r, prev) => renderPartialRestore(r, prev),
    counts: (r) => {
      const c = countRules(r);
      return [{ figure: `${name}: rules (nat + filter)`, value: c.nat + c.filter, unit: 'rules' }];
    },
    cleanup: () => {
      for (const table of ['nat', 'filter']) {
        spawnSync(`iptables-${backend}`, ['-t', table, '-F']);
        spawnSync(`iptables-${backend}`, ['-t', table, '-X']);
      }
    },
  };
}
function nftMode(name: string, ctx: NftablesRuleContext): Mode<NftRuleSet> {
  return {
    name,
    tool: ['nft', '-f', '-'],
    checkTool: ['nft', '-c', '-f', '-'],
    session: { name: 'the proxier\'s long-lived nft -i', open: () => openNftSession() },
    build: (snap) => buildNftablesRules(snap, ctx),
    full: (r) => renderFullTransaction(r),
    partial: (r, prev) => renderIncrementalTransaction(r, prev),
    counts: (r) => [
      { figure: `${name}: chains`, value: countChains(r).total, unit: 'chains' },
      { figure: `${name}: rules`, value: countNftRules(r), unit: 'rules' },
      { figure: `${name}: map and set elements`, value: Object.values(countElements(r)).reduce((a, b) => a + b, 0), unit: 'elements' },
    ],
    cleanup: () => void spawnSync('nft', ['delete', 'table', 'ip', 'kube-proxy']),
  };
}

/**
 * The floor of a full sync in the map layout: nft loading the same number of map elements, written by hand as
 * plainly as nft takes them (one map of endpoints by cluster IP, port and index; one verdict map), with nothing of
 * kubesvc in the way. What nft itself costs per element bounds the layout's full sync.
 */
async function handWrittenElements(): Promise<Row[]> {
  const ip = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  const services: string[] = [];
  const endpoints: string[] = [];
  for (let i = 0; i < count; i++) {
    const clusterIP = `10.100.${i >> 8}.${i & 255}`;
    services.push(`${clusterIP} . tcp . 80 : goto pick-${perService}`);
    for (let j = 0; j < perService; j++) endpoints.push(`${clusterIP} . tcp . 80 . ${j} : ${ip(0x0a800000 + i * perService + j)} . 8080`);
  }
  const text = [
    'table ip hand {',
    '  map services { type ipv4_addr . inet_proto . inet_service : verdict ; }',
    '  map endpoints { typeof ip daddr . meta l4proto . th dport . numgen random mod 1 : ip daddr . th dport ; }',
    `  chain pick-${perService} { dnat ip to ip daddr . meta l4proto . th dport . numgen random mod ${perService} map @endpoints ; }`,
    '}',
    `add element ip hand services { ${services.join(', ')} }`,
    `add element ip hand endpoints { ${endpoints.join(', ')} }`,
    '',
  ].join('\n');
  const applyMs = timeTool(['nft', '-f', '-'], text);
  // One service's ten endpoints replaced by hand in the loaded table, and a transaction with nothing in it: what one
  // change costs nft and the kernel whatever writes it (the nft process itself, the commit).
  const one = endpoints.slice(0, perService);
  const change = [
    `delete element ip hand endpoints { ${one.map((e) => e.split(' : ')[0]).join(', ')} }`,
    `add element ip hand endpoints { ${one.map((e) => e.replace(/ \. 8080$/, ' . 8082')).join(', ')} }`,
    '',
  ].join('\n');
  const changeMs = [1, 2, 3, 4, 5].map(() => timeTool(['nft', '-f', '-'], change) ?? NaN);
  const emptyMs = [1, 2, 3, 4, 5].map(() => timeTool(['nft', '-f', '-'], '\n') ?? NaN);
  // The same change through one long-lived nft -i, as the proxier applies it: no process, no socket closed.
  const session = openNftSession();
  const sessionMs: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    await session.apply(change);
    sessionMs.push(ms(t));
  }
  session.close();
  spawnSync('nft', ['delete', 'table', 'ip', 'hand']);
  return [
    { figure: `nft -f alone: ${services.length + endpoints.length} elements written by hand (the floor)`, value: applyMs ?? NaN, unit: 'ms' },
    { figure: `nft -f alone: one service's ${perService} endpoints replaced by hand in that table (median of 5)`, value: median(changeMs), unit: 'ms' },
    { figure: 'nft -f alone: an empty transaction (the process; median of 5)', value: median(emptyMs), unit: 'ms' },
    { figure: `nft -i alone: one service's ${perService} endpoints replaced by hand, through one long-lived nft -i (median of 5)`, value: median(sessionMs), unit: 'ms' },
  ];
}

const nftCtx: NftablesRuleContext = { clusterCIDRs: ['10.128.0.0/9'] };
const modes = (process.env.BENCH_SYNC_MODES ?? 'iptables,iptables-legacy,nftables,nftables-maps').split(',');
// The probe's endpoint: a local address with a server on it.
spawnSync('ip', ['addr', 'add', `${probeEndpoint}/32`, 'dev', 'lo']);
const probeServer = createServer((socket) => socket.end());
await new Promise<void>((resolve) => probeServer.listen(8080, probeEndpoint, resolve));
const rows = [
  ...(modes.includes('iptables') ? await measure(iptablesMode('nft')) : []),
  ...(modes.includes('iptables-legacy') ? await measure(iptablesMode('legacy')) : []),
  ...(modes.includes('nftables') ? await measure(nftMode('nftables', nftCtx)) : []),
  ...(modes.includes('nftables-maps') ? [...(await measure(nftMode('nftables-maps', { ...nftCtx, layout: 'maps' }))), ...(await handWrittenElements())] : []),
];
probeServer.close();
printTable(
  `bench/sync: ${count} Services × ${perService} endpoints programmed into a network namespace's kernel (goals: full < 2 s, one change < 20 ms; kernel tools capped at ${applyCapMs / 1000} s)`,
  rows,
);
