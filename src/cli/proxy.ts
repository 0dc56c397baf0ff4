// `kubesvc proxy`: the per-node service proxy, run inside the node's network
// namespace (as kube-proxy runs on its node), against any API server.
// Modes: iptables (the default, as kube-proxy), nftables, ipvs (iptables where
// the kernel has no IPVS), userspace.
import { proxyFlagNames } from '../proxy/config.js';
import { startProxyServer } from '../proxy/server.js';
import { cleanupOtherModes, createProxierFor } from '../proxy/modes.js';
import { effectiveMode } from '../proxy/mode-fallback.js';
import { loadRunnable } from './proxy-config.js';
import { createChangeTracker } from '../proxy/change-tracker.js';
import { nodePortIPs, nodePrimaryIPs } from '../proxy/node-addresses.js';
import { logger } from '../util/log.js';
import { untilSignal } from '../util/signals.js';
import { parseFlags, UsageError } from './args.js';
import { applyLogFlags, logFlags, logFlagsUsage } from './log-flags.js';
import { clientFor } from './client-flags.js';
import { componentUsers } from '../auth/user.js';
import { ApiError, createClient, resourceTypes, type Client } from '../client/client.js';
import type { ConfigMap } from '../api/types.js';
import type { KubeObject } from '../api/object.js';

const log = logger('proxy');

export const proxyUsage = `Usage: kubesvc proxy (--kubeconfig FILE | --data-dir DIR) --hostname-override NODE
                     [--proxy-mode iptables|ipvs|nftables|nftables-maps|userspace] [--config kube-proxy.yaml | --config-map kube-system/kube-proxy]
                     [--ipvs-scheduler rr]
                     [--cluster-cidr 10.244.0.0/16] [--nodeport-addresses CIDR,...|primary]
                     [--iptables-min-sync-period 1s] [--iptables-sync-period 30s]
                     [--healthz-bind-address 0.0.0.0:10256] [--metrics-bind-address 127.0.0.1:10249]
                     [-v N] [--logging-format text|json]

Runs the service proxy in the current network namespace (a node's: kubesvc up starts
one per node). Flags and the KubeProxyConfiguration file are kube-proxy's.
'kubesvc proxy rules --mode M' prints the rules a node would have.
Logs go to standard error. ${logFlagsUsage} The configuration's logging.verbosity
and logging.format apply unless the flags are given.`;

export const proxyRulesUsage = `Usage: kubesvc proxy rules (--kubeconfig FILE | --data-dir DIR) [--mode iptables|nftables|nftables-maps|ipvs] [--hostname-override node-1]
                           [--config kube-proxy.yaml] [kube-proxy flags]

Prints the rules a node's proxy programs for the services in the cluster now
(iptables-restore input, an nft transaction; for ipvs: the ipvsadm listing and
restore input, the kube-ipvs0 addresses, ipsets and iptables companions).`;

/** `kubesvc proxy rules`: list the cluster's services once and print the mode's rules. */
async function proxyRulesCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    mode: { type: 'string' },
    ...Object.fromEntries(proxyFlagNames.map((f) => [f, { type: 'string' as const }])),
    help: { type: 'boolean', short: 'h' },
    ...logFlags,
  });
  if (values.help) {
    console.log(proxyRulesUsage);
    return;
  }
  applyLogFlags(values);
  const { kubeconfig: _k, 'data-dir': _d, config: file, help: _h, mode: modeFlag, v: _v, 'logging-format': _lf, 'log-format': _f, ...flags } = values;
  const { config, mode, scheduler } = loadRunnable(file, modeFlag ? { ...flags, 'proxy-mode': modeFlag } : flags, modeFlag ? '--mode' : 'kubesvc proxy rules');
  const nodeName = config.hostnameOverride || 'node-1';
  const client = withClientConnection(clientFor(values, componentUsers.kubeProxy, 'kube-proxy'), config.configuration);
  const tracker = createChangeTracker({ client, nodeName, serviceProxyName: config.serviceProxyName || undefined });
  try {
    await tracker.start();
    const node = tracker.node();
    const nodeIPs = nodePrimaryIPs(node);
    // Loaded here: the proxy itself never lists every mode's rules.
    const { renderRulesListing } = await import('../proxy/rules-listing.js');
    let text: string;
    try {
      text = renderRulesListing(mode, tracker.currentSnapshot(), { config, scheduler, nodeIPs, nodePortIPs: nodePortIPs(config.nodePortAddresses, nodeIPs, nodeIPs) });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    process.stdout.write(text);
  } finally {
    tracker.stop();
    client.close();
  }
}

