// The proxy modes as one choice: the proxier each builds, and the cleanup of
// whatever another mode left in this namespace so switching modes leaves no
// stale rules. Which mode runs (the ipvs fallback) is mode-fallback.ts.
import { logger } from '../util/log.js';
import { kernelRuleContext, type ProxyConfig, type ProxyMode } from './config.js';
import { createIptablesProxier, removeIptablesRules } from './iptables/proxier.js';
import { createNftablesProxier, removeNftablesRules } from './nftables/proxier.js';
import type { SchedulerName } from './lb/types.js';
import type { Proxier, ProxierContext } from './server.js';
import type { ProxySnapshot } from './snapshot.js';
import { createUserspaceProxier } from './userspace/proxier.js';
import { removeRules as removeUserspaceRules } from './userspace/iptables.js';

const log = logger('proxy');

/** Removes what the other modes install (kube-proxy --cleanup, minus the running mode). */
export async function cleanupOtherModes(running: ProxyMode): Promise<void> {
  if (running !== 'userspace') await removeUserspaceRules();
  if (running !== 'iptables' && running !== 'ipvs') await removeIptablesRules();
  // The two nftables layouts share the kube-proxy table: the proxy replaces the other layout's table itself.
  if (running !== 'nftables' && running !== 'nftables-maps') await removeNftablesRules();
}

export function createProxierFor(mode: ProxyMode, config: ProxyConfig, scheduler: SchedulerName, ctx: ProxierContext): Proxier {
  const ruleContext = ({ node }: ProxySnapshot) => kernelRuleContext(config, node?.nodePortIPs, node?.hostIP ? [node.hostIP] : []);
  switch (mode) {
    case 'userspace':
      return createUserspaceProxier({ scheduler, ruleContext: ({ node }) => ({ podCIDRs: config.clusterCIDRs, nodePortIPs: node?.nodePortIPs, hostIP: node?.hostIP }) });
    case 'iptables':
      return createIptablesProxier({
        syncPeriodMs: config.syncPeriodMs,
        metrics: ctx.metrics,
        ruleContext,
      });
    case 'nftables':
    case 'nftables-maps': {
      const layout = mode === 'nftables-maps' ? 'maps' : 'upstream';
      return createNftablesProxier({
        metrics: ctx.metrics,
        ruleContext: (snapshot) => ({ ...ruleContext(snapshot), layout }),
      });
    }
    default:
      log.error('mode not implemented', { mode });
      throw new Error(`proxy mode "${mode}" is not implemented yet`);
  }
}
