// `kubesvc proxy rules`: the rules a node's proxy would have for the current
// services, per mode — a pure function of the snapshot, built by the same
// functions the proxiers apply, so what is printed is what is programmed.
import { kernelRuleContext, type ProxyConfig, type ProxyMode } from './config.js';
import { buildIpvsRules, dummyInterface, renderIpsetRestore, renderIpvsadmList, renderIpvsadmRestore } from './ipvs/rules.js';
import { buildIptablesRules } from './iptables/rules.js';
import { renderFullRestore } from './iptables/restore.js';
import type { ProxySnapshot } from './snapshot.js';
import { renderFullTransaction } from './nftables/render.js';
import { buildNftablesRules } from './nftables/rules.js';

export interface ListingContext {
  config: ProxyConfig;
  scheduler: string;
  /** Node-port addresses (undefined: every local address) and the node's own IPs. */
  nodePortIPs: string[] | undefined;
  nodeIPs: string[];
}

export function renderRulesListing(mode: ProxyMode, snapshot: ProxySnapshot, ctx: ListingContext): string {
  const { config } = ctx;
  switch (mode) {
    case 'iptables':
      return renderFullRestore(buildIptablesRules(snapshot, kernelRuleContext(config, ctx.nodePortIPs, ctx.nodeIPs)));
    case 'ipvs': {
      const rules = buildIpvsRules(snapshot, { scheduler: ctx.scheduler, nodePortIPs: ctx.nodePortIPs ?? ctx.nodeIPs, clusterCIDRs: config.clusterCIDRs, masqueradeAll: config.masqueradeAll });
      return [
        '# ipvsadm -Ln',
        renderIpvsadmList(rules),
        '# ipvsadm-restore',
        renderIpvsadmRestore(rules),
        `# ip addr (${dummyInterface}, a dummy interface)`,
        ...rules.dummyAddresses.map((ip) => `ip addr add ${ip}/32 dev ${dummyInterface}`),
        '',
        '# ipset restore',
        renderIpsetRestore(rules),
        '# iptables-restore --noflush',
        rules.iptables,
      ].join('\n');
    }
    case 'nftables':
    case 'nftables-maps': {
      const layout = mode === 'nftables-maps' ? 'maps' : 'upstream';
      return renderFullTransaction(buildNftablesRules(snapshot, { ...kernelRuleContext(config, ctx.nodePortIPs, ctx.nodeIPs), layout }));
    }
    case 'userspace':
      throw new Error('the userspace mode redirects to proxy sockets whose ports exist only while it runs: see `iptables-save -t nat` on the node (kubesvc exec)');
    default:
      throw new Error(`proxy mode "${mode}" is not implemented yet`);
  }
}
