// What a crashed agent left besides its containers (./oci-leftovers.ts
// removes those): processes it started itself that a pid file names (the
// probe helper, ./probes.ts), and the old pods' state directories.
import { lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Kills the process (and its process group) a pid file names: "<pid>", or
 * "<pid> <start time>" so that a reused pid is never mistaken for it.
 */
export function killByPidFile(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!(pid > 1)) return false;
  const now = procStartTime(pid);
  if (now === undefined || (start && now !== start)) return false;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already, or not a group leader
    }
  }
  return true;
}

function findPidFiles(dir: string, depth: number): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    if (name.endsWith('.pid') || name === 'pid') out.push(path);
    else if (depth > 0) {
      try {
        if (lstatSync(path).isDirectory()) out.push(...findPidFiles(path, depth - 1));
      } catch {
        // raced away
      }
    }
  }
  return out;
}

/**
 * After a crash (once ./oci-leftovers.ts has deleted the containers and
 * unmounted what they had): kills every process a pid file in the state
 * dir names, and removes the old pods' state. Returns how many processes
 * were killed.
 */
export function cleanupStaleProcesses(stateDir: string): number {
  let killed = 0;
  // Down to the pods' containers: an older kubesvc ran them as host processes with pid files there.
  for (const file of findPidFiles(stateDir, 3)) {
    if (killByPidFile(file)) killed++;
    rmSync(file, { force: true });
  }
  rmSync(join(stateDir, 'pods'), { recursive: true, force: true });
  return killed;
}
