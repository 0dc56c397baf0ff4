// The host's cgroups as the runtime layer needs them: which layout the
// machine has (v2, v1, or hybrid: v1 controllers with a v2 tree beside
// them), where a container's memory cgroup is and how many times the
// kernel's OOM killer struck in it, the kubelet's cgroupfs naming, and
// removing the directories the runtimes leave behind (they create a
// container's parents but delete only the container's own).
import { existsSync, readdirSync, readFileSync, rmdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP2_SUPER_MAGIC = 0x63677270;

export type CgroupMode = 'v2' | 'v1' | 'hybrid';

function isCgroup2(path: string): boolean {
  try {
    return Number(statfsSync(path).type) === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

export function cgroupMode(root = CGROUP_ROOT): CgroupMode {
  if (isCgroup2(root)) return 'v2';
  return isCgroup2(join(root, 'unified')) ? 'hybrid' : 'v1';
}

/**
 * A hybrid host whose v2 tree holds controllers: crun (unlike runc) refuses
 * to create containers there ("cgroups in hybrid mode not supported").
 */
export function hybridWithV2Controllers(root = CGROUP_ROOT): boolean {
  if (cgroupMode(root) !== 'hybrid') return false;
  try {
    return readFileSync(join(root, 'unified', 'cgroup.controllers'), 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

interface Hierarchy {
  mountpoint: string;
  /** v1 controllers (and name=...), or ['*'] for the v2 tree. */
  controllers: string[];
}

/** The mounted cgroup hierarchies (from /proc/self/mountinfo). */
export function cgroupHierarchies(mountinfo = '/proc/self/mountinfo'): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of readFileSync(mountinfo, 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fstype, , superOptions = ''] = right.split(' ');
    const mountpoint = left.split(' ')[4]!;
    if (fstype === 'cgroup2') out.push({ mountpoint, controllers: ['*'] });
    else if (fstype === 'cgroup') out.push({ mountpoint, controllers: superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('clone_children')) });
  }
  return out;
}

/** The directory of a cgroup (absolute from the hierarchies' roots) in the memory controller's hierarchy. */
export function memoryCgroupDir(cgroupsPath: string, root = CGROUP_ROOT): string {
  if (cgroupMode(root) === 'v2') return join(root, cgroupsPath);
  return join(root, 'memory', cgroupsPath);
}

/** The kernel's count of OOM kills in the cgroup (v1 memory.oom_control, v2 memory.events), or undefined when it is gone. */
export function oomKillCount(cgroupsPath: string, root = CGROUP_ROOT): number | undefined {
  const dir = memoryCgroupDir(cgroupsPath, root);
  for (const file of ['memory.events', 'memory.oom_control']) {
    try {
      const m = /^oom_kill (\d+)$/m.exec(readFileSync(join(dir, file), 'utf8'));
      if (m) return Number(m[1]);
    } catch {
      // the other version's file, or the cgroup is gone
    }
  }
  return undefined;
}

/** Whether memory limits can hold swap too (containerd's SwapControllerAvailable). */
export function swapLimitSupported(root = CGROUP_ROOT): boolean {
  if (cgroupMode(root) !== 'v2') return existsSync(join(root, 'memory', 'memory.memsw.limit_in_bytes'));
  // The root has no limits: look at this process's own cgroup.
  const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
  return existsSync(join(root, own, 'memory.swap.max'));
}

/**
 * The kubelet's cgroupfs layout under `parent`: kubepods/[burstable|besteffort/]pod<uid>/<container id>
 * (Guaranteed pods directly under kubepods).
 */
export function containerCgroupsPath(o: { parent: string; qosClass: 'Guaranteed' | 'Burstable' | 'BestEffort'; podUID: string; containerId?: string }): string {
  const qos = o.qosClass === 'Guaranteed' ? '' : `/${o.qosClass.toLowerCase()}`;
  return `${o.parent.replace(/\/$/, '')}/kubepods${qos}/pod${o.podUID}${o.containerId ? `/${o.containerId}` : ''}`;
}

function removeTree(dir: string, failed: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(join(dir, e.name), failed);
  try {
    rmdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') failed.push(dir);
  }
}

/**
 * Removes the cgroup (and every cgroup below it) from every hierarchy.
 * Returns the directories that could not go (processes still in them).
 */
export function removeCgroup(cgroupsPath: string, hierarchies: Hierarchy[] = cgroupHierarchies()): string[] {
  const failed: string[] = [];
  const rel = cgroupsPath.replace(/^\/+/, '');
  if (!rel) throw new Error('refusing to remove a hierarchy root');
  for (const h of hierarchies) removeTree(join(h.mountpoint, rel), failed);
  return failed;
}
