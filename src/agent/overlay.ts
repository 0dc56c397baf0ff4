// The overlay between machines: nodes on different machines reach each
// other's pods and node addresses through VXLAN, in flannel's design — a VTEP
// per machine with a stable MAC, and for every node of another machine a
// route via that node's address over the VTEP (onlink), a permanent
// neighbour entry giving the remote VTEP's MAC, and an FDB entry sending that
// MAC to the remote machine's address — all from Node annotations the agents
// write (the machine's address and its VTEP's MAC), never learned by flooding.
//
//   machine A                                     machine B
//   node ns ──eth0─ br0 ┐ cluster ns             cluster ns ┌ br0 ─eth0── node ns
//   (10.244.0.0/24 via  └ vx<cid> ══ UDP 8472 ══ vx<cid> ┘   (10.244.1.0/24 …)
//    172.18.0.1)          ▲ socket in A's own namespace, on A's address
//
// The VTEP is created in the machine's own namespace — where its UDP socket
// lives, bound to the machine's address like any host's flannel.1 — and moved
// straight into the cluster namespace, so the machine gets no link, no
// address and no route of the cluster's: only the UDP port (8472, the
// kernel's and flannel's VXLAN port). Nodes on the same machine keep talking
// over the machine's node bridge.
import { CommandError, ip, ipBatch, run, setSysctlsInNetns } from '../net/ip.js';
import { formatIPv4, formatIPv4CIDR, parseIPv4, parseIPv4CIDR } from '../net/addr.js';
import { clusterNetnsName, macForIPv4 } from './network.js';
import { logger } from '../util/log.js';

const log = logger('overlay');

/** The Node annotations one machine's agent writes and the others read (flannel's public-ip and backend-data VtepMAC). */
export const overlayAnnotations = {
  publicIP: 'overlay.kubesvc.io/public-ip',
  vtepMAC: 'overlay.kubesvc.io/vtep-mac',
} as const;

/** VNI and port of the overlay (flannel's defaults: VNI 1, the Linux VXLAN port 8472). */
export const VXLAN_VNI = 1;
export const VXLAN_PORT = 8472;
/**
 * Routing protocol number on the overlay's routes: its own, not the node
 * routes' (network.ts ROUTE_PROTO), whose sync replaces every route of its number.
 */
export const OVERLAY_ROUTE_PROTO = 76;
/** 1500 less the 50 bytes VXLAN over IPv4 adds, as flannel sets its device. */
export const VXLAN_MTU = 1450;

/** The VTEP's name, the same in the machine's namespace (briefly) and in the cluster's. */
export function vtepName(clusterId: string): string {
  return `vx${clusterId}`;
}

/** A stable MAC for a machine's VTEP (its address's, as the node bridge MACs are), so the others' entries stay right across restarts. */
export function vtepMACFor(publicIP: string): string {
  return macForIPv4(publicIP).replace(/^0a:58/, '0a:59');
}

/** A node on another machine, as the overlay needs it. */
export interface RemoteNode {
  podCIDR: string;
  nodeIP: string;
  /** The address of the machine it runs on (the VXLAN packets' destination). */
  publicIP: string;
  vtepMAC: string;
}

/** The annotations this machine's nodes carry. */
export function overlayAnnotationsFor(publicIP: string): Record<string, string> {
  return { [overlayAnnotations.publicIP]: publicIP, [overlayAnnotations.vtepMAC]: vtepMACFor(publicIP) };
}

/** Lines for the machine's own namespace: the VTEP, made there (its socket stays) and moved into the cluster namespace. */
export function planVtep(clusterId: string, publicIP: string): string[] {
  const name = vtepName(clusterId);
  return [
    `link add ${name} address ${vtepMACFor(publicIP)} mtu ${VXLAN_MTU} type vxlan id ${VXLAN_VNI} local ${publicIP} dstport ${VXLAN_PORT} nolearning`,
    `link set ${name} netns ${clusterNetnsName(clusterId)}`,
  ];
}

export interface OverlayPlan {
  /** `ip -batch` lines in the cluster namespace (neighbours, routes). */
  ip: string[];
  /** `bridge -batch` lines in the cluster namespace (FDB entries). */
  fdb: string[];
}

function checked(r: RemoteNode): RemoteNode {
  return {
    podCIDR: formatIPv4CIDR(parseIPv4CIDR(r.podCIDR)),
    nodeIP: formatIPv4(parseIPv4(r.nodeIP)),
    publicIP: formatIPv4(parseIPv4(r.publicIP)),
    vtepMAC: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(r.vtepMAC) ? r.vtepMAC.toLowerCase() : badMAC(r.vtepMAC),
  };
}

function badMAC(mac: string): never {
  throw new Error(`VTEP MAC "${mac}" is not a MAC address`);
}

