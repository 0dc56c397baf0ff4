#!/usr/bin/env -S node --max-semi-space-size=2
// The `kubesvc` command. The node flag caps V8's young generation at 2 MB per
// half: `up` idles ~10 MB smaller, at no cost measured by bench/apiserver.
import { UsageError } from './args.js';
import { errorMessage } from '../util/errors.js';

const usage = `kubesvc — Kubernetes Service networking in one local cluster

Usage: kubesvc <command> [flags]

Commands:
  up          start a local cluster (API server on embedded SQLite, controllers)
  apiserver   run the API server alone
  controllers run the controllers against an API server (kubeconfig or data dir)
  agent       run one node: its network namespace and the pods bound to it
  proxy       run the service proxy in the current (node's) network namespace
  dns         run the cluster DNS server (the Kubernetes DNS specification) against an API server
  exec        run a command on a node's network (kubesvc exec -- curl 10.96.0.1)
  status      the cluster at a glance: nodes, system pods, services and their ready endpoints
  trace       one real probe to a Service, with the kernel's path for its packet explained
  down        remove what a crashed cluster left behind (namespaces, links, processes)
  images      the data dir's image store: load a docker-save/OCI archive, pull, ls, rm
  token       bootstrap tokens for joining nodes: create [--print-join-command], list, delete
  join        make this machine a node of a cluster elsewhere (kubeadm join's way)
  addons      install kube-proxy and the cluster DNS on a control plane 'up' did not start
  help        show this help

Run 'kubesvc <command> --help' for a command's flags.`;

type Command = (argv: string[]) => Promise<void>;

/** Each command's module loads when it runs: `kubesvc exec` does not load the API server. */
const commands: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./up.js')).upCommand,
  apiserver: async () => (await import('./apiserver.js')).apiserverCommand,
  controllers: async () => (await import('./controllers.js')).controllersCommand,
  agent: async () => (await import('./agent.js')).agentCommand,
  proxy: async () => (await import('./proxy.js')).proxyCommand,
  dns: async () => (await import('./dns.js')).dnsCommand,
  exec: async () => (await import('./exec.js')).execCommand,
  status: async () => (await import('./status.js')).statusCommand,
  trace: async () => (await import('./trace.js')).traceCommand,
  down: async () => (await import('./down.js')).downCommand,
  images: async () => (await import('./images.js')).imagesCommand,
  token: async () => (await import('./token.js')).tokenCommand,
  join: async () => (await import('./join.js')).joinCommand,
  addons: async () => (await import('./addons.js')).addonsCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage);
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    console.error(`kubesvc: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  await (await load())(rest);
  return 0;
}

main(process.argv.slice(2)).then(
  // A command may set process.exitCode (exec passes on its child's).
  (code) => process.exit(typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`kubesvc: ${err.message}`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE') {
      console.error(`kubesvc: the address is already in use (${e.message.replace(/^listen EADDRINUSE: address already in use /, '')}); stop what uses it or pick another with --port`);
    } else {
      console.error(`kubesvc: ${errorMessage(err)}`);
    }
    process.exit(1);
  },
);
