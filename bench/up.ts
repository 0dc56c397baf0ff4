// bench/up (root): what a user waits for. From `kubesvc up` (built, as
// `npm start` runs it) to the ready screen, to a Service answering through
// the node's proxy and its name resolving through the cluster DNS — for 1
// and 3 nodes — and the whole cluster's memory (PSS of the up process and
// every process under it: pods, kube-proxy, coredns) idle and with 1,000
// Services. Peers cannot run here, so targets stand beside the figures
// (k3s ~50 s / 1.6 GB, kind create 12–17 s, as the issue cites them).
// Run: sudo npm run build && sudo npx tsx bench/up.ts
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, resourceTypes } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { processTree, pssMb } from './proc.js';
import { printTable, type Row } from './report.js';

const repo = join(import.meta.dirname, '..');
const cli = join(repo, 'dist/kubesvc.js');
const fixtures = join(repo, 'test/fixtures');

if (process.getuid?.() !== 0) {
  console.log('bench/up: needs root (network namespaces); skipped');
  process.exit(0);
}
if (!existsSync(cli)) {
  console.log('bench/up: run `npm run build` first (it times the built kubesvc, as npm start runs it)');
  process.exit(1);
}

/** The node flags of the built command's shebang (`#!/usr/bin/env -S node --flag`), as `npx kubesvc` runs it. */
const nodeFlags = readFileSync(cli, 'utf8').split('\n', 1)[0]!.split(/\s+/).filter((w) => w.startsWith('--'));

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(file, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr}`)) : resolve(stdout))));
}

const clusterPss = (pid: number) => processTree(pid).reduce((sum, p) => sum + pssMb(p), 0);

/** `kubesvc up` on a fresh data dir, until its ready screen; t0 is just before the spawn. */
async function startUp(nodes: number, dataDir: string): Promise<{ up: ChildProcess; t0: number; readyMs: number }> {
  const t0 = performance.now();
  const up = spawn(process.execPath, [...nodeFlags, cli, 'up', '--data-dir', dataDir, '--port', '0', '--nodes', String(nodes)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  up.stdout!.on('data', (d) => (out += d));
  up.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => out.includes('kubesvc is up') && (clearInterval(t), resolve()), 5);
    up.on('exit', () => (clearInterval(t), reject(new Error(out))));
  });
  return { up, t0, readyMs: performance.now() - t0 };
}

async function stopUp(up: ChildProcess): Promise<void> {
  up.kill('SIGINT');
  await new Promise((r) => (up.exitCode === null ? up.once('exit', r) : r(undefined)));
}

/** The ready-screen time over several fresh starts (one start is noisy on a small machine): sorted, in ms. */
async function readyTimes(nodes: number, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), `kubesvc-bench-ready${nodes}-`));
    try {
      const { up, readyMs } = await startUp(nodes, dataDir);
      times.push(readyMs);
      await stopUp(up);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return times.sort((a, b) => a - b);
}

const readyRuns = 5;

async function once(nodes: number): Promise<Row[]> {
  const dataDir = mkdtempSync(join(tmpdir(), `kubesvc-bench-up${nodes}-`));
  const ready = await readyTimes(nodes, readyRuns);
  const { up, t0 } = await startUp(nodes, dataDir);
  try {
    const kubeconfig = join(dataDir, 'kubeconfig');
    await run('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml')]);
    // One shell inside the node polls every 20 ms, so the figure is not the cost of starting a command per try.
    const onNode = (script: string) => run(process.execPath, [cli, 'exec', '--data-dir', dataDir, '--', 'sh', '-c', script]);
    const served = onNode('until curl -s -m 1 -o /dev/null http://10.97.1.1/; do sleep 0.02; done').then(() => performance.now() - t0);
    const resolved = onNode('until dig @10.96.0.10 +short +time=1 +tries=1 service-clusterip.default.svc.cluster.local | grep -q 10.97.1.1; do sleep 0.02; done').then(() => performance.now() - t0);
    const [servedMs, resolvedMs] = await Promise.all([served, resolved]);
    const idle = clusterPss(up.pid!);
    // 1,000 more Services (no endpoints), then memory again once the proxy and DNS have taken them in.
    // As the admin, over the API's TCP port (HTTPS, the kubeconfig's client certificate).
    const client = createClient(createTransport(loadKubeconfig(kubeconfig)), 'bench');
    const services = client.resource(resourceTypes.services);
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => services.create('default', { apiVersion: 'v1', kind: 'Service', metadata: { name: `bulk-${i + j}` }, spec: { ports: [{ port: 80 }] } })),
      );
    }
    await onNode('until dig @10.96.0.10 +short +time=1 +tries=1 bulk-999.default.svc.cluster.local | grep -q .; do sleep 0.05; done');
    await new Promise((r) => setTimeout(r, 2000));
    const loaded = clusterPss(up.pid!);
    client.close();
    const n = `${nodes} node${nodes > 1 ? 's' : ''}`;
    return [
      {
        figure: `${n}: kubesvc up → ready screen, median of ${readyRuns} (${Math.round(ready[0]!)}–${Math.round(ready[ready.length - 1]!)} ms)`,
        value: ready[Math.floor(ready.length / 2)]!,
        unit: 'ms',
        peer: 1000,
        peerName: 'target',
      },
      { figure: `${n}: up → a Service answering through the proxy`, value: servedMs / 1000, unit: 's', peer: 12, peerName: 'kind create alone' },
      { figure: `${n}: up → its name resolving (cluster DNS)`, value: resolvedMs / 1000, unit: 's', peer: 12, peerName: 'kind create alone' },
      { figure: `${n}: whole cluster PSS, idle with 3 pods`, value: idle, unit: 'MB', peer: 200, peerName: 'target' },
      { figure: `${n}: whole cluster PSS with 1,000 Services`, value: loaded, unit: 'MB' },
    ];
  } finally {
    await stopUp(up);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const rows = [...(await once(1)), ...(await once(3))];
printTable('bench/up: the built kubesvc up, the fixtures applied right after the ready screen; PSS of every process under up', rows);
