// bench/etcd-store: ConfigMap creates through the API server on etcd
// (--etcd-servers, a throwaway etcd on loopback) beside the same API server
// on SQLite (the embedded default), in the same run: p50/p99 and req/s at
// the same concurrency. The floor is etcd alone: the same values (the stored
// object's size) written straight to etcd as the store writes them — one
// txn `create_revision == 0 → put` per object over etcd's JSON gateway, from
// this process — and `etcdctl put` run once per value (a process each, so
// its figure includes the process start). Then watch delivery: from sending
// a create to its ADDED event on a watch open through the API server, one
// object at a time, on each store.
// Run: npx tsx bench/etcd-store.ts [--creates N] [--clients N] [--watch N]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { concurrentLoad, httpsClient, type HttpsClient } from './http.js';
import { percentile, printTable, type Row } from './report.js';
import { adminCredentials, removeTempDir, startServerProcess, tempDir, type ServerProcess } from './server-process.js';
import { startEtcd, etcdSkipReason, type TestEtcd } from '../test/helpers/etcd.js';
import { b64, createEtcdClient } from '../src/storage/etcd/client.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const creates = flag('--creates', 2000);
const clients = flag('--clients', 16);
const watchCount = flag('--watch', 200);
const etcdctlPuts = 100;
const collection = '/api/v1/namespaces/default/configmaps';
/** About 1 KB of data per ConfigMap, a typical small configuration. */
const data = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`key-${k}`, 'x'.repeat(120)]));
const body = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

interface Figures {
  p50: number;
  p99: number;
  rps: number;
}

function figures(latencies: number[], seconds: number): Figures {
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), rps: latencies.length / seconds };
}

function startApiServer(dataDir: string, etcd?: TestEtcd): Promise<ServerProcess> {
  const extra = etcd ? ['--etcd-servers', etcd.url] : [];
  return startServerProcess(['--import', 'tsx', join(import.meta.dirname, '../src/cli/main.ts'), 'apiserver', '--data-dir', dataDir, '--port', '0', ...extra]);
}

async function createLoad(client: HttpsClient, prefix: string): Promise<Figures> {
  const { latencies, seconds } = await concurrentLoad(clients, creates, async (i) => {
    const r = await client.call('POST', collection, body(`${prefix}-${i}`));
    if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text.slice(0, 200)}`);
  });
  return figures(latencies, seconds);
}

/** Send → ADDED on an open watch, one create at a time: sorted delivery times (ms). */
async function watchDelivery(client: HttpsClient): Promise<number[]> {
  const waiting = new Map<string, () => void>();
  let buffer = '';
  const req = client.open('GET', `${collection}?watch=true&resourceVersion=0&labelSelector=bench%3Dwatch`, {}, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const event = JSON.parse(buffer.slice(0, nl)) as { type: string; object: { metadata: { name: string } } };
        buffer = buffer.slice(nl + 1);
        if (event.type === 'ADDED') waiting.get(event.object.metadata.name)?.();
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  const times: number[] = [];
  try {
    // The first create proves the watch is open before timing starts.
    for (let i = -1; i < watchCount; i++) {
      const name = `watched-${i + 1}`;
      const seen = new Promise<void>((resolve) => waiting.set(name, resolve));
      const t0 = performance.now();
      const r = await client.call('POST', collection, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bench: 'watch' } }, data }));
      if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text.slice(0, 200)}`);
      await seen;
      if (i >= 0) times.push(performance.now() - t0);
    }
  } finally {
    req.destroy();
  }
  return times.sort((a, b) => a - b);
}

async function measureApiServer(etcd?: TestEtcd) {
  const dataDir = tempDir('kubesvc-bench-etcd-');
  const server = await startApiServer(dataDir, etcd);
  const client = httpsClient(server.url, adminCredentials(dataDir), clients);
  try {
    const create = await createLoad(client, 'cm');
    const watch = await watchDelivery(client);
    return { create, watch };
  } finally {
    client.close();
    await server.stop();
    removeTempDir(dataDir);
  }
}

