// Applies the userspace mode's rules with iptables-restore (one transaction)
// in the network namespace this process runs in, and removes them on stop.
import { run } from '../../net/ip.js';
import { chains, jumpRules, renderRules, type PortalRule, type RuleContext } from './rules.js';

async function ensureJump(chain: string, args: string[]): Promise<void> {
  try {
    await run(['iptables', '-w', '-t', 'nat', '-C', chain, ...args]);
  } catch {
    await run(['iptables', '-w', '-t', 'nat', '-I', chain, ...args]);
  }
}

export async function applyRules(rules: PortalRule[], ctx: RuleContext): Promise<void> {
  // Chains first (restore declares them), then the jumps into them.
  await run(['iptables-restore', '-w', '--noflush'], { input: renderRules(rules, ctx) });
  for (const j of jumpRules()) await ensureJump(j.chain, j.args);
}

export async function removeRules(): Promise<void> {
  // Each command fails for a rule or chain that is not there: that is the state wanted.
  for (const j of jumpRules()) {
    await run(['iptables', '-w', '-t', 'nat', '-D', j.chain, ...j.args]).catch(() => undefined);
  }
  for (const c of chains) {
    await run(['iptables', '-w', '-t', 'nat', '-F', c]).catch(() => undefined);
    await run(['iptables', '-w', '-t', 'nat', '-X', c]).catch(() => undefined);
  }
}
