// `kubesvc agent --node NAME`: one node — its network namespace, pod bridge
// and the pods the scheduler binds to it, run as processes.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { startAgent, type Agent } from '../agent/agent.js';
import { clusterIdFor } from '../agent/cluster-id.js';
import type { NodeNetwork } from '../agent/contracts.js';
import { CLUSTER_POD_CIDR, createNodeNetwork } from '../agent/network.js';
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

/** Checks the machine can run nodes, with one clear line when it cannot. */
export function nodePrerequisites(): string | undefined {
  if (process.platform !== 'linux') return 'nodes need Linux network namespaces; this is ' + process.platform;
  if (process.getuid?.() !== 0) return 'nodes need root (network namespaces, veths, bridges); run as root';
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
  /** A KubeProxyConfiguration file for the node's proxy (absolute path). */
  proxyConfig?: string;
  /** --proxy-mode for the node's proxy (over the file's). */
  proxyMode?: string;
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
  const proxy = startProxyProcess(network.netns, opts.dataDir, opts.name, [...(opts.proxyConfig ? ['--config', opts.proxyConfig] : []), ...(opts.proxyMode ? ['--proxy-mode', opts.proxyMode] : [])]);
  return {
    name: opts.name,
    network,
    agent,
    async stop() {
      await proxy.stop();
      peers.stop();
      await agent.stop();
      await network.destroy();
    },
  };
}

/**
 * The node's service proxy is its own process inside the node's network
 * namespace (sockets and iptables rules live there), like kube-proxy on a node.
 */
function startProxyProcess(netns: string, dataDir: string, nodeName: string, extraArgs: string[]): { stop(): Promise<void> } {
  const self = import.meta.url.endsWith('.ts');
  const cli = fileURLToPath(new URL(self ? './main.ts' : './main.js', import.meta.url));
  const child = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', netns, process.execPath, ...process.execArgv, cli, 'proxy', '--data-dir', dataDir, '--hostname-override', nodeName, '--cluster-cidr', CLUSTER_POD_CIDR, ...extraArgs],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('error', (e) => log.error('proxy did not start', { node: nodeName, error: e.message }));
  return {
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
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
