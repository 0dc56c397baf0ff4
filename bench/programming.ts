// bench/programming (root): network programming latency — a pod turning
// Ready until its endpoint is in the kernel — with 10,000 Services × 10
// endpoints in a real cluster's control plane: `kubesvc apiserver`, `kubesvc
// controllers` (the EndpointSlice controller turns the pod's readiness into
// its slice) and `kubesvc proxy` in a network namespace this bench creates,
// polled through a long-lived `nft -i` (nftables modes) or with iptables-save
// (iptables mode). There is no kubelet: the bench writes the pod's status as
// one would, and renews node-0's heartbeat Lease with the kubelet's own code
// (else the node lifecycle controller marks the node's pods not ready after
// its grace period). The probe Service's pod goes Ready and not Ready in turn; each
// change is timed from the status write to the rule change the kernel
// reports (upstream's SLI, kubeproxy_network_programming_duration_seconds,
// starts at the same trigger). minSyncPeriod is 0 (kube-proxy's default is
// 1 s, which bounds the latency from below): the figure is the pipeline's,
// not a rate limit's.
// Run: npm run build && sudo npx tsx bench/programming.ts [--services N] [--changes K] [--mode nftables-maps|iptables|nftables]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, resourceTypes, type Client } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { createInformer } from '../src/client/informer.js';
import { componentUsers } from '../src/auth/user.js';
import { startNodeLease } from '../src/agent/node-lease.js';
import { dataDirTransport } from '../src/cli/client-flags.js';
import { insideNetns, runInNetns } from './netns.js';
import { percentile, printTable, type Row } from './report.js';
import { startKubesvc, tempDir } from './server-process.js';

if (!insideNetns) runInNetns('programming', import.meta.filename, '172.18.0.2');

const arg = (name: string, fallback: string) => process.argv.find((a, i) => process.argv[i - 1] === `--${name}`) ?? fallback;
const count = Number(arg('services', '10000'));
const changes = Number(arg('changes', '40'));
const modes = arg('mode', 'nftables-maps,iptables').split(',');
const perService = 10;
const node = 'node-0';
const probePodIP = '10.250.0.1';

/** Runs `fn` over items, `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

async function createServices(client: Client): Promise<void> {
  await client.resource(resourceTypes.namespaces).create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } } as never);
  await client.resource(resourceTypes.nodes).create(undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node },
    status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }], conditions: [{ type: 'Ready', status: 'True' }] },
  } as never);
  const services = client.resource(resourceTypes.services);
  const slices = client.resource(resourceTypes.endpointslices);
  const indexes = Array.from({ length: count }, (_, i) => i);
  // Selectorless Services with slices written as a controller would: what the proxy programs around the probe.
  await inParallel(indexes, 16, async (i) => {
    await services.create('bench', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}` },
      spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
    } as never);
    await slices.create('bench', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `svc-${i}-bench`, labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'bench' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: perService }, (_, j) => {
        const n = i * perService + j;
        return { addresses: [`10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true, serving: true, terminating: false }, nodeName: `node-${j % 3}` };
      }),
    } as never);
  });
  // The probe: a Service selecting one pod, its endpoint kept by the EndpointSlice controller.
  await services.create('default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'probe' },
    spec: { selector: { app: 'probe' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] },
  } as never);
  await client.resource(resourceTypes.pods).create('default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'probe', labels: { app: 'probe' } },
    spec: { nodeName: node, containers: [{ name: 'web', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', ports: [{ containerPort: 8080 }] }] },
  } as never);
}

/** The pod's status as a kubelet writes it: Running with an IP, Ready or not. */
async function setReady(client: Client, ready: boolean): Promise<void> {
  const pods = client.resource(resourceTypes.pods);
  const pod = (await pods.get('default', 'probe')) as { status?: unknown };
  const now = new Date().toISOString();
  pod.status = {
    phase: 'Running',
    podIP: probePodIP,
    podIPs: [{ ip: probePodIP }],
    hostIP: '172.18.0.2',
    startTime: now,
    conditions: [
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
    ],
  };
  await pods.updateStatus(pod as never);
}

/**
 * The kernel's no-endpoint-services map, listed again and again through one long-lived `nft -i` (about a
 * millisecond a listing, every 5 ms; no process per poll). `nft monitor` would report changes as they are committed, but it
 * keeps every element in a cache of its own: with 160,000 elements it falls minutes behind, and the first sync's
 * events overflow its socket.
 */
