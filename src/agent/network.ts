// The node network: a cluster-wide namespace with the node bridge, one
// namespace per node, one per pod, wired with veths. Everything lives in
// namespaces named `ksvc-<clusterId>-...`; the host namespace gets no link,
// no address and no route (docs/network.md, "Safety").
//
// Naming (interface names are per namespace, so they never clash with the
// host's or another cluster's and stay well under 15 chars):
//   ksvc-<cid>-net              cluster net: bridge br0 172.18.0.1/16 (the control plane's
//                               address: the API's in-cluster endpoint), uplinks n<index>,
//                               routes to every node's pod CIDR (replies to pods)
//   ksvc-<cid>-n<index>         node: lo, eth0 172.18.0.(index+2)/16 (peer n<index> on br0),
//                               cbr0 10.244.(index).1/24, veth<hash> per pod on cbr0
//   ksvc-<cid>-n<index>-p<hash> pod: lo, eth0 (peer veth<hash> in the node), default via .1
// A pod's namespace carries its node's name so a node rebuilt after a crash
// can find and remove every pod it had; <hash> is 10 hex chars of sha1(pod UID).
//
// The planning functions below are pure (they return `ip -batch` lines); the
// rest applies them with as few `ip` processes as possible.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import type { NodeNetwork, NodeNetworkConfig, PodSandbox } from './contracts.js';
import {
  CommandError,
  addNetns,
  deleteLinkIfExists,
  deleteNetns,
  ipBatch,
  ipJson,
  killNetnsProcesses,
  listNetns,
  netnsExists,
  setSysctlsInNetns,
} from '../net/ip.js';
import { formatIPv4, formatIPv4CIDR, ipv4CIDRContains, parseIPv4, parseIPv4CIDR } from '../net/addr.js';
import { createPodIPAllocator } from '../net/pod-ips.js';
import { shellRun } from '../net/command-shell.js';
import { writeIptablesHint } from '../net/iptables-backend.js';
import { logger } from '../util/log.js';

const log = logger('node-network');

export const NODE_NETWORK_CIDR = '172.18.0.0/16';
export const CLUSTER_POD_CIDR = '10.244.0.0/16';
/** Node index limit: node IP 172.18.0.(index+2) must stay below .255. */
export const MAX_NODE_INDEX = 252;
/** The control plane's address on the node network (br0 in the cluster net namespace); nodes start at .2. */
export const CONTROL_PLANE_IP = '172.18.0.1';
/** Where a cluster's owner marker lives (`<clusterId>.pid`: "<pid> <process start time>"). */
export const RUN_DIR = '/run/kubesvc';
/**
 * Routing protocol number on the routes this module adds in a node namespace,
 * so `setPeers` replaces exactly its own routes and never one the proxy added.
 */
export const ROUTE_PROTO = 75;

const CLUSTER_BRIDGE = 'br0';
const POD_BRIDGE = 'cbr0';
const NODE_IF = 'eth0';
const POD_IF = 'eth0';

// --- names --------------------------------------------------------------------

export function validateClusterId(clusterId: string): void {
  if (!/^[A-Za-z0-9]{1,16}$/.test(clusterId)) {
    throw new Error(`invalid cluster id "${clusterId}": must be 1-16 letters or digits`);
  }
}

function validateNodeIndex(nodeIndex: number): void {
  if (!Number.isInteger(nodeIndex) || nodeIndex < 0 || nodeIndex > MAX_NODE_INDEX) {
    throw new Error(`invalid node index ${nodeIndex}: must be an integer from 0 to ${MAX_NODE_INDEX}`);
  }
}

/** Every namespace of the cluster starts with this. */
export function clusterNetnsPrefix(clusterId: string): string {
  return `ksvc-${clusterId}-`;
}

export function clusterNetnsName(clusterId: string): string {
  return `ksvc-${clusterId}-net`;
}

export function nodeNetnsName(clusterId: string, nodeIndex: number): string {
  return `ksvc-${clusterId}-n${nodeIndex}`;
}

