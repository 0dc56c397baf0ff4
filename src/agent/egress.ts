// Egress: pods reach addresses beyond the cluster through the machine, as on
// a kind or kubeadm cluster where the node's address is the one that goes out
// (docs: README "Egress").
//
//   pod 10.244.N.x ─▶ node ksvc-<cid>-nN: default via 172.18.0.1; masquerade to the node IP
//                     unless the destination is in the cluster (kindnet's rule: not for
//                     pod→pod, pod→node, pod→service)       [table ip kubesvc-egress]
//   ─▶ cluster net ksvc-<cid>-net: default via the link's host end; masquerade out of gw0
//                     to the link's cluster end            [table ip kubesvc-egress]
//   ─▶ host: veth ksvc-<cid>-gw (the link's host end), masquerade out of the default
//                     route's interface                    [table ip kubesvc-egress-<cid>]
//
// The host namespace gets one veth with a /30 from 169.254.222.0/24 and one
// nftables table of its own: never a route to a cluster range (it sees only
// traffic from the link's cluster end, already masqueraded). The link range
// is IPv4 link-local (RFC 3927): it is never routed beyond a link, no DHCP
// server or static plan hands it out, and this /24 stays clear of the
// well-known link-local users (cloud metadata 169.254.169.254, ECS
// 169.254.170.2, NodeLocal DNSCache 169.254.20.10) and of the blocks RFC 3927
// reserves (169.254.0/24, 169.254.255/24); each cluster takes a /30 of it no
// address or route of the host overlaps. The host forwards for the link only:
// net.ipv4.conf.<if>.forwarding on the veth and on the outgoing interface
// (the replies come in there), never the global ip_forward; a value changed
// is put back when the cluster stops (or by `kubesvc down` after a crash,
// from /run/kubesvc/<cid>.egress.json).
//
// Names outside the cluster: the node's resolv.conf (the kubelet's
// --resolv-conf, which coredns forwards to as CoreDNS's `forward .
// /etc/resolv.conf`) names the machine's resolvers with egress on — those of
// /run/systemd/resolve/resolv.conf when /etc/resolv.conf names only
// systemd-resolved's stub (kubeadm's rule) — and none with egress off, so
// such names are REFUSED. A resolver on the machine's loopback is reached
// through a relay on the link's host end (../dns/relay.ts).
//
// Tests never touch the machine: KUBESVC_EGRESS_GATEWAY_NETNS (test-only)
// names a namespace the test made to stand in for the host namespace, and
// KUBESVC_EGRESS_RESOLV_CONF (test-only) the resolv.conf of its stand-in
// resolvers; with a stand-in, the machine's resolvers are never used.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { formatIPv4, formatIPv4CIDR, ipv4CIDRContains, parseIPv4, parseIPv4CIDR, type IPv4CIDR } from '../net/addr.js';
import { CommandError, deleteLinkIfExists, execInNetns, ipBatch, ipJson, netnsExists, run, setSysctlsInNetns } from '../net/ip.js';
import { startDnsRelay, type DnsRelay } from '../dns/relay.js';
import { errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';
import { formatResolvConf, parseResolvConf, type ResolvConf } from './dns.js';
import { CLUSTER_POD_CIDR, CONTROL_PLANE_IP, NODE_NETWORK_CIDR, ROUTE_PROTO, RUN_DIR, ensureClusterNetwork } from './network.js';

const log = logger('node-network');

export type EgressSetting = 'auto' | 'off';
export const EGRESS_SETTINGS: readonly EgressSetting[] = ['auto', 'off'];

/** Where each cluster's /30 comes from. */
export const EGRESS_LINK_RANGE = '169.254.222.0/24';
/** The service range, as the API server allocates it: never masqueraded at a node. */
const SERVICE_CIDR = '10.96.0.0/12';
/** The link's end in the cluster net namespace. */
const CLUSTER_END_IF = 'gw0';
/** The table in the node and cluster namespaces (theirs alone: one name does). */
const NAMESPACE_TABLE = 'kubesvc-egress';

export const gatewayNetnsEnv = 'KUBESVC_EGRESS_GATEWAY_NETNS';
export const resolvConfEnv = 'KUBESVC_EGRESS_RESOLV_CONF';

export interface EgressLink {
  cidr: string;
  hostIP: string;
  clusterIP: string;
}

export interface EgressDecision {
  on: boolean;
  /** Why it is on or off, for the ready screen. */
  why: string;
  /** The test's stand-in for the host namespace; undefined: the host's own. */
  gatewayNetns?: string;
  outIf?: string;
  link?: EgressLink;
  /** The node's resolv.conf (the kubelet's --resolv-conf). */
  resolv: ResolvConf;
  /** Loopback resolvers reached through the relay on the link's host end. */
  relayTo: string[];
}

// --- names and plans (pure) ---------------------------------------------------------

export function egressTableName(clusterId: string): string {
  return `${NAMESPACE_TABLE}-${clusterId}`;
}

/** The link's end in the host namespace: a name no other cluster's (or the machine's) link has. */
export function egressHostVethName(clusterId: string): string {
  const name = `ksvc-${clusterId}-gw`;
  return name.length <= 15 ? name : `ksvc${createHash('sha1').update(clusterId).digest('hex').slice(0, 8)}gw`;
}

function egressStatePath(clusterId: string): string {
  return `${RUN_DIR}/${clusterId}.egress.json`;
}

function overlaps(a: IPv4CIDR, b: IPv4CIDR): boolean {
  return ipv4CIDRContains(a, b.network) || ipv4CIDRContains(b, a.network);
}

/**
 * The cluster's /30 of EGRESS_LINK_RANGE: the first, from a place the
 * cluster id picks, that no address of the gateway namespace is in and no
 * route more specific than the link-local /16 overlaps.
 */
export function chooseEgressLink(clusterId: string, used: { addresses: string[]; routes: string[] }): EgressLink {
  const range = parseIPv4CIDR(EGRESS_LINK_RANGE);
  const count = 2 ** (30 - range.prefix);
  const start = parseInt(createHash('sha1').update(clusterId).digest('hex').slice(0, 6), 16) % count;
  const taken = [
    ...used.addresses.map((a) => ({ network: parseIPv4(a), prefix: 32 })),
    ...used.routes.filter((r) => r !== 'default').map((r) => parseIPv4CIDR(formatIPv4CIDR(toNetwork(r)))).filter((r) => r.prefix > 16),
  ];
  for (let i = 0; i < count; i++) {
    const net = { network: range.network + ((start + i) % count) * 4, prefix: 30 };
    if (taken.some((t) => overlaps(t, net))) continue;
    return { cidr: formatIPv4CIDR(net), hostIP: formatIPv4(net.network + 1), clusterIP: formatIPv4(net.network + 2) };
  }
  throw new Error(`no free /30 for the egress link in ${EGRESS_LINK_RANGE}: every one overlaps an address or route of this machine`);
}

/** "a.b.c.d" or "a.b.c.d/n" with host bits possibly set → its network. */
function toNetwork(dst: string): IPv4CIDR {
  const [addr, p] = dst.split('/');
  const prefix = p === undefined ? 32 : Number(p);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (parseIPv4(addr!) & mask) >>> 0, prefix };
}

