// `kubesvc proxy`: the per-node service proxy, run inside the node's network
// namespace (as kube-proxy runs on its node), against any API server.
// Modes: iptables (the default, as kube-proxy), nftables, ipvs (iptables where
// the kernel has no IPVS), userspace.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProxyConfig, proxyConfigAPIVersion, proxyFlagNames, ProxyConfigError, type ProxyConfig, type ProxyFlags, type ProxyMode } from '../proxy/config.js';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { isSchedulerName, SCHEDULER_NAMES, type SchedulerName } from '../proxy/lb/index.js';
import { startProxyServer } from '../proxy/server.js';
import { cleanupOtherModes, createProxierFor, effectiveMode } from '../proxy/modes.js';
import { createChangeTracker } from '../proxy/change-tracker.js';
import { nodePortIPs, nodePrimaryIPs } from '../proxy/node-addresses.js';
import { renderRulesListing } from '../proxy/rules-listing.js';
import { logger } from '../util/log.js';
import { untilSignal } from '../util/signals.js';
import { parseFlags, UsageError } from './args.js';
import { clientFor } from './client-flags.js';
import { ApiError, resourceTypes, type Client } from '../client/client.js';
import type { ConfigMap } from '../api/types.js';
import type { KubeObject } from '../api/object.js';

const log = logger('proxy');

export const proxyUsage = `Usage: kubesvc proxy (--kubeconfig FILE | --data-dir DIR) --hostname-override NODE
                     [--proxy-mode iptables|ipvs|nftables|userspace] [--config kube-proxy.yaml | --config-map kube-system/kube-proxy]
                     [--ipvs-scheduler rr]
                     [--cluster-cidr 10.244.0.0/16] [--nodeport-addresses CIDR,...|primary]
                     [--iptables-min-sync-period 1s] [--iptables-sync-period 30s]
                     [--healthz-bind-address 0.0.0.0:10256] [--metrics-bind-address 127.0.0.1:10249]

Runs the service proxy in the current network namespace (a node's: kubesvc up starts
one per node). Flags and the KubeProxyConfiguration file are kube-proxy's.
'kubesvc proxy rules --mode M' prints the rules a node would have.`;

/** The modes kubesvc can run (ipvs runs as iptables where the kernel lacks IPVS, as documented upstream). */
export const implementedModes: readonly ProxyMode[] = ['iptables', 'ipvs', 'nftables', 'userspace'];

export interface RunnableProxyConfig {
  config: ProxyConfig;
  /** The mode configured (blank means iptables, as kube-proxy on Linux). */
  mode: ProxyMode;
  scheduler: SchedulerName;
}

