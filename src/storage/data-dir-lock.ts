// One server per data dir: the embedded store's watches live in the process
// that writes, so a second writer would silently break them. A pid file taken
// with O_EXCL guards it; a stale one (its process is gone) is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirInUseError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the live process holding the data dir, if any. */
export function dataDirOwner(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, 'kubesvc.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
  return pid && pid !== process.pid && alive(pid) ? pid : undefined;
}

export function lockDataDir(dir: string): () => void {
  const path = join(dir, 'kubesvc.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (pid && pid !== process.pid && alive(pid)) {
        throw new DataDirInUseError(`the data dir ${dir} is in use by another kubesvc (pid ${pid}); stop it first or pick another --data-dir`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new DataDirInUseError(`could not lock the data dir ${dir}`);
}
