// Container log files: one per run, <pod dir>/<container>/<restartCount>.log,
// stdout and stderr together as the launcher writes them. As the runtime's
// container GC, the current and the previous run's logs are kept (kubectl
// logs and logs --previous); the tail of a failed run's log is its
// termination message under FallbackToLogsOnError.
//
// Beside each log, the run's termination-message file (<restartCount>.termination-log),
// bind-mounted writable at the container's terminationMessagePath
// (/dev/termination-log by default) as the kubelet does: what the container
// writes there is its terminated state's message, at most 4096 bytes.
import { chmodSync, closeSync, existsSync, openSync, readSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// kubecontainer.MaxContainerTerminationMessageLogLength / LogLines
const maxTerminationLogBytes = 2048;
const maxTerminationLogLines = 80;
// kubecontainer.MaxContainerTerminationMessageLength
const maxTerminationMessageBytes = 4096;

/** The log file of a container's run. */
export function runLogFile(containerDir: string, restartCount: number): string {
  return join(containerDir, `${restartCount}.log`);
}

/** The termination-message file of the run whose log is `logFile`. */
export function terminationMessageFile(logFile: string): string {
  return logFile.replace(/\.log$/, '.termination-log');
}

/**
 * Makes the run's (empty) termination-message file, writable by any user
 * the container runs as (the kubelet makes it 0666 too).
 */
export function createTerminationMessageFile(logFile: string): string {
  const file = terminationMessageFile(logFile);
  writeFileSync(file, '');
  chmodSync(file, 0o666);
  return file;
}

/** What the container wrote to its termination-message file: at most its first 4096 bytes; '' when none. */
export function readTerminationMessage(logFile: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(terminationMessageFile(logFile), 'r');
    const buf = Buffer.alloc(maxTerminationMessageBytes);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Makes the new run's (empty) log file and removes the files of the run before the previous. */
export function openRunLog(logFile: string, staleLogFile: string | undefined): void {
  if (staleLogFile) {
    rmSync(staleLogFile, { force: true });
    rmSync(terminationMessageFile(staleLogFile), { force: true });
  }
  writeFileSync(logFile, '', { flag: 'a' });
}

/** The log file when it is there (for kubectl logs). */
export function existingLogFile(logFile: string | undefined): string | undefined {
  return logFile && existsSync(logFile) ? logFile : undefined;
}

/** The termination message from the log: its last 80 lines, at most 2048 bytes. */
export function terminationMessageFromLog(file: string): string {
  try {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const tail = lines.slice(-maxTerminationLogLines).join('\n') + (text.endsWith('\n') ? '\n' : '');
    return Buffer.from(tail).subarray(-maxTerminationLogBytes).toString('utf8');
  } catch {
    return '';
  }
}
