// Paths inside a layer directory: an entry's name cleaned so that it cannot
// leave the directory, and its parent resolved the way containerd's
// RootPath does, following symlinks inside the layer as if it were "/", so
// no entry is written through a link to the host.
import { lstat, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';

/** An entry name relative to the layer root ('' for the root itself); throws for one that leaves it. */
export function cleanEntryPath(name: string): string {
  const cleaned = posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
  // normalize of an absolute path drops every ".." that would climb above "/", so check the raw components.
  let depth = 0;
  for (const c of name.split('/')) {
    if (c === '..') depth--;
    else if (c && c !== '.') depth++;
    if (depth < 0) throw new Error(`refusing tar entry ${JSON.stringify(name)}: its path leaves the layer directory`);
  }
  return cleaned === '.' ? '' : cleaned;
}

/**
 * `rel` (cleaned) under `root`, every symlink on the way resolved inside
 * `root`: an absolute target starts again at the root, ".." stops there.
 * Components that do not exist are kept as they are.
 */
export async function resolveInRoot(root: string, rel: string): Promise<string> {
  const resolved: string[] = [];
  const pending = rel.split('/').filter(Boolean);
  let links = 0;
  while (pending.length) {
    const c = pending.shift()!;
    if (c === '.') continue;
    if (c === '..') {
      resolved.pop();
      continue;
    }
    const path = join(root, ...resolved, c);
    const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (st?.isSymbolicLink()) {
      if (++links > 255) throw new Error(`too many levels of symbolic links under ${JSON.stringify(rel)}`);
      const target = await readlink(path);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved.push(c);
  }
  return join(root, ...resolved);
}
