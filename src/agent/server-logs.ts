// GET /containerLogs/{namespace}/{pod}/{container}: a container's log file,
// as the kubelet serves it, with PodLogOptions' query parameters:
//   follow        stream appended data until the client goes away or the run
//                 ends (the container stops, or logFile() names another file)
//   previous      the run before the current one
//   tailLines     only the last N lines (a final line without "\n" counts)
//   timestamps    prefix each line with an RFC3339Nano UTC time and a space.
//                 The runtime writes plain lines with no times of their own,
//                 so lines already in the file get the file's modification
//                 time (when the last of them was written) and lines read
//                 while following get the time the agent read them.
//   sinceSeconds / sinceTime
//                 by the same times: lines already in the file are shown only
//                 when the file was modified at or after the cut-off (all of
//                 them, since the file has no finer times); followed lines
//                 always are (they are newer than any cut-off in the past)
//   limitBytes    stop after this many bytes of output (timestamps included)
// Errors are plain text with the kubelet's status codes and wording; the API
// server turns them into Status objects.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { open, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import type { ContainerRuntimeView } from './contracts.js';

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  /** Unix time in nanoseconds: lines from before it are left out. */
  sinceNs?: bigint;
}

class QueryError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function parseBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '') return false;
  if (/^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  throw new QueryError(400, '{"message": "Unable to decode query."}');
}

function parseInt64(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new QueryError(400, '{"message": "Unable to decode query."}');
  return Number(v);
}

/** The kubelet's reading of PodLogOptions from the query, with its validation. */
export function parseLogOptions(q: URLSearchParams, nowNs: bigint = nowNanos()): LogOptions {
  const opts: LogOptions = {
    follow: parseBool(q, 'follow'),
    previous: parseBool(q, 'previous'),
    timestamps: parseBool(q, 'timestamps'),
  };
  // kubectl's --tail=-1 means all; the kubelet treats "all" as omitted.
  const tail = q.get('tailLines') ?? q.get('tail');
  if (tail !== 'all' && tail !== null) {
    const n = parseInt64(new URLSearchParams({ v: tail }), 'v');
    if (n !== undefined) opts.tailLines = n;
  }
  opts.limitBytes = parseInt64(q, 'limitBytes');
  const sinceSeconds = parseInt64(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  let sinceMs: number | undefined;
  if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) throw new QueryError(400, '{"message": "Unable to decode query."}');
  }
  const invalid =
    (opts.tailLines !== undefined && opts.tailLines < 0) ||
    (opts.limitBytes !== undefined && opts.limitBytes < 1) ||
    (sinceSeconds !== undefined && sinceSeconds < 1) ||
    (sinceSeconds !== undefined && sinceMs !== undefined);
  if (invalid) throw new QueryError(422, '{"message": "Invalid request."}');
  if (sinceSeconds !== undefined) opts.sinceNs = nowNs - BigInt(sinceSeconds) * 1_000_000_000n;
  else if (sinceMs !== undefined) opts.sinceNs = BigInt(sinceMs) * 1_000_000n;
  return opts;
}