/** Reads a KubeProxyConfiguration file (if any) with flags on top, and checks kubesvc can run it; every problem is a UsageError naming `label`. */
function loadRunnable(file: string | undefined, flags: ProxyFlags, label: string, configText?: string): RunnableProxyConfig {
  let text = configText;
  if (file && text === undefined) {
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
  const mode = config.mode;
  if (!implementedModes.includes(mode)) throw new UsageError(`${label}: proxy mode "${mode}" is not implemented yet; kubesvc runs ${implementedModes.join(', ')}`);
  const scheduler = config.ipvsScheduler || 'rr';
  if (!isSchedulerName(scheduler)) throw new UsageError(`${label}: scheduler "${scheduler}" is not implemented; kubesvc has ${SCHEDULER_NAMES.join(', ')}`);
  return { config, mode, scheduler };
}

export interface NodeProxyChoice {
  /** The KubeProxyConfiguration for the kube-system/kube-proxy ConfigMap: the file's, with the mode and cluster CIDR set. */
  configText: string;
  /** --proxy-mode or --proxy-config was given: the ConfigMap is rewritten even if it exists. */
  explicit: boolean;
  /** The mode configured for every node's proxy. */
  mode: ProxyMode;
  /** The mode that runs (ipvs falls back to iptables). */
  running: ProxyMode;
  /** Why this mode: said on the `up` screen. */
  why: string;
}

/**
 * The node proxies' configuration for `up`: --proxy-mode, else the
 * configuration file's mode, else iptables where iptables-restore exists and
 * userspace otherwise. Checks the file and the mode before anything starts.
 */
export function chooseNodeProxy(flagMode: string | undefined, file: string | undefined, clusterCIDR: string): NodeProxyChoice {
  const flags: ProxyFlags = flagMode ? { 'proxy-mode': flagMode } : {};
  const { config } = loadRunnable(file, flags, flagMode ? '--proxy-mode' : '--proxy-config');
  let mode = config.mode;
  let why = flagMode ? '--proxy-mode' : 'set in --proxy-config';
  if (!flagMode && !config.configuration.mode) {
    const hasIptables = (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, 'iptables-restore')));
    mode = hasIptables ? 'iptables' : 'userspace';
    why = hasIptables ? 'default' : 'iptables-restore not found (Debian package iptables); the userspace mode needs only sockets';
  }
  const { mode: running, fallbackReason } = effectiveMode(mode);
  if (fallbackReason) why = `ipvs requested, but ${fallbackReason}: iptables instead, as kube-proxy falls back`;
  const doc = (file ? parseYaml(readFileSync(file, 'utf8')) : undefined) ?? { apiVersion: proxyConfigAPIVersion, kind: 'KubeProxyConfiguration' };
  doc.mode = mode;
  doc.clusterCIDR ||= clusterCIDR;
  return { configText: stringifyYaml(doc), explicit: !!(flagMode || file), mode, running, why };
}

export const proxyRulesUsage = `Usage: kubesvc proxy rules (--kubeconfig FILE | --data-dir DIR) [--mode iptables|nftables|ipvs] [--hostname-override node-1]
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
  });
  if (values.help) {
    console.log(proxyRulesUsage);
    return;
  }
  const { kubeconfig: _k, 'data-dir': _d, config: file, help: _h, mode: modeFlag, ...flags } = values;
  const { config, mode, scheduler } = loadRunnable(file, modeFlag ? { ...flags, 'proxy-mode': modeFlag } : flags, modeFlag ? '--mode' : 'kubesvc proxy rules');
  const nodeName = config.hostnameOverride || 'node-1';
  const client = clientFor(values, 'kube-proxy');
  const tracker = createChangeTracker({ client, nodeName, serviceProxyName: config.serviceProxyName || undefined });
  try {
    await tracker.start();
    const node = tracker.node();
    const nodeIPs = nodePrimaryIPs(node);
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
  });
  if (values.help) {
    console.log(proxyUsage);
    return;
  }
  const { kubeconfig: _k, 'data-dir': _d, config: file, 'config-map': configMap, help: _h, ...flags } = values;
  const client = clientFor(values, 'kube-proxy');
  // The configuration from a ConfigMap (key config.conf), as kube-proxy's DaemonSet mounts kube-system/kube-proxy.
  const configText = configMap ? await readConfigMap(client, configMap) : undefined;
  const { config, mode, scheduler } = loadRunnable(file, flags, configMap ? `--config-map ${configMap}` : file ? '--config' : 'kubesvc proxy', configText);
  const nodeName = config.hostnameOverride;
  if (!nodeName) throw new UsageError('--hostname-override (the node name) is required');

  const { mode: running, fallbackReason } = effectiveMode(mode);
  if (fallbackReason) log.error(`Can't use the IPVS proxier: ${fallbackReason}; falling back to the iptables proxier`, { node: nodeName });
  await cleanupOtherModes(running);
  const server = await startProxyServer({ client, config, mode: running, nodeName, createProxier: (ctx) => createProxierFor(running, config, scheduler, ctx) });
  log.info('ready', { node: nodeName, mode: running, scheduler });
  await untilSignal();
  await server.stop();
  client.close();
}
