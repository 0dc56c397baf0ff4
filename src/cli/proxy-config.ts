// The node proxies' configuration as the CLI takes it: a KubeProxyConfiguration
// file and kube-proxy's flags, checked against what kubesvc runs, and the
// choice `up` makes for every node (written to ConfigMap kube-system/kube-proxy).
// Apart from the proxy itself, so `up` does not load the proxiers to choose.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadProxyConfig, proxyConfigAPIVersion, ProxyConfigError, type ProxyConfig, type ProxyFlags, type ProxyMode } from '../proxy/config.js';
import { isSchedulerName, SCHEDULER_NAMES, type SchedulerName } from '../proxy/lb/types.js';
import { effectiveMode } from '../proxy/mode-fallback.js';
import { UsageError } from './args.js';

/** The modes kubesvc can run (ipvs runs as iptables where the kernel lacks IPVS, as documented upstream). */
export const implementedModes: readonly ProxyMode[] = ['iptables', 'ipvs', 'nftables', 'nftables-maps', 'userspace'];

export interface RunnableProxyConfig {
  config: ProxyConfig;
  /** The mode configured (blank means iptables, as kube-proxy on Linux). */
  mode: ProxyMode;
  scheduler: SchedulerName;
}

/** Reads a KubeProxyConfiguration file (if any) with flags on top, and checks kubesvc can run it; every problem is a UsageError naming `label`. */
export function loadRunnable(file: string | undefined, flags: ProxyFlags, label: string, configText?: string): RunnableProxyConfig {
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
 * configuration file's mode, else iptables, as kube-proxy defaults on Linux
 * (`up` installs iptables where it is missing). Checks the file and the mode
 * before anything starts.
 */
export function chooseNodeProxy(flagMode: string | undefined, file: string | undefined, clusterCIDR: string): NodeProxyChoice {
  const flags: ProxyFlags = flagMode ? { 'proxy-mode': flagMode } : {};
  const { config } = loadRunnable(file, flags, flagMode ? '--proxy-mode' : '--proxy-config');
  const mode = config.mode;
  let why = flagMode ? '--proxy-mode' : config.configuration.mode ? 'set in --proxy-config' : 'default';
  const { mode: running, fallbackReason } = effectiveMode(mode);
  if (fallbackReason) why = `ipvs requested, but ${fallbackReason}: iptables instead, as kube-proxy falls back`;
  const doc = (file ? parseYaml(readFileSync(file, 'utf8')) : undefined) ?? { apiVersion: proxyConfigAPIVersion, kind: 'KubeProxyConfiguration' };
  doc.mode = mode;
  doc.clusterCIDR ||= clusterCIDR;
  return { configText: stringifyYaml(doc), explicit: !!(flagMode || file), mode, running, why };
}