export function nowNanos(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** RFC3339Nano as Go prints it in UTC: trailing zeros of the fraction dropped. */
export function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const digits = frac.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${digits ? '.' + digits : ''}Z`;
}

/** Byte offset where the last n lines of the file start. */
async function tailOffset(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n === 0) return size;
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  let found = 0;
  let skipLast = true; // a final "\n" ends the last line, it does not start a new one
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (chunk[i] !== 0x0a) {
        skipLast = false;
        continue;
      }
      if (skipLast) {
        skipLast = false;
        continue;
      }
      if (++found === n) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

function textError(res: ServerResponse, code: number, message: string) {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(message) });
  res.end(message);
}

export async function serveContainerLogs(
  req: IncomingMessage,
  res: ServerResponse,
  runtime: ContainerRuntimeView,
  namespace: string,
  pod: string,
  container: string,
  q: URLSearchParams,
): Promise<void> {
  let opts: LogOptions;
  try {
    opts = parseLogOptions(q);
  } catch (e) {
    if (e instanceof QueryError) return textError(res, e.code, e.message);
    throw e;
  }
  const names = runtime.containerNames(namespace, pod);
  if (!names) return textError(res, 404, `pod ${JSON.stringify(pod)} does not exist`);
  if (!names.includes(container)) return textError(res, 404, `container ${JSON.stringify(container)} not found in pod ${JSON.stringify(pod)}`);
  const file = runtime.logFile(namespace, pod, container, opts.previous);
  if (!file) {
    const c = JSON.stringify(container);
    const p = JSON.stringify(pod);
    return textError(res, 400, opts.previous ? `previous terminated container ${c} in pod ${p} not found` : `container ${c} in pod ${p} is waiting to start: ContainerCreating`);
  }

  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  if (req.method === 'HEAD') return void res.end();

  let closed = false;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  res.on('close', () => {
    closed = true;
    wakeUp();
  });

  const out = new LogWriter(res, opts);
  let fh: FileHandle | undefined;
  let watcher: FSWatcher | undefined;
  try {
    // No file yet: the container has not started writing; the loop below waits for it.
    fh = await open(file, 'r').catch(() => undefined);
    let offset = 0;
    if (fh) {
      const st = await fh.stat({ bigint: true });
      const size = Number(st.size);
      offset = size;
      if (opts.sinceNs === undefined || st.mtimeNs >= opts.sinceNs) {
        offset = opts.tailLines !== undefined ? await tailOffset(fh, size, opts.tailLines) : 0;
      }
      // Lines already written carry the time of the file's last write.
      if (offset < size) await copy(fh, offset, size, out, () => st.mtimeNs);
      offset = size;
    }
    const following = opts.follow && !opts.previous;
    if (!following || closed || out.done) return;

    // Follow: read what is appended, until the client leaves or this run ends.
    const runEnded = () => runtime.logFile(namespace, pod, container, false) !== file || runtime.containerPid(namespace, pod, container) === undefined;
    const startWatch = () => {
      try {
        watcher = watch(file, { persistent: false }, () => wakeUp());
        watcher.on('error', () => undefined);
      } catch {
        watcher = undefined;
      }
    };
    if (fh) startWatch();
    for (;;) {
      const ended = runEnded();
      if (!fh) {
        fh = await open(file, 'r').catch(() => undefined); // still not there: try again after the next wait
        if (fh) startWatch();
      }
      if (fh) {
        const size = Number((await fh.stat()).size);
        if (size < offset) offset = 0; // truncated in place: start over
        if (size > offset) {
          await copy(fh, offset, size, out, nowNanos);
          offset = size;
        }
      }
      if (ended || closed || out.done) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        const t = setTimeout(wakeUp, 250);
        t.unref?.();
      });
      if (closed) return;
    }
  } finally {
    watcher?.close();
    await fh?.close().catch(() => undefined); // a read-only handle: nothing to lose if closing fails
    if (!res.writableEnded && !res.destroyed) res.end();
  }
}

async function copy(fh: FileHandle, from: number, to: number, out: LogWriter, time: () => bigint) {
  const buf = Buffer.alloc(64 * 1024);
  let pos = from;
  while (pos < to && !out.done) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    await out.write(buf.subarray(0, bytesRead), time());
  }
}

/** Writes log bytes to the response: timestamps at line starts, the byte limit, backpressure. */
class LogWriter {
  private atLineStart = true;
  private written = 0;
  done = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly opts: LogOptions,
  ) {}

  async write(data: Buffer, timeNs: bigint): Promise<void> {
    if (this.done) return;
    let chunk = data;
    if (this.opts.timestamps) {
      const prefix = Buffer.from(rfc3339Nano(timeNs) + ' ');
      const parts: Buffer[] = [];
      let start = 0;
      while (start < data.length) {
        if (this.atLineStart) parts.push(prefix);
        const nl = data.indexOf(0x0a, start);
        const end = nl === -1 ? data.length : nl + 1;
        parts.push(data.subarray(start, end));
        this.atLineStart = nl !== -1;
        start = end;
      }
      chunk = Buffer.concat(parts);
    }
    const limit = this.opts.limitBytes;
    if (limit !== undefined && this.written + chunk.length >= limit) {
      chunk = chunk.subarray(0, limit - this.written);
      this.done = true;
    }
    this.written += chunk.length;
    if (this.res.destroyed || this.res.writableEnded) {
      this.done = true;
      return;
    }
    if (!this.res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.on('drain', done);
        this.res.on('close', done);
      });
    }
  }
}
