// `kubesvc agent --node NAME`: one node — its network namespace, pod bridge
// and the pods the scheduler binds to it, run as processes.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startAgent, type Agent } from '../agent/agent.js';
import { clusterIdFor } from '../agent/cluster-id.js';
import type { NodeNetwork } from '../agent/contracts.js';
import { createNodeNetwork } from '../agent/network.js';
import { syncPeerRoutes } from '../agent/peer-routes.js';
import { createClient, type Client } from '../client/client.js';
import { createTransport } from '../client/transport.js';
import { untilSignal } from '../util/signals.js';
import { parseFlags, UsageError } from './args.js';
import { nodeIndex } from './nodes.js';
import { logger } from '../util/log.js';

const log = logger('kubelet');

export const agentUsage = `Usage: kubesvc agent [--data-dir .kubesvc] --node node-1

Runs a node of the cluster kept in the data dir (needs root and network namespaces):
registers the Node, builds its network namespace and pod bridge, and runs the pods
bound to it as processes in their own namespaces.`;

/** The tools nodes run, with the Debian package that has each. */
const nodeTools: [tool: string, pkg: string][] = [
  ['ip', 'iproute2'],
  ['setpriv', 'util-linux'],
  ['unshare', 'util-linux'],
  ['nsenter', 'util-linux'],
];

/** The proxy mode's own tools. */
export const proxyModeTools: Record<string, [tool: string, pkg: string][]> = {
  iptables: [['iptables-restore', 'iptables'], ['conntrack', 'conntrack']],
  ipvs: [['iptables-restore', 'iptables'], ['conntrack', 'conntrack']],
  nftables: [['nft', 'nftables'], ['conntrack', 'conntrack']],
  userspace: [['iptables-restore', 'iptables']],
};

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, tool)));
}

/** Checks the machine can run nodes (and the proxy mode), with one clear line when it cannot. */
export function nodePrerequisites(proxyMode?: string): string | undefined {
  if (process.platform !== 'linux') return 'nodes need Linux network namespaces; this is ' + process.platform;
  if (process.getuid?.() !== 0) return 'nodes need root (network namespaces, veths, bridges); run as root';
  const missing = [...nodeTools, ...(proxyMode ? (proxyModeTools[proxyMode] ?? []) : [])].filter(([tool]) => !onPath(tool));
  if (missing.length) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
    return `nodes need ${missing.map(([t]) => t).join(', ')}${proxyMode ? ` (proxy mode ${proxyMode})` : ''}: install the Debian package${pkgs.length > 1 ? 's' : ''} ${pkgs.join(' ')}`;
  }
  return undefined;
}

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
}

export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const index = nodeIndex(opts.name);
  const clusterId = clusterIdFor(opts.dataDir);
  const stateDir = join(opts.dataDir, 'nodes', opts.name);
  mkdirSync(stateDir, { recursive: true });
  const network = await createNodeNetwork({ clusterId, nodeName: opts.name, nodeIndex: index, peers: [] });
  let agent: Agent;
  try {
    agent = await startAgent({ client: opts.client, nodeName: opts.name, nodeIndex: index, clusterId, stateDir, dataDir: opts.dataDir, network });
  } catch (e) {
    await network.destroy();
    throw e;
  }
  const peers = await syncPeerRoutes(opts.client, network);
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
  const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, node: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(agentUsage);
    return;
  }
  if (!values.node) throw new UsageError(`--node is required\n\n${agentUsage}`);
  const why = nodePrerequisites();
  if (why) throw new UsageError(why);
  const dataDir = resolve(values['data-dir'] ?? '.kubesvc');
  const client = createClient(createTransport({ server: 'http://localhost', socketPath: join(dataDir, 'apiserver.sock') }), 'kubelet');
  const node = await startNode({ client, dataDir, name: values.node });
  log.info('ready', { node: node.name, netns: node.network.netns, nodeIP: node.network.nodeIP, podCIDR: node.network.podCIDR });
  await untilSignal();
  await node.stop();
  client.close();
}
