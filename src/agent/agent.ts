// The node agent: the kubelet's part of kubesvc. It registers the Node and
// keeps its status fresh (heartbeats every 10 s), watches the pods bound to
// the node, runs them with the runtime (./runtime.ts), reports their status
// (only when it changed), finishes graceful deletions (containers stopped
// within the grace period, then the pod deleted with grace 0 and a UID
// precondition), records the kubelet's events, and serves logs and exec on
// the agent socket when given a data dir. Every container runs under the
// OCI runtime (./oci-launcher.ts): images it does not build in are pulled
// into the image store (<data dir>/images) and run on their layers,
// built-in ones on a view of the host's files without the data dir
// (./builtin-view.ts); what a crashed agent left of those containers is
// removed when it starts (./oci-leftovers.ts).
import { readFileSync, statfsSync, mkdirSync } from 'node:fs';
import { arch, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../api/object.js';
import { deepEqual, nowTimestamp } from '../api/object.js';
import { isAlreadyExists, isConflict, isNotFound, resourceTypes, type Client } from '../client/client.js';
import { createInformer, type Informer } from '../client/informer.js';
import { createWorkQueue, type WorkQueue } from '../client/workqueue.js';
import { createEventRecorder } from '../client/events.js';
import { logger } from '../util/log.js';
import type { ContainerRuntimeView, NodeNetwork } from './contracts.js';
import { agentSocketPath } from '../util/data-dir.js';
import { parseResolvConf } from './dns.js';
import { podStatusChanged, type PodStatus } from './pod-status.js';
import { createProbeRunner } from './probes.js';
import { cleanupStaleProcesses, createRuntime, type PodRuntime } from './runtime.js';
import { ImageStore } from '../oci/image-store.js';
import { createImageManager } from './image-pull.js';
import { builtinImagePolicy, type ImageSource } from './image-source.js';
import type { RegistryMirrors } from '../oci/registry-mirrors.js';
import { createOciLauncher } from './oci-launcher.js';
import { builtinHostView } from './builtin-view.js';
import { cleanupOciLeftovers, ociPaths } from './oci-leftovers.js';
import { removeCgroup } from './oci/cgroups.js';
import { startAgentServer, type AgentServer } from './server.js';
import { errorMessage } from '../util/errors.js';
import type { PodObject as Pod, NodeObject as Node, ServiceObject } from '../api/types.js';
import { apiObjectLookup, apiServiceAccountTokens } from './api-sources.js';
import { startNodeLease } from './node-lease.js';
import type { RequestServiceAccountToken } from './token-manager.js';

type NodeStatus = NonNullable<Node['status']>;
type NodeCondition = NonNullable<NodeStatus['conditions']>[number];

export const kubeletVersion = 'v1.32.0';
export const containerRuntimeVersion = 'kubesvc://0.1.0';

export interface AgentOptions {
  client: Client;
  nodeName: string;
  /** 0-based index of the node (its pod CIDR is the network's). */
  nodeIndex: number;
  clusterId: string;
  /** The agent's own state: pod directories, logs, pid files. */
  stateDir: string;
  /** The cluster's data dir: when given, logs and exec are served on agentSocketPath(dataDir, nodeName). */
  dataDir?: string;
  network: NodeNetwork;
  /** kubelet --cluster-dns (default 10.96.0.10). */
  clusterDNS?: string[];
  /** kubelet --cluster-domain (default cluster.local). */
  clusterDomain?: string;
  /** kubelet --resolv-conf (default /etc/resolv.conf). */
  resolvConf?: string;
  /** Node status heartbeat period (default 10 s, the kubelet's nodeStatusUpdateFrequency). */
  heartbeatMs?: number;
  /** Extra node labels. */
  labels?: Record<string, string>;
  /** Extra node annotations (the overlay's: the machine's address and VTEP). */
  annotations?: Record<string, string>;
  /** How long stop() gives containers before SIGKILL (default 2 s). */
  stopGraceMs?: number;
  /** How often running pods' configMap, secret, downwardAPI and projected volumes are refreshed (default 60 s). */
  volumeResyncMs?: number;
  /** Which images run built in and which are pulled (`up --images`; default: the built-in ones built in). */
  imageSource?: ImageSource;
  /** Registries' mirrors for the pulls (`up --registry-mirror`). */
  registryMirrors?: RegistryMirrors;
  /** Where projected service account tokens come from (default: the API's TokenRequest, as the kubelet asks for them). */
  requestServiceAccountToken?: RequestServiceAccountToken;
}

export interface Agent {
  nodeName: string;
  runtime: ContainerRuntimeView;
  /** The agent socket, when a data dir was given. */
  socketPath?: string;
  /** Resolves when every pod the agent knows has been reconciled once and nothing is queued. */
  idle(): Promise<void>;
  /** Stops every pod process and sandbox; the node network itself is the caller's to destroy. */
  stop(): Promise<void>;
}

const log = logger('kubelet');

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readOr('/etc/os-release', ''));
  return m?.[1] ?? 'Linux';
}

