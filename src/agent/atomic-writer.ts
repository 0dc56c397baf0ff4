// The kubelet's atomic writer (pkg/volume/util/atomic_writer.go), the layout
// configMap, secret, downwardAPI and projected volumes have:
//
//   <dir>/..2024_05_01_10_00_00.1234567/   the real files (mode 0755 dir)
//   <dir>/..data -> ..2024_05_01_10_00_00.1234567
//   <dir>/<name> -> ..data/<name>           one link per top-level entry
//
// A new version goes to a fresh timestamped directory; `..data_tmp` is made to
// point at it and renamed over `..data` (rename(2) is atomic), so a reader of
// the volume — the container sees it through a bind mount of <dir> — finds
// either the old or the new version, never a mix. Links for new top-level
// names are added and links for names gone are removed after the swap, then
// the old directory goes. Paths starting with ".." are the writer's own.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** Permission bits of the file (e.g. 0o644). */
  mode: number;
}

/** Relative path → content, as a volume plugin's payload. */
export type Payload = Map<string, FileProjection>;

const dataDirName = '..data';
const newDataDirName = '..data_tmp';
const maxFileNameLength = 255;
const maxPathLength = 4096;

/** A payload path must be relative, without ".." elements, not start with "..", and fit the file system's limits. */
export function validatePayloadPath(path: string): string | undefined {
  if (path === '') return 'invalid path: must not be empty: ""';
  if (path.startsWith('/')) return `invalid path: must be relative path: ${path}`;
  if (path.length > maxPathLength) return `invalid path: must be less than or equal to ${maxPathLength} characters`;
  const items = path.split('/');
  if (items.includes('..')) return `invalid path: must not contain '..': ${path}`;
  if (items.some((i) => i.length > maxFileNameLength)) return `invalid path: filenames must be less than or equal to ${maxFileNameLength} characters`;
  if (items[0]!.startsWith('..') && items[0]!.length > 2) return `invalid path: must not start with '..': ${path}`;
  return undefined;
}

/** ..<UTC time as 2006_01_02_15_04_05>.<random>: the timestamped directory's name. */
function timestampPrefix(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(posix.join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesBelow(dir, rel));
    else out.push(rel);
  }
  return out;
}

function sameAsOnDisk(path: string, f: FileProjection): boolean {
  try {
    return (lstatSync(path).mode & 0o7777) === f.mode && readFileSync(path).equals(f.data);
  } catch {
    return false;
  }
}

const topLevel = (path: string) => path.split('/')[0]!;

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Projects `payload` into `targetDir` (which must exist) atomically. Returns
 * whether anything was written: an unchanged payload leaves the volume as it is.
 */
export function writeAtomic(targetDir: string, payload: Payload): boolean {
  const clean: Payload = new Map();
  for (const [path, f] of payload) {
    const invalid = validatePayloadPath(path);
    if (invalid) throw new Error(invalid);
    clean.set(posix.normalize(path), f);
  }
  lstatSync(targetDir);

  const dataDir = posix.join(targetDir, dataDirName);
  const oldTsName = readLink(dataDir);
  const oldTsDir = oldTsName ? posix.join(targetDir, oldTsName) : undefined;
  const oldFiles = oldTsDir ? filesBelow(oldTsDir) : [];
  if (oldTsDir && oldFiles.length === clean.size && [...clean].every(([p, f]) => sameAsOnDisk(posix.join(oldTsDir, p), f))) return false;

  const tsDir = mkdtempSync(posix.join(targetDir, timestampPrefix(new Date())));
  // 0755 whatever the umask: group and others must be able to walk the tree.
  chmodSync(tsDir, 0o755);
  const newDataDir = posix.join(targetDir, newDataDirName);
  try {
    for (const [path, f] of clean) {
      const file = posix.join(tsDir, path);
      mkdirSync(posix.dirname(file), { recursive: true });
      writeFileSync(file, f.data, { mode: f.mode });
      chmodSync(file, f.mode);
    }
    rmSync(newDataDir, { force: true });
    symlinkSync(posix.basename(tsDir), newDataDir);
    renameSync(newDataDir, dataDir);
  } catch (e) {
    rmSync(newDataDir, { force: true });
    rmSync(tsDir, { recursive: true, force: true });
    throw e;
  }

  const visible = new Set([...clean.keys()].map(topLevel));
  for (const name of visible) {
    if (readLink(posix.join(targetDir, name)) === undefined) symlinkSync(posix.join(dataDirName, name), posix.join(targetDir, name));
  }
  for (const name of new Set(oldFiles.map(topLevel))) {
    if (!visible.has(name)) rmSync(posix.join(targetDir, name), { force: true });
  }
  if (oldTsDir) rmSync(oldTsDir, { recursive: true, force: true });
  return true;
}
