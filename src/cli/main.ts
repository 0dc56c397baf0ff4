#!/usr/bin/env node
// The `kubesvc` command.
import { apiserverCommand } from './apiserver.js';
import { UsageError } from './args.js';
import { controllersCommand } from './controllers.js';
import { upCommand } from './up.js';

const usage = `kubesvc — Kubernetes Service networking in one local cluster

Usage: kubesvc <command> [flags]

Commands:
  up          start a local cluster (API server on embedded SQLite, controllers)
  apiserver   run the API server alone
  controllers run the controllers against an API server (kubeconfig or data dir)
  help        show this help

Run 'kubesvc <command> --help' for a command's flags.`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  up: upCommand,
  apiserver: apiserverCommand,
  controllers: controllersCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`kubesvc: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  await command(rest);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`kubesvc: ${err.message}`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE') {
      console.error(`kubesvc: the address is already in use (${e.message.replace(/^listen EADDRINUSE: address already in use /, '')}); stop what uses it or pick another with --port`);
    } else {
      console.error(`kubesvc: ${e instanceof Error ? e.message : String(err)}`);
    }
    process.exit(1);
  },
);
