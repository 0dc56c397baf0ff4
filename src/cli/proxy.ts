// `kubesvc proxy`: the per-node service proxy, run inside the node's network
// namespace (as kube-proxy runs on its node), against any API server.
// Today: the userspace mode; iptables, nftables and ipvs modes come next.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadProxyConfig, proxyFlagNames, ProxyConfigError, type ProxyConfig, type ProxyFlags, type ProxyMode } from '../proxy/config.js';
import { isSchedulerName, SCHEDULER_NAMES, type SchedulerName } from '../proxy/lb/index.js';
import { startProxyServer } from '../proxy/server.js';
import { createUserspaceProxier } from '../proxy/userspace/proxier.js';
import { logger } from '../util/log.js';
import { untilSignal } from '../util/signals.js';
import { parseFlags, UsageError } from './args.js';
import { clientFor } from './client-flags.js';

const log = logger('proxy');

export const proxyUsage = `Usage: kubesvc proxy (--kubeconfig FILE | --data-dir DIR) --hostname-override NODE
                     [--proxy-mode userspace] [--config kube-proxy.yaml] [--ipvs-scheduler rr]
                     [--cluster-cidr 10.244.0.0/16] [--nodeport-addresses CIDR,...|primary]
                     [--iptables-min-sync-period 1s] [--iptables-sync-period 30s]
                     [--healthz-bind-address 0.0.0.0:10256] [--metrics-bind-address 127.0.0.1:10249]

Runs the service proxy in the current network namespace (a node's: kubesvc up starts
one per node). Flags and the KubeProxyConfiguration file are kube-proxy's.`;

export interface RunnableProxyConfig {
  config: ProxyConfig;
  /** The mode to run: as configured; a blank mode means userspace until the kernel modes land (kube-proxy's blank is iptables). */
  mode: ProxyMode;
  scheduler: SchedulerName;
}

/** Reads a KubeProxyConfiguration file (if any) with flags on top, and checks kubesvc can run it; every problem is a UsageError naming `label`. */
function loadRunnable(file: string | undefined, flags: ProxyFlags, label: string): RunnableProxyConfig {
  let text: string | undefined;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`${label}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let config: ProxyConfig;
  try {
    config = loadProxyConfig(text, flags);
  } catch (e) {
    if (e instanceof ProxyConfigError) throw new UsageError(`${label}${file ? ` ${file}` : ''}: ${e.message}`);
    throw e;
  }
  const mode = config.configuration.mode ? config.mode : 'userspace';
  if (mode !== 'userspace') throw new UsageError(`${label}: proxy mode "${mode}" is not implemented yet; kubesvc runs the userspace mode today`);
  const scheduler = config.ipvsScheduler || 'rr';
  if (!isSchedulerName(scheduler)) throw new UsageError(`${label}: scheduler "${scheduler}" is not implemented; kubesvc has ${SCHEDULER_NAMES.join(', ')}`);
  return { config, mode, scheduler };
}

/** Reads and validates a KubeProxyConfiguration file for the node proxies `up` starts, so mistakes surface before anything runs. */
export function checkProxyConfigFile(file: string): { path: string; mode: string } {
  const { mode } = loadRunnable(file, {}, '--proxy-config');
  return { path: resolve(file), mode };
}

export async function proxyCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    ...Object.fromEntries(proxyFlagNames.map((f) => [f, { type: 'string' as const }])),
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(proxyUsage);
    return;
  }
  const { kubeconfig: _k, 'data-dir': _d, config: file, help: _h, ...flags } = values;
  const { config, mode, scheduler } = loadRunnable(file, flags, file ? '--config' : 'kubesvc proxy');
  const nodeName = config.hostnameOverride;
  if (!nodeName) throw new UsageError('--hostname-override (the node name) is required');

  const client = clientFor(values, 'kube-proxy');
  const server = await startProxyServer({
    client,
    config,
    mode,
    nodeName,
    createProxier: (ctx) =>
      createUserspaceProxier({ scheduler, ruleContext: () => ({ podCIDRs: config.clusterCIDRs, nodePortIPs: ctx.nodePortIPs(), hostIP: ctx.hostIP() }) }),
  });
  log.info('ready', { node: nodeName, mode, scheduler });
  await untilSignal();
  await server.stop();
  client.close();
}
