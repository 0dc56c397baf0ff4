// Starts the real `kubesvc` command as a child process (through tsx, so the
// sources under test run without a build) and waits for its ready line.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '../..');

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Runs `kubesvc ARGS`; inside network namespace `netns` when given (ip netns exec replaces itself, so signals reach kubesvc).
 * `enter: 'network-only'` enters only the network namespace (nsenter), keeping the machine's mounts — for a
 * command that makes network namespaces of its own (`join`), whose /run/netns mounts `ip netns exec`'s private
 * mount namespace would keep from everyone else.
 */
export function startCli(args: string[], env: Record<string, string> = {}, netns?: string, enter: 'ip-netns-exec' | 'network-only' = 'ip-netns-exec'): CliProcess {
  const argv = [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...withoutEgress(args)];
  if (netns) argv.unshift(...(enter === 'network-only' ? ['nsenter', `--net=/run/netns/${netns}`, '--'] : ['ip', 'netns', 'exec', netns]));
  const child = spawn(argv[0], argv.slice(1), {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/**
 * A cluster a test starts never touches the machine's network: `up` and `join` get
 * --no-egress unless the test says otherwise (test/e2e/egress.test.ts, with its stand-in outside).
 */
export function withoutEgress(args: string[]): string[] {
  return (args[0] === 'up' || args[0] === 'join') && !args.some((a) => a === '--no-egress' || a.startsWith('--egress')) ? [...args, '--no-egress'] : args;
}

export async function waitForOutput(p: CliProcess, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = p.output().match(pattern);
    if (m) return m;
    if (p.child.exitCode !== null) throw new Error(`process exited (${p.child.exitCode}) before printing ${pattern}:\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
