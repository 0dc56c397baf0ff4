// Containers as host processes: the launcher the pod runtime has used from
// the start (./launcher.ts is the seam an OCI runtime replaces it at).
//
// Per container run, one process tree in its own process group:
//   setpriv --pdeathsig KILL -- ip netns exec <netns> \
//     unshare --mount --uts --propagation private -- /bin/sh -c '<setup>; exec "$@"' sh argv...
// `ip netns exec` enters the pod's network namespace (and remounts /sys for
// it); unshare gives the container a private mount namespace and its own
// hostname; the setup script sets the hostname, bind-mounts the image's
// private directories and the volumes over their paths (creating a missing
// mount point on the host, e.g. /usr/share/nginx/html, the one thing written
// outside the state dir), and the pod's own files over /etc/hosts,
// /etc/resolv.conf and /etc/hostname (rather than /etc/netns/<netns>/, so
// nothing else is written outside the state dir), then execs the
// container's command. With everything exec'd in place, the pid spawned is
// the container's process. The parent-death signal ends it if the agent
// dies; a later agent kills whatever a crash left by the pid files
// (cleanupStaleProcesses).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { ContainerStartError, type ContainerExit, type ContainerHandle, type ContainerLauncher, type ContainerMount, type LaunchSpec } from './launcher.js';
import { which } from './probes.js';
import { shQuote } from './server-exec.js';

// ---------------------------------------------------------------------------
// Pid files and stale processes.

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** A pid file: "<pid> <start time>", so a reused pid is never mistaken for ours. */
export function writePidFile(path: string, pid: number): void {
  writeFileSync(path, `${pid} ${procStartTime(pid) ?? ''}\n`);
}

/** Kills the process (and its process group) a pid file names, when it is still that process. */
export function killByPidFile(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!(pid > 1)) return false;
  const now = procStartTime(pid);
  if (now === undefined || (start && now !== start)) return false;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already, or not a group leader
    }
  }
  return true;
}

function findPidFiles(dir: string, depth: number): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    if (name.endsWith('.pid') || name === 'pid') out.push(path);
    else if (depth > 0) {
      try {
        if (lstatSync(path).isDirectory()) out.push(...findPidFiles(path, depth - 1));
      } catch {
        // raced away
      }
    }
  }
  return out;
}

/**
 * After a crash: kills every process a pid file under the state dir names
 * (containers, the probe helper) and removes the old pods' state. Returns
 * how many processes were killed.
 */
export function cleanupStaleProcesses(stateDir: string): number {
  let killed = 0;
  for (const file of findPidFiles(stateDir, 3)) {
    if (killByPidFile(file)) killed++;
    rmSync(file, { force: true });
  }
  rmSync(join(stateDir, 'pods'), { recursive: true, force: true });
  return killed;
}

// ---------------------------------------------------------------------------
// The container's mount and UTS namespaces.

/** The setup run inside the new mount and UTS namespaces before the container's command. */
export function containerSetupScript(o: { hostname: string; mounts: ContainerMount[]; workingDir?: string }): string {
  const lines = ['set -e', `printf '%s' ${shQuote(o.hostname)} > /proc/sys/kernel/hostname`];
  for (const m of o.mounts) {
    lines.push(`mount --bind ${shQuote(m.source)} ${shQuote(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${shQuote(m.target)}`);
  }
  if (o.workingDir) lines.push(`cd ${shQuote(o.workingDir)}`);
  lines.push('set +e', 'exec "$@"');
  return lines.join('\n');
}

/** A mount point must exist on the host (the mount namespace is private, the file system is not). */
function ensureMountPoint(m: ContainerMount) {
  let isDir = true;
  try {
    isDir = statSync(m.source).isDirectory();
  } catch {
    // the source is made by the caller
  }
  try {
    const st = statSync(m.target);
    if (st.isDirectory() === isDir) return;
  } catch {
    // missing: create it below
  }
  if (isDir) mkdirSync(m.target, { recursive: true });
  else {
    mkdirSync(dirname(m.target), { recursive: true });
    if (!existsSync(m.target)) writeFileSync(m.target, '');
  }
}

