// The built-in images of the cluster's own components: kubesvc's commands in
// pods. registry.k8s.io/coredns/coredns runs `kubesvc dns` (configured with its
// flags: a Corefile, -conf, is refused with a message rather than
// half-understood); registry.k8s.io/kube-proxy runs `kubesvc proxy` (kube-proxy's
// flags, its KubeProxyConfiguration from a file or a ConfigMap).
// Each component's command is imported when it runs: a kube-proxy process does not load the DNS server.
import { UsageError } from '../cli/args.js';

async function runComponent(name: string, command: (argv: string[]) => Promise<void>, args: string[]): Promise<void> {
  try {
    await command(args);
    process.exit(0);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${name}: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

export async function runCoreDns(args: string[]): Promise<void> {
  if (args.includes('-conf') || args.some((a) => a.startsWith('-conf='))) {
    process.stderr.write('kubesvc\'s built-in coredns image is configured with `kubesvc dns` flags (see `kubesvc dns --help`), not a Corefile (-conf)\n');
    process.exit(2);
  }
  await runComponent('coredns', (await import('../cli/dns.js')).dnsCommand, args);
}

export async function runKubeProxy(args: string[]): Promise<void> {
  await runComponent('kube-proxy', (await import('../cli/proxy.js')).proxyCommand, args);
}
