// `kubesvc proxy`: the per-node service proxy, run inside the node's network
// namespace (as kube-proxy runs on its node), against any API server.
// Today: the userspace mode; iptables, nftables and ipvs modes come next.
import { readFileSync } from 'node:fs';
import { loadProxyConfig, proxyFlagNames, ProxyConfigError } from '../proxy/config.js';
import { isSchedulerName } from '../proxy/lb/index.js';
import { startProxyServer } from '../proxy/server.js';
import { createUserspaceProxier } from '../proxy/userspace/proxier.js';
import { logger } from '../util/log.js';
import { untilSignal } from './apiserver.js';
import { parseFlags, UsageError } from './args.js';
import { clientFor } from './controllers.js';

const log = logger('proxy');

export const proxyUsage = `Usage: kubesvc proxy (--kubeconfig FILE | --data-dir DIR) --hostname-override NODE
                     [--proxy-mode userspace] [--config kube-proxy.yaml] [--ipvs-scheduler rr]
                     [--cluster-cidr 10.244.0.0/16] [--nodeport-addresses CIDR,...|primary]
                     [--iptables-min-sync-period 1s] [--iptables-sync-period 30s]
                     [--healthz-bind-address 0.0.0.0:10256] [--metrics-bind-address 127.0.0.1:10249]

Runs the service proxy in the current network namespace (a node's: kubesvc up starts
one per node). Flags and the KubeProxyConfiguration file are kube-proxy's.`;

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
  let config;
  try {
    const { kubeconfig: _k, 'data-dir': _d, config: file, help: _h, ...flags } = values;
    config = loadProxyConfig(file ? readFileSync(String(file), 'utf8') : undefined, { 'proxy-mode': 'userspace', ...flags });
  } catch (e) {
    if (e instanceof ProxyConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (config.mode !== 'userspace') {
    throw new UsageError(`proxy mode "${config.mode}" is not implemented yet; kubesvc proxy runs the userspace mode today`);
  }
  const nodeName = config.hostnameOverride;
  if (!nodeName) throw new UsageError('--hostname-override (the node name) is required');
  const scheduler = config.ipvsScheduler || 'rr';
  if (!isSchedulerName(scheduler)) throw new UsageError(`unknown scheduler "${scheduler}"`);

  const client = clientFor(values);
  const server = await startProxyServer({
    client,
    config,
    nodeName,
    createProxier: (ctx) =>
      createUserspaceProxier({ scheduler, ruleContext: () => ({ podCIDRs: config.clusterCIDRs, nodePortIPs: ctx.nodePortIPs(), hostIP: ctx.hostIP() }) }),
  });
  log.info('ready', { node: nodeName, mode: config.mode, scheduler });
  await untilSignal();
  await server.stop();
  client.close();
}