/** The host side: masquerade what comes from the link and leaves by the default route's interface. */
export function planGatewayTable(clusterId: string, link: EgressLink, outIf: string): string {
  const table = egressTableName(clusterId);
  return [
    `add table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${link.cidr} oifname ${JSON.stringify(outIf)} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The cluster net namespace: masquerade what leaves by the link. */
export function planClusterTable(): string {
  return [
    `table ip ${NAMESPACE_TABLE} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname ${JSON.stringify(CLUSTER_END_IF)} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** A node: pods' traffic to addresses outside the cluster leaves as the node's (kindnet's masquerade rule). */
export function planNodeTable(): string {
  return [
    `table ip ${NAMESPACE_TABLE} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${CLUSTER_POD_CIDR} ip daddr != { ${CLUSTER_POD_CIDR}, ${NODE_NETWORK_CIDR}, ${SERVICE_CIDR} } masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The node's resolv.conf: the resolvers with egress on (loopback ones replaced by the relay), none with it off. */
export function nodeResolvConfText(d: EgressDecision): string {
  const head = d.on
    ? `# kubesvc: the node's resolvers (egress on${d.relayTo.length ? `; ${d.link!.hostIP} relays to ${d.relayTo.join(', ')}` : ''})\n`
    : '# kubesvc: egress is off: no resolver outside the cluster (coredns answers REFUSED for other names)\n';
  return head + formatResolvConf(d.resolv);
}

/**
 * The machine's resolvers as a kubeadm node's kubelet takes them: /etc/resolv.conf,
 * or systemd-resolved's upstream list when that names only its stub. IPv4 only (the cluster is).
 */
export function machineResolvers(read: (path: string) => string | undefined = readOptional): ResolvConf {
  let conf = parseResolvConf(read('/etc/resolv.conf') ?? '');
  const stubOnly = conf.nameservers.length > 0 && conf.nameservers.every((n) => n === '127.0.0.53');
  const resolved = stubOnly ? read('/run/systemd/resolve/resolv.conf') : undefined;
  if (resolved !== undefined) conf = parseResolvConf(resolved);
  return { ...conf, nameservers: conf.nameservers.filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n)) };
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const isLoopback = (ip: string) => ip.startsWith('127.');

// --- deciding ---------------------------------------------------------------------------

interface RouteJson {
  dst: string;
  dev?: string;
}

/** Whether egress runs, where it goes out and which resolvers the nodes get; touches nothing. */
export async function decideEgress(clusterId: string, setting: EgressSetting, env: NodeJS.ProcessEnv = process.env): Promise<EgressDecision> {
  const gatewayNetns = env[gatewayNetnsEnv] || undefined;
  const none: ResolvConf = { nameservers: [], searches: [], options: [] };
  if (gatewayNetns && !(await netnsExists(gatewayNetns))) throw new Error(`${gatewayNetnsEnv}=${gatewayNetns}: no such network namespace`);
  if (setting === 'off') return { on: false, why: 'off (--no-egress): no way out of the cluster; names outside it are REFUSED', gatewayNetns, resolv: none, relayTo: [] };
  const routes = await ipJson<RouteJson>(['-4', 'route', 'show', 'table', 'main'], gatewayNetns);
  const outIf = routes.find((r) => r.dst === 'default' && r.dev)?.dev;
  if (!outIf) return { on: false, why: 'off: this machine has no default route (--egress auto)', gatewayNetns, resolv: none, relayTo: [] };
  const addrs = await ipJson<{ addr_info?: { family: string; local: string }[] }>(['-4', 'addr', 'show'], gatewayNetns);
  const link = chooseEgressLink(clusterId, {
    addresses: addrs.flatMap((a) => (a.addr_info ?? []).filter((i) => i.family === 'inet').map((i) => i.local)),
    routes: routes.map((r) => r.dst),
  });
  let resolv: ResolvConf;
  if (gatewayNetns) {
    const file = env[resolvConfEnv];
    resolv = file ? parseResolvConf(readFileSync(file, 'utf8')) : none;
  } else {
    resolv = machineResolvers();
  }
  // A loopback resolver of the gateway namespace is reached through the relay, which runs in the host's only.
  const relayTo = gatewayNetns ? [] : resolv.nameservers.filter(isLoopback);
  const nameservers = [...new Set(resolv.nameservers.map((n) => (isLoopback(n) ? (gatewayNetns ? '' : link.hostIP) : n)).filter(Boolean))].slice(0, 3);
  const where = gatewayNetns ? `the stand-in namespace ${gatewayNetns}'s ${outIf}` : outIf;
  return {
    on: true,
    why: `on: pods reach the outside through ${where} (masquerade; link ${link.cidr}); names outside the cluster go to ${nameservers.join(', ') || 'no resolver'}`,
    gatewayNetns,
    outIf,
    link,
    resolv: { ...resolv, nameservers },
    relayTo,
  };
}

// --- applying ---------------------------------------------------------------------------

interface EgressState {
  gatewayNetns?: string;
  table: string;
  hostVeth: string;
  /** Sysctl paths this cluster changed, with the values to put back. */
  restore: Record<string, string>;
}

async function writeState(clusterId: string, state: EgressState): Promise<void> {
  await mkdir(RUN_DIR, { recursive: true });
  const tmp = `${egressStatePath(clusterId)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state)}\n`);
  await rename(tmp, egressStatePath(clusterId));
}

async function readState(path: string): Promise<EgressState | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as EgressState;
  } catch {
    return undefined;
  }
}