/** Every pod namespace of the node starts with this. */
export function podNetnsPrefix(clusterId: string, nodeIndex: number): string {
  return `${nodeNetnsName(clusterId, nodeIndex)}-p`;
}

export function podHash(podUID: string): string {
  return createHash('sha1').update(podUID).digest('hex').slice(0, 10);
}

export function podNetnsName(clusterId: string, nodeIndex: number, podUID: string): string {
  return `${podNetnsPrefix(clusterId, nodeIndex)}${podHash(podUID)}`;
}

/** The pod veth's end in the node namespace (14 chars). */
export function podHostVethName(podUID: string): string {
  return `veth${podHash(podUID)}`;
}

/** The node veth's end on br0 in the cluster net namespace. */
export function nodeUplinkName(nodeIndex: number): string {
  return `n${nodeIndex}`;
}

export function nodeIPFor(nodeIndex: number): string {
  validateNodeIndex(nodeIndex);
  return `172.18.0.${nodeIndex + 2}`;
}

export function podCIDRFor(nodeIndex: number): string {
  validateNodeIndex(nodeIndex);
  return `10.244.${nodeIndex}.0/24`;
}

/** The cluster id a `ksvc-<cid>-...` namespace belongs to. */
export function clusterIdOfNetns(name: string): string | undefined {
  return /^ksvc-([A-Za-z0-9]{1,16})-/.exec(name)?.[1];
}

/**
 * A locally administered MAC derived from an IPv4 address (0a:58:a:b:c:d, as
 * OVN-Kubernetes does): an address reused by a later pod keeps its MAC, so
 * neighbours' ARP caches stay right; a bridge with a fixed MAC does not take
 * its lowest port's MAC and change it whenever a pod comes or goes.
 */
