// Mounting on the host for the runtime layer (util-linux's mount and umount,
// through net/command-shell.ts): overlays for root file systems, a tmpfs, and
// finding and removing everything mounted under a directory (after a crash too).
import { readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { shellRun as run } from '../../net/command-shell.js';

export interface MountEntry {
  mountpoint: string;
  fstype: string;
  source: string;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The mounts this process sees, in mount order. */
export function mountTable(mountinfo = '/proc/self/mountinfo'): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of readFileSync(mountinfo, 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fstype = '', source = ''] = right.split(' ');
    out.push({ mountpoint: unescape(left.split(' ')[4] ?? ''), fstype, source: unescape(source) });
  }
  return out;
}

/** The mount points at `dir` or below it, the last mounted first (so a mount goes before the one under it). */
export function mountsUnder(dir: string, mountinfo?: string): string[] {
  const base = dir.replace(/\/+$/, '');
  return mountTable(mountinfo)
    .map((m) => m.mountpoint)
    .filter((p) => p === base || p.startsWith(`${base}/`))
    .reverse();
}

export function isMountpoint(path: string): boolean {
  const p = path.replace(/\/+$/, '');
  return mountTable().some((m) => m.mountpoint === p);
}

/** Unmounts `target` (every mount stacked there); detaches it lazily when it is busy. */
export async function unmount(target: string): Promise<void> {
  while (isMountpoint(target)) {
    try {
      await run(['umount', target]);
    } catch {
      await run(['umount', '--lazy', target]);
    }
  }
}

/** Unmounts everything at or under `dir`; returns the mount points it removed. */
export async function unmountAllUnder(dir: string): Promise<string[]> {
  const points = [...new Set(mountsUnder(dir))];
  for (const p of points) await unmount(p);
  return points;
}

/** The kernel takes one page of mount options. */
const MAX_OPTIONS = 4000;

function commonDir(paths: string[]): string {
  let dir = dirname(paths[0]!);
  while (dir !== '/' && !paths.every((p) => p.startsWith(`${dir}/`))) dir = dirname(dir);
  return dir;
}

/**
 * Mounts an overlay at `target`: `lowers` top first; with `upper` and
 * `work` (same file system) writable, without them read-only. Layer paths
 * too long for one page are given relative to their common directory, as
 * containerd does.
 */
export async function mountOverlay(target: string, o: { lowers: readonly string[]; upper?: string; work?: string }): Promise<void> {
  if (!o.lowers.length) throw new Error('an overlay needs a lower layer');
  const options = (rel: (p: string) => string) =>
    [`lowerdir=${o.lowers.map(rel).join(':')}`, ...(o.upper && o.work ? [`upperdir=${rel(o.upper)}`, `workdir=${rel(o.work)}`] : [])].join(',');
  const absolute = options((p) => p);
  if (absolute.length <= MAX_OPTIONS) {
    await run(['mount', '-t', 'overlay', 'overlay', '-o', absolute, target]);
    return;
  }
  const dir = commonDir([...o.lowers, ...(o.upper && o.work ? [o.upper, o.work] : [])]);
  await run(['sh', '-c', 'cd "$1" && shift && exec mount "$@"', 'sh', dir, '-t', 'overlay', 'overlay', '-o', options((p) => relative(dir, p)), target]);
}

export async function mountTmpfs(target: string, options: readonly string[]): Promise<void> {
  await run(['mount', '-t', 'tmpfs', '-o', options.join(','), 'tmpfs', target]);
}