function nft(script: string, netns?: string): Promise<unknown> {
  return netns ? execInNetns(netns, ['nft', '-f', '-'], { input: script }) : run(['nft', '-f', '-'], { input: script });
}

async function readSysctl(path: string, netns?: string): Promise<string> {
  return (netns ? (await execInNetns(netns, ['cat', path])).stdout : await readFile(path, 'utf8')).trim();
}

async function writeSysctl(path: string, value: string, netns?: string): Promise<void> {
  if (netns) await execInNetns(netns, ['tee', path], { input: `${value}\n` });
  else await writeFile(path, `${value}\n`);
}

const forwardingPath = (dev: string) => `/proc/sys/net/ipv4/conf/${dev}/forwarding`;

const relays = new Map<string, DnsRelay>();

export interface RunningEgress {
  /** What the host was changed in beyond its own link and table, for the ready screen. */
  hostChanges: string[];
}

/**
 * Builds the egress of a cluster whose network and nodes exist: the link,
 * the routes, the three masquerades, the gateway's forwarding and the DNS
 * relay. What it makes is recorded first, so cleanupEgress removes it all,
 * also after a crash.
 */
export async function setUpEgress(d: EgressDecision, clusterId: string, nodeNetns: readonly string[]): Promise<RunningEgress> {
  if (!d.on || !d.link || !d.outIf) return { hostChanges: [] };
  const gw = d.gatewayNetns;
  const state: EgressState = { gatewayNetns: gw, table: egressTableName(clusterId), hostVeth: egressHostVethName(clusterId), restore: {} };
  await writeState(clusterId, state);
  const clusterNs = await ensureClusterNetwork(clusterId);
  const prefix = parseIPv4CIDR(d.link.cidr).prefix;
  await ipBatch(
    [
      `link add ${state.hostVeth} type veth peer name ${CLUSTER_END_IF} netns ${clusterNs}`,
      `addr add ${d.link.hostIP}/${prefix} dev ${state.hostVeth}`,
      `link set ${state.hostVeth} up`,
    ],
    gw,
  );
  // The cluster's own ranges never leave by the link: a packet to a Service or pod address no rule or node
  // took (a client faster than its proxy) is refused at once (ICMP unreachable), as without egress, instead of vanishing outside.
  await ipBatch(
    [
      `addr add ${d.link.clusterIP}/${prefix} dev ${CLUSTER_END_IF}`,
      `link set ${CLUSTER_END_IF} up`,
      `route replace unreachable ${SERVICE_CIDR}`,
      `route replace unreachable ${CLUSTER_POD_CIDR}`,
      `route replace default via ${d.link.hostIP} dev ${CLUSTER_END_IF}`,
    ],
    clusterNs,
  );
  await setSysctlsInNetns(clusterNs, { 'net.ipv4.ip_forward': 1 });
  await Promise.all([
    nft(planClusterTable(), clusterNs),
    ...nodeNetns.map(async (ns) => {
      await nft(planNodeTable(), ns);
      await ipBatch([`route replace default via ${CONTROL_PLANE_IP} proto ${ROUTE_PROTO}`], ns);
    }),
  ]);
  // Forwarding on the two interfaces whose packets the gateway forwards: the link's (out) and the outgoing one's (replies).
  const hostChanges: string[] = [];
  for (const dev of [state.hostVeth, d.outIf]) {
    const path = forwardingPath(dev);
    if ((await readSysctl(path, gw)) === '1') continue;
    if (dev !== state.hostVeth) {
      state.restore[path] = '0';
      await writeState(clusterId, state);
      hostChanges.push(`net.ipv4.conf.${dev}.forwarding=1 while up (was 0)`);
    }
    await writeSysctl(path, '1', gw);
  }
  await nft(planGatewayTable(clusterId, d.link, d.outIf), gw);
  if (d.relayTo.length) {
    try {
      relays.set(clusterId, await startDnsRelay({ host: d.link.hostIP, port: 53, upstream: { host: d.relayTo[0]!, port: 53 } }));
    } catch (e) {
      hostChanges.push(`no DNS relay to ${d.relayTo[0]} (${errorMessage(e)}): names outside the cluster will time out`);
    }
  }
  log.info('egress set up', { cluster: clusterId, link: d.link.cidr, out: d.outIf, gateway: gw ?? 'host', table: state.table });
  return { hostChanges };
}

