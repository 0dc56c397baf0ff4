// `kubesvc agent --node NAME`: one node — its network namespace, pod bridge
// and the pods the scheduler binds to it, run as processes.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startAgent, type Agent } from '../agent/agent.js';
import { clusterIdFor } from '../agent/cluster-id.js';
import type { NodeNetwork } from '../agent/contracts.js';
import { createNodeNetwork } from '../agent/network.js';
import { syncPeerRoutes } from '../agent/peer-routes.js';
import { overlayAnnotationsFor } from '../agent/overlay.js';
import { createClient, type Client } from '../client/client.js';
import { createTransport } from '../client/transport.js';
import { untilSignal } from '../util/signals.js';
import { parseFlags, UsageError } from './args.js';
import { dataDirTransport } from './client-flags.js';
import { componentUsers } from '../auth/user.js';
import { nodePrerequisites } from './host-setup.js';
import { nodeIndex } from './nodes.js';
import { readImageSettings, type ImageSettings } from './image-settings.js';
import { nodeResolvConfPath } from './egress-settings.js';
import { existsSync } from 'node:fs';
import { coreDnsImage, kubeProxyImage } from './system-components.js';
import { logger } from '../util/log.js';
import { applyLogFlags, logFlags, logFlagsUsage } from './log-flags.js';

const log = logger('kubelet');

export const agentUsage = `Usage: kubesvc agent [--data-dir .kubesvc] --node node-1 [-v N] [--logging-format text|json]

Runs a node of the cluster kept in the data dir (needs root and network namespaces):
registers the Node, builds its network namespace and pod bridge, and runs the pods
bound to it as processes in their own namespaces. Its images come as 'up' last set
for the data dir (--images, --registry-mirror; DATA_DIR/image-settings.json).
Logs go to standard error. ${logFlagsUsage}`;

export interface RunningNode {
  name: string;
  network: NodeNetwork;
  agent: Agent;
  stop(): Promise<void>;
}

export interface NodeOptions {
  client: Client;
  dataDir: string;
  name: string;
  /** The kubelet's --sync-frequency: how often mounted ConfigMaps, Secrets and tokens are refreshed (default 1m). */
  syncFrequencyMs?: number;
  /** Where the images come from (`up --images`, `--registry-mirror`); default: the built-in ones built in, no mirrors. */
  images?: ImageSettings;
  /** The kubelet's --resolv-conf: the node's resolvers (`up` writes them for its egress; default /etc/resolv.conf). */
  resolvConf?: string;
  /** The machine's address when the cluster spans machines: the node carries it (and its VTEP's MAC) for the others' overlay. */
  publicIP?: string;
}

/**
 * The images `up` deploys for the cluster's own components (system-components.ts):
 * kubesvc's programs, built in whatever --images says (../agent/image-source.ts).
 */
const systemImages = [kubeProxyImage, coreDnsImage];

export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const index = nodeIndex(opts.name);
  const clusterId = clusterIdFor(opts.dataDir);
  const stateDir = join(opts.dataDir, 'nodes', opts.name);
  mkdirSync(stateDir, { recursive: true });
  const network = await createNodeNetwork({ clusterId, nodeName: opts.name, nodeIndex: index, peers: [] });
  let agent: Agent;
  try {
    agent = await startAgent({
      client: opts.client,
      nodeName: opts.name,
      nodeIndex: index,
      clusterId,
      stateDir,
      dataDir: opts.dataDir,
      network,
      volumeResyncMs: opts.syncFrequencyMs,
      imageSource: { mode: opts.images?.images ?? 'builtin', systemImages },
      registryMirrors: opts.images?.registryMirrors,
      resolvConf: opts.resolvConf,
      annotations: opts.publicIP ? overlayAnnotationsFor(opts.publicIP) : undefined,
    });
  } catch (e) {
    await network.destroy();
    throw e;
  }
  const peers = await syncPeerRoutes(opts.client, network, opts.publicIP);
  return {
    name: opts.name,
    network,
    agent,
    async stop() {
      peers.stop();
      await agent.stop();
      await network.destroy();
    },
  };
}

export async function agentCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, node: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...logFlags });
  if (values.help) {
    console.log(agentUsage);
    return;
  }
  applyLogFlags(values);
  if (!values.node) throw new UsageError(`--node is required\n\n${agentUsage}`);
  const why = nodePrerequisites();
  if (why) throw new UsageError(why);
  const dataDir = resolve(values['data-dir'] ?? '.kubesvc');
  const client = createClient(createTransport(dataDirTransport(dataDir, componentUsers.node(values.node))), 'kubelet');
  // The node's resolvers as `up` last wrote them for its egress, else the machine's.
  const resolvConf = existsSync(nodeResolvConfPath(dataDir)) ? nodeResolvConfPath(dataDir) : undefined;
  const node = await startNode({ client, dataDir, name: values.node, images: readImageSettings(dataDir), resolvConf });
  log.info('ready', { node: node.name, netns: node.network.netns, nodeIP: node.network.nodeIP, podCIDR: node.network.podCIDR });
  await untilSignal();
  await node.stop();
  client.close();
}
