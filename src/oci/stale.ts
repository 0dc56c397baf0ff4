// Temporary files and directories of the image store carry the pid of the
// process writing them, so that what a dead process left can be told from
// what a live one is still writing.
export function processAlive(pid: string): boolean {
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return false;
  try {
    process.kill(n, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
