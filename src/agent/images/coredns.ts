// The built-in registry.k8s.io/coredns/coredns image: kubesvc's cluster DNS
// (`kubesvc dns`) in a pod. It takes `kubesvc dns` flags; a Corefile (-conf)
// is refused with a message saying so, rather than half-understood.
import { dnsCommand } from '../../cli/dns.js';
import { UsageError } from '../../cli/args.js';

export async function runCoreDns(args: string[]): Promise<void> {
  if (args.includes('-conf') || args.some((a) => a.startsWith('-conf='))) {
    process.stderr.write('kubesvc\'s built-in coredns image is configured with `kubesvc dns` flags (see `kubesvc dns --help`), not a Corefile (-conf)\n');
    process.exit(2);
  }
  try {
    await dnsCommand(args);
    process.exit(0);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`coredns: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}
