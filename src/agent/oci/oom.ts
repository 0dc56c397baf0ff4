// Was a container's cgroup hit by the kernel's OOM killer? When the runtime
// keeps the container after it exits (runc, crun >= 1.15: `run --keep`) the
// cgroup still holds the count (./cgroups.ts oomKillCount). Older crun
// removes the cgroup as the container ends, so the kernel log is read
// instead: every OOM kill logs one line naming the victim's memory cgroup,
// "oom-kill:constraint=CONSTRAINT_MEMCG,...,task_memcg=/path,task=...".
import { closeSync, constants, openSync, readSync } from 'node:fs';

/** The memory cgroups of the OOM kills in the kernel's log buffer. */
export function oomKilledCgroups(kmsg = '/dev/kmsg'): Set<string> {
  const found = new Set<string>();
  let fd: number;
  try {
    fd = openSync(kmsg, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return found;
  }
  const buf = Buffer.alloc(16384);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        // EPIPE: records were overwritten while reading; the next read goes on from the oldest left.
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') continue;
        break; // EAGAIN: read to the end
      }
      if (n <= 0) break;
      const record = buf.toString('utf8', 0, n);
      const text = record.slice(record.indexOf(';') + 1);
      if (!text.startsWith('oom-kill:')) continue;
      const m = /[:,]task_memcg=([^,\n]*)/.exec(text);
      if (m) found.add(m[1]!);
    }
  } finally {
    closeSync(fd);
  }
  return found;
}

/**
 * Whether the kernel log records an OOM kill in the cgroup (absolute from
 * the hierarchy's root). The path must be unique to the container's run, as
 * the log outlives it.
 */
export function oomKilledByLog(cgroupsPath: string, kmsg?: string): boolean {
  return oomKilledCgroups(kmsg).has(`/${cgroupsPath.replace(/^\/+|\/+$/g, '')}`);
}
