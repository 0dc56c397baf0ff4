// bench/pods: `kubectl create` of a 50-replica Deployment to every pod Ready,
// under `kubesvc up` (needs root), with the cluster's memory.
// Run: npm run build && npx tsx bench/pods.ts [--replicas 50]
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterIdFor } from '../src/agent/cluster-id.js';
import { pssMb, rssMb } from './proc.js';
import { percentile, printTable } from './report.js';

const args = process.argv.slice(2);
const replicas = Number(args[args.indexOf('--replicas') + 1]) || 50;

function kubectl(kubeconfig: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('kubectl', ['--kubeconfig', kubeconfig, ...argv], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
  );
}

/** Pids of the processes inside this cluster's pod network namespaces. */
function podPids(dataDir: string): number[] {
  const prefix = `ksvc-${clusterIdFor(dataDir)}-n0-p`;
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(prefix));
  return namespaces.flatMap((ns) =>
    execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number),
  );
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench/pods needs root (nodes run in network namespaces)');
  const entry = join(import.meta.dirname, '../dist/kubesvc.js');
  if (!existsSync(entry)) throw new Error('dist/ is missing: run npm run build first');
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-bench-pods-'));
  const kubeconfig = join(dataDir, 'kubeconfig');
  const t0 = performance.now();
  const up = spawn(process.execPath, [entry, 'up', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  up.stdout.on('data', (d) => (out += d));
  up.stderr.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes('kubesvc is up')) {
        clearInterval(t);
        resolve();
      }
    }, 10);
    up.on('exit', () => reject(new Error(out)));
  });
  const upSeconds = (performance.now() - t0) / 1000;
  const idleRss = rssMb(up.pid!);
  try {
    const created = performance.now();
    await kubectl(kubeconfig, ['create', 'deployment', 'bench', '--image=nginx:1.23.1', `--replicas=${replicas}`]);
    const readyAt = new Map<string, number>();
    while (readyAt.size < replicas && performance.now() - created < 120_000) {
      const pods = JSON.parse(await kubectl(kubeconfig, ['get', 'pods', '-l', 'app=bench', '-o', 'json'])).items as {
        metadata: { name: string };
        status?: { conditions?: { type: string; status: string }[] };
      }[];
      for (const p of pods) {
        if (!readyAt.has(p.metadata.name) && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) readyAt.set(p.metadata.name, performance.now() - created);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const startup = [...readyAt.values()].sort((a, b) => a - b);
    const pids = podPids(dataDir);
    const podPss = pids.reduce((s, pid) => s + pssMb(pid), 0);
    printTable(`bench/pods: ${replicas}-replica Deployment (nginx) on one node, polled every 100 ms (target: upstream SLO)`, [
      { figure: 'kubesvc up → ready', value: upSeconds * 1000, unit: 'ms', peer: 1000, peerName: 'target' },
      { figure: 'pods Ready', value: readyAt.size, unit: `of ${replicas}` },
      { figure: 'create → pod Ready, p50', value: percentile(startup, 50) / 1000, unit: 's' },
      { figure: 'create → pod Ready, p99', value: percentile(startup, 99) / 1000, unit: 's', peer: 5, peerName: 'SLO' },
      { figure: 'create → all Ready', value: (startup[startup.length - 1] ?? NaN) / 1000, unit: 's' },
      { figure: 'kubesvc process RSS idle (API, controllers, agent)', value: idleRss, unit: 'MB' },
      { figure: `kubesvc process RSS with ${replicas} pods`, value: rssMb(up.pid!), unit: 'MB' },
      { figure: `pod processes PSS total (${pids.length})`, value: podPss, unit: 'MB' },
      { figure: 'pod process PSS each', value: pids.length ? podPss / pids.length : NaN, unit: 'MB' },
    ]);
  } finally {
    up.kill('SIGINT');
    await new Promise((r) => up.on('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
