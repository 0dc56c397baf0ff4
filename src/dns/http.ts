// The cluster DNS's HTTP endpoints, as CoreDNS's health, ready and
// prometheus plugins: /health on :8080 ("OK" while the process serves),
// /ready on :8181 (200 once the API has been listed, else 503 naming the
// plugin that is not ready), /metrics on :9153, and beside it /recent: the
// last questions and answers as JSON (recent.ts; kubesvc's, not CoreDNS's),
// for the node (kubesvc up's live page), never for pods: other pods' names
// are not theirs to read.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from '../util/metrics.js';
import type { RecentQueries } from './recent.js';

export interface DnsHttpOptions {
  /** host:port for each endpoint; an empty string turns one off. */
  health: string;
  ready: string;
  metrics: string;
  isReady(): boolean;
  /** What /metrics serves: a registry, or the workers' figures summed (workers.ts). */
  registry: Pick<Registry, 'contentType' | 'metrics'>;
  /** What /recent serves (on the metrics address); undefined: 404 (several workers each keep their own). */
  recent?: RecentQueries;
  /** Whether a client address may read /recent (a pod's may not); default: any. */
  mayReadRecent?(address: string): boolean;
}

function hostPort(addr: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid address "${addr}": want host:port or :port`);
  return { host: (m[1] ?? m[2]) || undefined, port: Number(m[3]) };
}

async function serve(addr: string, handler: (path: string, client: string) => { status: number; type: string; body: string | Promise<string> }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const r = handler(path, (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''));
    void Promise.resolve(r.body).then((body) => {
      res.writeHead(r.status, { 'Content-Type': r.type });
      res.end(body);
    });
  });
  const { host, port } = hostPort(addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export async function startDnsHttp(opts: DnsHttpOptions): Promise<{ ports: { health?: number; ready?: number; metrics?: number }; close(): Promise<void> }> {
  const text = 'text/plain; charset=utf-8';
  const notFound = { status: 404, type: text, body: '404 page not found\n' };
  const servers: Record<string, Server> = {};
  try {
    if (opts.health) servers.health = await serve(opts.health, (p) => (p === '/health' ? { status: 200, type: text, body: 'OK' } : notFound));
    if (opts.ready) servers.ready = await serve(opts.ready, (p) => (p === '/ready' ? (opts.isReady() ? { status: 200, type: text, body: 'OK' } : { status: 503, type: text, body: 'kubernetes' }) : notFound));
    if (opts.metrics)
      servers.metrics = await serve(opts.metrics, (p, client) =>
        p === '/metrics'
          ? { status: 200, type: opts.registry.contentType, body: opts.registry.metrics() }
          : p === '/recent' && opts.recent
            ? (opts.mayReadRecent?.(client) ?? true)
              ? { status: 200, type: 'application/json', body: JSON.stringify(opts.recent.list()) }
              : { status: 403, type: text, body: 'forbidden: the recent queries are for the node, not for pods\n' }
            : notFound,
      );
  } catch (e) {
    await Promise.all(Object.values(servers).map((s) => new Promise((r) => s.close(r))));
    throw e;
  }
  const portOf = (s?: Server) => (s ? (s.address() as AddressInfo).port : undefined);
  return {
    ports: { health: portOf(servers.health), ready: portOf(servers.ready), metrics: portOf(servers.metrics) },
    async close() {
      await Promise.all(Object.values(servers).map((s) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())))));
    },
  };
}
