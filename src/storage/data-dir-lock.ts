// One server per data dir: the embedded store's watches live in the process
// that writes, so a second writer would silently break them.
//
// The lock is the kernel's: SQLite's exclusive lock on DIR/kubesvc.lock (a
// POSIX record lock), held for as long as the server runs. The kernel drops it
// the moment its holder dies — also after kill -9, and also while the dead
// process lingers unreaped as a zombie (as under a PID 1 that does not reap),
// where a pid check would still see it alive. kubesvc.pid beside it only
// names the holder in messages.
import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownerOnly } from './sqlite.js';

export class DataDirInUseError extends Error {}

const lockFile = (dir: string) => join(dir, 'kubesvc.lock');
const pidFile = (dir: string) => join(dir, 'kubesvc.pid');

/** Opens the lock database and takes its exclusive lock; undefined when another connection holds it. */
function tryLock(dir: string): Database.Database | undefined {
  ownerOnly(lockFile(dir));
  const db = new Database(lockFile(dir), { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return undefined;
    throw e;
  }
}

function holderPid(dir: string): number | undefined {
  try {
    return Number(readFileSync(pidFile(dir), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the live process holding the data dir (0 when it cannot be told), if any. */
export function dataDirOwner(dir: string): number | undefined {
  let db: Database.Database | undefined;
  try {
    db = tryLock(dir);
  } catch {
    return undefined; // no data dir, or nothing SQLite can lock: nobody holds it
  }
  if (!db) return holderPid(dir) ?? 0;
  db.close();
  return undefined;
}

/** Takes the data dir for this process; the returned function gives it back. */
export function lockDataDir(dir: string): () => void {
  const db = tryLock(dir);
  if (!db) {
    const pid = holderPid(dir);
    throw new DataDirInUseError(`the data dir ${dir} is in use by another kubesvc${pid ? ` (pid ${pid})` : ''}; stop it first or pick another --data-dir`);
  }
  writeFileSync(pidFile(dir), `${process.pid}\n`, { mode: 0o600 });
  return () => {
    rmSync(pidFile(dir), { force: true });
    db.close();
  };
}
