// The audit log backend (kube-apiserver's --audit-log-path): one JSON event
// per line, appended to the file (0600, made if missing), or written to
// standard output for "-".
import { createWriteStream, type WriteStream } from 'node:fs';

export interface AuditBackend {
  write(event: object): void;
  close(): Promise<void>;
}

export function logBackend(path: string): AuditBackend {
  if (path === '-') {
    return {
      write: (event) => void process.stdout.write(`${JSON.stringify(event)}\n`),
      close: async () => undefined,
    };
  }
  const out: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  out.on('error', () => undefined);
  return {
    write: (event) => void out.write(`${JSON.stringify(event)}\n`),
    close: () => new Promise((resolve) => out.end(resolve)),
  };
}
