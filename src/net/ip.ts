// Thin adapter around iproute2's `ip`: every call names the command that failed
// and what `ip` said, and batches go through one `ip -batch -` process because
// a spawn costs far more than the netlink work it does.
import { spawn } from 'node:child_process';
import { readdir, readlink, stat } from 'node:fs/promises';

export const NETNS_DIR = '/run/netns';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the child's stdin (then closed). */
  input?: string;
  /** Kills the child (SIGKILL) and fails after this long; default 30 s. */
  timeoutMs?: number;
}

/** A command that exited non-zero, was killed, or could not start. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    /** What went wrong, without the command line. */
    readonly detail: string,
  ) {
    super(`${argv.join(' ')}: ${detail}`);
    this.name = 'CommandError';
  }
}

/** Runs argv[0] with the rest as arguments; resolves with its output when it exits 0. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CommandError(argv, null, '', `cannot run: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) return resolve({ stdout, stderr });
      const why = timedOut
        ? `timed out after ${opts.timeoutMs ?? 30_000} ms`
        : signal
          ? `killed by ${signal}`
          : `exit code ${code}`;
      reject(new CommandError(argv, code, stderr, `${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
    // The child may exit before reading stdin (e.g. bad arguments); that is reported by 'close'.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** `ip [-n NS] ARGS...` */
export function ip(args: readonly string[], netns?: string): Promise<RunResult> {
  return run(['ip', ...(netns ? ['-n', netns] : []), ...args]);
}

/**
 * `ip [-n NS] -batch -` with one command per line, applied in order; stops at
 * the first failure and names the failing line. An empty batch runs nothing.
 * `runner` starts the process (run, or one with run's results).
 */
export async function ipBatch(lines: readonly string[], netns?: string, runner: typeof run = run): Promise<void> {
  if (lines.length === 0) return;
  for (const line of lines) {
    if (/[\n\r]/.test(line)) throw new Error(`ip batch line contains a newline: ${JSON.stringify(line)}`);
  }
  const argv = ['ip', ...(netns ? ['-n', netns] : []), '-batch', '-'];
  try {
    await runner(argv, { input: lines.join('\n') + '\n' });
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    const m = /Command failed -:(\d+)/.exec(e.stderr);
    const failed = m ? lines[Number(m[1]) - 1] : undefined;
    const said = e.stderr.replace(/Command failed -:\d+\s*/g, '').trim();
    const where = netns ? ` in netns ${netns}` : '';
    throw new CommandError(
      argv,
      e.exitCode,
      e.stderr,
      failed !== undefined ? `"ip ${failed}"${where} failed: ${said || e.detail}` : e.detail,
    );
  }
}

/** `ip -j ...` parsed; `ip` prints nothing (not `[]`) for some empty lists. */
export async function ipJson<T>(args: readonly string[], netns?: string): Promise<T[]> {
  const { stdout } = await ip(['-j', ...args], netns);
  return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
}

// --- network namespaces ---------------------------------------------------------

/** Names of the named network namespaces (entries of /run/netns), optionally only those starting with prefix. */
export async function listNetns(prefix = ''): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(NETNS_DIR);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.filter((n) => n.startsWith(prefix)).sort();
}

export async function netnsExists(name: string): Promise<boolean> {
  return (await listNetns(name)).includes(name);
}

/** `ip netns add NAME`; with `ifMissing`, an existing namespace of that name is fine. */
export async function addNetns(name: string, opts: { ifMissing?: boolean } = {}): Promise<void> {
  try {
    await ip(['netns', 'add', name]);
  } catch (e) {
    if (opts.ifMissing && e instanceof CommandError && /File exists/.test(e.stderr)) return;
    throw e;
  }
}

/** `ip netns delete NAME`; a namespace that does not exist is not an error. */
export async function deleteNetns(name: string): Promise<void> {
  try {
    await ip(['netns', 'delete', name]);
  } catch (e) {
    if (e instanceof CommandError && /No such file or directory/.test(e.stderr)) return;
    throw e;
  }
}

/**
 * Pids of the processes living in each named namespace, found in one pass over
 * /proc (what `ip netns pids` does, for many namespaces at once and without a spawn).
 * Namespaces that do not exist map to no pids.
 */
export async function netnsPids(names: readonly string[]): Promise<Map<string, number[]>> {
  const result = new Map<string, number[]>(names.map((n) => [n, []]));
  const byInode = new Map<number, string>();
  await Promise.all(
    names.map(async (name) => {
      try {
        byInode.set((await stat(`${NETNS_DIR}/${name}`)).ino, name);
      } catch {
        // no such namespace
      }
    }),
  );
  if (byInode.size === 0) return result;
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  await Promise.all(
    pids.map(async (pid) => {
      let link: string;
      try {
        link = await readlink(`/proc/${pid}/ns/net`);
      } catch {
        return; // exited, or a kernel thread
      }
      const m = /^net:\[(\d+)\]$/.exec(link);
      const name = m ? byInode.get(Number(m[1])) : undefined;
      if (name) result.get(name)!.push(Number(pid));
    }),
  );
  for (const list of result.values()) list.sort((a, b) => a - b);
  return result;
}

/**
 * SIGKILLs every process living in the namespaces (never this process) and
 * waits, up to `waitMs`, until they have left them, so a namespace deleted
 * afterwards really goes away. Returns the pids it killed.
 */
export async function killNetnsProcesses(names: readonly string[], waitMs = 2000): Promise<number[]> {
  const killed: number[] = [];
  for (const pids of (await netnsPids(names)).values()) {
    for (const pid of pids) {
      if (pid === process.pid) continue;
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      } catch {
        // already gone
      }
    }
  }
  // A dead process drops its namespaces before it is reaped, so a zombie no longer counts.
  const deadline = Date.now() + waitMs;
  let left = killed;
  while (left.length > 0 && Date.now() < deadline) {
    const still = await Promise.all(left.map((pid) => readlink(`/proc/${pid}/ns/net`).then(() => true, () => false)));
    left = left.filter((_, i) => still[i]);
    if (left.length > 0) await new Promise((r) => setTimeout(r, 10));
  }
  return killed;
}

/** argv that runs argv inside the namespace, for callers that spawn long-lived processes themselves. */
export function netnsExecArgv(netns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', netns, ...argv];
}

/** Runs argv inside the namespace and waits for it to exit 0. */
export function execInNetns(netns: string, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(netnsExecArgv(netns, argv), opts);
}

/**
 * Sets sysctls inside a namespace with one `sysctl -w` process: /proc/sys/net
 * shows the namespace of the process that opens it, so it cannot be written from here.
 */
export async function setSysctlsInNetns(
  netns: string,
  values: Record<string, string | number>,
  opts: { ignoreUnknown?: boolean } = {},
): Promise<void> {
  const pairs = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  if (pairs.length === 0) return;
  await execInNetns(netns, ['sysctl', '-q', ...(opts.ignoreUnknown ? ['-e'] : []), '-w', ...pairs]);
}

/** `ip [-n NS] link del NAME`; a link (or namespace) that does not exist is not an error. */
export async function deleteLinkIfExists(name: string, netns?: string): Promise<void> {
  try {
    await ip(['link', 'del', 'dev', name], netns);
  } catch (e) {
    if (e instanceof CommandError && /Cannot find device|Cannot open network namespace/.test(e.stderr)) return;
    throw e;
  }
}