function nftPoller(): { child: ChildProcess; until(has: (listing: string) => boolean, timeoutMs: number): Promise<number> } {
  const child = spawn('nft', ['-i'], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, HOME: '/dev/null' } });
  child.stdout!.setEncoding('utf8');
  let buffer = '';
  let onListing: ((listing: string, at: number) => void) | undefined;
  child.stdout!.on('data', (d: string) => {
    const at = performance.now();
    buffer += d;
    // A listing ends with the table's closing brace on a line of its own.
    for (let end = buffer.indexOf('\n}\n'); end >= 0; end = buffer.indexOf('\n}\n')) {
      const listing = buffer.slice(0, end + 3);
      buffer = buffer.slice(end + 3);
      onListing?.(listing, at);
    }
  });
  const list = () => child.stdin!.write('list map ip kube-proxy no-endpoint-services\n');
  return {
    child,
    until: (has, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          onListing = undefined;
          reject(new Error(`no matching rule change in ${timeoutMs} ms`));
        }, timeoutMs);
        onListing = (listing, at) => {
          // Again in 5 ms: nft's listing costs the proxy's CPU too (two cores).
          if (!has(listing)) return void setTimeout(list, 5);
          onListing = undefined;
          clearTimeout(timer);
          resolve(at);
        };
        list();
      }),
  };
}

/** Polls `iptables-save -t nat` until `has` says the rules hold the change: the time it did (the poll's own cost bounds the resolution). */
function pollIptables(has: (save: string) => boolean, timeoutMs: number): number {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const save = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;
    if (has(save)) return performance.now();
  }
  throw new Error(`no matching rule change in ${timeoutMs} ms`);
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function measureMode(mode: string, dataDir: string, client: Client, probeIP: string): Promise<Row[]> {
  const config = join(dataDir, `kube-proxy-${mode}.yaml`);
  const section = mode === 'iptables' ? 'iptables' : 'nftables';
  writeFileSync(config, `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ${mode}\nclusterCIDR: 10.128.0.0/9\n${section}:\n  minSyncPeriod: 0s\n`);
  const started = performance.now();
  const proxy = await startKubesvc(['proxy', '--data-dir', dataDir, '--hostname-override', node, '--config', config], /proxy\] "ready"/).catch((e: unknown) => {
    throw e;
  });
  const rows: Row[] = [];
  let proxyLog = '';
  let pollerChild: ChildProcess | undefined;
  let stopSlices: (() => void) | undefined;
  proxy.child.stderr!.on('data', (d: Buffer) => (proxyLog = (proxyLog + d).slice(-16_384)));
  try {
    // The first full sync holds every Service.
    const programmed = () =>
      mode === 'iptables'
        ? spawnSync('sh', ['-c', 'iptables-save -t nat | grep -c "^-A KUBE-SERVICES"'], { encoding: 'utf8' }).stdout.trim()
        : spawnSync('sh', ['-c', 'nft list map ip kube-proxy service-ips | grep -c goto'], { encoding: 'utf8' }).stdout.trim();
    await waitFor(`${mode}: the first sync`, () => Number(programmed()) >= count, 600_000);
    const poller = mode === 'iptables' ? undefined : nftPoller();
    pollerChild = poller?.child;
    rows.push({ figure: `${mode}: proxy start to ${count} Services in the kernel`, value: (performance.now() - started) / 1000, unit: 's' });

    // The probe's slice as the proxy gets it (a watch of the same API): splits each change into the control plane's
    // part (status write → slice) and the proxy's (slice → kernel).
    type Slice = { endpoints?: { conditions?: { ready?: boolean } }[] };
    const slices = createInformer<Slice & { metadata: { name?: string } }>(client.resource(resourceTypes.endpointslices) as never, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=probe' });
    let sliceSeen: { ready: boolean; resolve: (t: number) => void } | undefined;
    const onSlice = (s: Slice) => {
      if (sliceSeen && (s.endpoints?.[0]?.conditions?.ready ?? false) === sliceSeen.ready) sliceSeen.resolve(performance.now());
    };
    slices.on({ add: onSlice, update: (_o, s) => onSlice(s) });
    await slices.start();
    stopSlices = () => slices.stop();
    const latencies: number[] = [];
    const controlPlane: number[] = [];
    for (let k = 0; k < changes; k++) {
      const ready = k % 2 === 0;
      // The commit of the transaction: a Service with endpoints leaves no-endpoint-services, one without joins it
      // (both nftables layouts do so in the same transaction as the rest of the change).
      const inMap = (listing: string) => listing.includes(`${probeIP} . tcp . 80 `);
      const t0 = performance.now();
      const sliceAt = new Promise<number>((resolve) => (sliceSeen = { ready, resolve }));
      const seen = poller?.until((listing) => inMap(listing) !== ready, 30_000);
      await setReady(client, ready);
      // iptables: polled once the status is written (the poll holds the event loop).
      const t1 = seen ? await seen : pollIptables((save) => save.includes(`-s ${probePodIP}/32`) === ready, 120_000);
      latencies.push(t1 - t0);
      controlPlane.push((await Promise.race([sliceAt, new Promise<number>((r) => setTimeout(() => r(NaN), 30_000).unref())])) - t0);
    }
    console.error(`${mode}: each change, ms (control plane's part): ${latencies.map((l, i) => `${l.toFixed(0)} (${controlPlane[i].toFixed(0)})`).join(', ')}`);
    const proxySide = latencies.map((l, i) => l - controlPlane[i]).sort((a, b) => a - b);
    latencies.sort((a, b) => a - b);
    controlPlane.sort((a, b) => a - b);
    rows.push(
      { figure: `${mode}: pod Ready/not Ready → rules in the kernel, p50 (${changes} changes)`, value: percentile(latencies, 50), unit: 'ms' },
      { figure: `${mode}: pod Ready/not Ready → rules in the kernel, p99`, value: percentile(latencies, 99), unit: 'ms', peer: 100, peerName: 'target' },
      { figure: `${mode}: pod Ready/not Ready → rules in the kernel, p90`, value: percentile(latencies, 90), unit: 'ms' },
      { figure: `${mode}: of which status write → EndpointSlice seen by a watch (control plane), p50`, value: percentile(controlPlane, 50), unit: 'ms' },
      { figure: `${mode}: of which status write → EndpointSlice seen by a watch (control plane), p99`, value: percentile(controlPlane, 99), unit: 'ms' },
      { figure: `${mode}: of which EndpointSlice → rules in the kernel (the proxy), p50`, value: percentile(proxySide, 50), unit: 'ms' },
      { figure: `${mode}: of which EndpointSlice → rules in the kernel (the proxy), p99`, value: percentile(proxySide, 99), unit: 'ms' },
    );
  } catch (e) {
    throw new Error(`${mode}: ${String(e)}\nthe proxy's last words:\n${proxyLog}`, { cause: e });
  } finally {
    pollerChild?.kill();
    stopSlices?.();
    proxy.child.kill('SIGTERM');
    await new Promise((r) => proxy.child.once('exit', r));
  }
  return rows;
}

