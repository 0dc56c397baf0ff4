// bench/apiserver: 10,000 Services created by 50 concurrent clients, listed,
// and 100 watchers receiving changes; latencies and RSS of the server process.
// Run: npx tsx bench/apiserver.ts [--services N]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCall } from './http.js';
import { percentile, printTable } from './report.js';

const args = process.argv.slice(2);
const total = Number(args[args.indexOf('--services') + 1]) || 10_000;
const clients = 50;
const watchers = 100;
const changes = 20;

/** CPU seconds (user + system) the process has used. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const agent = new Agent({ keepAlive: true, maxSockets: clients });

function call(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return httpCall(agent, port, method, path, body === undefined ? undefined : JSON.stringify(body), headers);
}

function startServer(args: string[]): Promise<{ child: ReturnType<typeof spawn>; port: number }> {
  const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const m = /url=http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearInterval(t);
        resolve({ child, port: Number(m[1]) });
      }
    }, 20);
    child.on('exit', () => reject(new Error(`server exited: ${out}`)));
  });
}

/** `total` creates from `clients` concurrent keep-alive clients: sorted latencies, wall seconds, server CPU per request. */
async function createPhase(port: number, pid: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const cpuBefore = cpuSeconds(pid);
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        const r = await call(port, 'POST', '/api/v1/namespaces/default/services', {
          metadata: { name: `svc-${i}`, labels: { app: `a${i % 100}` } },
          spec: { selector: { app: `a${i % 100}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
        });
        if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { latencies: latencies.sort((a, b) => a - b), seconds, cpuPerRequest: ((cpuSeconds(pid) - cpuBefore) / total) * 1000 };
}

async function main() {
  // Peer: a bare node:http server that only parses and echoes the body — the HTTP floor on this machine.
  const echo = await startServer(['--import', 'tsx', join(import.meta.dirname, 'echo-server.ts')]);
  const floor = await createPhase(echo.port, echo.child.pid!);
  echo.child.kill('SIGTERM');

  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-bench-'));
  // The built server (what `npm start` runs); `npm run build` first.
  const entry = join(import.meta.dirname, '../dist/kubesvc.js');
  if (!existsSync(entry)) throw new Error('dist/ is missing: run npm run build first');
  const { child: server, port } = await startServer([entry, 'apiserver', '--data-dir', dataDir, '--port', '0']);
  const idleRss = rssMb(server.pid!);
  try {
    const created = await createPhase(port, server.pid!);
    const createLatencies = created.latencies;
    const createSeconds = created.seconds;
    const serverCpuPerCreate = created.cpuPerRequest;

    // Lists: JSON and the Table kubectl asks for.
    const listTimes: number[] = [];
    const tableTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t0 = performance.now();
      const r = await call(port, 'GET', '/api/v1/namespaces/default/services');
      listTimes.push(performance.now() - t0);
      if (JSON.parse(r.text).items.length < total) throw new Error('list is short');
      t0 = performance.now();
      await call(port, 'GET', '/api/v1/namespaces/default/services?limit=500', undefined, {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      });
      tableTimes.push(performance.now() - t0);
    }
    listTimes.sort((a, b) => a - b);
    tableTimes.sort((a, b) => a - b);

    // Watchers: 100 streams from the current revision; each change is a label patch.
    const rv = JSON.parse((await call(port, 'GET', '/api/v1/namespaces/default/services?fieldSelector=metadata.name%3Dsvc-0')).text).metadata.resourceVersion;
    const sentAt = new Map<string, number>();
    const delivery: number[] = [];
    const watchAgent = new Agent({ keepAlive: false });
    const streams = await Promise.all(
      Array.from(
        { length: watchers },
        () =>
          new Promise<import('node:http').ClientRequest>((resolve) => {
            const req = request(
              { host: '127.0.0.1', port, agent: watchAgent, path: `/api/v1/namespaces/default/services?watch=true&resourceVersion=${rv}` },
              (res) => {
                let buf = '';
                res.setEncoding('utf8');
                res.on('data', (d: string) => {
                  buf += d;
                  let nl;
                  while ((nl = buf.indexOf('\n')) >= 0) {
                    const line = buf.slice(0, nl);
                    buf = buf.slice(nl + 1);
                    const ev = JSON.parse(line);
                    const mark = ev.object?.metadata?.labels?.mark;
                    const t0 = mark && sentAt.get(mark);
                    if (t0) delivery.push(performance.now() - t0);
                  }
                });
                resolve(req);
              },
            );
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
      await call(port, 'PATCH', '/api/v1/namespaces/default/services/svc-0', { metadata: { labels: { mark } } }, { 'Content-Type': 'application/merge-patch+json' });
      patchLatencies.push(performance.now() - t0);
      const deadline = Date.now() + 5000;
      while (delivery.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    }
    for (const s of streams) s.destroy();
    delivery.sort((a, b) => a - b);
    const loadedRss = rssMb(server.pid!);

    printTable(`kubesvc API server: ${total} Services, ${clients} concurrent clients, ${watchers} watchers (peer: bare node:http echo server, same clients)`, [
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
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
    agent.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
