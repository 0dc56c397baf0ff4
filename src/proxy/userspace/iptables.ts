// Applies the userspace mode's rules with iptables-restore (one transaction)
// in the network namespace this process runs in, and removes them on stop;
// in the iptables backend the node's rules are in (src/net/iptables-backend.ts).
import { run } from '../../net/ip.js';
import { nodeIptables } from '../../net/iptables-backend.js';
import { chains, jumpRules, renderRules, type PortalRule, type RuleContext } from './rules.js';

async function ensureJump(iptables: string, chain: string, args: string[]): Promise<void> {
  try {
    await run([iptables, '-w', '-t', 'nat', '-C', chain, ...args]);
  } catch {
    await run([iptables, '-w', '-t', 'nat', '-I', chain, ...args]);
  }
}

export async function applyRules(rules: PortalRule[], ctx: RuleContext): Promise<void> {
  const { iptables, restore } = await nodeIptables();
  // Chains first (restore declares them), then the jumps into them.
  await run([restore, '-w', '--noflush'], { input: renderRules(rules, ctx) });
  for (const j of jumpRules()) await ensureJump(iptables, j.chain, j.args);
}

export async function removeRules(): Promise<void> {
  const { iptables } = await nodeIptables();
  // Each command fails for a rule or chain that is not there: that is the state wanted.
  for (const j of jumpRules()) {
    await run([iptables, '-w', '-t', 'nat', '-D', j.chain, ...j.args]).catch(() => undefined);
  }
  for (const c of chains) {
    await run([iptables, '-w', '-t', 'nat', '-F', c]).catch(() => undefined);
    await run([iptables, '-w', '-t', 'nat', '-X', c]).catch(() => undefined);
  }
}
