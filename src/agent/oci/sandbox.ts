// What a pod's containers share besides the network namespace: an IPC and a
// UTS namespace, pinned to files in the pod's sandbox directory (bind mounts
// of the namespaces, as `ip netns add` pins network namespaces and cri-o's
// pinns does) so that no process has to hold them, with the pod's hostname
// set once; and a tmpfs for the pod's /dev/shm (POSIX shared memory belongs
// with the IPC namespace, so the containers share one, as containerd gives
// them the sandbox's). Containers join by path (spec.ts PodNamespaces).
//
// A pod that shares one PID namespace (shareProcessNamespace) needs a
// process to be its PID 1: the pause container (spec.ts pauseSpec), run by
// the runtime like any container; the others join /proc/<its pid>/ns/pid.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../net/ip.js';
import { mountTmpfs, unmountAllUnder } from './mount.js';

export interface PodNamespaceFiles {
  ipc: string;
  uts: string;
  /** The pod's /dev/shm, for the spec's shm. */
  shm: string;
}

/** The kernel's limit on a hostname. */
const MAX_HOSTNAME = 64;

/** containerd's sandbox /dev/shm: 64 MiB. */
export const DEFAULT_SHM_SIZE = '65536k';

/** Creates the pod's IPC and UTS namespaces under `dir` (with `hostname`) and its /dev/shm. */
export async function createPodNamespaces(o: { dir: string; hostname: string; shmSize?: string }): Promise<PodNamespaceFiles> {
  if (!o.hostname || o.hostname.length > MAX_HOSTNAME) throw new Error(`invalid hostname "${o.hostname}"`);
  const files: PodNamespaceFiles = { ipc: join(o.dir, 'ipc'), uts: join(o.dir, 'uts'), shm: join(o.dir, 'shm') };
  mkdirSync(files.shm, { recursive: true });
  writeFileSync(files.ipc, '');
  writeFileSync(files.uts, '');
  try {
    await run(['unshare', `--ipc=${files.ipc}`, `--uts=${files.uts}`, '--', 'sh', '-c', 'printf %s "$1" > /proc/sys/kernel/hostname', 'sh', o.hostname]);
    await mountTmpfs(files.shm, ['nosuid', 'nodev', 'noexec', 'mode=1777', `size=${o.shmSize ?? DEFAULT_SHM_SIZE}`]);
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