const goArch = (a: string) => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' })[a] ?? a;

interface Capacity {
  cpu: number;
  memoryBytes: number;
  storageBytes: number;
}

function capacity(stateDir: string): Capacity {
  let storageBytes = 0;
  try {
    const s = statfsSync(stateDir);
    storageBytes = s.blocks * s.bsize;
  } catch {
    // unknown
  }
  return { cpu: cpus().length, memoryBytes: totalmem(), storageBytes };
}

/** The node's status as the kubelet's setters make it (addresses, capacity, allocatable, conditions, nodeInfo). */
export function nodeStatus(o: { nodeName: string; nodeIP: string; cap: Capacity; previous?: NodeStatus; now: string }): NodeStatus {
  const { cap, now } = o;
  const memKi = Math.floor(cap.memoryBytes / 1024);
  const storageKi = Math.floor(cap.storageBytes / 1024);
  const capacityList: Record<string, string> = {
    cpu: String(cap.cpu),
    'ephemeral-storage': `${storageKi}Ki`,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${memKi}Ki`,
    pods: '110',
  };
  // Allocatable: capacity less the default hard eviction thresholds (memory.available<100Mi, nodefs.available<10%).
  const allocatable: Record<string, string> = {
    ...capacityList,
    'ephemeral-storage': String(Math.floor(storageKi * 1024 * 0.9)),
    memory: `${Math.max(0, memKi - 100 * 1024)}Ki`,
  };
  const desired: Omit<NodeCondition, 'lastHeartbeatTime' | 'lastTransitionTime'>[] = [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  ];
  const conditions: NodeCondition[] = desired.map((c) => {
    const prev = o.previous?.conditions?.find((p) => p.type === c.type);
    return { ...c, lastHeartbeatTime: now, lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
  });
  // Conditions owned by others (NetworkUnavailable) stay.
  for (const c of o.previous?.conditions ?? []) if (!desired.some((d) => d.type === c.type)) conditions.push(c);
  const machineID = readOr('/etc/machine-id', '').trim();
  return {
    addresses: [
      { type: 'InternalIP', address: o.nodeIP },
      { type: 'Hostname', address: o.nodeName },
    ],
    allocatable,
    capacity: capacityList,
    conditions,
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
    nodeInfo: {
      architecture: goArch(arch()),
      bootID: readOr('/proc/sys/kernel/random/boot_id', '').trim(),
      containerRuntimeVersion,
      kernelVersion: release(),
      kubeProxyVersion: '',
      kubeletVersion,
      machineID,
      operatingSystem: 'linux',
      osImage: osImage(),
      systemUUID: readOr('/sys/class/dmi/id/product_uuid', '').trim() || machineID,
    },
  };
}

export function nodeLabels(nodeName: string, extra: Record<string, string> = {}): Record<string, string> {
  const a = goArch(arch());
  return {
    'beta.kubernetes.io/arch': a,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': a,
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': 'linux',
    ...extra,
  };
}

export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const { client, nodeName, network } = opts;
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  mkdirSync(opts.stateDir, { recursive: true });
  const oci = ociPaths(opts.stateDir, opts.clusterId, nodeName);
  const leftovers = await cleanupOciLeftovers(oci);
  if (leftovers.containers.length || leftovers.mounts.length) log.info('removed OCI containers and mounts left by an earlier agent', { node: nodeName, containers: leftovers.containers.length, mounts: leftovers.mounts.length });
  for (const p of [...leftovers.problems, ...leftovers.busyCgroups.map((c) => `cgroup ${c} still in use`)]) log.warn('left-over not removed', { node: nodeName, problem: p });
  const stale = cleanupStaleProcesses(opts.stateDir);
  if (stale) log.info('killed processes left by an earlier agent', { node: nodeName, count: stale });

  const nodes = client.resource<Node>(resourceTypes.nodes);
  const podsApi = client.resource<Pod>(resourceTypes.pods);
  const recorder = createEventRecorder(client, 'kubelet', nodeName);
  const cap = capacity(opts.stateDir);
  const nodeRef = { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, uid: nodeName } } as KubeObject;

  // -- node registration and heartbeats ------------------------------------

  let readyRecorded = false;
  async function register(): Promise<void> {
    const labels = nodeLabels(nodeName, opts.labels);
    const desired: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: nodeName,
        labels,
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', ...opts.annotations },
      },
      spec: { podCIDR: network.podCIDR, podCIDRs: [network.podCIDR], providerID: `kubesvc://${opts.clusterId}/${nodeName}` },
    };
    let node: Node;
    try {
      node = await nodes.create(undefined, desired);
      log.info('node registered', { node: nodeName, ip: network.nodeIP, podCIDR: network.podCIDR });
    } catch (e) {
      if (!isAlreadyExists(e) && !isConflict(e)) throw e;
      // reconcileExtendedResource/updateDefaultLabels: the existing node keeps its own labels, ours are set.
      for (let attempt = 0; ; attempt++) {
        node = await nodes.get(undefined, nodeName);
        const next: Node = JSON.parse(JSON.stringify(node)) as Node;
        next.metadata.labels = { ...next.metadata.labels, ...labels };
        next.metadata.annotations = { ...next.metadata.annotations, ...desired.metadata.annotations };
        next.spec ??= {};
        if (!next.spec.podCIDR) {
          next.spec.podCIDR = network.podCIDR;
          next.spec.podCIDRs = [network.podCIDR];
        }
        next.spec.providerID ??= desired.spec!.providerID;
        if (deepEqual(next.metadata, node.metadata) && deepEqual(next.spec, node.spec)) break;
        try {
          node = await nodes.update(next);
          break;
        } catch (err) {
          if (!isConflict(err) || attempt >= 5) throw err;
        }
      }
    }
    recorder.event(nodeRef, 'Normal', 'Starting', 'Starting kubelet.');
    for (const r of ['NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID']) {
      recorder.event(nodeRef, 'Normal', r, `Node ${nodeName} status is now: ${r}`);
    }
    await postNodeStatus();
  }

  async function postNodeStatus(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let node: Node;
      try {
        node = await nodes.get(undefined, nodeName);
      } catch (e) {
        if (isNotFound(e)) {
          // Someone deleted the Node: register it again.
          log.warn('node object is gone; registering again', { node: nodeName });
          return register();
        }
        throw e;
      }
      const wasReady = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      const status = nodeStatus({ nodeName, nodeIP: network.nodeIP, cap, previous: node.status, now: nowTimestamp() });
      try {
        await nodes.updateStatus({ ...node, status });
        if (!wasReady && !readyRecorded) {
          readyRecorded = true;
          recorder.event(nodeRef, 'Normal', 'NodeReady', `Node ${nodeName} status is now: NodeReady`);
        }
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= 5) throw e;
      }
    }
  }

  await register();
  // The heartbeat the node controller reads first: the node's Lease, renewed every 10 s.
  const nodeLease = startNodeLease({ client, nodeName });
  let stopped = false;
  const heartbeat = setInterval(() => {
    if (stopped) return;
    postNodeStatus().catch((e) => log.warn('node status not updated', { node: nodeName, error: errorMessage(e) }));
  }, heartbeatMs);
  heartbeat.unref();

  // -- pods -----------------------------------------------------------------

  const podInformer: Informer<Pod> = createInformer(podsApi, { fieldSelector: `spec.nodeName=${nodeName}` });
  const serviceInformer: Informer<ServiceObject> = createInformer(client.resource<ServiceObject>(resourceTypes.services));
  const uidKeys = new Map<string, string>();
  const keyOf = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
  const currentPod = (uid: string): Pod | undefined => {
    const key = uidKeys.get(uid);
    const pod = key ? podInformer.get(key) : undefined;
    return pod?.metadata.uid === uid ? pod : undefined;
  };

  const runner = createProbeRunner({ netns: network.netns, pidFile: join(opts.stateDir, 'probe-helper.pid') });
  const hostResolv = parseResolvConf(readOr(opts.resolvConf ?? '/etc/resolv.conf', ''));
  const queue: WorkQueue = createWorkQueue((uid) => reconcile(uid), {
    concurrency: 16,
    baseDelayMs: 500,
    maxDelayMs: 30_000,
    onError: (key, err) => log.warn('pod sync failed; will retry', { uid: key, error: errorMessage(err) }),
  });
  const lookup = apiObjectLookup(client);
  const nodeMemory = Math.max(0, cap.memoryBytes - 100 * 1024 * 1024);
  const images = createImageManager({
    store: new ImageStore(opts.dataDir ?? opts.stateDir, { mirrors: opts.registryMirrors }),
    getSecret: lookup.getSecret,
    runsBuiltin: builtinImagePolicy(opts.imageSource ?? { mode: 'builtin' }),
  });
  // Built-in images never see the cluster's data dir nor the node's state (where their writable layers live).
  const hostView = builtinHostView({ hide: [opts.stateDir, ...(opts.dataDir ? [opts.dataDir] : [])] });
  const launcher = createOciLauncher({ root: oci.root, cgroupParent: oci.cgroupParent, nodeMemory: cap.memoryBytes, hostView, log });
  const runtime: PodRuntime = createRuntime({
    stateDir: opts.stateDir,
    nodeName,
    network,
    recorder,
    runner,
    ...lookup,
    launcher,
    images,
    requestServiceAccountToken: opts.requestServiceAccountToken ?? apiServiceAccountTokens(client),
    volumeResyncMs: opts.volumeResyncMs,
    services: () => serviceInformer.list(),
    dns: { clusterDNS: opts.clusterDNS ?? ['10.96.0.10'], clusterDomain: opts.clusterDomain ?? 'cluster.local', host: hostResolv },
    nodeHosts: readOr('/etc/hosts', '127.0.0.1\tlocalhost\n'),
    node: { cpu: cap.cpu, memory: nodeMemory, ephemeralStorage: Math.floor(cap.storageBytes * 0.9) },
    onPodChange: (uid) => queue.add(uid),
    log,
  });

  const deadlineTimers = new Map<string, NodeJS.Timeout>();

  async function postStatus(pod: Pod, status: PodStatus): Promise<void> {
    let current = pod;
    for (let attempt = 0; ; attempt++) {
      if (!podStatusChanged(current.status, status)) return;
      try {
        await podsApi.updateStatus({ ...current, status });
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt >= 3) throw e;
        current = await podsApi.get(pod.metadata.namespace, pod.metadata.name!);
        if (current.metadata.uid !== pod.metadata.uid) return;
        status = { ...status, conditions: status.conditions, startTime: current.status?.startTime ?? status.startTime };
      }
    }
  }

  /** activeDeadlineSeconds: past the deadline the pod fails (pkg/kubelet/active_deadline.go). */
  function deadlineExceeded(pod: Pod): boolean {
    const ads = pod.spec?.activeDeadlineSeconds;
    const start = pod.status?.startTime;
    if (!ads || !start) return false;
    const deadline = Date.parse(start) + ads * 1000;
    const left = deadline - Date.now();
    if (left <= 0) return true;
    const uid = pod.metadata.uid!;
    if (!deadlineTimers.has(uid)) {
      const t = setTimeout(() => {
        deadlineTimers.delete(uid);
        queue.add(uid);
      }, left + 10);
      t.unref();
      deadlineTimers.set(uid, t);
    }
    return false;
  }

  async function reconcile(uid: string): Promise<void> {
    if (stopped) return;
    const pod = currentPod(uid);
    const known = runtime.podUIDs().includes(uid);
    if (!pod) {
      // Gone from the API (deleted, also forcibly): stop what runs and forget it.
      if (known) {
        await runtime.terminatePod(uid);
        runtime.removePod(uid);
        log.info('pod removed', { uid });
      }
      return;
    }
    const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (pod.metadata.deletionTimestamp) {
      // syncTerminatingPod: stop the containers within the grace period, report, then delete for good.
      if (known) {
        await runtime.terminatePod(uid, pod);
        await postStatus(pod, runtime.podStatus(pod, { podIsTerminal: true }));
      }
      try {
        await podsApi.delete(pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid } });
        log.info('pod deleted', { pod: name });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
      runtime.removePod(uid);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      if (known) await runtime.finishPod(uid);
      return;
    }
    if (deadlineExceeded(pod)) {
      const message = 'Pod was active on the node longer than the specified deadline';
      recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Warning', 'DeadlineExceeded', message);
      await runtime.finishPod(uid);
      const status = runtime.podStatus(pod, { podIsTerminal: true });
      await postStatus(pod, { ...status, phase: 'Failed', reason: 'DeadlineExceeded', message });
      return;
    }
    try {
      await runtime.syncPod(pod);
    } catch (e) {
      // The status still says where the pod is (ContainerCreating while its sandbox fails), as the kubelet's does.
      // The sync error is what is reported and retried; the status is posted again with the next sync.
      await postStatus(pod, runtime.podStatus(pod)).catch(() => undefined);
      throw e;
    }
    let status = runtime.podStatus(pod);
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      // The containers are done for good: the sandbox goes (its IP stays in the status).
      await runtime.finishPod(uid);
      status = runtime.podStatus(pod);
    }
    await postStatus(pod, status);
  }

  const enqueue = (p: Pod) => {
    if (!p.metadata.uid) return;
    uidKeys.set(p.metadata.uid, keyOf(p));
    queue.add(p.metadata.uid);
  };
  podInformer.on({
    add: enqueue,
    update: (_old, p) => enqueue(p),
    delete: (p) => {
      if (p.metadata.uid) queue.add(p.metadata.uid);
    },
  });
  await Promise.all([serviceInformer.start(), podInformer.start()]);

  // Housekeeping: every known pod is looked at again now and then, whatever events were missed.
  const housekeeping = setInterval(() => {
    for (const uid of new Set([...runtime.podUIDs(), ...uidKeys.keys()])) {
      if (!currentPod(uid) && !runtime.podUIDs().includes(uid)) uidKeys.delete(uid);
      else queue.add(uid);
    }
  }, 30_000);
  housekeeping.unref();

  let server: AgentServer | undefined;
  const socketPath = opts.dataDir ? agentSocketPath(opts.dataDir, nodeName) : undefined;
  if (socketPath) server = await startAgentServer({ socketPath, runtime });
  log.info('agent started', { node: nodeName, cluster: opts.clusterId, netns: network.netns });

  let stopping: Promise<void> | undefined;
  return {
    nodeName,
    runtime,
    socketPath,
    idle: () => queue.idle(),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(heartbeat);
        nodeLease.stop();
        clearInterval(housekeeping);
        for (const t of deadlineTimers.values()) clearTimeout(t);
        podInformer.stop();
        serviceInformer.stop();
        queue.shutdown();
        await server?.close();
        await runtime.stopAll(opts.stopGraceMs ?? 2000);
        const busy = removeCgroup(oci.cgroupParent);
        if (busy.length) log.warn('cgroups not removed', { node: nodeName, cgroups: busy });
        runner.close();
        await Promise.race([recorder.flush(), new Promise((r) => setTimeout(r, 2000).unref())]);
        log.info('agent stopped', { node: nodeName });
      })();
      return stopping;
    },
  };
}
