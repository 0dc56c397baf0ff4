// bench/dashboard: the live page's server (src/dashboard) with 1,000
// Services. The API server runs in one child, the dashboard in another (so
// its CPU and memory are its own), the load and one page's event stream
// here. Measured: the dashboard's RSS, the first event (the snapshot) a page
// gets and its size, the CPU the dashboard uses with a page open and idle
// (its 2 s readings; no nodes here, so no conntrack or DNS reading is
// spawned: that cost is per node, not per Service), and a burst of 1,000
// Service updates: how many patch messages reached the page and when the
// last change arrived, with the CPU the dashboard spent on it.
// Run: npx tsx bench/dashboard.ts [--services 1000]
import { request } from 'node:http';
import { dataDirTransport } from '../src/cli/client-flags.js';
import { componentUsers } from '../src/auth/user.js';
import { createClient, resourceTypes, type Client } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import type { Service } from '../src/api/types.js';
import type { KubeObject } from '../src/api/object.js';
import { setQuiet } from '../src/util/log.js';
import { rssMb } from './proc.js';
import { builtApiServerArgs, cpuSeconds, startBenchChild, startServerProcess, tempDir } from './server-process.js';
import { printTable, type Row } from './report.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

async function inBatches<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(fn));
}

/** The dashboard child: prints its URL, runs until SIGTERM. */
async function serveDashboard(dataDir: string) {
  setQuiet(true);
  const { startDashboard } = await import('../src/dashboard/server.js');
  const client = createClient(createTransport(dataDirTransport(dataDir, componentUsers.admin)), 'dashboard');
  const d = await startDashboard({ client, nodeNetns: (n) => `none-${n}`, podNetns: (n, uid) => `none-${n}-${uid}` });
  process.stdout.write(`URL ${d.url}\n`);
  process.on('SIGTERM', () => void d.close().then(() => process.exit(0)));
}

/** One page's event stream: every event's name, size and arrival time. */
function openStream(base: string, cookie: string, onEvent: (name: string, bytes: number, at: number) => void): () => void {
  const req = request(`${base}/events`, { headers: { Cookie: cookie } }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const name = /^event: (.*)$/m.exec(frame)?.[1];
        if (name) onEvent(name, frame.length, performance.now());
      }
    });
  });
  req.end();
  return () => req.destroy();
}

async function main() {
  const services = flag('services', 1000);
  const dataDir = tempDir('kubesvc-bench-dashboard-');
  const api = await startServerProcess(builtApiServerArgs(dataDir));
  const client: Client = createClient(createTransport(dataDirTransport(dataDir, componentUsers.admin)), 'bench');
  const svc = client.resource<Service & KubeObject>(resourceTypes.services);
  await inBatches([...Array(services).keys()], 50, (i) =>
    svc.create('default', { metadata: { name: `s${i}`, labels: { bench: 'a' } }, spec: { selector: { app: `a${i}` }, ports: [{ port: 80, targetPort: 8080 }] } } as Service & KubeObject),
  );
  const dashboardChild = await startBenchChild(import.meta.filename, 'serve-dashboard', dataDir);
  const { pid, url } = dashboardChild;
  const base = new URL(url).origin;
  const rows: Row[] = [];
  try {
    const rssStart = rssMb(pid);
    // The token for the cookie, as the browser does.
    const t = await fetch(url, { redirect: 'manual' });
    const cookie = (t.headers.get('set-cookie') ?? '').split(';')[0];
    if (t.status !== 303 || !cookie) throw new Error(`the token was not taken: ${t.status}`);
    const events: { name: string; bytes: number; at: number }[] = [];
    const t0 = performance.now();
    const close = openStream(base, cookie, (name, bytes, at) => events.push({ name, bytes, at }));
    while (!events.some((e) => e.name === 'snapshot')) await new Promise((r) => setTimeout(r, 5));
    const snap = events.find((e) => e.name === 'snapshot')!;
    rows.push({ figure: `first event (snapshot of ${services} Services) after connect`, value: snap.at - t0, unit: 'ms' });
    rows.push({ figure: 'snapshot size', value: snap.bytes / 1024, unit: 'KiB' });
    // Idle with a page open: 10 s of its readings.
    const idle0 = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 10_000));
    rows.push({ figure: 'CPU, a page open, nothing changing', value: ((cpuSeconds(pid) - idle0) / 10) * 100, unit: '% of a core' });
    // A burst: every Service relabelled.
    const before = events.length;
    const cpu0 = cpuSeconds(pid);
    const b0 = performance.now();
    await inBatches([...Array(services).keys()], 50, (i) => svc.patch('default', `s${i}`, { metadata: { labels: { bench: 'b' } } }, 'merge'));
    const written = performance.now();
    const patched = () => events.slice(before).filter((e) => e.name === 'patch');
    // Settled: no new patch for a second.
    for (let last = -1; ; ) {
      await new Promise((r) => setTimeout(r, 1000));
      const n = patched().length;
      if (n === last) break;
      last = n;
    }
    const patches = patched();
    rows.push({ figure: `${services} Service updates: patch messages to the page`, value: patches.length, unit: 'messages' });
    rows.push({ figure: 'last patch after the last update was written', value: (patches.at(-1)?.at ?? written) - written, unit: 'ms' });
    rows.push({ figure: 'updates written (API, 50 at a time)', value: written - b0, unit: 'ms' });
    rows.push({ figure: 'dashboard CPU for the burst', value: (cpuSeconds(pid) - cpu0) * 1000, unit: 'ms' });
    rows.push({ figure: 'dashboard RSS, started', value: rssStart, unit: 'MB' });
    rows.push({ figure: 'dashboard RSS, after the burst', value: rssMb(pid), unit: 'MB' });
    close();
  } finally {
    await dashboardChild.stop();
    client.close();
    await api.stop();
  }
  printTable(`dashboard server with ${services} Services (one page's event stream)`, rows);
}

if (args[0] === '--serve-dashboard') await serveDashboard(args[1]);
else await main();