/**
 * Lines turning the overlay's entries for `current` remote nodes into those for
 * `desired`: removals first, then additions and changes. Pure.
 */
export function planOverlay(dev: string, current: readonly RemoteNode[], desired: readonly RemoteNode[]): OverlayPlan {
  const want = new Map(desired.map((r) => [r.nodeIP, checked(r)]));
  const have = new Map(current.map((r) => [r.nodeIP, r]));
  const ipLines: string[] = [];
  const fdb: string[] = [];
  const macsWanted = new Map<string, string>();
  for (const r of want.values()) {
    const other = macsWanted.get(r.vtepMAC);
    if (other !== undefined && other !== r.publicIP) throw new Error(`VTEP MAC ${r.vtepMAC} is claimed by machines ${other} and ${r.publicIP}`);
    macsWanted.set(r.vtepMAC, r.publicIP);
  }
  const macsHad = new Map(current.map((r) => [r.vtepMAC, r.publicIP]));
  for (const [nodeIP, r] of have) {
    const w = want.get(nodeIP);
    if (w && w.podCIDR === r.podCIDR && w.vtepMAC === r.vtepMAC) continue;
    ipLines.push(`route del ${r.podCIDR} proto ${OVERLAY_ROUTE_PROTO}`);
    if (!w) ipLines.push(`route del ${nodeIP}/32 proto ${OVERLAY_ROUTE_PROTO}`, `neigh del ${nodeIP} dev ${dev}`);
  }
  for (const [mac, publicIP] of macsHad) {
    if (macsWanted.get(mac) !== publicIP) fdb.push(`fdb del ${mac} dev ${dev} dst ${publicIP}`);
  }
  for (const [mac, publicIP] of macsWanted) {
    if (macsHad.get(mac) !== publicIP) fdb.push(`fdb append ${mac} dev ${dev} dst ${publicIP}`);
  }
  for (const [nodeIP, r] of want) {
    const h = have.get(nodeIP);
    if (h && h.podCIDR === r.podCIDR && h.vtepMAC === r.vtepMAC && h.publicIP === r.publicIP) continue;
    ipLines.push(
      `neigh replace ${nodeIP} lladdr ${r.vtepMAC} dev ${dev} nud permanent`,
      `route replace ${nodeIP}/32 dev ${dev} proto ${OVERLAY_ROUTE_PROTO}`,
      `route replace ${r.podCIDR} via ${nodeIP} dev ${dev} onlink proto ${OVERLAY_ROUTE_PROTO}`,
    );
  }
  return { ip: ipLines, fdb };
}

export interface Overlay {
  publicIP: string;
  /** Brings the overlay's entries to exactly these remote nodes (changes are applied in order). */
  setRemotes(remotes: readonly RemoteNode[]): Promise<void>;
  /** Removes the VTEP (and with it its entries and its socket). */
  destroy(): Promise<void>;
}

async function bridgeBatch(lines: readonly string[], netns: string): Promise<void> {
  if (lines.length) await run(['bridge', '-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/**
 * Makes this machine's VTEP (replacing one a crashed run left) in the cluster
 * namespace, which must exist, and turns forwarding on there: it now routes
 * between the machine's node bridge and the overlay.
 */
export async function createOverlay(clusterId: string, publicIP: string): Promise<Overlay> {
  const netns = clusterNetnsName(clusterId);
  const dev = vtepName(clusterId);
  for (const where of [undefined, netns]) {
    try {
      await ip(['link', 'del', 'dev', dev], where);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
    }
  }
  await ipBatch(planVtep(clusterId, publicIP));
  await ipBatch([`link set ${dev} up`], netns);
  await setSysctlsInNetns(netns, { 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0, [`net.ipv4.conf.${dev}.rp_filter`]: 0 });
  let applied: RemoteNode[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  log.info('VTEP ready', { device: dev, local: publicIP, mac: vtepMACFor(publicIP), port: VXLAN_PORT });
  return {
    publicIP,
    setRemotes(remotes) {
      const desired = remotes.map(checked);
      const op = queue.then(async () => {
        const plan = planOverlay(dev, applied, desired);
        // The FDB first: a route to a MAC with nowhere to send it would drop packets meanwhile.
        await bridgeBatch(plan.fdb.filter((l) => l.startsWith('fdb append')), netns);
        await ipBatch(plan.ip, netns);
        await bridgeBatch(plan.fdb.filter((l) => l.startsWith('fdb del')), netns);
        applied = desired;
      });
      queue = op.catch(() => {});
      return op;
    },
    async destroy() {
      await queue;
      try {
        await ip(['link', 'del', 'dev', dev], netns);
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
      }
    },
  };
}
