// bench/controllers: the Endpoints, EndpointSlice and mirroring controllers
// over 1,000 Services × 10 pods. The API server runs in its own process; the
// controllers and the load run here. Measured: the cold start until every
// Service has its slices, the time from a pod's Ready change (updateStatus)
// to the EndpointSlice (and Endpoints) showing it, seen on a watch, and the
// convergence after a controller restart (which must write nothing).
// Run: npx tsx bench/controllers.ts [--services 1000] [--pods-per-service 10] [--flips 200]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDirTransport } from '../src/cli/client-flags.js';
import { componentUsers } from '../src/auth/user.js';
import { createClient, resourceTypes, type Client } from '../src/client/client.js';
import { createInformerFactory } from '../src/client/informer-factory.js';
import { createTransport } from '../src/client/transport.js';
import { defaultControllerOptions, type Controller, type ControllerContext } from '../src/controllers/controller.js';
import { createEndpointsController } from '../src/controllers/endpoints.js';
import { createEndpointSliceController } from '../src/controllers/endpointslice/controller.js';
import type { EndpointSlice, Endpoints, Pod, Service } from '../src/controllers/endpointslice/pod-endpoints.js';
import { createEndpointSliceMirroringController } from '../src/controllers/endpointslice-mirroring.js';
import { createEventRecorder } from '../src/client/events.js';
import { setQuiet } from '../src/util/log.js';
import { percentile, printTable, type Row } from './report.js';
import { startBenchChild } from './server-process.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

/** The API server in a child process of this bench (`--serve-api`), so its CPU is not the controllers'. */
const startApiServer = (dataDir: string) => startBenchChild(import.meta.filename, 'serve-api', dataDir);

/** The three endpoint controllers over one shared informer factory (what the manager does for them). */
async function startEndpointControllers(client: Client) {
  const factory = createInformerFactory(client);
  const events = createEventRecorder(client, 'kubesvc-bench');
  const ctx: ControllerContext = { factory, client, events, options: defaultControllerOptions };
  const controllers: Controller[] = [createEndpointsController(ctx), createEndpointSliceController(ctx), createEndpointSliceMirroringController(ctx)];
  for (const c of controllers) c.setup();
  await factory.start();
  for (const c of controllers) c.run();
  return {
    async idle() {
      for (let round = 0; round < 2; round++) await Promise.all(controllers.map((c) => c.idle()));
    },
    async stop() {
      for (const c of controllers) c.stop();
      factory.stop();
      await events.flush();
    },
  };
}