const dataDir = tempDir('kubesvc-bench-programming-');
const apiserver = await startKubesvc(['apiserver', '--data-dir', dataDir, '--port', '0'], /apiserver\] "ready"/);
const controllers = await startKubesvc(['controllers', '--data-dir', dataDir], /\] "ready" controllers=/);
const client = createClient(createTransport(dataDirTransport(dataDir, componentUsers.admin)), 'bench');
let lease: ReturnType<typeof startNodeLease> | undefined;
try {
  const t = performance.now();
  // The heartbeat from the start: services take a while to create, longer than the node's grace period.
  lease = startNodeLease({ client, nodeName: node });
  await createServices(client);
  await lease.ready;
  const created = (performance.now() - t) / 1000;
  const probeIP = ((await client.resource(resourceTypes.services).get('default', 'probe')) as unknown as { spec: { clusterIP: string } }).spec.clusterIP;
  await setReady(client, false);
  const rows: Row[] = [{ figure: `${count} Services × ${perService} endpoints created through the API`, value: created, unit: 's' }];
  for (const mode of modes) {
    try {
      rows.push(...(await measureMode(mode, dataDir, client, probeIP)));
    } catch (e) {
      console.error(String(e));
      rows.push({ figure: `${mode}: did not finish (the error is above)`, value: NaN, unit: '' });
    }
  }
  printTable(`bench/programming: network programming latency with ${count} Services (minSyncPeriod 0; goal p99 ≤ 100 ms in the map layout)`, rows);
} finally {
  lease?.stop();
  controllers.child.kill('SIGTERM');
  apiserver.child.kill('SIGTERM');
}
