// `kubesvc up`'s live page of the cluster: an HTTP server on 127.0.0.1 (auth.ts
// decides who gets in) serving one static page (static/), a server-sent events
// stream (/events: the state at connect, then coalesced patches from the
// informers, and every few seconds while a page is open the conntrack
// counters per endpoint and the cluster DNS's recent queries), the rules of a
// Service on a node (/api/rules), and a trace run from the page (POST /api/trace).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../agent/builtin-view.js';
import type { Client } from '../client/client.js';
import { runTrace } from '../trace/run.js';
import { parseSource, TargetError } from '../trace/target.js';
import { logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { createDashboardAuth } from './auth.js';
import { createClusterState, type Patch } from './cluster-state.js';
import { createCounterSource } from './counters.js';
import { readRecentDns } from './dns-recent.js';
import { createRulesSource } from './rules.js';

const log = logger('dashboard');

export interface DashboardOptions {
  /** The admin's client (the dashboard reads everything and traces as `kubesvc trace` does). */
  client: Client;
  /** The network namespace of node `name`, and of a pod (by its node and UID). */
  nodeNetns(name: string): string;
  podNetns(node: string, uid: string): string;
  /** 0 (the default): any free port. */
  port?: number;
  /** How often counters and DNS are read while a page is open (default 2 s). */
  pollMs?: number;
}

export interface Dashboard {
  /** The URL to open, with the one-time token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const staticFiles: Record<string, string> = {
  '/': 'text/html; charset=utf-8',
  '/app.js': 'text/javascript; charset=utf-8',
  '/app.css': 'text/css; charset=utf-8',
};
const staticName = (path: string) => (path === '/' ? 'index.html' : path.slice(1));

const securityHeaders = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
};

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}) {
  res.writeHead(status, { ...securityHeaders, 'Content-Type': type, ...headers });
  res.end(body);
}
const json = (res: ServerResponse, status: number, body: unknown) => send(res, status, JSON.stringify(body), 'application/json');

function readBody(req: IncomingMessage, limit = 4096): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > limit) {
        reject(new Error('request body too large'));
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const dir = join(packageRoot(), 'src/dashboard/static');
  const files = Object.fromEntries(Object.keys(staticFiles).map((p) => [p, readFileSync(join(dir, staticName(p)), 'utf8')]));
  const auth = createDashboardAuth();
  const state = createClusterState(opts.client);
  const rules = createRulesSource(opts.client, state);
  const netnsOf = opts.nodeNetns;
  const counters = createCounterSource(state, netnsOf);
  const streams = new Set<ServerResponse>();
  const pollMs = opts.pollMs ?? 2000;

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of streams) s.write(frame);
  };
  state.subscribe((p: Patch) => broadcast('patch', p));

  // Counters and DNS: read while at least one page listens, one reading at a time.
  let polling: NodeJS.Timeout | undefined;
  let lastDns = '';
  const poll = async () => {
    polling = undefined;
    if (!streams.size) return;
    const since = performance.now();
    const [c, d] = await Promise.all([
      counters.read().catch((e: unknown) => (log.error('reading conntrack counters failed', { error: errorMessage(e) }), undefined)),
      readRecentDns(state, netnsOf),
    ]);
    if (c) broadcast('counters', { time: Date.now(), counters: c });
    const dnsText = JSON.stringify(d);
    if (dnsText !== lastDns) {
      lastDns = dnsText;
      broadcast('dns', d);
    }
    log.v(2).info('polled', { ms: Math.round(performance.now() - since) });
    if (streams.size) polling = setTimeout(() => void poll(), pollMs);
  };

  // One trace at a time: each adds and removes its own kernel trace rules.
  let traces: Promise<unknown> = Promise.resolve();
  const trace = async (body: { target?: unknown; from?: unknown; namespace?: unknown; udp?: unknown }) => {
    if (typeof body.target !== 'string' || !body.target.trim()) throw new TargetError('a target is required (a Service name, svc/NAME[:PORT], IP:PORT or a node port)');
    const nodes = state.informers.nodes
      .list()
      .map((n) => n.metadata.name!)
      .sort();
    const from = typeof body.from === 'string' && body.from.trim() ? body.from.trim() : nodes[0] ? `node/${nodes[0]}` : '';
    if (!from) throw new TargetError('the cluster has no node to trace from');
    const source = parseSource(from);
    const namespace = typeof body.namespace === 'string' && body.namespace.trim() ? body.namespace.trim() : undefined;
    return runTrace({
      client: opts.client,
      source,
      namespace,
      target: body.target.trim(),
      protocol: body.udp === true ? 'UDP' : 'TCP',
      nodeNetns: netnsOf,
      podNetns: opts.podNetns,
      // up's own Ctrl-C handling stops the cluster; the trace cleans up in its finally.
      exitOnSignal: false,
    });
  };

  let port = 0;
  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      log.error('request failed', { path: req.url, error: errorMessage(e) });
      if (!res.headersSent) json(res, 500, { error: errorMessage(e) });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!auth.hostAllowed(req, port)) return send(res, 421, 'this server answers only to 127.0.0.1 and localhost\n');
    const token = url.searchParams.get('token');
    if (req.method === 'GET' && url.pathname === '/' && token !== null) {
      const session = auth.exchange(token);
      if (!session) return send(res, 401, 'Unauthorized: the token is wrong or was used already (it works once; the browser that used it has the cookie)\n');
      return send(res, 303, '', 'text/plain', { Location: '/', 'Set-Cookie': auth.setCookie(session) });
    }
    if (!auth.hasSession(req)) return send(res, 401, 'Unauthorized: open the dashboard URL that kubesvc up printed (with its token)\n');

    if (req.method === 'GET' && staticFiles[url.pathname]) return send(res, 200, files[url.pathname], staticFiles[url.pathname]);
    if (req.method === 'GET' && url.pathname === '/events') {
      res.writeHead(200, { ...securityHeaders, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
      res.write(`event: snapshot\ndata: ${JSON.stringify(state.snapshot())}\n\n`);
      streams.add(res);
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.on('close', () => {
        clearInterval(heartbeat);
        streams.delete(res);
      });
      lastDns = '';
      if (!polling) polling = setTimeout(() => void poll(), 0);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/state') return json(res, 200, state.snapshot());
    if (req.method === 'GET' && url.pathname === '/api/rules') {
      const ns = url.searchParams.get('namespace') ?? 'default';
      const name = url.searchParams.get('name') ?? '';
      const node = url.searchParams.get('node') ?? '';
      try {
        return json(res, 200, await rules.rulesFor(node, ns, name));
      } catch (e) {
        return json(res, 422, { error: errorMessage(e) });
      }
    }
    if (url.pathname === '/api/trace') {
      if (req.method !== 'POST') return send(res, 405, 'POST only\n', 'text/plain; charset=utf-8', { Allow: 'POST' });
      if (!auth.sameOrigin(req, port)) return send(res, 403, 'Forbidden: a trace is started from the dashboard page only\n');
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return send(res, 415, 'application/json expected\n');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      } catch (e) {
        return json(res, 400, { error: errorMessage(e) });
      }
      const run = traces.then(() => trace(body));
      traces = run.catch(() => undefined);
      try {
        return json(res, 200, await run);
      } catch (e) {
        return json(res, e instanceof TargetError ? 422 : 500, { error: errorMessage(e) });
      }
    }
    return send(res, 404, '404 page not found\n');
  }

  await state.start();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: opts.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    state.stop();
    throw e;
  }
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${auth.token}`,
    port,
    async close() {
      if (polling) clearTimeout(polling);
      for (const s of streams) s.end();
      streams.clear();
      rules.stop();
      state.stop();
      await new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
    },
  };
}
