// The nftables mode: each snapshot becomes kube-proxy's `table ip kube-proxy`
// (rules.ts) applied as one `nft -f` transaction in the node's network
// namespace. The first sync, any sync after a failure and one every
// syncPeriod write the whole table; the rest are incremental by construction
// (only changed chains and map elements). A failed transaction changes
// nothing (nft applies all or nothing), is counted and retried in full. UDP
// flows to removed endpoints are cleared from conntrack.
import { run } from '../../net/ip.js';
import { cleanupConntrackAfterSync } from '../conntrack.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Proxier } from '../server.js';
import type { ProxySnapshot } from '../snapshot.js';
import { kubeProxyTable } from './chain-names.js';
import { countElements, renderFullTransaction, renderIncrementalTransaction } from './render.js';
import { buildNftablesRules, type NftablesRuleContext, type NftRuleSet } from './rules.js';

export interface NftablesProxierOptions {
  ruleContext(snapshot: ProxySnapshot): NftablesRuleContext;
  /** Full resync interval, ms. */
  syncPeriodMs: number;
  metrics?: ProxyMetrics;
}

/** Deletes the kube-proxy tables of both families (kube-proxy --cleanup for nftables); safe when absent. */
export async function removeNftablesRules(): Promise<void> {
  // nft fails when the table does not exist: that is the state wanted.
  for (const family of ['ip', 'ip6']) await run(['nft', 'delete', 'table', family, kubeProxyTable]).catch(() => undefined);
}

/** Chain and set names the table holds now, so a full sync removes stale ones it does not know of. */
async function existingNames(family: string): Promise<{ chains: string[]; sets: string[] }> {
  const out = await run(['nft', '-j', 'list', 'table', family, kubeProxyTable]).catch(() => undefined); // no table yet: nothing stale
  if (!out) return { chains: [], sets: [] };
  const items = (JSON.parse(out.stdout) as { nftables: Record<string, { name?: string }>[] }).nftables;
  return {
    chains: items.filter((i) => i.chain).map((i) => i.chain.name!),
    sets: items.filter((i) => i.set).map((i) => i.set.name!),
  };
}

export function createNftablesProxier(opts: NftablesProxierOptions): Proxier {
  let applied: NftRuleSet | undefined;
  let appliedSnapshot: ProxySnapshot | undefined;
  let lastFull = 0;

  return {
    async sync(snapshot) {
      const ruleSet = buildNftablesRules(snapshot, opts.ruleContext(snapshot));
      const full = !applied || Date.now() - lastFull >= opts.syncPeriodMs;
      let input: string;
      if (full) {
        const existing = applied ? undefined : await existingNames(ruleSet.family);
        input = renderFullTransaction(ruleSet, { previous: applied, existingChains: existing?.chains, existingSets: existing?.sets, recreateBaseChains: !applied });
      } else {
        input = renderIncrementalTransaction(ruleSet, applied!);
      }
      if (input) {
        try {
          await run(['nft', '-f', '-'], { input, timeoutMs: 600_000 });
        } catch (e) {
          opts.metrics?.nftablesSyncFailuresTotal.inc();
          applied = undefined;
          throw e;
        }
      }
      if (full) lastFull = Date.now();
      const before = appliedSnapshot;
      applied = ruleSet;
      appliedSnapshot = snapshot;
      for (const [set, n] of Object.entries(countElements(ruleSet))) opts.metrics?.nftablesElementsTotal.set({ set }, n);
      await cleanupConntrackAfterSync(before, snapshot);
      return { full };
    },
    async stop() {
      await removeNftablesRules();
    },
  };
}
