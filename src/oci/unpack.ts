// Unpacks one layer's tar into a directory that overlayfs can take as a lower
// dir, as containerd's applier does for its overlayfs snapshotter: files,
// directories, symlinks (targets kept as data, absolute or not), hard links
// inside the layer, device nodes and fifos; modes, ownership and times from
// the headers; whiteouts converted to overlayfs's form — ".wh.NAME" becomes a
// 0:0 character device NAME, ".wh..wh..opq" marks its directory opaque
// (trusted.overlay.opaque=y, set with setfattr: see xattrs.ts). Nothing is
// written outside the directory.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, rm, symlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { cleanEntryPath, resolveInRoot } from './scoped-path.js';
import type { TarHeader } from './tar-header.js';
import { readTar } from './tar-reader.js';
import { OPAQUE_XATTR, setXattrs } from './xattrs.js';

const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';

const isRoot = () => process.getuid?.() === 0;

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(file, args, (err, _stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve())),
  );
}

/** mknod(1): node has no mknod. */
function mknod(path: string, kind: 'c' | 'b' | 'p', major = 0, minor = 0, mode = 0o600): Promise<void> {
  return run('mknod', ['-m', (mode & 0o7777).toString(8), path, kind, ...(kind === 'p' ? [] : [String(major), String(minor)])]);
}

async function exists(path: string) {
  return lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
}

interface DeferredDir {
  path: string;
  header: TarHeader;
}

class LayerWriter {
  /** Directories whose metadata is set at the end (creating their entries changes their times, and a 0555 one must stay writable). */
  private readonly dirs: DeferredDir[] = [];
  private readonly xattrs = new Map<string, Record<string, Buffer>>();

  constructor(private readonly root: string) {}

  /** The parent of `rel`, resolved inside the root and created (0755) when missing. */
  private async parentOf(rel: string): Promise<string> {
    const parent = await resolveInRoot(this.root, dirname(rel) === '.' ? '' : dirname(rel));
    await mkdir(parent, { recursive: true, mode: 0o755 });
    return parent;
  }

  private xattr(path: string, name: string, value: Buffer): void {
    const values = this.xattrs.get(path) ?? {};
    values[name] = value;
    this.xattrs.set(path, values);
  }

  async entry(header: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const rel = cleanEntryPath(header.name);
    const base = basename(rel);
    if (rel === '') {
      if (header.type === 'directory') this.dirs.push({ path: this.root, header });
      return;
    }
    if (base === WHITEOUT_OPAQUE) {
      const dir = await resolveInRoot(this.root, dirname(rel) === '.' ? '' : dirname(rel));
      await mkdir(dir, { recursive: true, mode: 0o755 });
      this.xattr(dir, OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    if (base.startsWith(WHITEOUT_META_PREFIX)) return;
    const parent = await this.parentOf(rel);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (!isRoot()) throw new Error(`unpacking whiteout ${JSON.stringify(header.name)} needs root: overlayfs whiteouts are 0:0 character devices`);
      const path = join(parent, base.slice(WHITEOUT_PREFIX.length));
      await rm(path, { recursive: true, force: true });
      await mknod(path, 'c', 0, 0, 0);
      await lchown(path, header.uid, header.gid);
      return;
    }
    const path = join(parent, base);
    const existing = await exists(path);
    if (existing && !(existing.isDirectory() && header.type === 'directory')) await rm(path, { recursive: true, force: true });
    switch (header.type) {
      case 'directory':
        if (!existing?.isDirectory()) await mkdir(path, { mode: 0o700 });
        this.dirs.push({ path, header });
        break;
      case 'file':
        await pipeline(Readable.from(body), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
        break;
      case 'symlink':
        await symlink(header.linkname, path);
        break;
      case 'link': {
        const target = await resolveInRoot(this.root, cleanEntryPath(header.linkname));
        await link(target, path);
        return; // a hard link shares its target's inode and metadata
      }
      case 'char':
      case 'block':
        // Device nodes need root; without it they are left out, as rootless runtimes do.
        if (!isRoot()) return;
        await mknod(path, header.type === 'char' ? 'c' : 'b', header.devmajor, header.devminor);
        break;
      case 'fifo':
        await mknod(path, 'p');
        break;
    }
    for (const [name, value] of Object.entries(header.xattrs ?? {})) this.xattr(path, name, value);
    if (header.type !== 'directory') await this.metadata(path, header);
  }

  /** Ownership (when root), mode (after chown, which clears set-id bits) and modification time. */
  private async metadata(path: string, h: TarHeader): Promise<void> {
    if (isRoot()) await lchown(path, h.uid, h.gid);
    if (h.type === 'symlink') {
      await lutimes(path, h.mtime, h.mtime);
      return;
    }
    await chmod(path, h.mode & 0o7777);
    await utimes(path, h.mtime, h.mtime);
  }

  async finish(): Promise<void> {
    for (const d of this.dirs.reverse()) await this.metadata(d.path, d.header);
    await setXattrs(this.xattrs);
  }
}

/**
 * Unpacks the tar stream `tar` into `dir` (which must exist, empty) and
 * returns the layer's diff ID: the sha256 of the uncompressed tar.
 */
export async function unpackLayer(tar: AsyncIterable<Buffer>, dir: string): Promise<string> {
  const hash = createHash('sha256');
  const hashed = (async function* () {
    for await (const chunk of tar) {
      hash.update(chunk);
      yield chunk;
    }
  })();
  const writer = new LayerWriter(dir);
  for await (const { header, body } of readTar(hashed)) await writer.entry(header, body);
  await writer.finish();
  return `sha256:${hash.digest('hex')}`;
}
