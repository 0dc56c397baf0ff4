// A container's root file system, in two kinds.
//
// From an image: an overlay of the image's layers (top first) with a
// writable layer per container, mounted on the host at the bundle's rootfs
// before the container is created and unmounted after it is deleted.
//
// The host view, for the built-in images (programs of the host itself): the
// root is an almost empty directory of the container's own (its writes land
// there), and each host directory the container may see (/usr, /etc, ...)
// is an overlay mount in the container's spec, the host's directory below
// and a writable layer of the container's above, so that host programs run
// but nothing the container writes reaches the host. The overlays are
// mounted by the runtime inside the container's mount namespace: the host
// gets no mount, and nothing is left when the container is gone.
// Paths the container must not see (the data dir, the host's password
// hashes) are whiteouts in the writable layer: absent in the container,
// privileged or not. The root itself could not be one overlay of "/": a
// hiding layer would have to live on the host's file system, inside "/",
// and overlayfs refuses a lower layer nested in another (ELOOP). A whiteout
// is a hard link to one shared whiteout inode when the caller names one (as
// overlayfs itself shares one in its work directory): no process per run;
// else each is made with mknod.
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { run } from '../../net/ip.js';
import { mountOverlay, unmount } from './mount.js';
import type { OciMount } from './types.js';

/** Mounts the image's layers (top first) with the container's writable layer at `rootfs`. */
export async function mountImageRootfs(o: { rootfs: string; lowers: readonly string[]; upper: string; work: string }): Promise<void> {
  for (const d of [o.rootfs, o.upper, o.work]) mkdirSync(d, { recursive: true });
  await mountOverlay(o.rootfs, o);
}

/** Unmounts a root file system mounted by mountImageRootfs (nothing when it is not mounted). */
export async function unmountRootfs(rootfs: string): Promise<void> {
  await unmount(rootfs);
}

/** The host's directories a built-in image sees by default (those of them that exist and are not links). */
export const DEFAULT_HOST_DIRS: readonly string[] = ['/usr', '/etc', '/opt', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** Top-level links of merged-/usr systems (/bin -> usr/bin), made again in the container's root. */
const TOP_LINKS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/** Directories every root has, with their modes. */
const SKELETON: readonly [string, number][] = [
  ['proc', 0o555], ['sys', 0o555], ['dev', 0o755], ['run', 0o755], ['tmp', 0o1777], ['var', 0o755], ['var/tmp', 0o1777],
  ['root', 0o700], ['home', 0o755], ['mnt', 0o755], ['srv', 0o755], ['media', 0o755],
];

/** The host's password hashes and SSH host keys: never in a container. */
export function defaultHiddenPaths(): string[] {
  let keys: string[] = [];
  try {
    keys = readdirSync('/etc/ssh').filter((n) => /^ssh_host_.*_key$/.test(n)).map((n) => `/etc/ssh/${n}`);
  } catch {
    // no SSH server
  }
  return ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', ...keys];
}

export interface HostViewOptions {
  /** The container's directory: its root (dir/rootfs) and writable layers (dir/upper, dir/work). */
  dir: string;
  /** Host directories the container sees; DEFAULT_HOST_DIRS that are directories when absent. */
  expose?: readonly string[];
  /** Host paths inside those the container must not see (the data dir); defaultHiddenPaths() are always added. */
  hide?: readonly string[];
  /** readOnlyRootFilesystem: the overlays are mounted read-only too. */
  readonly?: boolean;
  /** Where the shared whiteout inode lives (made once; on the file system of `dir` for links to work). */
  whiteout?: string;
}

export interface HostView {
  /** The root for the spec (root.path). */
  rootfs: string;
  /** The overlays, for the spec's rootMounts. */
  mounts: OciMount[];
}

function isRealDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** mkdir that takes the mode and owner of the host directory it stands for (overlayfs shows the upper's). */
function mkdirLike(path: string, like: string): void {
  mkdirSync(path, { recursive: true });
  try {
    const st = statSync(like);
    chmodSync(path, st.mode & 0o7777);
    chownSync(path, st.uid, st.gid);
  } catch {
    // nothing on the host there: a plain directory
  }
}

function buildSkeleton(rootfs: string, expose: readonly string[]): void {
  mkdirSync(rootfs, { recursive: true });
  for (const [d, mode] of SKELETON) {
    mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, d), mode);
  }
  for (const name of TOP_LINKS) {
    try {
      if (lstatSync(`/${name}`).isSymbolicLink()) symlinkSync(readlinkSync(`/${name}`), join(rootfs, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  for (const d of expose) mkdirSync(join(rootfs, d), { recursive: true });
}

/**
 * Builds the container's root of the host's files: returns its path and
 * the overlay mounts for the spec. The writable layers start with the
 * whiteouts that hide `hide`.
 */
export async function prepareHostView(o: HostViewOptions): Promise<HostView> {
  const expose = [...(o.expose ?? DEFAULT_HOST_DIRS.filter(isRealDir))].map((p) => p.replace(/\/+$/, ''));
  const rootfs = join(o.dir, 'rootfs');
  buildSkeleton(rootfs, expose);
  const mounts: OciMount[] = [];
  const uppers = new Map<string, string>();
  expose.forEach((path, i) => {
    const name = `${i}${path.replace(/\//g, '_')}`;
    const upper = join(o.dir, 'upper', name);
    const work = join(o.dir, 'work', name);
    mkdirLike(upper, path);
    mkdirSync(work, { recursive: true });
    uppers.set(path, upper);
    mounts.push({ destination: path, type: 'overlay', source: 'overlay', options: [`lowerdir=${path}`, `upperdir=${upper}`, `workdir=${work}`, ...(o.readonly ? ['ro'] : [])] });
  });
  const whiteouts: string[] = [];
  for (const hidden of new Set([...(o.hide ?? []), ...defaultHiddenPaths()])) {
    // The innermost exposed directory that holds it.
    const owner = expose.filter((e) => hidden.startsWith(`${e}/`)).sort((a, b) => b.length - a.length)[0];
    if (!owner) continue;
    const rel = relative(owner, hidden);
    let parent = dirname(rel);
    const parents: string[] = [];
    for (; parent !== '.'; parent = dirname(parent)) parents.unshift(parent);
    for (const p of parents) mkdirLike(join(uppers.get(owner)!, p), join(owner, p));
    whiteouts.push(join(uppers.get(owner)!, rel));
  }
  await makeWhiteouts(whiteouts, o.whiteout);
  return { rootfs, mounts };
}

const mknodAll = (paths: readonly string[]) => run(['sh', '-c', 'for p; do [ -e "$p" ] || mknod "$p" c 0 0 || exit 1; done', 'sh', ...paths]);

/** Whiteouts (character devices 0/0) at `paths`: links to the `shared` one where possible. */
async function makeWhiteouts(paths: readonly string[], shared: string | undefined): Promise<void> {
  if (!paths.length) return;
  if (!shared) return void (await mknodAll(paths));
  if (!existsSync(shared)) {
    mkdirSync(dirname(shared), { recursive: true });
    await mknodAll([shared]);
  }
  const left: string[] = [];
  for (const p of paths) {
    try {
      linkSync(shared, p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      // Another file system (EXDEV), or links refused: made one by one.
      left.push(p);
    }
  }
  if (left.length) await mknodAll(left);
}
