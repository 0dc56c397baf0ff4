// Container log files: one per run, <pod dir>/<container>/<restartCount>.log,
// stdout and stderr together as the launcher writes them. As the runtime's
// container GC, the current and the previous run's logs are kept (kubectl
// logs and logs --previous); the tail of a failed run's log is its
// termination message under FallbackToLogsOnError.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// kubecontainer.MaxContainerTerminationMessageLogLength / LogLines
const maxTerminationLogBytes = 2048;
const maxTerminationLogLines = 80;

/** The log file of a container's run. */
export function runLogFile(containerDir: string, restartCount: number): string {
  return join(containerDir, `${restartCount}.log`);
}

/** Makes the new run's (empty) log file and removes the one of the run before the previous. */
export function openRunLog(logFile: string, staleLogFile: string | undefined): void {
  if (staleLogFile) rmSync(staleLogFile, { force: true });
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