/** Runs fn over items with at most `width` in flight. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

const nowTs = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

async function main() {
  setQuiet(true);
  const numServices = flag('services', 1000);
  const podsPerService = flag('pods-per-service', 10);
  const numFlips = flag('flips', 200);
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-bench-controllers-'));
  const api = await startApiServer(dataDir);
  // The API server runs in its own process; the bench is its admin, with a certificate from the data dir's CA.
  const client = createClient(createTransport({ ...dataDirTransport(dataDir, componentUsers.admin), socketPath: undefined, server: api.url }), 'kubesvc-bench');
  const services = client.resource<Service>(resourceTypes.services);
  const pods = client.resource<Pod>(resourceTypes.pods);
  const slices = client.resource<EndpointSlice>(resourceTypes.endpointslices);
  const endpoints = client.resource<Endpoints>(resourceTypes.endpoints);
  const nodes = client.resource(resourceTypes.nodes);
  const rows: Row[] = [];
  let controllers: Awaited<ReturnType<typeof startEndpointControllers>> | undefined;
  try {
    for (let n = 0; n < 3; n++) {
      await nodes.create(undefined, { metadata: { name: `node-${n}`, labels: { 'topology.kubernetes.io/zone': `zone-${n}` } }, spec: {} });
    }
    // The objects first, then the controllers: their cold start is the first figure.
    let t = performance.now();
    await pool(
      Array.from({ length: numServices }, (_, i) => i),
      32,
      async (i) => {
        await services.create('default', {
          metadata: { name: `svc-${i}` },
          spec: { selector: { app: `app-${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
        });
      },
    );
    const podObjs = new Map<string, Pod>();
    const podIPs = new Map<string, string>();
    await pool(
      Array.from({ length: numServices * podsPerService }, (_, i) => i),
      32,
      async (i) => {
        const svc = Math.floor(i / podsPerService);
        const name = `pod-${svc}-${i % podsPerService}`;
        const ip = `10.${64 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
        const created = await pods.create('default', {
          metadata: { name, labels: { app: `app-${svc}` } },
          spec: { nodeName: `node-${i % 3}`, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9' }] },
        });
        created.status = { ...created.status, phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: nowTs() }] };
        podObjs.set(name, await pods.updateStatus(created));
        podIPs.set(name, ip);
      },
    );
    const setupSeconds = (performance.now() - t) / 1000;
    console.error(`created ${numServices} services and ${podObjs.size} pods in ${setupSeconds.toFixed(1)} s`);

    t = performance.now();
    controllers = await startEndpointControllers(client);
    await controllers.idle();
    const coldMs = performance.now() - t;
    const sliceList = (await slices.list('default')).items;
    const total = sliceList.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0);
    if (sliceList.length !== numServices || total !== numServices * podsPerService) {
      throw new Error(`cold start did not converge: ${sliceList.length} slices, ${total} endpoints`);
    }
    rows.push({ figure: `cold start: ${numServices} Services × ${podsPerService} pods → slices + Endpoints`, value: coldMs / 1000, unit: 's' });

    // Ready flips, one at a time, each timed until a watch shows the slice (and the Endpoints) reflecting it.
    type Want = { ip: string; ready: boolean; t0: number; slice?: number; ep?: number; done: () => void };
    let want: Want | undefined;
    const check = () => {
      if (want && want.slice !== undefined && want.ep !== undefined) want.done();
    };
    const { resourceVersion: sliceRV } = await slices.list('default', { labelSelector: 'kubernetes.io/service-name=none' });
    const sliceWatch = slices.watch(
      'default',
      { resourceVersion: sliceRV },
      (e) => {
        if (!want || want.slice !== undefined) return;
        const ep = e.object.endpoints?.find((x) => x.addresses?.[0] === want!.ip);
        if (ep && ep.conditions?.ready === want.ready) {
          want.slice = performance.now() - want.t0;
          check();
        }
      },
      () => undefined,
    );
    const { resourceVersion: epRV } = await endpoints.list('default', { labelSelector: 'none=none' });
    const epWatch = endpoints.watch(
      'default',
      { resourceVersion: epRV },
      (e) => {
        if (!want || want.ep !== undefined) return;
        const field = want.ready ? 'addresses' : 'notReadyAddresses';
        if ((e.object.subsets ?? []).some((s) => (s[field] ?? []).some((a) => a.ip === want!.ip))) {
          want.ep = performance.now() - want.t0;
          check();
        }
      },
      () => undefined,
    );
    const sliceLat: number[] = [];
    const epLat: number[] = [];
    const names = [...podObjs.keys()];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let f = 0; f < numFlips; f++) {
      const name = names[Math.floor(random() * names.length)];
      const pod = podObjs.get(name)!;
      const ready = pod.status!.conditions![0].status !== 'True';
      pod.status!.conditions = [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: nowTs() }];
      const seen = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`flip ${f} of ${name} not seen within 10 s`)), 10_000);
        want = { ip: podIPs.get(name)!, ready, t0: performance.now(), done: () => (clearTimeout(timer), resolve()) };
      });
      podObjs.set(name, await pods.updateStatus(pod));
      await seen;
      sliceLat.push(want!.slice!);
      epLat.push(want!.ep!);
      want = undefined;
    }
    sliceWatch.close();
    epWatch.close();
    await controllers.idle();
    sliceLat.sort((a, b) => a - b);
    epLat.sort((a, b) => a - b);
    rows.push({ figure: `pod Ready change → EndpointSlice, p50 (${numFlips} flips)`, value: percentile(sliceLat, 50), unit: 'ms' });
    rows.push({ figure: 'pod Ready change → EndpointSlice, p99', value: percentile(sliceLat, 99), unit: 'ms', peer: 50, peerName: 'target' });
    rows.push({ figure: 'pod Ready change → Endpoints, p50', value: percentile(epLat, 50), unit: 'ms' });
    rows.push({ figure: 'pod Ready change → Endpoints, p99', value: percentile(epLat, 99), unit: 'ms', peer: 50, peerName: 'target' });

    // Restart: fresh caches, every Service reconciled again, and nothing written.
    const snapshot = async () => {
      const s = (await slices.list('default')).items.map((x) => `${x.metadata.name}@${x.metadata.resourceVersion}`);
      const e = (await endpoints.list('default')).items.map((x) => `${x.metadata.name}@${x.metadata.resourceVersion}`);
      return [...s, ...e].sort().join('\n');
    };
    const before = await snapshot();
    await controllers.stop();
    t = performance.now();
    controllers = await startEndpointControllers(client);
    await controllers.idle();
    const restartMs = performance.now() - t;
    const after = await snapshot();
    if (after !== before) throw new Error('the restart rewrote slices or Endpoints');
    rows.push({ figure: 'restart: start → idle, slices and Endpoints unchanged', value: restartMs / 1000, unit: 's' });

    printTable(`bench/controllers: ${numServices} Services × ${podsPerService} pods (API server in its own process)`, rows);
  } finally {
    await controllers?.stop();
    client.close();
    await api.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// Child mode: just the API server, printing its URL.
if (args[0] === '--serve-api') {
  const { runApiServer } = await import('../src/apiserver/apiserver.js');
  setQuiet(true);
  const server = await runApiServer({ dataDir: args[1], port: 0, bind: '127.0.0.1', serviceClusterIPRange: '10.96.0.0/12', serviceNodePortRange: '30000-32767' });
  process.stdout.write(`URL ${server.url}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
} else {
  await main();
}
