// iptables-restore input from a rule set (pure), for `iptables-restore --noflush`:
// a `:CHAIN - [0:0]` line creates or flushes a chain, `-A` lines refill it,
// `-X` deletes one; chains not named are left alone. Full syncs rewrite every
// chain kube-proxy owns and delete stale per-service chains; partial syncs
// (KEP-3453 minimizeIPTablesRestore) rewrite only the chains whose rules
// changed since the previous rule set, plus the top-level chains jumping to a
// rewritten or deleted chain, and flush and delete the chains that are gone.
// A partial sync is only right if the previous rule set is what the kernel
// holds: after a failed restore the caller must sync in full.
import { isServiceChainName } from './chain-names.js';
import type { IptablesChain, IptablesRuleSet, IptablesTable, IptablesTableRules, JumpRule } from './rules.js';

function chainLine(name: string): string {
  return `:${name} - [0:0]`;
}

function sameRules(a: IptablesChain, b: IptablesChain): boolean {
  return a === b || a.text === b.text;
}

interface TableWrite {
  /** Chains declared and refilled. */
  write: IptablesChain[];
  /** Chains declared only: flushed (top-level chains no longer used) or flushed before deletion. */
  flush: string[];
  /** Chains deleted after the rules are written. */
  remove: string[];
}

function appendTable(lines: string[], tableName: IptablesTable, w: TableWrite): void {
  lines.push(`*${tableName}`);
  for (const chain of w.write) lines.push(chainLine(chain.name));
  for (const name of w.flush) lines.push(chainLine(name));
  for (const chain of w.write) if (chain.text !== '') lines.push(chain.text);
  for (const name of w.remove) lines.push(`-X ${name}`);
  lines.push('COMMIT');
}

function staleServiceChains(current: IptablesTableRules, existing: Iterable<string>): string[] {
  const stale = new Set<string>();
  for (const name of existing) if (isServiceChainName(name) && !current.byName.has(name)) stale.add(name);
  return [...stale].sort();
}

/**
 * The whole rule set as iptables-restore input: *filter then *nat, every chain
 * declared (so flushed) and refilled; the per-service nat chains among
 * existingNatChains (from `iptables-save -t nat`, or the previous rule set's)
 * that are no longer used are flushed and deleted.
 */
export function renderFullRestore(ruleSet: IptablesRuleSet, existingNatChains: Iterable<string> = []): string {
  const lines: string[] = [];
  appendTable(lines, 'filter', { write: [...ruleSet.filter.chains], flush: [], remove: [] });
  const stale = staleServiceChains(ruleSet.nat, existingNatChains);
  appendTable(lines, 'nat', { write: [...ruleSet.nat.chains], flush: stale, remove: stale });
  lines.push('');
  return lines.join('\n');
}

/** Whether a chain jumps to the named chain (chain names are never prefixes of one another). */
function jumpsTo(chain: IptablesChain, target: string): boolean {
  const at = chain.text.indexOf(` -j ${target}`);
  if (at < 0) return false;
  const next = chain.text.charCodeAt(at + 4 + target.length);
  return Number.isNaN(next) || next === 10 /* \n */ || next === 32 /* space */;
}

/** A table's top-level chains: they come first, before every per-service chain. */
function topLevelChains(table: IptablesTableRules): IptablesChain[] {
  const out: IptablesChain[] = [];
  for (const chain of table.chains) {
    if (isServiceChainName(chain.name)) break;
    out.push(chain);
  }
  return out;
}

/**
 * What to write for one table: the changed and new chains, and the gone ones.
 * Per-service chains are compared per service port, and a port whose chain
 * array is the previous one (its snapshot entry did not change) is skipped
 * without looking at its chains.
 */
function diffTable(
  current: IptablesTableRules,
  previous: IptablesTableRules,
  currentGroups: ReadonlyMap<string, readonly IptablesChain[]>,
  previousGroups: ReadonlyMap<string, readonly IptablesChain[]>,
): TableWrite | undefined {
  const changedServiceChains: IptablesChain[] = [];
  const gone: string[] = [];
  for (const [key, chains] of currentGroups) {
    const before = previousGroups.get(key);
    if (before === chains) continue;
    const beforeByName = new Map((before ?? []).map((c) => [c.name, c]));
    for (const chain of chains) {
      const old = beforeByName.get(chain.name);
      if (!old || !sameRules(old, chain)) changedServiceChains.push(chain);
      beforeByName.delete(chain.name);
    }
    for (const name of beforeByName.keys()) gone.push(name);
  }
  for (const [key, chains] of previousGroups) if (!currentGroups.has(key)) for (const chain of chains) gone.push(chain.name);

  const topLevel = topLevelChains(current);
  const topLevelBefore = new Map(topLevelChains(previous).map((c) => [c.name, c]));
  const touched = [...changedServiceChains.map((c) => c.name), ...gone];
  const write: IptablesChain[] = [];
  for (const chain of topLevel) {
    const old = topLevelBefore.get(chain.name);
    // Rewritten too: top-level chains jumping to a rewritten or deleted chain.
    if (!old || !sameRules(old, chain) || touched.some((name) => jumpsTo(chain, name))) write.push(chain);
    topLevelBefore.delete(chain.name);
  }
  // Top-level chains no longer written (KUBE-FIREWALL when localhost node ports are turned off) are emptied, never deleted.
  const flush = [...topLevelBefore.keys(), ...gone];
  if (write.length === 0 && changedServiceChains.length === 0 && flush.length === 0) return undefined;
  return { write: write.concat(changedServiceChains), flush, remove: gone };
}

