// bench/oci-pods (root): issue 15's figures, pods of the user's own images
// under the OCI runtime. A docker-registry on loopback holds a busybox-static
// web image and a ~5 MB one (an extra layer of random bytes); a built
// `kubesvc up --nodes 1` runs the pods, driven through its API as the admin.
//  - pod created → Running (watched: phase Running, its container running),
//    one pod at a time, for N pods of the pulled image (cached after a first
//    pull, IfNotPresent), beside the floor — the runtime's own `run` of a
//    bundle of the same image made by src/agent/oci (overlay of the stored
//    layers, config.json from containerSpec), timed here — and beside N pods
//    of a built-in image (today's runtime; labelled by what it runs on);
//  - the pull of the ~5 MB image into a fresh store beside plain HTTP GETs
//    of the same blobs, and the node's own pull of it (its Pulled event);
//  - memory per idle pod: the up process's RSS and the pods' processes'
//    (the container processes in the node's cgroup tree, and the runtime
//    processes that wait on them), with 0 and K idle pods.
//  - with --steps, the node runs at -v 4 and the kubelet's "container start
//    steps" lines of the pulled image's pods are summed up (median per step).
// Run: npm run build && npx tsx bench/oci-pods.ts [--pods 30] [--idle 20] [--floor-runs 20] [--pulls 5] [--steps] [--kubesvc dist/kubesvc.js]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { clusterIdFor } from '../src/agent/cluster-id.js';
import { containerCgroupsPath, memoryCgroupDir, removeCgroup } from '../src/agent/oci/cgroups.js';
import { openRuntime, type OciRuntime } from '../src/agent/oci/crun.js';
import { hostFeatures } from '../src/agent/oci/host.js';
import { mountImageRootfs, unmountRootfs } from '../src/agent/oci/rootfs.js';
import { createPodNamespaces, removePodNamespaces } from '../src/agent/oci/sandbox.js';
import { containerSpec } from '../src/agent/oci/spec.js';
import { resolveUser } from '../src/agent/oci/user.js';
import { ImageStore } from '../src/oci/image-store.js';
import { MediaType } from '../src/oci/media-types.js';
import { hostPlatform } from '../src/oci/platform.js';
import { parseGoDuration } from '../src/util/go-duration.js';
import { waitFor } from '../test/helpers/apiserver.js';
import { buildImage, buildLayer, pushImage, webLayer, type BuiltImage } from '../test/helpers/oci-image.js';
import { startRegistry, type TestRegistry } from '../test/helpers/registry.js';
import { httpsClient, type HttpsClient } from './http.js';
import { processTree, pssMb, rssMb } from './proc.js';
import { percentile, printTable, type Row } from './report.js';
import { adminCredentials, removeTempDir, startServerProcess, tempDir, type ServerProcess } from './server-process.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const podCount = flag('--pods', 30);
const idleCount = flag('--idle', 20);
const floorRuns = flag('--floor-runs', 20);
const pullRuns = flag('--pulls', 5);
const steps = args.includes('--steps');

