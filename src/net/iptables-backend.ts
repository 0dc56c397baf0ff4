// Which iptables a node's rules are in: iptables 1.8 has two backends with
// separate rule sets — nf_tables (iptables-nft) and the legacy x_tables
// (iptables-legacy) — and a proxy writing to the one the node does not use
// programs rules nobody sees and that are not in the packets' path alongside
// the node's own. kube-proxy's image answers this with kubernetes-sigs'
// iptables-wrapper, whose decision this follows:
//   1. the kubelet's hint chain (KUBE-IPTABLES-HINT, or the older
//      KUBE-KUBELET-CANARY, in the mangle table) says which backend the node
//      uses — kubesvc's node agent creates it with the node's `iptables`;
//   2. without a hint, the backend holding more rules wins, nf_tables on a tie.
// With the backend known the proxy calls iptables-nft-restore or
// iptables-legacy-restore directly. Where the distribution has only plain
// `iptables` (no -nft/-legacy variants), that is what runs.
import { run } from './ip.js';

export type IptablesBackend = 'nft' | 'legacy';

export interface IptablesCommands {
  /** undefined: plain `iptables`, the only one this machine has. */
  backend: IptablesBackend | undefined;
  iptables: string;
  save: string;
  restore: string;
}

const hintChains = ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY'];

export function commandsFor(backend: IptablesBackend | undefined): IptablesCommands {
  const suffix = backend ? `-${backend}` : '';
  return { backend, iptables: `iptables${suffix}`, save: `iptables${suffix}-save`, restore: `iptables${suffix}-restore` };
}

/** The output of `<save> [args]`, or undefined when that backend's tool is missing or cannot read the tables. */
async function saved(backend: IptablesBackend, args: string[] = []): Promise<string | undefined> {
  return run([commandsFor(backend).save, ...args]).then(
    (r) => r.stdout,
    () => undefined,
  );
}

/** The backend the node's rules are in (iptables-wrapper's decision; see above). */
export async function detectIptablesBackend(): Promise<IptablesCommands> {
  const [nftMangle, legacyMangle] = await Promise.all([saved('nft', ['-t', 'mangle']), saved('legacy', ['-t', 'mangle'])]);
  if (nftMangle === undefined && legacyMangle === undefined) return commandsFor(undefined);
  if (legacyMangle === undefined) return commandsFor('nft');
  if (nftMangle === undefined) return commandsFor('legacy');
  const hinted = (save: string) => hintChains.some((chain) => save.includes(`:${chain} `));
  if (hinted(nftMangle)) return commandsFor('nft');
  if (hinted(legacyMangle)) return commandsFor('legacy');
  const rules = (save: string | undefined) => (save ?? '').split('\n').filter((line) => line.startsWith('-')).length;
  const [nft, legacy] = await Promise.all([saved('nft'), saved('legacy')]);
  return commandsFor(rules(legacy) > rules(nft) ? 'legacy' : 'nft');
}

/**
 * The kubelet's hint, in the network namespace `netns`: the node's own `iptables` marks its backend for the proxies
 * (iptables-wrapper's rule 1). Best effort: a node without iptables has no hint, and its proxies count rules.
 */
export async function writeIptablesHint(netns: string): Promise<void> {
  // -N fails when the chain exists: the hint is there.
  await run(['ip', 'netns', 'exec', netns, 'iptables', '-w', '-t', 'mangle', '-N', hintChains[0]]).catch(() => undefined);
}

let nodeCommands: Promise<IptablesCommands> | undefined;

/** This process's node's iptables, decided once (a proxy runs in one node's namespace). */
export function nodeIptables(): Promise<IptablesCommands> {
  return (nodeCommands ??= detectIptablesBackend());
}