/** /etc files of the host are often symlinks; mounting over one mounts over its target, which must exist. */
function etcTarget(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Where a command would be found on PATH (for the runtime's "executable file not found" start error). */
function findExecutable(cmd: string, path: string): boolean {
  const isExec = (p: string) => {
    try {
      const s = statSync(p);
      return s.isFile() && (s.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return isExec(cmd);
  return path.split(':').some((dir) => dir && isExec(join(dir, cmd)));
}

const signalNumber = (signal: NodeJS.Signals) => (osConstants.signals as Record<string, number>)[signal] ?? 9;

// ---------------------------------------------------------------------------
// The launcher.

export function createHostProcessLauncher(): ContainerLauncher {
  const tools = { setpriv: which('setpriv'), ip: which('ip'), unshare: which('unshare'), sh: existsSync('/bin/sh') ? '/bin/sh' : which('sh') };
  return {
    start(spec: LaunchSpec): ContainerHandle {
      for (const m of spec.mounts) ensureMountPoint(m);
      const mounts = [...spec.mounts];
      const etc: [string, string][] = [
        ['hosts', spec.etcFiles.hosts],
        ['resolv.conf', spec.etcFiles.resolvConf],
        ['hostname', spec.etcFiles.hostname],
      ];
      for (const [name, source] of etc) {
        const target = etcTarget(`/etc/${name}`);
        if (target) mounts.push({ source, target });
      }
      const argv0 = spec.argv[0] ?? '';
      if (!findExecutable(argv0, spec.env.PATH ?? '')) {
        throw new ContainerStartError(
          `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv0}": executable file not found in $PATH: unknown`,
        );
      }
      const script = containerSetupScript({ hostname: spec.hostname, mounts, workingDir: spec.workingDir });
      if (spec.workingDir && !existsSync(spec.workingDir)) mkdirSync(spec.workingDir, { recursive: true });
      const inner = [tools.ip, 'netns', 'exec', spec.netns, tools.unshare, '--mount', '--uts', '--propagation', 'private', '--', tools.sh, '-c', script, 'sh', ...spec.argv];
      const [file, args] = tools.setpriv.startsWith('/') ? [tools.setpriv, ['--pdeathsig', 'KILL', '--', ...inner]] : [inner[0], inner.slice(1)];
      const fd = openSync(spec.logFile, 'a');
      let child: ChildProcess;
      try {
        child = spawn(file, args, { cwd: '/', env: spec.env, stdio: ['ignore', fd, fd], detached: true });
      } finally {
        closeSync(fd);
      }
      let resolveExit!: (e: ContainerExit) => void;
      const exited = new Promise<ContainerExit>((resolve) => (resolveExit = resolve));
      child.on('error', (e) => resolveExit({ startError: e.message }));
      child.on('exit', (code, signal) => resolveExit({ exitCode: code ?? (signal ? 128 + signalNumber(signal) : 1) }));
      const pid = child.pid;
      let pidFile: string | undefined;
      if (pid) {
        pidFile = join(spec.stateDir, 'pid');
        try {
          writePidFile(pidFile, pid);
        } catch {
          // the pod's directory went away under us; the parent-death signal still holds
        }
      }
      return {
        pid,
        exited,
        kill(signal) {
          if (!pid) return;
          try {
            process.kill(-pid, signal);
          } catch {
            try {
              process.kill(pid, signal);
            } catch {
              // already gone
            }
          }
        },
        release() {
          if (pid) {
            // The container is its process group: whatever it left behind goes with it.
            try {
              process.kill(-pid, 'SIGKILL');
            } catch {
              // nothing left
            }
          }
          if (pidFile) rmSync(pidFile, { force: true });
        },
      };
    },
  };
}
