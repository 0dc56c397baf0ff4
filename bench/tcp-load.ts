// TCP load for the proxy benchmarks: a backend that discards what it reads
// and answers its id, one bulk transfer, and short connections per second.
import { connect, createServer, type Server } from 'node:net';

export const bulkBytes = 512 * 1024 * 1024;
export const connections = 2000;
export const concurrency = 20;

/** A backend that discards what it reads and answers `id` once the client half-closes. */
export async function backend(host = '127.0.0.1', port = 0, id = 'ok'): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', () => {});
    s.on('end', () => s.end(id));
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

/** `connections` short requests, `concurrency` at a time: connections per second. */
export async function connsPerSecond(host: string, port: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < connections) await ask(host, port);
    }),
  );
  return connections / ((performance.now() - started) / 1000);
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

/** haproxy in tcp mode from `bind` to one backend; the config goes to `dir`. */
export function haproxyConfig(bind: string, backendAddr: string): string {
  return `global\n  maxconn 4000\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend f\n  bind ${bind}\n  default_backend b\nbackend b\n  server s1 ${backendAddr}\n`;
}
