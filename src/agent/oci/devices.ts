// The host's device nodes, for privileged containers (containerd's
// WithHostDevices): every character and block device under /dev, except
// the directories each container has its own of (pts, shm, mqueue) and the
// console.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { OciDevice } from './types.js';

const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);
const S_IFMT = 0o170000n;
const S_IFCHR = 0o020000n;
const S_IFBLK = 0o060000n;

/** glibc's major()/minor() of a dev_t. */
function majorMinor(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

export function hostDevices(dir = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = lstatSync(path, { bigint: true });
    } catch {
      continue;
    }
    const kind = st.mode & S_IFMT;
    if (st.isDirectory()) {
      if (!SKIP_DIRS.has(name)) out.push(...hostDevices(path));
    } else if ((kind === S_IFCHR || kind === S_IFBLK) && path !== '/dev/console') {
      out.push({ path, type: kind === S_IFCHR ? 'c' : 'b', ...majorMinor(st.rdev), fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) });
    }
  }
  return out;
}