export function macForIPv4(ip: string): string {
  const n = parseIPv4(ip);
  return ['0a', '58', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

// --- plans (pure) ---------------------------------------------------------------

/** Lines for the cluster net namespace: the switch between the nodes, carrying the control plane's address. */
export function planClusterNetwork(): string[] {
  return [
    'link set lo up',
    `link add ${CLUSTER_BRIDGE} type bridge`,
    `addr add ${CONTROL_PLANE_IP}/${parseIPv4CIDR(NODE_NETWORK_CIDR).prefix} dev ${CLUSTER_BRIDGE}`,
    `link set ${CLUSTER_BRIDGE} up`,
  ];
}

/** Lines for the cluster net namespace: the node's veth, its node end created straight inside the node namespace. */
export function planNodeUplink(clusterId: string, nodeIndex: number): string[] {
  const uplink = nodeUplinkName(nodeIndex);
  return [
    `link add ${uplink} type veth peer name ${NODE_IF} address ${macForIPv4(nodeIPFor(nodeIndex))} netns ${nodeNetnsName(clusterId, nodeIndex)}`,
    `link set ${uplink} master ${CLUSTER_BRIDGE} up`,
  ];
}

/**
 * Lines for the node namespace once its eth0 exists: addresses, the pod bridge,
 * a default route into the (isolated) node network — a node has one, and
 * locally generated traffic to a ClusterIP needs a route before DNAT — and the
 * routes to the peers' pod CIDRs.
 */
export function planNodeInterior(cfg: NodeNetworkConfig): string[] {
  const nodeIP = nodeIPFor(cfg.nodeIndex);
  const podCIDR = podCIDRFor(cfg.nodeIndex);
  const gateway = formatIPv4(parseIPv4CIDR(podCIDR).network + 1);
  const nodeNet = parseIPv4CIDR(NODE_NETWORK_CIDR);
  return [
    'link set lo up',
    `addr add ${nodeIP}/${nodeNet.prefix} dev ${NODE_IF}`,
    `link set ${NODE_IF} up`,
    `link add ${POD_BRIDGE} address ${macForIPv4(gateway)} type bridge`,
    `addr add ${gateway}/${parseIPv4CIDR(podCIDR).prefix} dev ${POD_BRIDGE}`,
    `link set ${POD_BRIDGE} up`,
    `route replace default dev ${NODE_IF} proto ${ROUTE_PROTO}`,
    ...planPeerRoutes([], cfg.peers, { podCIDR, nodeIP }),
  ];
}

/**
 * Sysctls of a node namespace: forwarding on; reverse-path filtering off (a
 * service's DNAT makes paths asymmetric); route_localnet for NodePorts on
 * 127.0.0.1 (as kube-proxy sets it); bridged pod traffic through the ip hooks
 * when br_netfilter is loaded, so proxy rules see pod-to-pod traffic on cbr0.
 */
export function nodeSysctls(bridgeNetfilter: boolean): Record<string, number> {
  return {
    'net.ipv4.ip_forward': 1,
    'net.ipv4.conf.all.rp_filter': 0,
    'net.ipv4.conf.default.rp_filter': 0,
    'net.ipv4.conf.all.route_localnet': 1,
    ...(bridgeNetfilter ? { 'net.bridge.bridge-nf-call-iptables': 1 } : {}),
  };
}

export interface PodSandboxPlan {
  /** Run in the host namespace: create the pod namespace and the veth straight into node and pod. */
  host: string[];
  /** Run in the pod namespace. */
  pod: string[];
  /** Run in the node namespace. */
  node: string[];
}

export function planPodSandbox(clusterId: string, nodeIndex: number, podUID: string, ip: string): PodSandboxPlan {
  const podCIDR = parseIPv4CIDR(podCIDRFor(nodeIndex));
  if (!ipv4CIDRContains(podCIDR, parseIPv4(ip))) throw new Error(`pod IP ${ip} is outside the node's pod CIDR ${formatIPv4CIDR(podCIDR)}`);
  const podNs = podNetnsName(clusterId, nodeIndex, podUID);
  const veth = podHostVethName(podUID);
  return {
    host: [
      `netns add ${podNs}`,
      `link add ${veth} netns ${nodeNetnsName(clusterId, nodeIndex)} type veth peer name ${POD_IF} address ${macForIPv4(ip)} netns ${podNs}`,
    ],
    pod: [
      'link set lo up',
      `addr add ${ip}/${podCIDR.prefix} dev ${POD_IF}`,
      `link set ${POD_IF} up`,
      `route add default via ${formatIPv4(podCIDR.network + 1)} dev ${POD_IF}`,
    ],
    node: [
      `link set ${veth} master ${POD_BRIDGE} up`,
      // kubenet's hairpin-veth: a pod reaching itself through a Service VIP gets its packet back on the same port.
      `link set ${veth} type bridge_slave hairpin on`,
    ],
  };
}

/** A route as `ip -j route show` prints it. */
export interface RouteEntry {
  dst: string;
  gateway?: string;
  dev?: string;
}

/**
 * Lines turning the node's current peer routes (those with our protocol; the
 * default route is not a peer route) into routes to exactly `peers`. Peers
 * naming this node's own pod CIDR or node IP are skipped, so callers may pass
 * every node. Throws on malformed peers or a pod CIDR claimed by two nodes.
 */
export function planPeerRoutes(
  current: readonly RouteEntry[],
  peers: NodeNetworkConfig['peers'],
  self: { podCIDR: string; nodeIP: string },
  dev = NODE_IF,
): string[] {
  const nodeNet = parseIPv4CIDR(NODE_NETWORK_CIDR);
  const onNodeNetwork = (ip: string, what: string) => {
    if (!ipv4CIDRContains(nodeNet, parseIPv4(ip))) throw new Error(`${what} ${ip} is not on the node network ${NODE_NETWORK_CIDR}`);
  };
  // Destination (a pod CIDR, or a node IP as `ip route` prints a /32) → gateway.
  const desired = new Map<string, string>();
  const want = (dst: string, via: string, who: string) => {
    const other = desired.get(dst);
    if (other !== undefined && other !== via) throw new Error(`${who} ${dst} is claimed by two peers: ${other} and ${via}`);
    desired.set(dst, via);
  };
  for (const peer of peers) {
    const cidr = formatIPv4CIDR(parseIPv4CIDR(peer.podCIDR));
    const nodeIP = formatIPv4(parseIPv4(peer.nodeIP));
    onNodeNetwork(nodeIP, `peer node IP`);
    const via = peer.via === undefined ? nodeIP : formatIPv4(parseIPv4(peer.via));
    if (via !== nodeIP) onNodeNetwork(via, `gateway of peer node ${nodeIP} (pod CIDR ${cidr}):`);
    if (cidr === self.podCIDR || nodeIP === self.nodeIP) continue;
    want(cidr, via, 'pod CIDR');
    // A node on another machine is not on this machine's bridge: its address is routed like its pods.
    if (via !== nodeIP) want(nodeIP, via, 'node IP');
  }
  const have = new Map<string, string | undefined>();
  for (const r of current) if (r.dst !== 'default') have.set(r.dst, r.gateway);
  const lines: string[] = [];
  for (const dst of [...have.keys()].sort()) {
    if (!desired.has(dst)) lines.push(`route del ${dst} proto ${ROUTE_PROTO}`);
  }
  for (const [dst, via] of [...desired].sort(([a], [b]) => a.localeCompare(b))) {
    if (have.get(dst) !== via) lines.push(`route replace ${dst}${dst.includes('/') ? '' : '/32'} via ${via} dev ${dev} proto ${ROUTE_PROTO}`);
  }
  return lines;
}

/** Brings a namespace's peer routes (those with our protocol) to exactly `peers`. */
async function applyPeerRoutes(netns: string, peers: NodeNetworkConfig['peers'], self: { podCIDR: string; nodeIP: string }, dev: string) {
  const current = await ipJson<RouteEntry>(['route', 'show', 'proto', String(ROUTE_PROTO)], netns);
  await ipBatch(planPeerRoutes(current, peers, self, dev), netns);
}

/**
 * The cluster net namespace's routes to the nodes' pod CIDRs, so the control
 * plane's address can answer pods (a pod reaching the API through the
 * `kubernetes` Service keeps its own source address). Same shape as a node's
 * setPeers, for syncPeerRoutes; the namespace has no pod CIDR of its own.
 */
export function clusterNetworkRoutes(clusterId: string): Pick<NodeNetwork, 'podCIDR' | 'setPeers'> {
  const netns = clusterNetnsName(clusterId);
  const self = { podCIDR: '', nodeIP: CONTROL_PLANE_IP };
  let queue: Promise<unknown> = Promise.resolve();
  return {
    podCIDR: '',
    setPeers(peers) {
      planPeerRoutes([], peers, self, CLUSTER_BRIDGE); // reject bad input before queueing
      const op = queue.then(() => applyPeerRoutes(netns, peers, self, CLUSTER_BRIDGE));
      queue = op.catch(() => {}); // the queue only orders the changes; the caller gets op's failure
      return op;
    },
  };
}

/** Who created a cluster's network: a pid and that process's start time (guards against pid reuse). */
export interface ClusterMarker {
  pid: number;
  startTime: string;
}

/**
 * The clusters whose namespaces are leftovers: no marker, or a marker whose
 * owner process no longer runs. `clusterIds` are those seen in namespace names
 * or marker files.
 */
export function findStaleClusters(
  clusterIds: Iterable<string>,
  markers: ReadonlyMap<string, ClusterMarker | undefined>,
  isAlive: (m: ClusterMarker) => boolean,
): string[] {
  return [...new Set(clusterIds)]
    .filter((id) => {
      const m = markers.get(id);
      return m === undefined || !isAlive(m);
    })
    .sort();
}

// --- owner markers -------------------------------------------------------------

function markerPath(clusterId: string): string {
  return `${RUN_DIR}/${clusterId}.pid`;
}

async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields from 3 on, counted after the parenthesised command name (which may hold spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (state Z: dead, not yet reaped by a parent that never waits) owns nothing.
    if (fields[0] === 'Z') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export async function readClusterMarker(clusterId: string): Promise<ClusterMarker | undefined> {
  let text: string;
  try {
    text = await readFile(markerPath(clusterId), 'utf8');
  } catch {
    return undefined;
  }
  const m = /^(\d+) (\d+)\s*$/.exec(text);
  return m ? { pid: Number(m[1]), startTime: m[2]! } : undefined;
}

export async function isMarkerOwnerAlive(m: ClusterMarker): Promise<boolean> {
  return (await processStartTime(m.pid)) === m.startTime;
}

/** Records this process as the cluster's owner unless another live process already is. */
async function claimCluster(clusterId: string): Promise<void> {
  const current = await readClusterMarker(clusterId);
  if (current && current.pid !== process.pid && (await isMarkerOwnerAlive(current))) return;
  const startTime = await processStartTime(process.pid);
  if (!startTime) throw new Error(`cannot read this process's start time from /proc/${process.pid}/stat`);
  await mkdir(RUN_DIR, { recursive: true });
  const tmp = `${markerPath(clusterId)}.${process.pid}.tmp`;
  await writeFile(tmp, `${process.pid} ${startTime}\n`);
  await rename(tmp, markerPath(clusterId));
}

async function removeClusterMarker(clusterId: string): Promise<void> {
  await rm(markerPath(clusterId), { force: true });
}

// --- applying -------------------------------------------------------------------

/** Deletes namespaces, first SIGKILLing the processes inside them (which would otherwise keep them alive, unnamed). */
async function removeNamespaces(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await killNetnsProcesses(names);
  try {
    await ipBatch(names.map((n) => `netns delete ${n}`));
  } catch {
    // One already gone stops the batch; finish one by one, tolerating missing ones.
    for (const n of names) await deleteNetns(n);
  }
}

const clusterSetups = new Map<string, Promise<string>>();

/**
 * Creates the cluster net namespace and its bridge unless they exist, and
 * records this process as the cluster's owner (see cleanupAllStale). Returns
 * the namespace name. Call cleanupStale first at start: this adopts what it finds.
 */
export function ensureClusterNetwork(clusterId: string): Promise<string> {
  try {
    validateClusterId(clusterId);
  } catch (e) {
    return Promise.reject(e);
  }
  const running = clusterSetups.get(clusterId);
  if (running) return running;
  const setup = (async () => {
    await claimCluster(clusterId);
    const ns = clusterNetnsName(clusterId);
    await addNetns(ns, { ifMissing: true });
    const hasBridge = async () =>
      (await ipJson<{ ifname: string }>(['link', 'show'], ns)).some((l) => l.ifname === CLUSTER_BRIDGE);
    if (await hasBridge()) return ns;
    try {
      await ipBatch(planClusterNetwork(), ns);
    } catch (e) {
      // Another process may have raced us to it.
      if (!(e instanceof CommandError) || !(await hasBridge())) throw e;
      await ipBatch([`link set ${CLUSTER_BRIDGE} up`], ns);
    }
    return ns;
  })();
  clusterSetups.set(clusterId, setup);
  setup.then(
    () => clusterSetups.delete(clusterId),
    () => clusterSetups.delete(clusterId),
  );
  return setup;
}

/**
 * Removes every namespace of the cluster (`ksvc-<clusterId>-*`: pods, nodes and
 * the cluster net, with all their links), killing processes still inside them.
 * Returns the namespaces it removed.
 */
export async function cleanupStale(clusterId: string): Promise<string[]> {
  validateClusterId(clusterId);
  const names = await listNetns(clusterNetnsPrefix(clusterId));
  await removeNamespaces(names);
  await removeClusterMarker(clusterId);
  if (names.length > 0) log.info('removed cluster namespaces', { cluster: clusterId, namespaces: names.length });
  return names;
}

/** Tears the whole cluster network down: like cleanupStale, for a cluster this process owns. */
export async function destroyClusterNetwork(clusterId: string): Promise<void> {
  await cleanupStale(clusterId);
}

/**
 * Removes the namespaces of every cluster whose owner is gone: a cluster is
 * stale when its marker (/run/kubesvc/<clusterId>.pid, written by
 * ensureClusterNetwork) is missing or names a pid that is not running, or is
 * running but started at another time (the pid was reused). Clusters of live
 * processes are left alone. `match` limits which cluster ids are considered.
 * Returns the stale cluster ids it cleaned.
 */
export async function cleanupAllStale(opts: { match?: (clusterId: string) => boolean } = {}): Promise<string[]> {
  const ids = new Set<string>();
  for (const n of await listNetns('ksvc-')) {
    const id = clusterIdOfNetns(n);
    if (id) ids.add(id);
  }
  let markerFiles: string[] = [];
  try {
    markerFiles = await readdir(RUN_DIR);
  } catch {
    // no markers yet
  }
  for (const f of markerFiles) {
    const m = /^([A-Za-z0-9]{1,16})\.pid$/.exec(f);
    if (m) ids.add(m[1]!);
  }
  const considered = [...ids].filter((id) => opts.match?.(id) ?? true);
  const markers = new Map<string, ClusterMarker | undefined>();
  const alive = new Map<ClusterMarker, boolean>();
  for (const id of considered) {
    const m = await readClusterMarker(id);
    markers.set(id, m);
    if (m) alive.set(m, await isMarkerOwnerAlive(m));
  }
  const stale = findStaleClusters(considered, markers, (m) => alive.get(m) ?? false);
  for (const id of stale) await cleanupStale(id);
  return stale;
}

/** Removes a node's pods, its uplink on br0 and its namespace, whatever state a crash left them in. */
async function teardownNode(clusterId: string, nodeIndex: number): Promise<void> {
  const nodeNs = nodeNetnsName(clusterId, nodeIndex);
  const podPrefix = podNetnsPrefix(clusterId, nodeIndex);
  const names = (await listNetns(nodeNs)).filter((n) => n === nodeNs || n.startsWith(podPrefix));
  await killNetnsProcesses(names);
  // The uplink is deleted explicitly: a namespace's links die asynchronously, and
  // a rebuilt node must be able to reuse the name at once.
  await Promise.all([
    removeNamespaces(names.filter((n) => n !== nodeNs)),
    deleteLinkIfExists(nodeUplinkName(nodeIndex), clusterNetnsName(clusterId)),
  ]);
  await deleteNetns(nodeNs);
}

/** Creates the node's namespace and links (and the cluster network if missing); rebuilds from scratch what a crash left. */
export async function createNodeNetwork(cfg: NodeNetworkConfig): Promise<NodeNetwork> {
  const { clusterId, nodeIndex } = cfg;
  validateClusterId(clusterId);
  validateNodeIndex(nodeIndex);
  const netns = nodeNetnsName(clusterId, nodeIndex);
  const nodeIP = nodeIPFor(nodeIndex);
  const podCIDR = podCIDRFor(nodeIndex);
  const interior = planNodeInterior(cfg); // validates peers before anything is touched
  const clusterNs = await ensureClusterNetwork(clusterId);

  const leftovers = await listNetns(netns);
  if (leftovers.some((n) => n === netns || n.startsWith(podNetnsPrefix(clusterId, nodeIndex)))) {
    log.warn('rebuilding node network left over from an earlier run', { cluster: clusterId, node: cfg.nodeName, netns });
  }
  await teardownNode(clusterId, nodeIndex);
  await addNetns(netns);
  try {
    const bridgeNetfilter = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables');
    await setSysctlsInNetns(netns, nodeSysctls(bridgeNetfilter), { ignoreUnknown: true });
    await ipBatch(planNodeUplink(clusterId, nodeIndex), clusterNs);
    await ipBatch(interior, netns);
    // As the kubelet does: the node's iptables backend, for its proxies to follow.
    await writeIptablesHint(netns);
  } catch (e) {
    // The setup error is the one to report; whatever the teardown leaves, cleanupStale removes at the next start.
    await teardownNode(clusterId, nodeIndex).catch(() => {});
    throw e;
  }
  log.info('node network created', { cluster: clusterId, node: cfg.nodeName, netns, nodeIP, podCIDR });
  return nodeNetworkHandle(cfg, netns, nodeIP, podCIDR);
}

function nodeNetworkHandle(cfg: NodeNetworkConfig, netns: string, nodeIP: string, podCIDR: string): NodeNetwork {
  const { clusterId, nodeIndex } = cfg;
  const ips = createPodIPAllocator(podCIDR);
  const sandboxes = new Map<string, PodSandbox>();
  const podOps = new Map<string, Promise<unknown>>();
  const inflight = new Set<Promise<unknown>>();
  let peerOp: Promise<unknown> = Promise.resolve();
  let destroyed = false;

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
    return p;
  };
  const alive = (what: string) => {
    if (destroyed) throw new Error(`${what}: node network ${netns} has been destroyed`);
  };
  // Operations on one pod run one after another; different pods proceed in parallel.
  const perPod = <T>(uid: string, fn: () => Promise<T>): Promise<T> => {
    const next = (podOps.get(uid) ?? Promise.resolve()).then(fn, fn);
    podOps.set(uid, next);
    next.then(
      () => podOps.get(uid) === next && podOps.delete(uid),
      () => podOps.get(uid) === next && podOps.delete(uid),
    );
    return track(next);
  };
  const removePod = async (podNs: string, veth: string) => {
    // The veth goes first and explicitly: it takes the pod's eth0 with it at once,
    // even if something still holds the pod namespace, so the IP is free to reuse.
    await Promise.all([killNetnsProcesses([podNs]), deleteLinkIfExists(veth, netns)]);
    await deleteNetns(podNs);
  };

  return {
    netns,
    nodeIP,
    podCIDR,

    async createPodSandbox(podUID) {
      alive('createPodSandbox');
      return perPod(podUID, async () => {
        alive('createPodSandbox');
        const existing = sandboxes.get(podUID);
        if (existing) return existing;
        const podNs = podNetnsName(clusterId, nodeIndex, podUID);
        const veth = podHostVethName(podUID);
        for (const [uid, s] of sandboxes) {
          if (s.hostVeth === veth) throw new Error(`pod UIDs ${uid} and ${podUID} hash to the same sandbox name ${podNs}`);
        }
        if (await netnsExists(podNs)) await removePod(podNs, veth);
        const ip = ips.allocate();
        const plan = planPodSandbox(clusterId, nodeIndex, podUID, ip);
        try {
          // Through the command shell (net/command-shell.ts): the agent forks no process of its own size for them.
          await ipBatch(plan.host, undefined, shellRun);
          const results = await Promise.allSettled([ipBatch(plan.pod, podNs, shellRun), ipBatch(plan.node, netns, shellRun)]);
          for (const r of results) if (r.status === 'rejected') throw r.reason;
        } catch (e) {
          await removePod(podNs, veth).catch(() => {}); // the sandbox error is thrown below; leftovers go with the node's teardown
          ips.release(ip);
          throw e;
        }
        const sandbox: PodSandbox = Object.freeze({ netns: podNs, ip, hostVeth: veth });
        sandboxes.set(podUID, sandbox);
        return sandbox;
      });
    },

    async deletePodSandbox(podUID) {
      if (destroyed) return;
      return perPod(podUID, async () => {
        if (destroyed) return;
        const s = sandboxes.get(podUID);
        await removePod(podNetnsName(clusterId, nodeIndex, podUID), podHostVethName(podUID));
        if (s) {
          sandboxes.delete(podUID);
          ips.release(s.ip);
        }
      });
    },

    async setPeers(peers) {
      alive('setPeers');
      const self = { podCIDR, nodeIP };
      planPeerRoutes([], peers, self); // reject bad input before queueing
      const op = peerOp.then(
        async () => {
          alive('setPeers');
          await applyPeerRoutes(netns, peers, self, NODE_IF);
        },
      );
      peerOp = op.catch(() => {}); // only orders the next change; the caller gets op's failure
      return track(op);
    },

    async destroy() {
      destroyed = true;
      await Promise.allSettled([...inflight]);
      await teardownNode(clusterId, nodeIndex);
      sandboxes.clear();
      log.info('node network destroyed', { cluster: clusterId, node: cfg.nodeName, netns });
    },
  };
}
