// Short commands of a pod's start (the `ip` batches of its sandbox, the
// mounts of its namespaces, volumes and root) run through one long-lived
// `sh` instead of being spawned by the agent itself: Node forks the whole
// agent process for every spawn and waits, its event loop stopped, until
// the child has exec'd — milliseconds for a process of the agent's size,
// more on a loaded machine — where the small shell forks in a fraction of
// that while the agent goes on. Each command is a background job of the
// shell (so several run at once), its standard input, output and error
// files in a private directory; the shell reports the job's pid and exit
// status, one line each. Results and failures are those of net/ip.ts's
// run (CommandError, the same timeout). The shell ends when the agent's end
// of its standard input closes (the agent exited, crash or not), and its
// directory goes with it (or, when the shell was killed too, with the next
// agent's first command); one that
// dies is started again at the next command, and without a shell at all
// the commands are spawned directly.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CommandError, run, type RunOptions, type RunResult } from './ip.js';
import { shQuote } from '../util/shell-quote.js';

interface Job {
  argv: readonly string[];
  pid?: number;
  timer?: NodeJS.Timeout;
  timedOut?: boolean;
  settle(code: number): void;
  fail(detail: string): void;
}

interface Shell {
  child: ChildProcessByStdio<Writable, Readable, null>;
  dir: string;
  jobs: Map<number, Job>;
  /** Commands run so far: a shell that has run many is retired once idle (sh keeps a record of every job). */
  used: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const RETIRE_AFTER = 500;
let shell: Shell | undefined;
let nextId = 0;
let unavailable = false;

const files = (dir: string, id: number) => ({ in: join(dir, `${id}.in`), out: join(dir, `${id}.out`), err: join(dir, `${id}.err`) });

/** The shell's handles keep the process alive only while commands are under way. */
function holdWhileBusy(s: Shell): void {
  const busy = s.jobs.size > 0;
  for (const h of [s.child, s.child.stdout, s.child.stdin] as { ref?(): void; unref?(): void }[]) {
    if (busy) h.ref?.();
    else h.unref?.();
  }
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const dirPrefix = 'kubesvc-sh-';

/** Job directories of agents gone without removing theirs (the whole process group killed at once): removed. */
function removeOrphanedDirs(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^kubesvc-sh-(\d+)-/.exec(name)?.[1];
    if (!pid || Number(pid) === process.pid) continue;
    try {
      process.kill(Number(pid), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') removeDir(join(tmpdir(), name));
    }
  }
}

function startShell(): Shell | undefined {
  let dir: string;
  try {
    removeOrphanedDirs();
    dir = mkdtempSync(join(tmpdir(), `${dirPrefix}${process.pid}-`));
  } catch {
    return undefined;
  }
  // The job shell reads its commands from standard input; when that closes (the agent exited, even killed), the
  // outer shell removes the job files' directory.
  const child = spawn('sh', ['-c', 'sh; rm -rf -- "$0"', dir], { stdio: ['pipe', 'pipe', 'ignore'] });
  const s: Shell = { child, dir, jobs: new Map(), used: 0 };
  const cleanup = () => removeDir(dir);
  process.once('exit', cleanup);
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const m = /^(\d+) (pid|exit) (\d+)$/.exec(line);
      const job = m && s.jobs.get(Number(m[1]));
      if (!m || !job) continue;
      if (m[2] === 'pid') job.pid = Number(m[3]);
      else job.settle(Number(m[3]));
    }
  });
  child.stdin.on('error', () => undefined);
  const gone = (why: string) => {
    if (shell === s) shell = undefined;
    process.removeListener('exit', cleanup);
    for (const job of [...s.jobs.values()]) job.fail(why);
    removeDir(dir);
  };
  child.on('error', (e) => {
    unavailable = true;
    gone(`cannot run: the command shell did not start: ${e.message}`);
  });
  child.on('close', () => gone('the command shell exited'));
  holdWhileBusy(s);
  return s;
}

/**
 * Runs argv[0] with the rest as arguments through the command shell, as
 * net/ip.ts's run does it directly: resolves with its output when it exits
 * 0, else rejects with a CommandError.
 */
export function shellRun(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (unavailable) return run(argv, opts);
  const s = (shell ??= startShell());
  if (!s) return run(argv, opts);
  const id = nextId++;
  const f = files(s.dir, id);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const finish = () => {
      clearTimeout(job.timer);
      s.jobs.delete(id);
      // sh reaps its finished jobs when it reads a command: an empty one.
      s.child.stdin.write(':\n');
      if (s.used >= RETIRE_AFTER && s.jobs.size === 0 && shell === s) {
        shell = undefined;
        s.child.stdin.end();
      }
      holdWhileBusy(s);
      const read = (file: string) => {
        try {
          return readFileSync(file, 'utf8');
        } catch {
          return '';
        }
      };
      const out = { stdout: read(f.out), stderr: read(f.err) };
      for (const file of [f.in, f.out, f.err]) rmSync(file, { force: true });
      return out;
    };
    const job: Job = {
      argv,
      settle(code) {
        const { stdout, stderr } = finish();
        if (code === 0 && !job.timedOut) return resolve({ stdout, stderr });
        // The shell's status: 127 the command was not found, 128+N killed by signal N.
        const why = job.timedOut ? `timed out after ${timeoutMs} ms` : code === 127 && /not found/.test(stderr) ? `cannot run: ${stderr.trim()}` : `exit code ${code}`;
        reject(new CommandError(argv, code, stderr, `${why}${stderr.trim() && code !== 127 ? `: ${stderr.trim()}` : ''}`));
      },
      fail(detail) {
        finish();
        reject(new CommandError(argv, null, '', detail));
      },
    };
    job.timer = setTimeout(() => {
      job.timedOut = true;
      if (job.pid) {
        try {
          process.kill(job.pid, 'SIGKILL');
        } catch {
          // ended meanwhile
        }
      }
    }, timeoutMs);
    job.timer.unref();
    s.jobs.set(id, job);
    s.used++;
    holdWhileBusy(s);
    try {
      writeFileSync(f.in, opts.input ?? '');
    } catch (e) {
      job.fail(`cannot run: ${(e as Error).message}`);
      return;
    }
    const command = argv.map(shQuote).join(' ');
    s.child.stdin.write(`{ ${command} <${shQuote(f.in)} >${shQuote(f.out)} 2>${shQuote(f.err)} & echo "${id} pid $!"; wait $!; echo "${id} exit $?"; } &\n`);
  });
}
