// bench/apiserver: 10,000 Services created by 50 concurrent clients, listed,
// and 100 watchers receiving changes; latencies and RSS of the server process,
// over HTTPS as the admin (the client certificate of the kubeconfig the server
// writes). Then bench/apiserver-auth: what authentication + authorization cost.
// Run: npm run build && npx tsx bench/apiserver.ts [--services N] [--auth-requests N] [--rounds N] [--auth-only | --no-auth]
import { readFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { lineSplitter } from '../src/util/line-splitter.js';
import { authBench } from './apiserver-auth.js';
import { concurrentLoad, httpsClient, type HttpsClient } from './http.js';
import { rssMb } from './proc.js';
import { percentile, printTable } from './report.js';
import { adminCredentials, builtApiServerArgs, cpuSeconds, removeTempDir, startServerProcess, tempDir } from './server-process.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const total = flag('--services', 10_000);
const clients = 50;
const watchers = 100;
const changes = 20;
const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];

/** `total` Service creates from `clients` concurrent keep-alive clients: sorted latencies, wall seconds, server CPU per request. */
async function createPhase(client: HttpsClient, pid: number) {
  const cpuBefore = cpuSeconds(pid);
  const { latencies, seconds } = await concurrentLoad(clients, total, async (i) => {
    const body = {
      metadata: { name: `svc-${i}`, labels: { app: `a${i % 100}` } },
      spec: { selector: { app: `a${i % 100}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    };
    const r = await client.call('POST', '/api/v1/namespaces/default/services', JSON.stringify(body));
    if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
  });
  return { latencies, seconds, cpuPerRequest: ((cpuSeconds(pid) - cpuBefore) / total) * 1000 };
}

/** Peer: a bare node:https server that only parses and echoes the body — the HTTPS floor on this machine. */
async function echoFloor() {
  const dir = tempDir('kubesvc-bench-echo-');
  const certFile = join(dir, 'echo.crt');
  const echo = await startServerProcess(['--import', 'tsx', join(import.meta.dirname, 'echo-server.ts'), certFile], nodeFlags);
  const client = httpsClient(echo.url, { ca: readFileSync(certFile) }, clients);
  try {
    return await createPhase(client, echo.pid);
  } finally {
    client.close();
    await echo.stop();
    removeTempDir(dir);
  }
}

async function main() {
  const floor = await echoFloor();
  const dataDir = tempDir('kubesvc-bench-');
  // The built server (what `npm start` runs); `npm run build` first.
  const server = await startServerProcess(builtApiServerArgs(dataDir), nodeFlags);
  const admin = adminCredentials(dataDir);
  const client = httpsClient(server.url, admin, clients);
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    client.call(method, path, body === undefined ? undefined : JSON.stringify(body), headers);
  // Watches hold their connections: a pool of their own.
  const watchClient = httpsClient(server.url, admin, watchers);
  const idleRss = rssMb(server.pid);
  try {
    const created = await createPhase(client, server.pid);
    const createLatencies = created.latencies;
    const createSeconds = created.seconds;
    const serverCpuPerCreate = created.cpuPerRequest;

    // Lists: JSON and the Table kubectl asks for.
    const listTimes: number[] = [];
    const tableTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t0 = performance.now();
      const r = await call('GET', '/api/v1/namespaces/default/services');
      listTimes.push(performance.now() - t0);
      if (JSON.parse(r.text).items.length < total) throw new Error('list is short');
      // kubectl's read: Tables in chunks of 500, following the continue tokens to the end.
      t0 = performance.now();
      let rows = 0;
      let next = '';
      do {
        const page = await call('GET', `/api/v1/namespaces/default/services?limit=500${next && `&continue=${encodeURIComponent(next)}`}`, undefined, {
          Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
        });
        const table = JSON.parse(page.text);
        rows += table.rows.length;
        next = table.metadata.continue ?? '';
      } while (next);
      tableTimes.push(performance.now() - t0);
      if (rows < total) throw new Error('table is short');
    }
    listTimes.sort((a, b) => a - b);
    tableTimes.sort((a, b) => a - b);

    // Watchers: 100 streams from the current revision; each change is a label patch.
    const rv = JSON.parse((await call('GET', '/api/v1/namespaces/default/services?fieldSelector=metadata.name%3Dsvc-0')).text).metadata.resourceVersion;
    const sentAt = new Map<string, number>();
    const delivery: number[] = [];
    const streams = await Promise.all(
      Array.from(
        { length: watchers },
        () =>
          new Promise<ClientRequest>((resolve) => {
            const req = watchClient.open('GET', `/api/v1/namespaces/default/services?watch=true&resourceVersion=${rv}`, {}, (res) => {
              res.setEncoding('utf8');
              const lines = lineSplitter((line) => {
                const ev = JSON.parse(line);
                const mark = ev.object?.metadata?.labels?.mark;
                const t0 = mark && sentAt.get(mark);
                if (t0) delivery.push(performance.now() - t0);
              });
              res.on('data', (d: string) => lines.push(d));
              resolve(req);
            });
            req.end();
          }),
      ),
    );
    const patchLatencies: number[] = [];
    for (let c = 0; c < changes; c++) {
      const mark = `m${c}`;
      const expected = (c + 1) * watchers;
      const t0 = performance.now();
      sentAt.set(mark, t0);
      await call('PATCH', '/api/v1/namespaces/default/services/svc-0', { metadata: { labels: { mark } } }, { 'Content-Type': 'application/merge-patch+json' });
      patchLatencies.push(performance.now() - t0);
      const deadline = Date.now() + 5000;
      while (delivery.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    }
    for (const s of streams) s.destroy();
    delivery.sort((a, b) => a - b);
    const loadedRss = rssMb(server.pid);

    printTable(`kubesvc API server: ${total} Services, ${clients} concurrent clients, ${watchers} watchers (peer: bare node:https echo server, same clients)`, [
      { figure: 'create p50', value: percentile(createLatencies, 50), unit: 'ms', peer: percentile(floor.latencies, 50), peerName: 'echo' },
      { figure: 'create p99', value: percentile(createLatencies, 99), unit: 'ms', peer: percentile(floor.latencies, 99), peerName: 'echo' },
      { figure: 'create p99 (target)', value: percentile(createLatencies, 99), unit: 'ms', peer: 20, peerName: 'target' },
      { figure: 'create throughput', value: total / createSeconds, unit: 'req/s', peer: total / floor.seconds, peerName: 'echo' },
      { figure: 'server CPU per create', value: serverCpuPerCreate, unit: 'ms', peer: floor.cpuPerRequest, peerName: 'echo' },
      { figure: `list ${total} (JSON) p50`, value: percentile(listTimes, 50), unit: 'ms', peer: 300, peerName: 'target' },
      { figure: `list ${total} (Table) p50`, value: percentile(tableTimes, 50), unit: 'ms', peer: 300, peerName: 'target' },
      { figure: 'patch p50 (100 watchers)', value: percentile(patchLatencies, 50), unit: 'ms' },
      { figure: 'watch delivery p50', value: percentile(delivery, 50), unit: 'ms' },
      { figure: 'watch delivery p99', value: percentile(delivery, 99), unit: 'ms', peer: 50, peerName: 'target' },
      { figure: 'events delivered', value: delivery.length, unit: `of ${changes * watchers}` },
      { figure: 'RSS idle', value: idleRss, unit: 'MB' },
      { figure: `RSS with ${total} Services`, value: loadedRss, unit: 'MB' },
    ]);
  } finally {
    client.close();
    watchClient.close();
    await server.stop();
    removeTempDir(dataDir);
  }
}

try {
  if (!args.includes('--auth-only')) await main();
  if (!args.includes('--no-auth')) await authBench({ requests: flag('--auth-requests', 3000), clients, rounds: flag('--rounds', 5), nodeFlags });
} catch (e) {
  // Exiting stops the servers still running and removes their data dirs (bench/server-process).
  console.error(e);
  process.exit(1);
}
