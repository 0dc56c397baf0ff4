// `nft -f` transactions from nftables rule sets (pure): the whole table, in
// upstream's full-sync shape (every object added and flushed, then refilled),
// or only the difference from the rule set the kernel holds — changed
// per-service chains flushed and rewritten, map and set elements added and
// deleted one by one, affinity sets created and deleted, stale chains removed
// after the elements jumping to them. That incrementality is the point of the
// mode: one changed service among 10,000 is a transaction of a few lines.
//
// Element keys can clash between services (two services claiming one external
// IP and port; a cluster IP moving from a deleted service to a new one), and the
// kernel refuses a second element with another value, so each key has one
// winner: the contributing service with the smallest "namespace/name". Winners
// are tracked in an index per rule set, built once and then handed from one rule
// set to the next by the incremental render, so its cost stays with the change.
import { isAffinitySetName, isServiceChainName } from './chain-names.js';
import { isDispatchChainName } from './dispatch.js';
import { servicesRebuiltSince, type NftChain, type NftContainer, type NftElement, type NftRuleSet, type NftServiceRules } from './rules.js';

// ---- element winners ----------------------------------------------------------

interface ElementIndex {
  /**
   * Contributors by set or map, then by key: the only one, or (on a clash) all of them, smallest service key first.
   * Keyed in two steps so that no id string is made per element.
   */
  byContainer: Map<string, Map<string, NftElement | NftElement[]>>;
}

const elementIndexes = new WeakMap<NftRuleSet, ElementIndex>();

function entriesOf(index: ElementIndex, container: string): Map<string, NftElement | NftElement[]> {
  let entries = index.byContainer.get(container);
  if (!entries) index.byContainer.set(container, (entries = new Map()));
  return entries;
}

function addToIndex(index: ElementIndex, el: NftElement): void {
  const entries = entriesOf(index, el.container);
  const entry = entries.get(el.key);
  if (!entry) {
    // Most keys have one contributor: no list for them (200,000 elements at 10,000 services).
    entries.set(el.key, el);
    return;
  }
  const list = Array.isArray(entry) ? entry : [entry];
  if (list !== entry) entries.set(el.key, list);
  let at = list.length;
  while (at > 0 && list[at - 1].service > el.service) at--;
  list.splice(at, 0, el);
}

function removeFromIndex(index: ElementIndex, el: NftElement): void {
  const entries = entriesOf(index, el.container);
  const entry = entries.get(el.key);
  if (!entry) return;
  const list = Array.isArray(entry) ? entry : [entry];
  const at = list.indexOf(el);
  if (at < 0) return;
  if (list.length > 1) {
    list.splice(at, 1);
    if (list.length === 1) entries.set(el.key, list[0]);
    return;
  }
  entries.delete(el.key);
}

function elementIndex(ruleSet: NftRuleSet): ElementIndex {
  let index = elementIndexes.get(ruleSet);
  if (!index) {
    index = { byContainer: new Map() };
    for (const service of ruleSet.services.values()) for (const el of service.elements) addToIndex(index, el);
    elementIndexes.set(ruleSet, index);
  }
  return index;
}

/** The element that goes in the table for the entry `el` is (or would be) under: its smallest service's. */
function winner(index: ElementIndex, el: NftElement): NftElement | undefined {
  const entry = index.byContainer.get(el.container)?.get(el.key);
  return Array.isArray(entry) ? entry[0] : entry;
}

// ---- statements ------------------------------------------------------------------

/**
 * A transaction's text, gathered as pieces and joined in chunks: a full
 * transaction has some 500,000 lines, and pieces that die young cost the
 * garbage collector nothing, while half a million lines kept until one final
 * join would all be copied to the old generation.
 */
class Output {
  /** Pieces of the current chunk. */
  readonly parts: string[] = [];
  readonly #chunks: string[] = [];
  line(line: string): void {
    this.parts.push(`${line}\n`);
    this.#spill();
  }
  /** `add chain` + `flush chain` for a per-service chain. */
  declareChain(table: string, name: string): void {
    this.parts.push(`add chain ${table} ${name}\nflush chain ${table} ${name}\n`);
    this.#spill();
  }
  chainRules(chain: NftChain): void {
    chain.writeText(this.parts);
    this.#spill();
  }
  #spill(): void {
    if (this.parts.length < 8192) return;
    this.#chunks.push(this.parts.join(''));
    this.parts.length = 0;
  }
  /** Every line ends with "\n"; "" when there are none. */
  text(): string {
    if (this.parts.length) this.#chunks.push(this.parts.join(''));
    this.parts.length = 0;
    return this.#chunks.join('');
  }
}

