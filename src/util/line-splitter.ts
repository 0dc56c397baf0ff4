// Newline-delimited text arriving in chunks (watch streams): each complete
// line is handed on as it arrives; what follows the last newline waits.

export interface LineSplitter {
  /** Adds a chunk; calls onLine for every line it completes. */
  push(chunk: string): void;
  /** The text after the last newline so far (a partial line, or the whole body of a non-stream answer). */
  rest(): string;
  /** Drops the pending text (it was consumed elsewhere). */
  clear(): void;
}

export function lineSplitter(onLine: (line: string) => void): LineSplitter {
  let buf = '';
  return {
    push(chunk) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        onLine(line);
      }
    },
    rest: () => buf,
    clear() {
      buf = '';
    },
  };
}