/**
 * iptables-restore input taking the kernel from `previous` to `current`:
 * only the changed chains (new ones included) and the top-level chains that
 * jump to them are declared and rewritten; per-service chains gone since are
 * flushed and deleted. A table with no change is left out; "" when nothing
 * changed at all.
 */
export function renderPartialRestore(current: IptablesRuleSet, previous: IptablesRuleSet): string {
  const lines: string[] = [];
  const noGroups = new Map<string, readonly IptablesChain[]>();
  const filter = diffTable(current.filter, previous.filter, noGroups, noGroups);
  if (filter) appendTable(lines, 'filter', filter);
  const nat = diffTable(current.nat, previous.nat, current.servicePortChains, previous.servicePortChains);
  if (nat) appendTable(lines, 'nat', nat);
  if (lines.length === 0) return '';
  lines.push('');
  return lines.join('\n');
}

/** Rules per table, for kubeproxy_sync_proxy_rules_iptables_total{table}. */
export function countRules(ruleSet: IptablesRuleSet): Record<IptablesTable, number> {
  const count = (t: IptablesTableRules) => t.chains.reduce((n, c) => n + c.ruleCount, 0);
  return { filter: count(ruleSet.filter), nat: count(ruleSet.nat) };
}

/** The chain names declared in `iptables-save` output (all tables it holds): what a full sync may need to delete. */
export function chainsFromIptablesSave(saveOutput: string): Set<string> {
  const chains = new Set<string>();
  for (const line of saveOutput.split('\n')) {
    if (line.startsWith(':')) chains.add(line.slice(1, line.indexOf(' ') < 0 ? undefined : line.indexOf(' ')));
  }
  return chains;
}

const builtinChains: Record<IptablesTable, readonly string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

/**
 * Whether kube-proxy owns the nat and filter tables of this `iptables-save`
 * output: built-in chains keep the ACCEPT policy and hold only jumps into
 * KUBE-* chains, and every other chain is a KUBE-* chain. Then a full sync
 * may replace the two tables outright (iptables-restore without --noflush)
 * and nothing else's rules are lost — what a node namespace of `kubesvc up`
 * holds. Other tables (mangle, raw) are never touched either way.
 */
export function tablesOwnedByKubeProxy(saveOutput: string): boolean {
  let table = '';
  for (const line of saveOutput.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      continue;
    }
    if (table !== 'nat' && table !== 'filter') continue;
    if (line.startsWith(':')) {
      const [name = '', policy] = line.slice(1).split(' ');
      // A user-defined chain ("-") must be ours; a built-in one must keep the ACCEPT policy.
      if (policy === '-' ? !name.startsWith('KUBE-') : policy !== 'ACCEPT') return false;
    } else if (line.startsWith('-A ')) {
      const chain = line.slice(3, line.indexOf(' ', 3));
      if (chain.startsWith('KUBE-')) continue;
      if (!/ -j KUBE-[A-Z0-9-]+$/.test(line)) return false;
    }
  }
  return true;
}

function restoreArg(arg: string): string {
  return /[\s"]/.test(arg) ? `"${arg.replace(/"/g, '\\"')}"` : arg;
}

/**
 * The whole of the nat and filter tables as iptables-restore input without
 * --noflush, for tables kube-proxy owns (tablesOwnedByKubeProxy): the built-in
 * chains (policy ACCEPT) with the jumps into ours, in the order ensureJumps
 * leaves them (each inserted at the top), then every chain of the rule set.
 * The kernel replaces each table in one step, which the nf_tables backend
 * does ~7× faster than rewriting every chain under --noflush.
 */
export function renderTableReplacement(ruleSet: IptablesRuleSet, jumps: readonly JumpRule[]): string {
  const lines: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const rules = ruleSet[table];
    const declared = new Set(rules.chains.map((c) => c.name));
    lines.push(`*${table}`);
    for (const builtin of builtinChains[table]) lines.push(`:${builtin} ACCEPT [0:0]`);
    for (const chain of rules.chains) lines.push(chainLine(chain.name));
    const tableJumps = jumps.filter((j) => j.table === table);
    for (const j of tableJumps) {
      if (declared.has(j.target)) continue;
      declared.add(j.target);
      lines.push(chainLine(j.target));
    }
    for (const builtin of builtinChains[table]) {
      for (const j of tableJumps.filter((x) => x.chain === builtin).reverse()) lines.push(`-A ${builtin} ${j.args.map(restoreArg).join(' ')}`);
    }
    for (const chain of rules.chains) if (chain.text !== '') lines.push(chain.text);
    lines.push('COMMIT');
  }
  lines.push('');
  return lines.join('\n');
}
