// What a pod's containers share besides the network namespace: an IPC and a
// UTS namespace, pinned to files in the pod's sandbox directory (bind mounts
// of the namespaces, as `ip netns add` pins network namespaces and cri-o's
// pinns does) so that no process has to hold them, with the pod's hostname
// set once; and a tmpfs for the pod's /dev/shm (POSIX shared memory belongs
// with the IPC namespace, so the containers share one, as containerd gives
// them the sandbox's). A hostIPC pod gets neither: its containers take the
// host's IPC namespace and bind the host's /dev/shm, as containerd does.
// Containers join by path (spec.ts PodNamespaces).
//
// A pod that shares one PID namespace (shareProcessNamespace) needs a
// process to be its PID 1: the pause container (spec.ts pauseSpec) on a
// read-only view of the host's programs, run by the runtime like any
// container. Its PID namespace is pinned to a file too, and the containers
// join that file rather than /proc/<pid>/ns/pid: should the pause process
// end and its pid be reused, the path would name another process's
// namespace, where the pinned file names the pod's (dead) one, which the
// runtime then fails to enter. A PID namespace whose PID 1 ended takes no
// new process (the kernel killed the rest of it), so the pod's next
// container needs a new pause container (the launcher's part).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../net/ip.js';
import type { OciRuntime, RunningContainer } from './crun.js';
import { shellRun } from '../../net/command-shell.js';
import type { HostFeatures } from './host.js';
import { unmountAllUnder } from './mount.js';
import { prepareHostView } from './rootfs.js';
import { pauseSpec, type PodNamespaces } from './spec.js';

export interface PodNamespaceFiles {
  /** The pinned IPC namespace, or "host" (hostIPC). */
  ipc: string;
  uts: string;
  /** The pod's /dev/shm, for the spec's shm: its tmpfs, or the host's /dev/shm (hostIPC). */
  shm: string;
}

/** The kernel's limit on a hostname. */
const MAX_HOSTNAME = 64;

/** containerd's sandbox /dev/shm: 64 MiB. */
export const DEFAULT_SHM_SIZE = '65536k';

/** The host's POSIX shared memory, which hostIPC pods see. */
export const HOST_SHM = '/dev/shm';

/**
 * Creates the pod's UTS namespace (with `hostname`) under `dir` and, unless
 * the pod uses the host's (hostIPC), its IPC namespace and /dev/shm.
 */
export async function createPodNamespaces(o: { dir: string; hostname: string; shmSize?: string; hostIPC?: boolean }): Promise<PodNamespaceFiles> {
  if (!o.hostname || o.hostname.length > MAX_HOSTNAME) throw new Error(`invalid hostname "${o.hostname}"`);
  const files: PodNamespaceFiles = o.hostIPC
    ? { ipc: 'host', uts: join(o.dir, 'uts'), shm: HOST_SHM }
    : { ipc: join(o.dir, 'ipc'), uts: join(o.dir, 'uts'), shm: join(o.dir, 'shm') };
  mkdirSync(o.dir, { recursive: true });
  writeFileSync(files.uts, '');
  if (!o.hostIPC) {
    mkdirSync(files.shm, { recursive: true });
    writeFileSync(files.ipc, '');
  }
  try {
    // One process: the hostname set in the new UTS namespace, and the /dev/shm tmpfs mounted (in the host's mount namespace, which it keeps).
    const shmOptions = ['nosuid', 'nodev', 'noexec', 'mode=1777', `size=${o.shmSize ?? DEFAULT_SHM_SIZE}`].join(',');
    const script = `printf %s "$1" > /proc/sys/kernel/hostname${o.hostIPC ? '' : ' && exec mount -t tmpfs -o "$3" tmpfs "$2"'}`;
    await shellRun(['unshare', ...(o.hostIPC ? [] : [`--ipc=${files.ipc}`]), `--uts=${files.uts}`, '--', 'sh', '-c', script, 'sh', o.hostname, files.shm, shmOptions]);
  } catch (e) {
    await removePodNamespaces(o.dir);
    throw e;
  }
  return files;
}

