// The proxy modes as one choice: which one runs (ipvs falls back to iptables
// when the kernel has no IPVS, with the reason logged, as Kubernetes
// documents), the proxier each builds, and the cleanup of whatever another
// mode left in this namespace so switching modes leaves no stale rules.
import { existsSync } from 'node:fs';
import { logger } from '../util/log.js';
import { kernelRuleContext, type ProxyConfig, type ProxyMode } from './config.js';
import { createIptablesProxier, removeIptablesRules } from './iptables/proxier.js';
import { createNftablesProxier, removeNftablesRules } from './nftables/proxier.js';
import type { SchedulerName } from './lb/types.js';
import type { Proxier, ProxierContext } from './server.js';
import { createUserspaceProxier } from './userspace/proxier.js';
import { removeRules as removeUserspaceRules } from './userspace/iptables.js';

const log = logger('proxy');

/** Why this kernel cannot run the ipvs mode, or undefined when it can. */
export function ipvsUnavailableReason(procNetIpVs = '/proc/net/ip_vs'): string | undefined {
  if (!existsSync(procNetIpVs)) return `the kernel has no IPVS (${procNetIpVs} is missing: module ip_vs not loaded or not built)`;
  return undefined;
}

/**
 * The mode that will run for the configured one. ipvs falls back to iptables:
 * without kernel support, as kube-proxy does; with it too, because kubesvc
 * generates the ipvs mode's state (`kubesvc proxy rules --mode ipvs`) but does
 * not program IPVS into the kernel yet — said plainly in the reason.
 */
export function effectiveMode(configured: ProxyMode, procNetIpVs?: string): { mode: ProxyMode; fallbackReason?: string } {
  if (configured !== 'ipvs') return { mode: configured };
  const why = ipvsUnavailableReason(procNetIpVs) ?? 'kubesvc does not program IPVS virtual servers into the kernel yet (see them with kubesvc proxy rules --mode ipvs)';
  return { mode: 'iptables', fallbackReason: why };
}

/** Removes what the other modes install (kube-proxy --cleanup, minus the running mode). */
export async function cleanupOtherModes(running: ProxyMode): Promise<void> {
  if (running !== 'userspace') await removeUserspaceRules();
  if (running !== 'iptables' && running !== 'ipvs') await removeIptablesRules();
  if (running !== 'nftables') await removeNftablesRules();
}

export function createProxierFor(mode: ProxyMode, config: ProxyConfig, scheduler: SchedulerName, ctx: ProxierContext): Proxier {
  const ruleContext = () => kernelRuleContext(config, ctx.nodePortIPs(), ctx.hostIP() ? [ctx.hostIP()!] : []);
  switch (mode) {
    case 'userspace':
      return createUserspaceProxier({ scheduler, ruleContext: () => ({ podCIDRs: config.clusterCIDRs, nodePortIPs: ctx.nodePortIPs(), hostIP: ctx.hostIP() }) });
    case 'iptables':
      return createIptablesProxier({
        syncPeriodMs: config.syncPeriodMs,
        metrics: ctx.metrics,
        ruleContext,
      });
    case 'nftables':
      return createNftablesProxier({
        syncPeriodMs: config.syncPeriodMs,
        metrics: ctx.metrics,
        ruleContext,
      });
    default:
      log.error('mode not implemented', { mode });
      throw new Error(`proxy mode "${mode}" is not implemented yet`);
  }
}
