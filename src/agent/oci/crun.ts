// The OCI runtime binary (crun, else runc) driven for the node agent.
//
// A container runs in the foreground (`run`): the runtime process is the
// agent's child and the container's parent, its exit code is the
// container's (128+N when signal N ended it), and the container writes
// straight to the stdout and stderr it is given (the log file's descriptor,
// or pipes). Whether it started at all is the pid file: the runtime writes
// it once the container exists; without it the exit is the runtime's own
// failure (StartError, with the message from the runtime's JSON log).
// Signals go through `kill`, removal through `delete --force`, and after an
// agent crash `cleanup` deletes whatever the state directory still lists.
//
// OOM: a runtime that can keep the container after it exits (`run --keep`:
// runc, crun >= 1.15) lets the agent read the cgroup's OOM-kill count
// before deleting it; older crun removes the cgroup itself, and the kernel
// log says instead (./oom.ts).
//
// crun refuses hybrid hosts whose v2 tree holds controllers; there, runc is
// chosen, or (asked for crun) crun runs in a private mount namespace of its
// own where the v2 tree is unmounted, so it sees a v1 host. Every mount the
// host had when that runtime process started stays held by it while the
// container runs.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { CommandError, run as runCommand } from '../../net/ip.js';
import { which } from '../probes.js';
import { hybridWithV2Controllers, oomKillCount } from './cgroups.js';
import { oomKilledByLog } from './oom.js';
import type { OciSpec } from './types.js';

export type RuntimeKind = 'crun' | 'runc';

export interface OciRuntimeOptions {
  /** The runtime's state directory (--root), created; never the system default. */
  root: string;
  /**
   * 'auto' (the default): crun when it can create containers on this
   * host's cgroups, else runc when installed, else crun in its own mount
   * namespace. 'crun' or 'runc' to insist.
   */
  runtime?: RuntimeKind | 'auto';
}

export type Stdio = number | 'pipe' | 'ignore';

export interface RunOptions {
  id: string;
  /** The bundle: config.json and the root it names. The runtime's log (runtime.log) and pid file (init.pid) go there too. */
  bundle: string;
  stdin?: 'ignore' | 'pipe';
  stdout: Stdio;
  stderr: Stdio;
}

export type ExitReason = 'Completed' | 'Error' | 'OOMKilled' | 'StartError';

export interface ContainerExit {
  exitCode: number;
  /** The signal that ended the container (exit codes 129 and up). */
  signal?: NodeJS.Signals;
  /** The kernel's OOM killer struck in the container's cgroup while it ran. */
  oomKilled: boolean;
  /** The CRI's reason: StartError when the runtime could not start it (exit code 128). */
  reason: ExitReason;
  /** The runtime's error, for StartError. */
  message?: string;
}

export interface RunningContainer {
  id: string;
  /** The runtime process (with the container's stdio when piped). */
  process: ChildProcess;
  /** The container's init process on the host, once the runtime created it. */
  pid(): number | undefined;
  /** Resolves with the init process's pid as soon as the runtime writes it, or undefined when the run ended without one. */
  started: Promise<number | undefined>;
  exited: Promise<ContainerExit>;
}

export interface ContainerState {
  id: string;
  status: string;
  pid: number;
  bundle: string;
}

export interface ExecOptions {
  id: string;
  argv: readonly string[];
  /** A terminal inside the container; the runtime's stdin must then be one (e.g. under script(1)). */
  tty?: boolean;
  /** The container's working directory by default. */
  cwd?: string;
}

export interface OciRuntime {
  readonly kind: RuntimeKind;
  readonly binary: string;
  /** crun running in a mount namespace without the v2 cgroup tree. */
  readonly hidesUnifiedCgroup: boolean;
  /** `run --keep` exists: OOM kills are read from the cgroup. */
  readonly keeps: boolean;
  run(o: RunOptions): RunningContainer;
  /** Sends a signal to the container's init process (with `all`, to every process in its cgroup). */
  kill(id: string, signal?: NodeJS.Signals, all?: boolean): Promise<void>;
  /** `delete --force`: kills what runs and removes the container; nothing when it does not exist. */
  delete(id: string): Promise<void>;
  state(id: string): Promise<ContainerState | undefined>;
  list(): Promise<ContainerState[]>;
  /** The command line of `exec`, to spawn (under script(1) for a tty). */
  execArgv(o: ExecOptions): string[];
  exec(o: ExecOptions, stdio?: StdioOptions): ChildProcess;
  /** Deletes every container in the state directory (what a crashed agent left); returns their ids. */
  cleanup(): Promise<string[]>;
}

/** Runs the runtime with the v2 tree unmounted in a private mount namespace of its own. */
const HIDE_UNIFIED = ['unshare', '--mount', '--', 'sh', '-c', 'umount --lazy /sys/fs/cgroup/unified && exec "$@"', 'sh'];

const isPath = (p: string) => p.includes('/');

function pick(want: RuntimeKind | 'auto'): { kind: RuntimeKind; binary: string; hide: boolean } {
  const found = { crun: which('crun'), runc: which('runc') };
  const crunBlocked = hybridWithV2Controllers();
  if (want === 'runc' || (want === 'auto' && isPath(found.runc) && (crunBlocked || !isPath(found.crun)))) {
    if (!isPath(found.runc)) throw new Error('runc not found on PATH (Debian package runc)');
    return { kind: 'runc', binary: found.runc, hide: false };
  }
  if (!isPath(found.crun)) throw new Error('no OCI runtime found on PATH: install crun (Debian package crun) or runc');
  return { kind: 'crun', binary: found.crun, hide: crunBlocked };
}

