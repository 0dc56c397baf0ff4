// The iptables mode: each snapshot becomes kube-proxy's chain layout
// (rules.ts), applied with one `iptables-restore --noflush` in the node's
// network namespace this process runs in, with the backend (nf_tables or
// legacy) the node's own rules are in (src/net/iptables-backend.ts). The first sync, any sync after a
// failure, and one every syncPeriod rewrite everything (and delete stale
// per-service chains) — replacing the nat and filter tables outright when
// they hold only kube-proxy's rules; the rest rewrite only the chains that
// changed (KEP-3453). A failed restore is counted and retried in full: never
// half-applied. UDP flows to removed endpoints are cleared from conntrack.
import { writeFile } from 'node:fs/promises';
import { run } from '../../net/ip.js';
import { logger } from '../../util/log.js';
import { cleanupConntrackAfterSync } from '../conntrack.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Proxier } from '../server.js';
import type { ProxySnapshot } from '../snapshot.js';
import { buildIptablesRules, jumpRules, type IptablesRuleContext, type IptablesRuleSet } from './rules.js';
import { chainsFromIptablesSave, countRules, renderFullRestore, renderPartialRestore, renderTableReplacement, tablesOwnedByKubeProxy } from './restore.js';
import { errorMessage } from '../../util/errors.js';
import { nodeIptables } from '../../net/iptables-backend.js';

const log = logger('proxy');

export interface IptablesProxierOptions {
  /** Rule inputs (cluster CIDRs, node-port addresses, ...), read at every sync. */
  ruleContext(snapshot: ProxySnapshot): IptablesRuleContext;
  /** Full resync interval, ms (kube-proxy's --iptables-sync-period). */
  syncPeriodMs: number;
  metrics?: ProxyMetrics;
}

/** Adds each jump from a built-in chain into ours unless it is there (-C, then -I at the top). */
async function ensureJumps(): Promise<void> {
  const { iptables } = await nodeIptables();
  for (const j of jumpRules()) {
    try {
      await run([iptables, '-w', '-t', j.table, '-C', j.chain, ...j.args]);
    } catch {
      await run([iptables, '-w', '-t', j.table, '-I', j.chain, ...j.args]);
    }
  }
}

/**
 * Removes everything the iptables mode installs in this namespace: the jumps
 * from the built-in chains, then every KUBE-* chain of the nat and filter
 * tables (kube-proxy --cleanup). Safe to call when nothing is installed.
 */
export async function removeIptablesRules(): Promise<void> {
  const { iptables, save, restore } = await nodeIptables();
  // iptables -D fails for a jump that is not there: that is the state wanted.
  for (const j of jumpRules()) await run([iptables, '-w', '-t', j.table, '-D', j.chain, ...j.args]).catch(() => undefined);
  for (const table of ['nat', 'filter']) {
    const saved = await run([save, '-t', table]).catch(() => undefined); // no such table here: nothing to remove
    if (!saved) continue;
    const ours = [...chainsFromIptablesSave(saved.stdout)].filter((c) => c.startsWith('KUBE-') && !c.startsWith('KUBE-PORTALS-') && !c.startsWith('KUBE-NODEPORT-'));
    if (!ours.length) continue;
    const input = [`*${table}`, ...ours.map((c) => `:${c} - [0:0]`), ...ours.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
    await run([restore, '-w', '--noflush'], { input }).catch((e: unknown) => log.warn('iptables cleanup failed', { table, error: errorMessage(e) }));
  }
}

export function createIptablesProxier(opts: IptablesProxierOptions): Proxier {
  let applied: IptablesRuleSet | undefined;
  let appliedSnapshot: ProxySnapshot | undefined;
  let lastFull = 0;
  let prepared = false;

  async function prepare(): Promise<void> {
    // Node ports on 127.0.0.1 need route_localnet (kube-proxy sets it too); best effort: the node
    // namespace sets it at creation, and without it only localhost node ports are lost.
    await writeFile('/proc/sys/net/ipv4/conf/all/route_localnet', '1').catch(() => undefined);
    const { backend } = await nodeIptables();
    log.info('iptables backend', { backend: backend ?? 'iptables' });
    prepared = true;
  }

  return {
    async sync(snapshot) {
      if (!prepared) await prepare();
      const ruleSet = buildIptablesRules(snapshot, opts.ruleContext(snapshot));
      const full = !applied || Date.now() - lastFull >= opts.syncPeriodMs;
      let input: string;
      // Tables holding nothing but kube-proxy's rules are replaced whole (much faster with nf_tables);
      // otherwise only our chains are rewritten, leaving everything else in place, as upstream does.
      let replaceTables = false;
      const { save, restore } = await nodeIptables();
      if (full) {
        const saved = await run([save]).then((r) => r.stdout, () => undefined);
        replaceTables = saved !== undefined && tablesOwnedByKubeProxy(saved);
        input = replaceTables ? renderTableReplacement(ruleSet, jumpRules()) : renderFullRestore(ruleSet, chainsFromIptablesSave(saved ?? ''));
      } else {
        input = renderPartialRestore(ruleSet, applied!);
      }
      if (input) {
        try {
          await run([restore, '-w', ...(replaceTables ? [] : ['--noflush'])], { input, timeoutMs: 120_000 });
        } catch (e) {
          (full ? opts.metrics?.iptablesRestoreFailuresTotal : opts.metrics?.iptablesPartialRestoreFailuresTotal)?.inc();
          // What the kernel holds is unknown now: the retry writes everything.
          applied = undefined;
          throw e;
        }
      }
      if (full) {
        // A table replacement wrote the jumps itself.
        if (!replaceTables) await ensureJumps();
        lastFull = Date.now();
      }
      const before = appliedSnapshot;
      applied = ruleSet;
      appliedSnapshot = snapshot;
      const counts = countRules(ruleSet);
      opts.metrics?.iptablesRulesTotal.set({ table: 'nat' }, counts.nat);
      opts.metrics?.iptablesRulesTotal.set({ table: 'filter' }, counts.filter);
      await cleanupConntrackAfterSync(before, snapshot);
      return { full };
    },
    async stop() {
      await removeIptablesRules();
    },
  };
}