/**
 * Removes a cluster's egress from the gateway namespace (its table and link)
 * and puts back the sysctls it changed — unless another cluster's egress
 * relies on the same one, which then inherits the duty. Safe to call when
 * nothing is left. Returns what it removed, in words.
 */
export async function cleanupEgress(clusterId: string): Promise<string[]> {
  const relay = relays.get(clusterId);
  relays.delete(clusterId);
  await relay?.close();
  const path = egressStatePath(clusterId);
  const state = await readState(path);
  if (!state) return [];
  const gw = state.gatewayNetns;
  const removed: string[] = [];
  if (gw && !(await netnsExists(gw))) {
    await rm(path, { force: true });
    return removed;
  }
  try {
    await nft(`delete table ip ${state.table}\n`, gw);
    removed.push(`table ip ${state.table}`);
  } catch (e) {
    if (!(e instanceof CommandError && /No such file or directory/.test(e.stderr))) throw e;
  }
  await deleteLinkIfExists(state.hostVeth, gw);
  const others = await otherEgressStates(clusterId);
  for (const [sysctl, value] of Object.entries(state.restore)) {
    const heir = others.find((o) => o.state.gatewayNetns === gw);
    if (heir) {
      heir.state.restore[sysctl] ??= value;
      await writeState(heir.clusterId, heir.state);
      continue;
    }
    await writeSysctl(sysctl, value, gw).catch(() => {}); // an interface that is gone needs nothing put back
    removed.push(`${sysctl.replace(/^\/proc\/sys\//, '').replaceAll('/', '.')}=${value}`);
  }
  await rm(path, { force: true });
  if (removed.length) log.info('egress removed', { cluster: clusterId, removed: removed.join(', ') });
  return removed;
}

async function otherEgressStates(clusterId: string): Promise<{ clusterId: string; state: EgressState }[]> {
  let files: string[];
  try {
    files = await readdir(RUN_DIR);
  } catch {
    return [];
  }
  const out: { clusterId: string; state: EgressState }[] = [];
  for (const f of files) {
    const id = /^([A-Za-z0-9]{1,16})\.egress\.json$/.exec(f)?.[1];
    if (!id || id === clusterId) continue;
    const state = await readState(`${RUN_DIR}/${f}`);
    if (state) out.push({ clusterId: id, state });
  }
  return out;
}
