// What a built-in image's container sees of the host: the root
// ./oci/rootfs.ts prepareHostView builds, each exposed directory an overlay
// of the container's own over the host's (its writes never reach the host).
// Exposed: the system's directories (DEFAULT_HOST_DIRS: /usr, /etc, /opt,
// the merged-/usr links), the node binary's installation when it lies
// elsewhere, and the kubesvc package the built-in programs run from (its
// dist/ bundle, or its sources with tsx, and node_modules).
//
// Never exposed: the data dir and the agent's state directory. An exposed
// directory that holds one of them is exposed by its other entries instead
// (sub-directories as overlays, files as read-only binds, links left out),
// since overlayfs refuses a writable layer inside one of its lower ones and
// the containers' writable layers live in the state directory; a data dir
// inside the checkout (the default .kubesvc) is then simply not there.
//
// Running from sources, tsx compiles the programs on their start: the
// host's compile cache is bound read-only where tsx looks for it, so a
// container does not compile again what the host has (what it compiles
// itself stays in its own /tmp).
import { existsSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageEntry } from './image-resolve.js';
import type { BindMount } from './oci/mounts.js';
import { DEFAULT_HOST_DIRS } from './oci/rootfs.js';

export interface BuiltinHostView {
  /** Host directories seen through overlays (prepareHostView's expose). */
  expose: string[];
  /** Host paths inside them the container must not see (whiteouts). */
  hide: string[];
  /** Host files bound read-only at their own paths (the entries of a directory split around a hidden one). */
  binds: BindMount[];
  /** The host's tsx compile cache (running from sources), to bind read-only at /tmp/tsx-<uid>. */
  tsxCache?: string;
}

const within = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function isRealDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The kubesvc package this code runs from: the nearest directory up with a package.json. */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/** Where the node binary is installed: <prefix> for <prefix>/bin/node, else its directory. */
export function nodeInstallation(execPath = process.execPath): string {
  const bin = dirname(real(execPath));
  return basename(bin) === 'bin' ? dirname(bin) : bin;
}

/** `dir` exposed whole, or (holding a hidden path) by its other entries. */
function exposeAround(dir: string, hidden: readonly string[], out: { expose: string[]; binds: BindMount[] }): void {
  if (hidden.some((h) => within(dir, h))) return;
  if (!hidden.some((h) => within(h, dir))) {
    out.expose.push(dir);
    return;
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    const path = join(dir, name);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    if (st.isDirectory()) exposeAround(path, hidden, out);
    else if (st.isFile() && !hidden.some((h) => within(path, h))) out.binds.push({ source: path, destination: path, readOnly: true });
  }
}

export interface BuiltinHostViewOptions {
  /** Host paths no container may see: the data dir, the agent's state directory (which holds the containers' writable layers). */
  hide: readonly string[];
  /** The package the programs run from (default: this code's). */
  packageRoot?: string;
  /** The node binary the programs run with (default: this process's). */
  execPath?: string;
}

/** The host view of built-in images on this host. */
export function builtinHostView(o: BuiltinHostViewOptions): BuiltinHostView {
  const hide = [...new Set(o.hide.map(real))];
  const dirs = DEFAULT_HOST_DIRS.filter(isRealDir);
  const covered = (p: string) => dirs.some((d) => within(p, d));
  const node = nodeInstallation(o.execPath);
  if (!covered(node)) dirs.push(node);
  const pkg = real(o.packageRoot ?? packageRoot());
  if (!covered(pkg)) dirs.push(pkg);
  const out = { expose: [] as string[], binds: [] as BindMount[] };
  // Outermost first: a directory inside another exposed one is seen through that one.
  for (const d of dirs.sort((a, b) => a.length - b.length)) {
    if (!out.expose.some((e) => within(d, e))) exposeAround(d, hide, out);
  }
  const usesTsx = imageEntry().includes('--import');
  const cache = join(tmpdir(), `tsx-${process.getuid?.() ?? 0}`);
  return { expose: out.expose, hide, binds: out.binds, ...(usesTsx && isRealDir(cache) ? { tsxCache: cache } : {}) };
}