/** The floor: the same values as one txn each, straight to etcd over its JSON gateway. */
async function etcdTxnLoad(etcd: TestEtcd, valueBytes: number): Promise<Figures> {
  const client = createEtcdClient({ endpoints: [etcd.url] });
  const value = b64('x'.repeat(valueBytes));
  try {
    const { latencies, seconds } = await concurrentLoad(clients, creates, async (i) => {
      const key = b64(`/bench-floor/configmaps/default/cm-${i}`);
      const r = await client.call<{ succeeded?: boolean }>('/v3/kv/txn', { compare: [{ key, target: 'CREATE', result: 'EQUAL', create_revision: '0' }], success: [{ request_put: { key, value } }] }, true);
      if (!r.succeeded) throw new Error('floor txn failed');
    });
    return figures(latencies, seconds);
  } finally {
    client.close();
  }
}

/** `etcdctl put` of the same value, one process per put, one after another. */
function etcdctlPutLoad(etcd: TestEtcd, valueBytes: number): Figures {
  const value = 'x'.repeat(valueBytes);
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < etcdctlPuts; i++) {
    const t0 = performance.now();
    const r = spawnSync('etcdctl', ['--endpoints', etcd.url, 'put', `/bench-etcdctl/cm-${i}`, value], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`etcdctl put failed: ${r.stderr}`);
    latencies.push(performance.now() - t0);
  }
  return figures(latencies.sort((a, b) => a - b), (performance.now() - started) / 1000);
}

const skip = etcdSkipReason();
if (skip) {
  console.log(`bench/etcd-store: skipped, ${skip}`);
  process.exit(0);
}
const etcd = await startEtcd();
try {
  const sqlite = await measureApiServer();
  const onEtcd = await measureApiServer(etcd);
  // The size etcd holds for one created ConfigMap: the floor writes values of that size.
  const stored = createEtcdClient({ endpoints: [etcd.url] });
  const kv = (await stored.call<{ kvs?: { value: string }[] }>('/v3/kv/range', { key: b64('/registry/configmaps/default/cm-0') })).kvs?.[0];
  stored.close();
  const valueBytes = Buffer.from(kv?.value ?? '', 'base64').length;
  const floor = await etcdTxnLoad(etcd, valueBytes);
  const etcdctl = etcdctlPutLoad(etcd, valueBytes);
  const peer = 'SQLite';
  const rows: Row[] = [
    { figure: `create p50, etcd (${clients} clients)`, value: onEtcd.create.p50, unit: 'ms', peer: sqlite.create.p50, peerName: peer },
    { figure: `create p99, etcd (${clients} clients)`, value: onEtcd.create.p99, unit: 'ms', peer: sqlite.create.p99, peerName: peer },
    { figure: 'creates/s, etcd', value: onEtcd.create.rps, unit: 'req/s', peer: sqlite.create.rps, peerName: peer, lowerIsBetter: false },
    { figure: `floor: etcd txn put p50 (${valueBytes} B, ${clients} clients)`, value: floor.p50, unit: 'ms' },
    { figure: 'floor: etcd txn put p99', value: floor.p99, unit: 'ms' },
    { figure: 'floor: etcd txn puts/s', value: floor.rps, unit: 'req/s' },
    { figure: 'etcdctl put p50 (a process per put, 1 at a time)', value: etcdctl.p50, unit: 'ms' },
    { figure: 'etcdctl put p99', value: etcdctl.p99, unit: 'ms' },
    { figure: 'watch delivery p50, etcd (create → ADDED)', value: percentile(onEtcd.watch, 50), unit: 'ms', peer: percentile(sqlite.watch, 50), peerName: peer },
    { figure: 'watch delivery p99, etcd', value: percentile(onEtcd.watch, 99), unit: 'ms', peer: percentile(sqlite.watch, 99), peerName: peer },
  ];
  printTable(`API server on etcd vs SQLite: ${creates} ConfigMap creates (~1 KB), ${watchCount} watched creates; etcd ${valueBytes} B values`, rows);
} finally {
  await etcd.stop();
}