/** Releases the pod's namespaces and /dev/shm and removes `dir`. */
export async function removePodNamespaces(dir: string): Promise<void> {
  await unmountAllUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Whether `p` settles within `ms`. */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** How long the runtime gets to report the end of a killed pause container before its own process is killed. */
const STOP_WAIT_MS = 10_000;

export interface PauseOptions {
  runtime: OciRuntime;
  /** The runtime's id for it, new per run (its cgroup is named after it). */
  id: string;
  /** Its own directory: bundle, host view, the pinned PID namespace; stop() removes it. */
  dir: string;
  hostname: string;
  /** The pod's other namespaces, joined. */
  namespaces: Omit<PodNamespaces, 'pid'>;
  cgroupsPath: string;
  /** Host paths inside the host view it must not see (the data dir). */
  hide?: readonly string[];
  /** The kubelet's for a pod's infrastructure container: -998. */
  oomScoreAdj?: number;
  host?: HostFeatures;
}

export interface PauseContainer {
  readonly id: string;
  /** The pause process on the host. */
  readonly pid: number;
  /** The pod's PID namespace, pinned to a file: what its containers join (PodNamespaces.pid). */
  readonly pidNamespace: string;
  /** Whether the pause process still runs; once it ended, its namespace takes no new process. */
  alive(): boolean;
  /** Kills it (as containerd stops a sandbox: SIGKILL), deletes it from the runtime and removes its directory and pin. Idempotent. */
  stop(): Promise<void>;
}

/** Whether process `pid` is in the cgroup `cgroupsPath` (as this process's cgroup namespace shows it, possibly shorter). */
function inCgroup(pid: number, cgroupsPath: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').some((l) => l.endsWith(cgroupsPath));
  } catch {
    return false;
  }
}

/**
 * Pins the PID namespace of the pause process `pid` at `file`. Throws when
 * the process is not the pause container's any more afterwards: it may have
 * ended and its pid gone to another process before the bind was made. (Only
 * the pause process and its children are in its cgroup, and the children
 * die with it.)
 */
async function pinPidNamespace(pid: number, file: string, cgroupsPath: string): Promise<void> {
  writeFileSync(file, '');
  await run(['mount', '--bind', `/proc/${pid}/ns/pid`, file]);
  if (!inCgroup(pid, cgroupsPath)) throw new Error(`the pause process ${pid} ended before its PID namespace was pinned`);
}

/** Runs a pod's pause container and pins its PID namespace; resolves once it runs. Throws (and leaves nothing) when it cannot. */
export async function startPause(o: PauseOptions): Promise<PauseContainer> {
  const bundle = join(o.dir, 'bundle');
  const pinned = join(o.dir, 'pid');
  let c: RunningContainer | undefined;
  let ended = false;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (c && !ended) {
        await o.runtime.kill(o.id, 'SIGKILL', true).catch(() => undefined);
        if (!(await settlesWithin(c.exited, STOP_WAIT_MS))) {
          await o.runtime.delete(o.id).catch(() => undefined);
          c.process.kill('SIGKILL');
          await c.exited;
        }
      }
      if (c) await o.runtime.delete(o.id).catch(() => undefined);
      await unmountAllUnder(o.dir);
      rmSync(o.dir, { recursive: true, force: true });
    })());
  try {
    const view = await prepareHostView({ dir: o.dir, hide: o.hide, readonly: true });
    const spec = pauseSpec({ rootfs: view.rootfs, rootMounts: view.mounts, hostname: o.hostname, cgroupsPath: o.cgroupsPath, namespaces: o.namespaces, oomScoreAdj: o.oomScoreAdj, host: o.host });
    mkdirSync(bundle, { recursive: true });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const running = o.runtime.run({ id: o.id, bundle, stdout: 'ignore', stderr: 'ignore' });
    c = running;
    const exited = running.exited.then((exit) => {
      ended = true;
      return exit;
    });
    const pid = await running.started;
    if (pid === undefined || ended) {
      const exit = await exited;
      throw new Error(`the pause container did not start: ${exit.message ?? `exit code ${exit.exitCode}`}`);
    }
    await pinPidNamespace(pid, pinned, o.cgroupsPath);
    return { id: o.id, pid, pidNamespace: pinned, alive: () => !ended, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