/**
 * The client as the configuration's clientConnection asks (contentType,
 * acceptContentTypes): kube-proxy's default is protobuf, so its informers list
 * and watch in protobuf as upstream's do (JSON where the server has none).
 */
function withClientConnection(client: Client, configuration: Record<string, unknown>): Client {
  const cc = (configuration.clientConnection ?? {}) as { contentType?: unknown; acceptContentTypes?: unknown };
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return createClient(client.transport, 'kube-proxy', { contentType: text(cc.contentType), acceptContentTypes: text(cc.acceptContentTypes) });
}

/** A KubeProxyConfiguration kept in a ConfigMap ("namespace/name", key config.conf). */
async function readConfigMap(client: Client, ref: string): Promise<string> {
  const [namespace, name] = ref.includes('/') ? ref.split('/', 2) : ['kube-system', ref];
  try {
    const cm = await client.resource<ConfigMap & KubeObject>(resourceTypes.configmaps).get(namespace, name);
    const text = cm.data?.['config.conf'];
    if (text === undefined) throw new UsageError(`--config-map ${ref}: the ConfigMap has no key config.conf`);
    return text;
  } catch (e) {
    if (e instanceof ApiError) throw new UsageError(`--config-map ${ref}: ${e.message}`);
    throw e;
  }
}

export async function proxyCommand(argv: string[]): Promise<void> {
  if (argv[0] === 'rules') return proxyRulesCommand(argv.slice(1));
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    'config-map': { type: 'string' },
    ...Object.fromEntries(proxyFlagNames.map((f) => [f, { type: 'string' as const }])),
    help: { type: 'boolean', short: 'h' },
    ...logFlags,
  });
  if (values.help) {
    console.log(proxyUsage);
    return;
  }
  const logFlagSettings = applyLogFlags(values);
  const { kubeconfig: _k, 'data-dir': _d, config: file, 'config-map': configMap, help: _h, v: _v, 'logging-format': _lf, 'log-format': _f, ...flags } = values;
  const bootstrap = clientFor(values, componentUsers.kubeProxy, 'kube-proxy');
  // The configuration from a ConfigMap (key config.conf), as kube-proxy's DaemonSet mounts kube-system/kube-proxy.
  const configText = configMap ? await readConfigMap(bootstrap, configMap) : undefined;
  const { config, mode, scheduler } = loadRunnable(file, flags, configMap ? `--config-map ${configMap}` : file ? '--config' : 'kubesvc proxy', configText);
  const client = withClientConnection(bootstrap, config.configuration);
  const nodeName = config.hostnameOverride;
  if (!nodeName) throw new UsageError('--hostname-override (the node name) is required');
  // The configuration's logging section (LoggingConfiguration) where no flag said otherwise.
  const logging = (config.configuration.logging ?? {}) as { format?: unknown; verbosity?: unknown };
  applyLogFlags({
    v: logFlagSettings.verbosity === undefined && logging.verbosity !== undefined ? String(logging.verbosity) : undefined,
    'logging-format': logFlagSettings.format === undefined && typeof logging.format === 'string' && logging.format !== '' ? logging.format : undefined,
  });

  const { mode: running, fallbackReason } = effectiveMode(mode);
  if (fallbackReason) log.error(`Can't use the IPVS proxier: ${fallbackReason}; falling back to the iptables proxier`, { node: nodeName });
  await cleanupOtherModes(running);
  const server = await startProxyServer({ client, config, mode: running, nodeName, createProxier: (ctx) => createProxierFor(running, config, scheduler, ctx) });
  log.info('ready', { node: nodeName, mode: running, scheduler });
  await untilSignal();
  await server.stop();
  client.close();
}
