// The nftables mode: each snapshot becomes kube-proxy's `table ip kube-proxy`
// (rules.ts) applied as one `nft -f` transaction in the node's network
// namespace. The first sync, any sync after a failure and one an hour
// (upstream's proxyutil.FullSyncPeriod; not every syncPeriod, which at 10,000
// services would stall the proxy seconds every 30 s) write the whole table;
// the rest are incremental by construction (only changed chains and map
// elements), written to one long-lived `nft -i` (nft-session.ts) instead of
// a new nft process each. A failed transaction
// changes nothing (nft applies all or nothing), is counted and retried in
// full; so is one whose session died or hung (its outcome unknown). UDP flows
// to removed endpoints are cleared from conntrack.
import { run } from '../../net/ip.js';
import { logger } from '../../util/log.js';
import { errorMessage } from '../../util/errors.js';
import { cleanupConntrackAfterSync } from '../conntrack.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Proxier } from '../server.js';
import type { ProxySnapshot } from '../snapshot.js';
import { kubeProxyTable } from './chain-names.js';
import { countElements, renderFullTransaction, renderIncrementalTransaction } from './render.js';
import { endpointsMap } from './dispatch.js';
import { buildNftablesRules, type NftablesRuleContext, type NftLayout, type NftRuleSet } from './rules.js';
import { NftSessionError, openNftSession, type NftSession } from './nft-session.js';

const log = logger('proxy');

/** upstream proxyutil.FullSyncPeriod. */
export const defaultFullSyncPeriodMs = 3_600_000;

/** Larger transactions (a full sync's megabytes) go to `nft -f -`: nft -i's line editor is slow on such lines, and keeps each in its history. */
const sessionMaxBytes = 256 << 10;

export interface NftablesProxierOptions {
  ruleContext(snapshot: ProxySnapshot): NftablesRuleContext;
  /** How often a sync rewrites the whole table, ms. Default an hour, upstream's FullSyncPeriod. */
  fullSyncPeriodMs?: number;
  metrics?: ProxyMetrics;
  /** Apply incremental transactions through a long-lived `nft -i`. Default true; false: `nft -f -` for every one. */
  session?: boolean;
}

/** Deletes the kube-proxy tables of both families (kube-proxy --cleanup for nftables); safe when absent. */
export async function removeNftablesRules(): Promise<void> {
  // nft fails when the table does not exist: that is the state wanted.
  for (const family of ['ip', 'ip6']) await run(['nft', 'delete', 'table', family, kubeProxyTable]).catch(() => undefined);
}

interface ExistingTable {
  chains: string[];
  sets: string[];
  /** Which layout wrote the table: the nftables-maps layout has an endpoints map. */
  layout: NftLayout;
}

/**
 * The chain and set names the table holds now, so a full sync removes stale ones it does not know of; undefined
 * without a table. Listed per kind (`nft -t list sets`): listing the table would read every element too, seconds
 * with 10,000 services.
 */
async function existingTable(family: string): Promise<ExistingTable | undefined> {
  const names = async (kind: 'chains' | 'sets' | 'maps') => {
    const out = await run(['nft', '-j', '-t', 'list', kind, family]);
    const items = (JSON.parse(out.stdout) as { nftables: Record<string, { name?: string; table?: string }>[] }).nftables;
    const key = kind.slice(0, -1);
    return items.filter((i) => i[key]?.table === kubeProxyTable).map((i) => i[key].name!);
  };
  const chains = await names('chains');
  if (chains.length === 0) return undefined;
  const maps = await names('maps');
  return { chains, sets: await names('sets'), layout: maps.includes(endpointsMap('tcp')) ? 'maps' : 'upstream' };
}

export function createNftablesProxier(opts: NftablesProxierOptions): Proxier {
  let applied: NftRuleSet | undefined;
  let appliedSnapshot: ProxySnapshot | undefined;
  let lastFull = 0;
  const fullSyncPeriodMs = opts.fullSyncPeriodMs ?? defaultFullSyncPeriodMs;
  let session: NftSession | undefined;
  let sessionUsable = opts.session ?? true;

  async function apply(input: string, full: boolean): Promise<void> {
    if (full || !sessionUsable || input.length > sessionMaxBytes) {
      await run(['nft', '-f', '-'], { input, timeoutMs: 600_000 });
      return;
    }
    session ??= openNftSession();
    try {
      await session.apply(input);
    } catch (e) {
      if (e instanceof NftSessionError) {
        session.close();
        session = undefined;
        // nft -i never answered (an nft without its CLI): one process per transaction from now on.
        if (e.unusable) {
          sessionUsable = false;
          log.warn('nft -i does not work here; applying each transaction with nft -f', { error: errorMessage(e) });
        }
      }
      throw e;
    }
  }

  return {
    async sync(snapshot) {
      const ruleSet = buildNftablesRules(snapshot, opts.ruleContext(snapshot));
      const full = !applied || Date.now() - lastFull >= fullSyncPeriodMs;
      let input: string;
      if (full) {
        let existing = applied ? undefined : await existingTable(ruleSet.family);
        // A table of the other layout (the mode was switched between nftables and nftables-maps) is replaced whole.
        const replace = existing !== undefined && existing.layout !== ruleSet.layout;
        if (replace) existing = undefined;
        input = renderFullTransaction(ruleSet, { previous: applied, existingChains: existing?.chains, existingSets: existing?.sets, recreateBaseChains: !applied });
        if (replace) input = `add table ${ruleSet.family} ${kubeProxyTable}\ndelete table ${ruleSet.family} ${kubeProxyTable}\n${input}`;
      } else {
        input = renderIncrementalTransaction(ruleSet, applied!);
      }
      if (input) {
        try {
          await apply(input, full);
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
      session?.close();
      session = undefined;
      await removeNftablesRules();
    },
  };
}
