// bench/crd: creating custom objects (a cert-manager Certificate, validated,
// pruned and defaulted by its CRD's schema) beside creating ConfigMaps (a
// built-in kind with its typed decoding and validation), in the same server
// and run: p50/p99 latency of one create, from a few concurrent clients.
// Run: npx tsx bench/crd.ts [--objects N] [--clients N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { concurrentLoad, httpsClient } from './http.js';
import { percentile, printTable } from './report.js';
import { adminCredentials, removeTempDir, startServerProcess, tempDir } from './server-process.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const objects = flag('--objects', 2000);
const clients = flag('--clients', 8);
const rounds = 4;
const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
const crd = parse(readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'crds', 'certificates.cert-manager.io.yaml'), 'utf8')) as object;

const certificate = (i: number) => ({
  apiVersion: 'cert-manager.io/v1',
  kind: 'Certificate',
  metadata: { name: `cert-${i}`, labels: { app: 'bench' } },
  spec: {
    secretName: `cert-${i}-tls`,
    issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' },
    dnsNames: [`app-${i}.example.com`, `www.app-${i}.example.com`],
    privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
    usages: ['digital signature', 'key encipherment', 'server auth'],
  },
});
/** A ConfigMap of about the same size as the Certificate. */
const configMap = (i: number) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: `cm-${i}`, labels: { app: 'bench' } },
  data: { secretName: `cert-${i}-tls`, issuer: 'letsencrypt', dnsNames: `app-${i}.example.com,www.app-${i}.example.com`, algorithm: 'ECDSA', usages: 'server auth' },
});

function add(total: { latencies: number[]; seconds: number }, run: { latencies: number[]; seconds: number }) {
  total.latencies.push(...run.latencies);
  total.seconds += run.seconds;
}

async function main() {
  const dataDir = tempDir('kubesvc-bench-crd-');
  try {
    const server = await startServerProcess(['--import', 'tsx', join(import.meta.dirname, 'apiserver-child.ts'), '--data-dir', dataDir, '--authorization', 'RBAC'], nodeFlags);
    const client = httpsClient(server.url, adminCredentials(dataDir), clients);
    try {
      const made = await client.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', JSON.stringify(crd));
      if (made.status !== 201) throw new Error(`CRD create failed: ${made.status} ${made.text.slice(0, 300)}`);
      for (const deadline = Date.now() + 30_000; ; ) {
        if ((await client.call('GET', '/apis/cert-manager.io/v1/certificates')).status === 200) break;
        if (Date.now() > deadline) throw new Error('the CRD was not established');
        await new Promise((r) => setTimeout(r, 50));
      }
      const create = (path: string, body: (i: number) => object) => async (i: number) => {
        const r = await client.call('POST', path, JSON.stringify(body(i)));
        if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text.slice(0, 300)}`);
      };
      // Warm-up of both paths, then the two measured runs back to back.
      await concurrentLoad(clients, 100, create('/api/v1/namespaces/default/configmaps', (i) => configMap(objects + i)));
      await concurrentLoad(clients, 100, create('/apis/cert-manager.io/v1/namespaces/default/certificates', (i) => certificate(objects + i)));
      // Alternating rounds, so neither kind always meets the larger database or the warmer heap.
      const builtIn = { latencies: [] as number[], seconds: 0 };
      const custom = { latencies: [] as number[], seconds: 0 };
      const perRound = Math.ceil(objects / rounds);
      for (let r = 0; r < rounds; r++) {
        const offset = r * perRound;
        const runs = [
          async () => add(builtIn, await concurrentLoad(clients, perRound, (i) => create('/api/v1/namespaces/default/configmaps', configMap)(offset + i))),
          async () => add(custom, await concurrentLoad(clients, perRound, (i) => create('/apis/cert-manager.io/v1/namespaces/default/certificates', certificate)(offset + i))),
        ];
        for (const run of r % 2 ? runs.reverse() : runs) await run();
      }
      builtIn.latencies.sort((a, b) => a - b);
      custom.latencies.sort((a, b) => a - b);
      printTable(`Custom object creates (${rounds * Math.ceil(objects / rounds)} each, ${clients} clients): Certificate (CRD schema) vs ConfigMap (built-in)`, [
        { figure: 'create p50', value: percentile(custom.latencies, 50), unit: 'ms', peer: percentile(builtIn.latencies, 50), peerName: 'ConfigMap' },
        { figure: 'create p99', value: percentile(custom.latencies, 99), unit: 'ms', peer: percentile(builtIn.latencies, 99), peerName: 'ConfigMap' },
        { figure: 'creates/s', value: objects / custom.seconds, unit: '/s', peer: objects / builtIn.seconds, peerName: 'ConfigMap', lowerIsBetter: false },
      ]);
    } finally {
      client.close();
      await server.stop();
    }
  } finally {
    removeTempDir(dataDir);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
