// `kubesvc exec [--node NAME] -- CMD...`: a command on a node's network — the
// way to curl a ClusterIP or NodePort, or dig the cluster DNS, from inside.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { netnsExists } from '../net/ip.js';
import { parseFlags, UsageError } from './args.js';
import { knownNodes, nodeNetns } from './nodes.js';

export const execUsage = `Usage: kubesvc exec [--data-dir .kubesvc] [--node node-1] -- COMMAND [ARGS...]

Runs COMMAND in the network namespace of a node of the cluster kept in the data dir.`;

export async function execCommand(argv: string[]): Promise<void> {
  const dash = argv.indexOf('--');
  const { values } = parseFlags(dash >= 0 ? argv.slice(0, dash) : argv, {
    'data-dir': { type: 'string' },
    node: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(execUsage);
    return;
  }
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  if (!command.length) throw new UsageError(`a command is required after --\n\n${execUsage}`);
  if (process.getuid?.() !== 0) throw new UsageError('exec enters a network namespace, which needs root');
  const dataDir = resolve(values['data-dir'] ?? '.kubesvc');
  const node = values.node ?? knownNodes(dataDir)[0];
  if (!node) throw new UsageError(`no node of a cluster in ${dataDir}: start one with 'kubesvc up'`);
  const netns = nodeNetns(dataDir, node);
  if (!(await netnsExists(netns))) throw new UsageError(`node ${node} is not running (no network namespace ${netns}); is 'kubesvc up' running?`);
  const child = spawn('ip', ['netns', 'exec', netns, ...command], { stdio: 'inherit' });
  const code = await new Promise<number>((done) => {
    child.on('exit', (c, signal) => done(c ?? (signal ? 128 : 1)));
    child.on('error', () => done(127));
  });
  process.exitCode = code;
}
