// Keeps a node's routes to the other nodes' pod CIDRs in step with the Node
// objects (spec.podCIDR + InternalIP), the way a simple host-gw CNI does.
// The cluster net namespace (the control plane's address) keeps them too.
import type { NodeObject } from '../api/types.js';
import { resourceTypes, type Client } from '../client/client.js';
import { createInformer } from '../client/informer.js';
import { logger } from '../util/log.js';
import type { NodeNetwork } from './contracts.js';
import { errorMessage } from '../util/errors.js';

const log = logger('kubelet');

export async function syncPeerRoutes(client: Client, network: Pick<NodeNetwork, 'podCIDR' | 'setPeers'>): Promise<{ stop(): void }> {
  const nodes = createInformer<NodeObject>(client.resource(resourceTypes.nodes));
  let last = '';
  let running = Promise.resolve();
  const apply = () => {
    const peers = nodes
      .list()
      .map((n) => ({ podCIDR: n.spec?.podCIDR ?? '', nodeIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '' }))
      .filter((p) => p.podCIDR && p.nodeIP && p.podCIDR !== network.podCIDR)
      .sort((a, b) => a.podCIDR.localeCompare(b.podCIDR));
    const key = JSON.stringify(peers);
    if (key === last) return;
    last = key;
    running = running
      .then(() => network.setPeers(peers))
      .catch((e) => log.warn('peer routes not applied', { error: errorMessage(e) }));
  };
  nodes.on({ add: apply, update: apply, delete: apply });
  await nodes.start();
  apply();
  return { stop: () => nodes.stop() };
}