function tableOf(ruleSet: Pick<NftRuleSet, 'family' | 'table'>): string {
  return `${ruleSet.family} ${ruleSet.table}`;
}

function chainSpec(chain: NftChain): string {
  if (chain.hook) return ` { type ${chain.hook.type} hook ${chain.hook.hook} priority ${chain.hook.priority} ; }`;
  return chain.comment ? ` { comment "${chain.comment}" ; }` : '';
}

function elementText(el: NftElement): string {
  const comment = el.comment ? ` comment "${el.comment}"` : '';
  return el.value ? `${el.key}${comment} : ${el.value}` : `${el.key}${comment}`;
}

/**
 * Elements per `add element` / `delete element` command in the nftables-maps layout: nft's cost per command dwarfs
 * its cost per element. Upstream's layout writes one element per command, as knftables does.
 */
const elementsPerCommand = 1000;

/** `add element` (or `delete element`) commands for the elements: one each, or grouped by set or map when batched. */
function writeElements(out: Output, verb: 'add' | 'delete', table: string, elements: Iterable<NftElement>, batched: boolean): void {
  if (!batched) {
    for (const el of elements) out.line(`${verb} element ${table} ${el.container} { ${verb === 'add' ? elementText(el) : el.key} }`);
    return;
  }
  const byContainer = new Map<string, string[]>();
  for (const el of elements) {
    let list = byContainer.get(el.container);
    if (!list) byContainer.set(el.container, (list = []));
    list.push(verb === 'add' ? elementText(el) : el.key);
  }
  for (const [container, list] of byContainer) {
    for (let i = 0; i < list.length; i += elementsPerCommand) {
      out.line(`${verb} element ${table} ${container} { ${list.slice(i, i + elementsPerCommand).join(', ')} }`);
    }
  }
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export interface FullTransactionOptions {
  /**
   * The rule set the kernel holds (the last one applied): its per-service chains and affinity sets no longer
   * used are removed, and affinity sets whose timeout changed are re-created.
   */
  previous?: NftRuleSet;
  /** Chain names in the table (`nft list chains`), when the previous rule set is unknown: stale per-service ones are removed. */
  existingChains?: Iterable<string>;
  /** Set names in the table (`nft list sets`): stale affinity sets are deleted. */
  existingSets?: Iterable<string>;
  /** Add and delete the base chains first, so a changed hook priority applies (upstream's first sync does). Default false. */
  recreateBaseChains?: boolean;
  /**
   * Delete stale chains in this transaction (after the elements and rules jumping to them are gone). Default true.
   * false: only flush them, and delete them later with renderChainDeletion (upstream waits a second: before
   * kernel 6.2 a chain is not unreferenced at once when the map element jumping to it is deleted).
   */
  deleteStaleChains?: boolean;
}

/**
 * The whole table as one `nft -f` transaction, as upstream's full sync writes it:
 * the table, every fixed chain, set and map added and flushed, every
 * per-service chain added and flushed, affinity sets added (not flushed: they
 * hold the live affinity state), then every rule and element. Stale
 * per-service objects named by the options are flushed and deleted.
 */
export function renderFullTransaction(ruleSet: NftRuleSet, options: FullTransactionOptions = {}): string {
  const table = tableOf(ruleSet);
  const index = elementIndex(ruleSet);
  const services = [...ruleSet.services.values()].sort(byKey);
  const out = new Output();
  out.line(`add table ${table} { comment "${ruleSet.tableComment}" ; }`);

  if (options.recreateBaseChains) {
    for (const chain of ruleSet.chains) if (chain.hook) out.line(`add chain ${table} ${chain.name}\ndelete chain ${table} ${chain.name}`);
  }
  for (const chain of ruleSet.chains) out.line(`add chain ${table} ${chain.name}${chainSpec(chain)}\nflush chain ${table} ${chain.name}`);
  for (const { chain } of ruleSet.dispatchChains.values()) out.line(`add chain ${table} ${chain.name}\nflush chain ${table} ${chain.name}`);
  for (const c of ruleSet.containers) out.line(`add ${c.kind} ${table} ${c.name} ${c.spec}\nflush ${c.kind} ${table} ${c.name}`);
  // "add + delete": a plain delete fails when the set does not exist.
  for (const c of ruleSet.absentContainers) out.line(`add ${c.kind} ${table} ${c.name} ${c.spec}\ndelete ${c.kind} ${table} ${c.name}`);
  for (const service of services) for (const chain of service.chains) out.declareChain(table, chain.name);

  const stale = staleObjects(ruleSet, options);
  for (const name of stale.chains) out.line(`flush chain ${table} ${name}`);
  for (const name of stale.redefinedSets) out.line(`delete set ${table} ${name}`);
  for (const service of services) for (const set of service.affinitySets) out.line(`add set ${table} ${set.name} ${set.spec}`);
  for (const name of stale.sets) out.line(`delete set ${table} ${name}`);

  for (const chain of ruleSet.chains) out.chainRules(chain);
  for (const { chain } of ruleSet.dispatchChains.values()) out.chainRules(chain);
  for (const service of services) for (const chain of service.chains) out.chainRules(chain);

  writeElements(out, 'add', table, winningElements(ruleSet, services, index), ruleSet.layout === 'maps');
  if (options.deleteStaleChains ?? true) for (const name of stale.chains) out.line(`delete chain ${table} ${name}`);
  return out.text();
}

function* winningElements(ruleSet: NftRuleSet, services: readonly NftServiceRules[], index: ElementIndex): Generator<NftElement> {
  yield* ruleSet.staticElements;
  for (const service of services) for (const el of service.elements) if (winner(index, el) === el) yield el;
}

interface StaleObjects {
  chains: string[];
  sets: string[];
  /** Affinity sets kept whose definition (timeout) changed: deleted before being added again. */
  redefinedSets: string[];
}

function staleObjects(ruleSet: NftRuleSet, options: FullTransactionOptions): StaleObjects {
  const { previous } = options;
  const existingChains = new Set<string>(options.existingChains ?? []);
  const existingSets = new Map<string, NftContainer | undefined>();
  for (const name of options.existingSets ?? []) existingSets.set(name, undefined);
  if (previous) {
    for (const service of previous.services.values()) {
      for (const chain of service.chains) existingChains.add(chain.name);
      for (const set of service.affinitySets) existingSets.set(set.name, set);
    }
    for (const name of previous.dispatchChains.keys()) existingChains.add(name);
  }
  const result: StaleObjects = { chains: [], sets: [], redefinedSets: [] };
  if (existingChains.size === 0 && existingSets.size === 0) return result;
  const chains = new Set<string>();
  const sets = new Map<string, NftContainer>();
  for (const service of ruleSet.services.values()) {
    for (const chain of service.chains) chains.add(chain.name);
    for (const set of service.affinitySets) sets.set(set.name, set);
  }
  for (const name of ruleSet.dispatchChains.keys()) chains.add(name);
  for (const name of existingChains) if ((isServiceChainName(name) || isDispatchChainName(name)) && !chains.has(name)) result.chains.push(name);
  for (const [name, before] of existingSets) {
    if (!isAffinitySetName(name)) continue;
    const now = sets.get(name);
    if (!now) result.sets.push(name);
    else if (before && before.spec !== now.spec) result.redefinedSets.push(name);
  }
  result.chains.sort();
  result.sets.sort();
  result.redefinedSets.sort();
  return result;
}

export interface IncrementalTransactionOptions {
  /** As for the full transaction: false leaves stale chains flushed for renderChainDeletion. Default true. */
  deleteStaleChains?: boolean;
}

interface ServiceChange {
  key: string;
  before: NftServiceRules | undefined;
  after: NftServiceRules | undefined;
}

/** The services whose rules differ between two rule sets (unchanged ones are the same object). */
function changedServices(current: NftRuleSet, previous: NftRuleSet): ServiceChange[] {
  const changes: ServiceChange[] = [];
  const rebuilt = servicesRebuiltSince(current, previous);
  if (rebuilt) {
    for (const key of rebuilt) {
      const before = previous.services.get(key);
      const after = current.services.get(key);
      if (before !== after) changes.push({ key, before, after });
    }
    return changes.sort(byKey);
  }
  for (const [key, after] of current.services) {
    const before = previous.services.get(key);
    if (before !== after) changes.push({ key, before, after });
  }
  for (const [key, before] of previous.services) if (!current.services.has(key)) changes.push({ key, before, after: undefined });
  return changes.sort(byKey);
}

/**
 * The `nft -f` transaction taking the kernel from `previous` (what it holds:
 * the last rule set applied successfully) to `current`: "" when nothing
 * changed. Only the changed services are looked at; their new chains are
 * added, changed ones flushed and rewritten, and stale ones flushed and
 * deleted; elements are added and deleted one by one (a changed value is a
 * delete and an add). A different context (masquerade bit, node port
 * addresses, service CIDRs, family) changes fixed chains: that renders the full
 * transaction instead. After a failed transaction the caller must render in full.
 */
export function renderIncrementalTransaction(current: NftRuleSet, previous: NftRuleSet, options: IncrementalTransactionOptions = {}): string {
  if (current.family !== previous.family || current.table !== previous.table || current.contextSignature !== previous.contextSignature) {
    return renderFullTransaction(current, { previous, deleteStaleChains: options.deleteStaleChains });
  }
  const changes = changedServices(current, previous);
  if (changes.length === 0) return '';
  const table = tableOf(current);
  const dispatch = dispatchChanges(current, previous);

  const addChains: NftChain[] = [];
  const flushChains: string[] = [];
  const writeChains: NftChain[] = [];
  const staleChains: string[] = [];
  const deleteSets: string[] = [];
  const addSets: NftContainer[] = [];
  for (const { before, after } of changes) {
    const oldChains = new Map((before?.chains ?? []).map((c) => [c.name, c]));
    const oldSets = new Map((before?.affinitySets ?? []).map((s) => [s.name, s]));
    // A set re-created with another timeout loses its references: every chain of the service is rewritten.
    let redefined = false;
    for (const set of after?.affinitySets ?? []) {
      const old = oldSets.get(set.name);
      if (old && old.spec === set.spec) {
        oldSets.delete(set.name);
        continue;
      }
      if (old) {
        redefined = true;
        deleteSets.push(set.name);
        oldSets.delete(set.name);
      }
      addSets.push(set);
    }
    for (const name of oldSets.keys()) deleteSets.push(name);
    for (const chain of after?.chains ?? []) {
      const old = oldChains.get(chain.name);
      oldChains.delete(chain.name);
      if (!old) {
        addChains.push(chain);
        writeChains.push(chain);
      } else if (redefined || old.text !== chain.text) {
        flushChains.push(chain.name);
        writeChains.push(chain);
      }
    }
    for (const name of oldChains.keys()) staleChains.push(name);
  }

  // Elements: the winners before and after, for every key a changed service had or has.
  // By id, one element of each entry (any: it names the entry).
  const affected = new Map<string, NftElement>();
  for (const { before, after } of changes) {
    for (const el of before?.elements ?? []) affected.set(el.id, el);
    for (const el of after?.elements ?? []) affected.set(el.id, el);
  }
  const previousWinners = new Map<string, NftElement | undefined>();
  let currentIndex = elementIndexes.get(current);
  if (currentIndex) {
    const previousIndex = elementIndex(previous);
    for (const [id, el] of affected) previousWinners.set(id, winner(previousIndex, el));
  } else {
    // Hand the previous rule set's index over, updated for the changed services only.
    const index = elementIndex(previous);
    for (const [id, el] of affected) previousWinners.set(id, winner(index, el));
    elementIndexes.delete(previous);
    for (const { before, after } of changes) {
      for (const el of before?.elements ?? []) removeFromIndex(index, el);
      for (const el of after?.elements ?? []) addToIndex(index, el);
    }
    elementIndexes.set(current, index);
    currentIndex = index;
  }
  const deleteElements: NftElement[] = [];
  const addElements: NftElement[] = [];
  for (const [id, el] of affected) {
    const old = previousWinners.get(id);
    const now = winner(currentIndex, el);
    if (old === now || (old && now && old.value === now.value && old.comment === now.comment)) continue;
    if (old) deleteElements.push(old);
    if (now) addElements.push(now);
  }

  const out = new Output();
  for (const chain of addChains) out.line(`add chain ${table} ${chain.name}`);
  for (const chain of dispatch.added) {
    out.line(`add chain ${table} ${chain.name}`);
    out.chainRules(chain);
  }
  staleChains.push(...dispatch.removed);
  // Elements first: they may jump to a chain that is flushed or deleted below.
  writeElements(out, 'delete', table, deleteElements, current.layout === 'maps');
  for (const name of flushChains) out.line(`flush chain ${table} ${name}`);
  for (const name of staleChains) out.line(`flush chain ${table} ${name}`);
  for (const name of deleteSets) out.line(`delete set ${table} ${name}`);
  for (const set of addSets) out.line(`add set ${table} ${set.name} ${set.spec}`);
  for (const chain of writeChains) out.chainRules(chain);
  writeElements(out, 'add', table, addElements, current.layout === 'maps');
  if (options.deleteStaleChains ?? true) for (const name of staleChains) out.line(`delete chain ${table} ${name}`);
  return out.text();
}

/** The dispatch chains (nftables-maps layout) that come and go between two rule sets of the same context. */
function dispatchChanges(current: NftRuleSet, previous: NftRuleSet): { added: NftChain[]; removed: string[] } {
  const added: NftChain[] = [];
  const removed: string[] = [];
  for (const [name, { chain }] of current.dispatchChains) if (!previous.dispatchChains.has(name)) added.push(chain);
  for (const name of previous.dispatchChains.keys()) if (!current.dispatchChains.has(name)) removed.push(name);
  return { added, removed };
}

/** The per-service and dispatch chains `previous` has and `current` does not (what a deferred deletion removes). */
export function staleServiceChains(current: NftRuleSet, previous: NftRuleSet): string[] {
  const stale: string[] = dispatchChanges(current, previous).removed;
  for (const { before, after } of changedServices(current, previous)) {
    const now = new Set((after?.chains ?? []).map((c) => c.name));
    for (const chain of before?.chains ?? []) if (!now.has(chain.name)) stale.push(chain.name);
  }
  return stale;
}

/**
 * `delete chain` for each name: the deferred deletion of chains a transaction left flushed. Names `current` (the
 * rule set the kernel now holds) uses again are left out: a chain that came back must not be deleted.
 */
export function renderChainDeletion(current: NftRuleSet, chains: Iterable<string>): string {
  const table = tableOf(current);
  const out = new Output();
  let allChains: Set<string> | undefined;
  for (const name of chains) {
    if (isDispatchChainName(name)) {
      if (!current.dispatchChains.has(name)) out.line(`delete chain ${table} ${name}`);
      continue;
    }
    // "<prefix>HASH-namespace/name/…": the owning service, unless the name was truncated.
    const [namespace, service] = name.slice(name.indexOf('-', name.indexOf('-') + 1) + 1).split('/');
    const owner = current.services.get(`${namespace}/${service}`);
    let used = owner?.chains.some((c) => c.name === name) ?? false;
    if (!owner && name.endsWith('...')) {
      allChains ??= new Set([...current.services.values()].flatMap((s) => s.chains.map((c) => c.name)));
      used = allChains.has(name);
    }
    if (!used) out.line(`delete chain ${table} ${name}`);
  }
  return out.text();
}

/** Chains in the table: fixed ones (base chains included) and per-service ones. */
export function countChains(ruleSet: NftRuleSet): { fixed: number; service: number; total: number } {
  let service = 0;
  for (const s of ruleSet.services.values()) service += s.chains.length;
  // Dispatch chains (nftables-maps layout) are shared by services: counted with the fixed ones.
  const fixed = ruleSet.chains.length + ruleSet.dispatchChains.size;
  return { fixed, service, total: fixed + service };
}

/** Elements per fixed set and map (affinity sets fill themselves at run time and are not counted). */
export function countElements(ruleSet: NftRuleSet): Record<string, number> {
  const index = elementIndex(ruleSet);
  const counts: Record<string, number> = {};
  for (const c of ruleSet.containers) counts[c.name] = index.byContainer.get(c.name)?.size ?? 0;
  for (const el of ruleSet.staticElements) counts[el.container] = (counts[el.container] ?? 0) + 1;
  return counts;
}

/**
 * The elements a set or map holds under the rule set: the static ones (nodeport-ips) and, per key, the winning
 * service's, in service order. What `nft list map ip kube-proxy <name>` shows after a transaction.
 */
export function effectiveElements(ruleSet: NftRuleSet, container: string): NftElement[] {
  const index = elementIndex(ruleSet);
  const out = ruleSet.staticElements.filter((el) => el.container === container);
  for (const service of [...ruleSet.services.values()].sort(byKey)) {
    for (const el of service.elements) if (el.container === container && winner(index, el) === el) out.push(el);
  }
  return out;
}

/** Rules in the table, fixed and per-service chains together. */
export function countRules(ruleSet: NftRuleSet): number {
  let rules = 0;
  for (const c of ruleSet.chains) rules += c.ruleCount;
  for (const { chain } of ruleSet.dispatchChains.values()) rules += chain.ruleCount;
  for (const s of ruleSet.services.values()) for (const c of s.chains) rules += c.ruleCount;
  return rules;
}
