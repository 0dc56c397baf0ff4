// TCP load for the proxy benchmarks: a backend that discards what it reads
// and answers its id (or sends a bulk download), one bulk transfer each way,
// and short connections per second.
import { connect, createServer, type Server } from 'node:net';

export const bulkBytes = 512 * 1024 * 1024;
export const connections = 2000;
export const concurrency = 20;

const downloadRequest = 0x47; // "G"

/**
 * A backend that discards what it reads and answers `id` once the client
 * half-closes; a client whose first byte is "G" gets bulkBytes instead.
 */
export async function backend(host = '127.0.0.1', port = 0, id = 'ok'): Promise<{ server: Server; port: number }> {
  const chunk = Buffer.alloc(256 * 1024, 121);
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let first = true;
    let downloading = false;
    s.on('data', (d: Buffer) => {
      if (first && d[0] === downloadRequest) {
        downloading = true;
        let sent = 0;
        const pump = () => {
          while (sent < bulkBytes) {
            sent += chunk.length;
            if (!s.write(chunk)) return void s.once('drain', pump);
          }
          s.end();
        };
        pump();
      }
      first = false;
    });
    s.on('end', () => downloading || s.end(id));
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  return { server, port: (server.address() as { port: number }).port };
}

/** Sends bulkBytes and waits for the answer: Gbit/s. */
export function bulk(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(256 * 1024, 120);
    const s = connect({ host, port, allowHalfOpen: true });
    let sent = 0;
    const started = performance.now();
    const pump = () => {
      while (sent < bulkBytes) {
        sent += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    s.on('connect', pump);
    s.on('data', () => {});
    s.on('end', () => resolve((bulkBytes * 8) / ((performance.now() - started) / 1000) / 1e9));
    s.on('error', reject);
  });
}

/** Asks for bulkBytes and reads them to the end: Gbit/s (the backend → client direction). */
export function download(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, allowHalfOpen: true });
    let got = 0;
    const started = performance.now();
    s.on('connect', () => s.end(Buffer.of(downloadRequest)));
    s.on('data', (d: Buffer) => (got += d.length));
    s.on('end', () => (got === bulkBytes ? resolve((bulkBytes * 8) / ((performance.now() - started) / 1000) / 1e9) : reject(new Error(`download: ${got} of ${bulkBytes} bytes`))));
    s.on('error', reject);
  });
}

/** One short request: connect, send, half-close, read the answer. */
export function ask(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, allowHalfOpen: true });
    let got = '';
    s.on('connect', () => s.end('x'));
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

export interface ShortConnections {
  /** Connections per second over the whole run. */
  cps: number;
  /** Each request's time (connect, send, half-close, answer) in ms, sorted. */
  latencyMs: number[];
}

/** `connections` short requests, `concurrency` at a time: connections per second and each request's latency. */
export async function shortConnections(host: string, port: number): Promise<ShortConnections> {
  let next = 0;
  const latencyMs: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < connections) {
        const t = performance.now();
        await ask(host, port);
        latencyMs.push(performance.now() - t);
      }
    }),
  );
  return { cps: connections / ((performance.now() - started) / 1000), latencyMs: latencyMs.sort((a, b) => a - b) };
}

/** `connections` short requests, `concurrency` at a time: connections per second. */
export async function connsPerSecond(host: string, port: number): Promise<number> {
  return (await shortConnections(host, port)).cps;
}

/** Resolves once host:port accepts connections (haproxy prints nothing when ready). */
export async function waitForListener(host: string, port: number, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host, port });
      s.on('connect', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
}

/**
 * haproxy in tcp mode from `bind` to one backend, with `threads` threads
 * (1 matches one Node process; haproxy's own default is one per CPU). No
 * splicing: it copies through user space as the userspace proxy does.
 */
export function haproxyConfig(bind: string, backendAddr: string, threads = 1): string {
  return `global\n  maxconn 4000\n  nbthread ${threads}\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend f\n  bind ${bind}\n  default_backend b\nbackend b\n  server s1 ${backendAddr}\n`;
}
