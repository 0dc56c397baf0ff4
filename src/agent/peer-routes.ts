// Keeps routes to the other nodes in step with the Node objects (spec.podCIDR
// + InternalIP): a node on this machine is reached over the machine's node
// bridge, the way a simple host-gw CNI does; a node on another machine (its
// overlay annotation names another address) through the cluster namespace,
// whose VXLAN overlay carries it (overlay.ts). The cluster net namespace (the
// control plane's address) keeps the same routes, and the overlay's entries.
import type { NodeObject } from '../api/types.js';
import { resourceTypes, type Client } from '../client/client.js';
import { createInformer } from '../client/informer.js';
import { logger } from '../util/log.js';
import type { NodeNetwork, PeerNode } from './contracts.js';
import { CONTROL_PLANE_IP } from './network.js';
import { overlayAnnotations, type Overlay, type RemoteNode } from './overlay.js';
import { errorMessage } from '../util/errors.js';

const log = logger('kubelet');

export interface PeerNodes {
  /** On this machine: routed over the node bridge. */
  local: PeerNode[];
  /** On other machines: routed through the overlay. */
  remote: RemoteNode[];
}

/**
 * Sorts the nodes into those on this machine and those elsewhere. Without an
 * overlay (one machine) every node is local; with one, a node is remote when
 * its annotation names another machine's address and carries its VTEP's MAC.
 */
export function classifyPeers(nodes: readonly NodeObject[], publicIP: string | undefined): PeerNodes {
  const local: PeerNode[] = [];
  const remote: RemoteNode[] = [];
  for (const n of nodes) {
    const podCIDR = n.spec?.podCIDR ?? '';
    const nodeIP = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
    if (!podCIDR || !nodeIP) continue;
    const annotations = n.metadata?.annotations ?? {};
    const machine = annotations[overlayAnnotations.publicIP];
    const vtepMAC = annotations[overlayAnnotations.vtepMAC];
    if (publicIP !== undefined && machine !== undefined && machine !== publicIP) {
      if (vtepMAC) remote.push({ podCIDR, nodeIP, publicIP: machine, vtepMAC });
      continue;
    }
    local.push({ podCIDR, nodeIP });
  }
  const byCIDR = <T extends { podCIDR: string }>(a: T, b: T) => a.podCIDR.localeCompare(b.podCIDR);
  return { local: local.sort(byCIDR), remote: remote.sort(byCIDR) };
}

/** Runs `apply` with the current peers whenever the Node objects change them. */
async function watchPeers(client: Client, publicIP: string | undefined, apply: (peers: PeerNodes) => Promise<void>): Promise<{ stop(): void }> {
  const nodes = createInformer<NodeObject>(client.resource(resourceTypes.nodes));
  let last = '';
  let running = Promise.resolve();
  const changed = () => {
    const peers = classifyPeers(nodes.list(), publicIP);
    const key = JSON.stringify(peers);
    if (key === last) return;
    last = key;
    running = running.then(() => apply(peers)).catch((e) => log.warn('peer routes not applied', { error: errorMessage(e) }));
  };
  nodes.on({ add: changed, update: changed, delete: changed });
  await nodes.start();
  changed();
  return { stop: () => nodes.stop() };
}

/**
 * A node's routes: to its machine's other nodes over the bridge; to nodes of
 * other machines (and their node addresses) via the cluster namespace.
 */
export function syncPeerRoutes(client: Client, network: Pick<NodeNetwork, 'podCIDR' | 'setPeers'>, publicIP?: string): Promise<{ stop(): void }> {
  return watchPeers(client, publicIP, ({ local, remote }) =>
    network.setPeers([...local.filter((p) => p.podCIDR !== network.podCIDR), ...remote.map((r) => ({ podCIDR: r.podCIDR, nodeIP: r.nodeIP, via: CONTROL_PLANE_IP }))]),
  );
}

/** The cluster namespace's routes: this machine's nodes over the bridge, the other machines' through the overlay. */
export function syncClusterRoutes(client: Client, routes: Pick<NodeNetwork, 'setPeers'>, overlay?: Overlay): Promise<{ stop(): void }> {
  return watchPeers(client, overlay?.publicIP, async ({ local, remote }) => {
    await routes.setPeers(local);
    if (overlay) await overlay.setRemotes(remote);
  });
}