/** --kubesvc FILE: another build's kubesvc.js (say, of a clean checkout while this tree is being edited). */
const cli = args.includes('--kubesvc') ? resolve(args[args.indexOf('--kubesvc') + 1]!) : join(import.meta.dirname, '../dist/kubesvc.js');
if (process.getuid?.() !== 0) {
  console.log('bench/oci-pods: needs root (network namespaces, mounts, cgroups); skipped');
  process.exit(0);
}
if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first (the bench times the built kubesvc, as npm start runs it)`);
/** The node flags of the built command's shebang, as `npx kubesvc` runs it. */
const nodeFlags = readFileSync(cli, 'utf8').split('\n', 1)[0]!.split(/\s+/).filter((w) => w.startsWith('--'));

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
/** RSS in MB, 0 for a process gone meanwhile or a zombie (no memory: its status has no VmRSS). */
const rssOf = (pid: number) => {
  try {
    return rssMb(pid) || 0;
  } catch {
    return 0;
  }
};
const sum = (pids: number[], f: (pid: number) => number) => pids.reduce((s, p) => s + f(p), 0);

// -- pulls --------------------------------------------------------------------

/** The image's manifest, config and layers by plain GETs (layers 3 at a time, as the puller fetches them), bodies read whole: bytes. */
async function getBlobs(registry: TestRegistry, repo: string, tag: string): Promise<number> {
  const get = async (path: string, accept?: string) => {
    const res = await fetch(`${registry.url}/v2/${repo}/${path}`, accept ? { headers: { accept } } : {});
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  };
  const manifest = await get(`manifests/${tag}`, MediaType.ociManifest);
  const { config, layers } = JSON.parse(manifest.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const blobs = await Promise.all([config, ...layers].map((d) => get(`blobs/${d.digest}`)));
  return manifest.length + blobs.reduce((s, b) => s + b.length, 0);
}

/** `runs` pulls of repo:tag into a fresh store each (what the node does on a first pull: fetch, verify, unpack), and as many plain GETs of its blobs. */
async function pullTimes(registry: TestRegistry, repo: string, tag: string, runs: number): Promise<{ pull: number[]; get: number[]; bytes: number }> {
  const bytes = await getBlobs(registry, repo, tag); // warm the registry's files
  const pull: number[] = [];
  const get: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = tempDir('kubesvc-bench-pull-');
    let t0 = performance.now();
    await new ImageStore(dir).pull(`${registry.host}/${repo}:${tag}`, { plainHttp: true });
    pull.push(performance.now() - t0);
    removeTempDir(dir);
    t0 = performance.now();
    await getBlobs(registry, repo, tag);
    get.push(performance.now() - t0);
  }
  return { pull: sorted(pull), get: sorted(get), bytes };
}

// -- the floor: the runtime's own run of a bundle of the image ------------------

interface FloorTimes {
  runtime: string;
  /** run → the container's process exists (the runtime wrote its pid file). */
  started: number[];
  /** run of `true` → the runtime process exited. */
  exited: number[];
}

/** One `run` of the bundle as `id`: when the pid file appeared and when the runtime process exited, from the call. */
async function timedRun(rt: OciRuntime, id: string, bundle: string): Promise<{ started: number; exited: number }> {
  rmSync(join(bundle, 'init.pid'), { force: true });
  let started = NaN;
  const t0 = performance.now();
  const c = rt.run({ id, bundle, stdout: 'ignore', stderr: 'ignore' });
  const watcher = watch(bundle, () => {
    if (Number.isNaN(started) && c.pid() !== undefined) started = performance.now() - t0;
  });
  const exited = await new Promise<number>((resolve) => c.process.once('exit', () => resolve(performance.now() - t0)));
  watcher.close();
  const exit = await c.exited;
  if (exit.reason !== 'Completed') throw new Error(`${rt.kind} run ${id}: ${exit.reason} ${exit.message ?? exit.exitCode}`);
  return { started, exited };
}

/**
 * The floor: the image's stored layers as an overlay and a container's
 * config.json as the OCI launcher makes them (the pod's kind of network,
 * IPC and UTS namespaces, cgroup, /etc binds), then `runs` runs of
 * `/bin/busybox true` under the runtime openRuntime picks, after one untimed.
 */
async function floor(store: ImageStore, image: string, runs: number): Promise<FloorTimes> {
  const dir = tempDir('kubesvc-bench-floor-');
  const netns = `ksvc-bench-floor-${process.pid}`;
  const parent = `/kubesvc-bench-floor-${process.pid}`;
  const bundle = join(dir, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  const sandbox = join(dir, 'sandbox');
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    const rt = await openRuntime({ root: join(dir, 'runtime') });
    const ns = await createPodNamespaces({ dir: sandbox, hostname: 'floor' });
    await mountImageRootfs({ rootfs, lowers: store.layerDirs(image), upper: join(dir, 'upper'), work: join(dir, 'work') });
    const etc = ['hosts', 'resolv.conf', 'hostname'].map((name) => {
      writeFileSync(join(dir, name), name === 'hostname' ? 'floor\n' : '');
      return { source: join(dir, name), destination: `/etc/${name}` };
    });
    const version = /\d+\.\d+\S*/.exec(execFileSync(rt.binary, ['--version'], { encoding: 'utf8' }))?.[0] ?? '';
    const times: FloorTimes = { runtime: `${rt.kind} ${version}`, started: [], exited: [] };
    for (let i = 0; i <= runs; i++) {
      const id = `floor-${process.pid}-${i}`;
      const spec = containerSpec({
        args: ['/bin/busybox', 'true'],
        rootfs,
        hostname: 'floor',
        user: resolveUser({ etc: join(rootfs, 'etc') }),
        namespaces: { network: `/var/run/netns/${netns}`, ipc: ns.ipc, uts: ns.uts },
        cgroupsPath: containerCgroupsPath({ parent, qosClass: 'BestEffort', podUID: 'floor', containerId: id }),
        binds: etc,
        shm: ns.shm,
        host: hostFeatures(),
      });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      const t = await timedRun(rt, id, bundle);
      if (i === 0) continue; // the first run is untimed
      times.started.push(t.started);
      times.exited.push(t.exited);
    }
    return { ...times, started: sorted(times.started), exited: sorted(times.exited) };
  } finally {
    await unmountRootfs(rootfs).catch(() => undefined);
    await removePodNamespaces(sandbox).catch(() => undefined);
    execFileSync('ip', ['netns', 'del', netns]);
    removeCgroup(parent);
    removeTempDir(dir);
  }
}

// -- the cluster ----------------------------------------------------------------

interface PodObject {
  metadata: { name: string; uid: string };
  status?: { phase?: string; containerStatuses?: { state?: { running?: object } }[] };
}

/** One watch of the default namespace's pods: when each pod was first seen Running (its container running) and deleted. */
function watchPods(api: HttpsClient, resourceVersion: string) {
  const seen = new Map<string, number>();
  const waiting = new Map<string, (t: number) => void>();
  const mark = (key: string, t: number) => {
    if (seen.has(key)) return;
    seen.set(key, t);
    waiting.get(key)?.(t);
  };
  const req = api.open('GET', `/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=7200&resourceVersion=${resourceVersion}`, {}, (res) => {
    // Closing the watch (or the server going away) ends the stream with an error: the waiters time out instead.
    const lines = createInterface({ input: res, crlfDelay: Infinity }).on('error', () => undefined);
    lines.on('line', (line) => {
      const t = performance.now();
      const ev = JSON.parse(line) as { type: string; object: PodObject };
      const { name } = ev.object.metadata;
      if (ev.type === 'DELETED') mark(`${name} deleted`, t);
      else if (ev.object.status?.phase === 'Running' && ev.object.status.containerStatuses?.[0]?.state?.running) mark(`${name} running`, t);
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    /** When `${pod} running` or `${pod} deleted` was seen (performance.now()). */
    until(key: string, timeoutMs = 120_000): Promise<number> {
      const t = seen.get(key);
      if (t !== undefined) return Promise.resolve(t);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`pod ${key}: not seen in ${timeoutMs / 1000} s`)), timeoutMs);
        waiting.set(key, (at) => (clearTimeout(timer), resolve(at)));
      });
    },
    close: () => req.destroy(),
  };
}

type PodWatch = ReturnType<typeof watchPods>;

interface Cluster {
  server: ServerProcess;
  dataDir: string;
  api: HttpsClient;
  pods: PodWatch;
  /** The memory cgroup directory every pod's containers are under. */
  kubepods: string;
}

async function apiJson<T>(api: HttpsClient, method: string, path: string, body?: unknown, ok = [200, 201, 202]): Promise<T> {
  const r = await api.call(method, path, body === undefined ? undefined : JSON.stringify(body));
  if (!ok.includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as T;
}

/** Creates the pod and resolves with the ms from the create call to the watch event that shows it Running. */
async function createToRunning(c: Cluster, pod: object & { metadata: { name: string } }): Promise<number> {
  const t0 = performance.now();
  await apiJson(c.api, 'POST', '/api/v1/namespaces/default/pods', pod);
  return (await c.pods.until(`${pod.metadata.name} running`)) - t0;
}

/**
 * Deletes the pods (1 s grace) and waits until they are gone and none of
 * their container processes is left in the cgroup tree (the system pods'
 * stay: they run under the same runtime).
 */
async function deletePods(c: Cluster, names: string[]): Promise<void> {
  const deleted = await Promise.all(names.map((n) => apiJson<{ metadata: { uid: string } }>(c.api, 'DELETE', `/api/v1/namespaces/default/pods/${n}`)));
  await Promise.all(names.map((n) => c.pods.until(`${n} deleted`)));
  const podDirs = (dir: string, uids: Set<string>): string[] => {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .flatMap((e) => (uids.has(e.name) ? [join(dir, e.name)] : podDirs(join(dir, e.name), uids)));
    } catch {
      return [];
    }
  };
  const uids = new Set(deleted.map((p) => `pod${p.metadata.uid}`));
  await waitFor('no container processes of the deleted pods left', () => podDirs(c.kubepods, uids).every((d) => cgroupProcs(d).length === 0), 30_000);
}

const podOf = (name: string, image: string, command?: string[]) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', ...(command ? { command } : {}) }] },
});

/** The processes in a cgroup directory and every cgroup below it. */
function cgroupProcs(dir: string): number[] {
  let entries;
  let own: number[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
    own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // not there (yet), or removed meanwhile
  }
  return [...own, ...entries.filter((e) => e.isDirectory()).flatMap((e) => cgroupProcs(join(dir, e.name)))];
}

/** Whether a pod's containers run under the OCI runtime (it has a cgroup in the node's tree) — else as host processes. */
function runsUnderOci(c: Cluster, uid: string): boolean {
  const find = (dir: string): boolean => {
    try {
      return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && (e.name === `pod${uid}` || find(join(dir, e.name))));
    } catch {
      return false;
    }
  };
  return find(c.kubepods);
}

/** The Pulled event of a pod's container, once recorded. */
async function pulledEvent(c: Cluster, pod: string): Promise<string> {
  return waitFor(`the Pulled event of ${pod}`, async () => {
    const events = await apiJson<{ items: { reason?: string; message?: string }[] }>(c.api, 'GET', `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D${pod}`);
    return events.items.find((e) => e.reason === 'Pulled')?.message;
  }, 15_000);
}

async function startCluster(): Promise<Cluster> {
  const dataDir = tempDir('kubesvc-bench-oci-pods-');
  const server = await startServerProcess([cli, 'up', '--nodes', '1', '--data-dir', dataDir, '--port', '0', ...(steps ? ['-v', '4'] : [])], nodeFlags);
  const api = httpsClient(server.url, adminCredentials(dataDir), 16);
  // The kubelet's cgroupfs layout under the node's parent (src/agent/oci/cgroups.ts containerCgroupsPath).
  const kubepods = memoryCgroupDir(`/kubesvc-${clusterIdFor(dataDir)}-node-1/kubepods`);
  let pods: PodWatch | undefined;
  try {
    await waitFor('node-1 Ready', async () => {
      const node = await apiJson<{ status?: { conditions?: { type: string; status: string }[] } }>(api, 'GET', '/api/v1/nodes/node-1');
      return node.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
    }, 60_000);
    await waitFor('the default ServiceAccount', async () => (await api.call('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200, 60_000);
    const list = await apiJson<{ metadata: { resourceVersion: string } }>(api, 'GET', '/api/v1/namespaces/default/pods');
    pods = watchPods(api, list.metadata.resourceVersion);
    return { server, dataDir, api, pods, kubepods };
  } catch (e) {
    pods?.close();
    api.close();
    await server.stop();
    removeTempDir(dataDir);
    throw e;
  }
}

/** Creates `count` pods named prefix-i one at a time, each awaited Running: the sorted ms, and the names. */
async function podLatencies(c: Cluster, prefix: string, count: number, make: (name: string) => ReturnType<typeof podOf>): Promise<{ ms: number[]; names: string[] }> {
  const ms: number[] = [];
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    names.push(`${prefix}-${i}`);
    ms.push(await createToRunning(c, make(`${prefix}-${i}`)));
  }
  return { ms: sorted(ms), names };
}

interface Footprint {
  upRss: number;
  /** The pods' container processes (in the node's cgroup tree). */
  containers: { count: number; rss: number; pss: number };
  /** Every other process the up process has gained since the baseline: the runtime's (OCI pods), or the pods' own (host processes). */
  others: { count: number; rss: number; pss: number };
}

function footprint(c: Cluster, baseline: Set<number>): Footprint {
  const containers = cgroupProcs(c.kubepods);
  const inCgroup = new Set(containers);
  const others = processTree(c.server.pid).filter((p) => !baseline.has(p) && !inCgroup.has(p));
  const totals = (pids: number[]) => ({ count: pids.length, rss: sum(pids, rssOf), pss: sum(pids, pssMb) });
  return { upRss: rssOf(c.server.pid), containers: totals(containers), others: totals(others) };
}

/** `count` idle pods of `make`, all Running, then 3 s to settle: the footprint beside the one with none; the pods are deleted after. */
async function idleFootprint(c: Cluster, prefix: string, count: number, make: (name: string) => ReturnType<typeof podOf>): Promise<{ none: Footprint; idle: Footprint }> {
  await new Promise((r) => setTimeout(r, 3000));
  const baseline = new Set(processTree(c.server.pid));
  const none = footprint(c, baseline);
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await Promise.all(names.map((n) => createToRunning(c, make(n))));
  await new Promise((r) => setTimeout(r, 3000));
  const idle = footprint(c, baseline);
  await deletePods(c, names);
  return { none, idle };
}

/** The medians of the kubelet's "container start steps" fields for the pods named prefix-N (its log at -v 4). */
function startSteps(c: Cluster, prefix: string): string {
  let log: string;
  try {
    log = readFileSync(join(c.dataDir, 'logs', 'kubelet.log'), 'utf8');
  } catch {
    return 'no kubelet log';
  }
  const fields = new Map<string, number[]>();
  const pod = new RegExp(`pod="default/${prefix}-\\d+"`);
  for (const line of log.split('\n')) {
    if (!line.includes('"container start steps"') || !pod.test(line)) continue;
    for (const [, k, v] of line.matchAll(/ (\w+Ms)=([\d.]+)/g)) fields.set(k!, [...(fields.get(k!) ?? []), Number(v)]);
  }
  if (!fields.size) return 'none logged (a build without the step log?)';
  return [...fields].map(([k, v]) => `${k.replace(/Ms$/, '')} ${percentile(sorted(v), 50).toFixed(1)} ms`).join(', ') + ` (medians of ${fields.values().next().value!.length} pods)`;
}

// -- main ------------------------------------------------------------------------

const loadBefore = loadAverage();
const registry = await startRegistry();
let cluster: Cluster | undefined;
try {
  const web = buildImage([webLayer()], { platform: hostPlatform() });
  const big: BuiltImage = buildImage([webLayer(), buildLayer([{ name: 'random.bin', type: 'file', data: randomBytes(4 << 20) }])], { platform: hostPlatform() });
  await pushImage(registry.url, 'bench/web', '1.0', web);
  await pushImage(registry.url, 'bench/big', '1.0', big);
  const webImage = `${registry.host}/bench/web:1.0`;
  const bigImage = `${registry.host}/bench/big:1.0`;

  const pulls = await pullTimes(registry, 'bench/big', '1.0', pullRuns);
  const floorStoreDir = tempDir('kubesvc-bench-floor-store-');
  const floorStore = new ImageStore(floorStoreDir);
  await floorStore.pull(webImage, { plainHttp: true });
  const floorTimes = await floor(floorStore, webImage, floorRuns);
  removeTempDir(floorStoreDir);

  cluster = await startCluster();
  const c = cluster;
  // The node's first pull of each image (the ~5 MB one's time from its Pulled event), then the cached image's pods.
  const bigFirst = await createToRunning(c, podOf('big-first', bigImage));
  const bigPulled = await pulledEvent(c, 'big-first');
  const nodePullMs = parseGoDuration(/ in (\S+) \(/.exec(bigPulled)?.[1] ?? 'NaN');
  const webFirst = await createToRunning(c, podOf('web-first', webImage));
  await deletePods(c, ['big-first', 'web-first']);
  const pulled = await podLatencies(c, 'web', podCount, (n) => podOf(n, webImage));
  const pulledEvents = await pulledEvent(c, 'web-0');
  const pulledSteps = steps ? startSteps(c, 'web') : '';
  const pulledRuntime = runsUnderOci(c, (await apiJson<PodObject>(c.api, 'GET', '/api/v1/namespaces/default/pods/web-0')).metadata.uid) ? 'OCI' : 'host processes';
  await deletePods(c, pulled.names);

  const builtinPod = (n: string) => podOf(n, 'busybox:1.36', ['sleep', '3600']);
  const builtin = await podLatencies(c, 'builtin', podCount, builtinPod);
  const builtinEvent = await pulledEvent(c, 'builtin-0');
  const builtinUid = (await apiJson<PodObject>(c.api, 'GET', '/api/v1/namespaces/default/pods/builtin-0')).metadata.uid;
  const builtinRuntime = runsUnderOci(c, builtinUid) ? `OCI ${floorTimes.runtime.split(' ')[0]}` : 'host processes';
  await deletePods(c, builtin.names);

  const ociMem = await idleFootprint(c, 'idle-web', idleCount, (n) => podOf(n, webImage));
  const hostMem = await idleFootprint(c, 'idle-builtin', idleCount, builtinPod);
  const loadAfter = loadAverage();

  const rt = floorTimes.runtime;
  const vsFloor = (p: number, name: string, value: number[]): Row => ({ figure: `${name}, p${p}`, value: percentile(value, p), unit: 'ms', peer: percentile(floorTimes.exited, p), peerName: `${rt} run of true` });
  const vsBuiltin = (p: number, name: string, value: number[]): Row => ({ figure: `${name}, p${p}`, value: percentile(value, p), unit: 'ms', peer: percentile(builtin.ms, p), peerName: `built-in on ${builtinRuntime}` });
  const pulledName = `pod create → Running, pulled image (cached, on ${pulledRuntime})`;
  const perPod = (f: (m: { none: Footprint; idle: Footprint }) => number) => ({ value: f(ociMem) / idleCount, peer: f(hostMem) / idleCount, peerName: `built-in on ${builtinRuntime}` });
  // The node's cgroup tree also holds the system pods (kube-proxy, coredns), there before the idle pods: counted out.
  const podContainers = (m: { none: Footprint; idle: Footprint }, of: 'rss' | 'pss') => m.idle.containers[of] - m.none.containers[of];
  const podProcs = (m: { none: Footprint; idle: Footprint }) => podContainers(m, 'rss') + m.idle.others.rss;
  const upGrowth = (m: { none: Footprint; idle: Footprint }) => m.idle.upRss - m.none.upRss;
  printTable(
    `bench/oci-pods: ${podCount} pods one at a time on kubesvc up --nodes 1 (busybox-static httpd image from a loopback docker-registry; built-in: busybox:1.36 sleep); floor: ${floorRuns} runs; load average ${loadBefore} → ${loadAfter} on ${availableParallelism()} cores`,
    [
      { figure: `${pulledName}, p50`, value: percentile(pulled.ms, 50), unit: 'ms', peer: 100, peerName: 'goal' },
      vsFloor(50, pulledName, pulled.ms),
      vsFloor(99, pulledName, pulled.ms),
      vsBuiltin(50, pulledName, pulled.ms),
      vsBuiltin(99, pulledName, pulled.ms),
      { figure: `${rt} run → container process started (pid file), p50`, value: percentile(floorTimes.started, 50), unit: 'ms' },
      { figure: `first pod of the image: create → Running, pull included (${mb(web.layers[0]!.blob.length)} MB layer)`, value: webFirst, unit: 'ms' },
      { figure: `first pod of the ~5 MB image: create → Running, pull included`, value: bigFirst, unit: 'ms' },
      { figure: `pull of the ${mb(pulls.bytes)} MB image (3 blobs) into a fresh store, median of ${pullRuns}`, value: percentile(pulls.pull, 50), unit: 'ms', peer: percentile(pulls.get, 50), peerName: 'plain GETs of its blobs' },
      { figure: `the node's pull of it (Pulled event, first pod)`, value: nodePullMs, unit: 'ms', peer: percentile(pulls.get, 50), peerName: 'plain GETs of its blobs' },
      { figure: 'up process RSS (API, controllers, agent), no pods', value: ociMem.none.upRss, unit: 'MB', peer: hostMem.none.upRss, peerName: 'before the built-in pods' },
      { figure: `up process RSS, ${idleCount} idle pods`, value: ociMem.idle.upRss, unit: 'MB', peer: hostMem.idle.upRss, peerName: 'built-in pods' },
      { figure: 'per idle pod: up process RSS growth', unit: 'MB', ...perPod(upGrowth) },
      { figure: 'per idle pod: its processes\' RSS', unit: 'MB', ...perPod(podProcs) },
      { figure: `  of which the runtime's (${ociMem.idle.others.count} processes for ${idleCount} pods)`, value: ociMem.idle.others.rss / idleCount, unit: 'MB' },
      { figure: `  of which the containers' (${ociMem.idle.containers.count - ociMem.none.containers.count} processes)`, value: podContainers(ociMem, 'rss') / idleCount, unit: 'MB' },
      { figure: 'per idle pod: its processes\' PSS', unit: 'MB', ...perPod((m) => podContainers(m, 'pss') + m.idle.others.pss) },
      { figure: 'per idle pod: up growth + its processes\' RSS', unit: 'MB', ...perPod((m) => upGrowth(m) + podProcs(m)) },
    ],
  );
  if (steps) console.log(`\nthe kubelet's start steps of the pulled image's pods: ${pulledSteps}`);
  console.log(`\npulled-image pod's event: ${pulledEvents}\nbuilt-in pod's event: ${builtinEvent} (its container ran on ${builtinRuntime}; built-in idle pods: ${hostMem.idle.others.count + hostMem.idle.containers.count - hostMem.none.containers.count} processes)\nthe ~5 MB image's event: ${bigPulled}`);
} finally {
  if (cluster) {
    const names = (await apiJson<{ items: PodObject[] }>(cluster.api, 'GET', '/api/v1/namespaces/default/pods').catch(() => ({ items: [] }))).items.map((p) => p.metadata.name);
    await deletePods(cluster, names).catch((e: unknown) => console.error(`pods not deleted: ${String(e)}`));
    cluster.pods.close();
    cluster.api.close();
    await cluster.server.stop();
    removeTempDir(cluster.dataDir);
  }
  await registry.stop();
}