/** The last error the runtime logged (JSON lines of {level, msg}). */
function runtimeError(logFile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  let last: string | undefined;
  for (const line of text.split('\n')) {
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if (rec.level === 'error' && rec.msg) last = rec.msg;
    } catch {
      if (line.trim()) last = line.trim();
    }
  }
  return last;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const signalName = (n: number) => (Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] as NodeJS.Signals | undefined);
const notFound = (e: unknown) => e instanceof CommandError && /does not exist|not found|no such file/i.test(e.stderr);

/** Opens the runtime for a state directory: which binary, how it is run, whether it keeps containers. */
export async function openRuntime(o: OciRuntimeOptions): Promise<OciRuntime> {
  const { kind, binary, hide } = pick(o.runtime ?? 'auto');
  mkdirSync(o.root, { recursive: true, mode: 0o700 });
  const help = await runCommand([binary, 'run', '--help']).catch((e: CommandError) => ({ stdout: e.stderr ?? '' }));
  const keeps = /--keep\b/.test(help.stdout);
  const base = [...(hide ? HIDE_UNIFIED : []), binary, `--root=${o.root}`];
  const argv = (...args: string[]) => [...base, ...args];

  function finish(id: string, spec: OciSpec, pidFile: string, logFile: string, code: number | null, signal: NodeJS.Signals | null): Promise<ContainerExit> {
    // Kept, or its runtime process killed: the container is still listed.
    const remove = () => (keeps || signal ? runtime.delete(id).catch(() => {}) : Promise.resolve());
    if (!existsSync(pidFile)) {
      const message = runtimeError(logFile) ?? (signal ? `${kind} was killed by ${signal}` : `${kind} exited with code ${code}`);
      return remove().then(() => ({ exitCode: 128, oomKilled: false, reason: 'StartError', message }));
    }
    const exitCode = code ?? 128 + (osConstants.signals[signal!] ?? 9);
    const cgroup = spec.linux.cgroupsPath ?? '';
    let oomKilled = false;
    if (cgroup && keeps) oomKilled = (oomKillCount(cgroup) ?? 0) > 0;
    else if (cgroup && spec.linux.resources.memory?.limit) oomKilled = oomKilledByLog(cgroup);
    const result: ContainerExit = {
      exitCode,
      oomKilled,
      reason: oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
      ...(exitCode > 128 && signalName(exitCode - 128) ? { signal: signalName(exitCode - 128) } : {}),
    };
    return remove().then(() => result);
  }

  const runtime: OciRuntime = {
    kind,
    binary,
    hidesUnifiedCgroup: hide,
    keeps,

    run(o) {
      const pidFile = join(o.bundle, 'init.pid');
      const logFile = join(o.bundle, 'runtime.log');
      rmSync(pidFile, { force: true });
      rmSync(logFile, { force: true });
      const spec = JSON.parse(readFileSync(join(o.bundle, 'config.json'), 'utf8')) as OciSpec;
      const args = argv(`--log=${logFile}`, '--log-format=json', 'run', ...(keeps ? ['--keep'] : []), `--bundle=${o.bundle}`, `--pid-file=${pidFile}`, o.id);
      // The pid file is watched for (inotify) rather than polled: the start is seen the moment the runtime writes it.
      let settleStart!: (pid: number | undefined) => void;
      const started = new Promise<number | undefined>((resolve) => (settleStart = resolve));
      let watcher: FSWatcher | undefined;
      const startedWith = (pid: number | undefined) => {
        watcher?.close();
        watcher = undefined;
        settleStart(pid);
      };
      try {
        watcher = watch(o.bundle, (_event, name) => {
          const pid = name === 'init.pid' ? readPid(pidFile) : undefined;
          if (pid !== undefined) startedWith(pid);
        });
        watcher.on('error', () => undefined);
      } catch {
        // no inotify: the end of the run says
      }
      const child = spawn(args[0]!, args.slice(1), { cwd: o.bundle, stdio: [o.stdin ?? 'ignore', o.stdout, o.stderr], detached: true });
      child.on('close', () => startedWith(readPid(pidFile)));
      const exited = new Promise<ContainerExit>((resolve) => {
        let failed: Error | undefined;
        child.on('error', (e) => (failed = e));
        child.on('close', (code, signal) => {
          if (failed) resolve({ exitCode: 128, oomKilled: false, reason: 'StartError', message: `cannot run ${kind}: ${failed.message}` });
          else void finish(o.id, spec, pidFile, logFile, code, signal).then(resolve);
        });
      });
      return { id: o.id, process: child, pid: () => readPid(pidFile), started, exited };
    },

    async kill(id, signal = 'SIGTERM', all = false) {
      await runCommand(argv('kill', ...(all ? ['--all'] : []), id, String(osConstants.signals[signal])));
    },

    async delete(id) {
      try {
        await runCommand(argv('delete', '--force', id));
      } catch (e) {
        if (!notFound(e)) throw e;
      }
    },

    async state(id) {
      try {
        return JSON.parse((await runCommand(argv('state', id))).stdout) as ContainerState;
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },

    async list() {
      const out = (await runCommand(argv('list', '--format=json'))).stdout.trim();
      return (out && out !== 'null' ? JSON.parse(out) : []) as ContainerState[];
    },

    execArgv(o) {
      return argv(
        'exec',
        ...(o.tty ? ['--tty'] : []),
        ...(o.cwd ? [`--cwd=${o.cwd}`] : []),
        o.id,
        ...o.argv,
      );
    },

    exec(o, stdio = ['pipe', 'pipe', 'pipe']) {
      const args = runtime.execArgv(o);
      return spawn(args[0]!, args.slice(1), { stdio });
    },

    async cleanup() {
      const ids = (await runtime.list()).map((c) => c.id);
      for (const id of ids) await runtime.delete(id);
      return ids;
    },
  };
  return runtime;
}
