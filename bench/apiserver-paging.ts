// bench/apiserver-paging: a list of 10,000 ConfigMaps whole, beside the same
// list paged in chunks of 500 (limit and continue, as client-go's pager and
// kubectl read it): the time to have every item, and the server's peak RSS
// while serving it. Each way runs in a server of its own on the same data
// dir, so neither inherits the other's heap.
// Run: npx tsx bench/apiserver-paging.ts [--configmaps N] [--rounds N]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concurrentLoad, httpsClient, type HttpsClient } from './http.js';
import { rssMb } from './proc.js';
import { percentile, printTable } from './report.js';
import { adminCredentials, removeTempDir, startServerProcess, tempDir, type ServerProcess } from './server-process.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const total = flag('--configmaps', 10_000);
const rounds = flag('--rounds', 5);
const chunk = 500;
const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
const collection = '/api/v1/namespaces/default/configmaps';
/** About 1 KB of data per ConfigMap, a typical small configuration. */
const data = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`key-${k}`, 'x'.repeat(120)]));

/** The API server from source (bench/apiserver-child.ts), so what is measured is this checkout. */
function startServer(dataDir: string): Promise<ServerProcess> {
  return startServerProcess(['--import', 'tsx', join(import.meta.dirname, 'apiserver-child.ts'), '--data-dir', dataDir, '--authorization', 'RBAC'], nodeFlags);
}

/** The process's peak RSS since resetPeak, in MB (VmHWM). */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Starts a new peak: writing 5 to clear_refs resets VmHWM to the current RSS. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Every item of the list, whole or chunk by chunk; the number of items read. */
async function readAll(client: HttpsClient, paged: boolean): Promise<number> {
  let items = 0;
  let next: string | undefined;
  do {
    const query = paged ? `?limit=${chunk}${next ? `&continue=${encodeURIComponent(next)}` : ''}` : '';
    const r = await client.call('GET', collection + query);
    if (r.status !== 200) throw new Error(`list failed: ${r.status} ${r.text.slice(0, 200)}`);
    const list = JSON.parse(r.text) as { items: unknown[]; metadata: { continue?: string } };
    items += list.items.length;
    next = list.metadata.continue;
  } while (next);
  return items;
}

/** `rounds` full reads in a fresh server: sorted times (ms), peak and final RSS (MB). */
async function measure(dataDir: string, paged: boolean) {
  const server = await startServer(dataDir);
  const client = httpsClient(server.url, adminCredentials(dataDir), 1);
  try {
    const idle = rssMb(server.pid);
    resetPeak(server.pid);
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const n = await readAll(client, paged);
      times.push(performance.now() - t0);
      if (n !== total) throw new Error(`read ${n} items of ${total}`);
    }
    return { times: times.sort((a, b) => a - b), idle, peak: peakRssMb(server.pid), after: rssMb(server.pid) };
  } finally {
    client.close();
    await server.stop();
  }
}

async function main() {
  const dataDir = tempDir('kubesvc-bench-paging-');
  try {
    const server = await startServer(dataDir);
    const client = httpsClient(server.url, adminCredentials(dataDir), 50);
    try {
      await concurrentLoad(50, total, async (i) => {
        const r = await client.call('POST', collection, JSON.stringify({ metadata: { name: `cm-${i}` }, data }));
        if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
      });
    } finally {
      client.close();
      await server.stop();
    }
    const whole = await measure(dataDir, false);
    const paged = await measure(dataDir, true);
    printTable(`kubesvc API server: list ${total} ConfigMaps (~1 KB each) whole and in chunks of ${chunk}, ${rounds} rounds, a fresh server each way`, [
      { figure: 'whole list p50', value: percentile(whole.times, 50), unit: 'ms' },
      { figure: `paged (limit=${chunk}) p50`, value: percentile(paged.times, 50), unit: 'ms', peer: percentile(whole.times, 50), peerName: 'whole' },
      { figure: 'RSS idle (whole / paged server)', value: whole.idle, unit: 'MB', peer: paged.idle, peerName: 'paged' },
      { figure: 'peak RSS serving whole lists', value: whole.peak, unit: 'MB' },
      { figure: 'peak RSS serving paged lists', value: paged.peak, unit: 'MB', peer: whole.peak, peerName: 'whole' },
      { figure: 'RSS after whole lists', value: whole.after, unit: 'MB' },
      { figure: 'RSS after paged lists', value: paged.after, unit: 'MB', peer: whole.after, peerName: 'whole' },
    ]);
  } finally {
    removeTempDir(dataDir);
  }
}

try {
  await main();
} catch (e) {
  // Exiting stops the servers still running and removes their data dirs (bench/server-process).
  console.error(e);
  process.exit(1);
}
