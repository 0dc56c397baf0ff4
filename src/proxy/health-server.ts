// kube-proxy's HTTP servers (pkg/proxy/healthcheck, cmd/kube-proxy metrics
// server): node-level /healthz and /livez, /metrics, and one server per
// service healthCheckNodePort for cloud load balancers. Every bind address is
// a parameter: the proxy listens inside its node's network namespace, tests
// on 127.0.0.1 port 0.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from '../util/log.js';
import type { ProxyMetrics } from './metrics.js';
import type { Node } from './snapshot.js';
import { errorMessage } from '../util/errors.js';

const log = logger('proxy-health');

/** The Cluster Autoscaler's taint for nodes it is about to delete: such a node fails /healthz. */
export const toBeDeletedTaint = 'ToBeDeletedByClusterAutoscaler';
export const defaultHealthzBindAddress = '0.0.0.0:10256';
export const defaultMetricsBindAddress = '127.0.0.1:10249';

/** "host:port", "[v6]:port" or ":port" → parts; an empty host means every address. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`address ${addr}: missing port in address`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`address ${addr}: invalid port`);
  return { host: m[1] ?? m[2] ?? '', port };
}

export interface Listening {
  host: string;
  port: number;
}

function listen(server: Server, addr: string): Promise<Listening> {
  const { host, port } = splitHostPort(addr);
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen({ port, host: host || undefined }, () => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Go's net/http ServeMux answer for an unknown path. */
function notFound(res: ServerResponse) {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end('404 page not found\n');
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://x').pathname;
}

const processStartMs = performance.timeOrigin;

/**
 * A time as Go's time.Time.String() prints it (what kube-proxy's %q shows):
 * "2006-01-02 15:04:05.999999999 +0000 UTC m=+1.234000000". The zero time is
 * "0001-01-01 00:00:00 +0000 UTC".
 */
export function goTimeString(ms: number | undefined): string {
  if (ms === undefined) return '0001-01-01 00:00:00 +0000 UTC';
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const nanos = Math.round((ms - Math.floor(ms)) * 1e6) + d.getUTCMilliseconds() * 1e6;
  const frac = nanos ? '.' + String(nanos).padStart(9, '0').replace(/0+$/, '') : '';
  const wall = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac} +0000 UTC`;
  const mono = Math.max(0, ms - processStartMs) / 1000;
  return `${wall} m=+${mono.toFixed(9)}`;
}

export interface ProxyHealthServerOptions {
  /** Default 0.0.0.0:10256. */
  bindAddress?: string;
  /** A queued update older than this makes the proxy unhealthy; kube-proxy uses 2 × syncPeriod. */
  healthTimeoutMs: number;
  /** Wall clock in ms (tests). */
  now?: () => number;
  metrics?: Pick<ProxyMetrics, 'proxyHealthzTotal' | 'proxyLivezTotal'>;
}

export interface ProxyHealthServer {
  /** A Service or EndpointSlice change is waiting to be synced (upstream QueuedUpdate). */
  queuedUpdate(): void;
  /** The rules now reflect the current state (upstream Updated). */
  updated(): void;
  /** The node object changed (undefined: deleted): a node being deleted or drained by the autoscaler is not eligible. */
  syncNode(node: Node | undefined): void;
  isHealthy(): boolean;
  nodeEligible(): boolean;
  listen(): Promise<Listening>;
  close(): Promise<void>;
}

/** healthcheck.ProxyHealthServer: /healthz (proxy health and node eligibility) and /livez (proxy health only). */
export function createProxyHealthServer(opts: ProxyHealthServerOptions): ProxyHealthServer {
  const now = opts.now ?? Date.now;
  let lastUpdated: number | undefined;
  let oldestPendingQueued: number | undefined;
  let eligible = true; // until a node event says otherwise, as upstream

  function health(): { healthy: boolean; lastUpdated: number | undefined } {
    // Healthy while starting up (never synced) or fully synced; unhealthy only when an update has waited too long.
    if (lastUpdated === undefined || oldestPendingQueued === undefined) return { healthy: true, lastUpdated };
    if (now() - oldestPendingQueued < opts.healthTimeoutMs) return { healthy: true, lastUpdated };
    return { healthy: false, lastUpdated };
  }

  const server = createServer((req, res) => {
    const path = pathOf(req);
    if (path !== '/healthz' && path !== '/livez') return notFound(res);
    const h = health();
    const current = now();
    const healthy = path === '/healthz' ? h.healthy && eligible : h.healthy;
    (path === '/healthz' ? opts.metrics?.proxyHealthzTotal : opts.metrics?.proxyLivezTotal)?.inc({ code: healthy ? '200' : '503' });
    // As upstream: when healthy, lastUpdated reads as "now" (older releases reported the last sync-loop run).
    const shownLastUpdated = healthy ? current : h.lastUpdated;
    res.writeHead(healthy ? 200 : 503, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
    const base = `{"lastUpdated": ${JSON.stringify(goTimeString(shownLastUpdated))},"currentTime": ${JSON.stringify(goTimeString(current))}`;
    res.end(path === '/healthz' ? `${base}, "nodeEligible": ${eligible}}` : `${base}}`);
  });

  return {
    queuedUpdate() {
      if (oldestPendingQueued === undefined) oldestPendingQueued = now();
    },
    updated() {
      oldestPendingQueued = undefined;
      lastUpdated = now();
    },
    syncNode(node) {
      if (!node || node.metadata.deletionTimestamp) eligible = false;
      else eligible = !(node.spec?.taints ?? []).some((t) => t.key === toBeDeletedTaint);
    },
    isHealthy: () => health().healthy,
    nodeEligible: () => eligible,
    async listen() {
      const l = await listen(server, opts.bindAddress ?? defaultHealthzBindAddress);
      log.info('healthz server listening', { address: `${l.host}:${l.port}` });
      return l;
    },
    close: () => close(server),
  };
}

export interface MetricsServerOptions {
  /** Default 127.0.0.1:10249. */
  bindAddress?: string;
  metrics: Pick<ProxyMetrics, 'registry'>;
  /** Served at /proxyMode, as kube-proxy. */
  mode?: string;
  /** Served at /configz under "kubeproxy.config.k8s.io", as kube-proxy. */
  config?: unknown;
  /** Read-only JSON documents under /debug/ (the proxier's); undefined is a 404. */
  debug?: (path: string, query: URLSearchParams) => unknown;
}

export interface MetricsServer {
  listen(): Promise<Listening>;
  close(): Promise<void>;
}

/** kube-proxy's metrics server: /metrics, /healthz ("ok"), /proxyMode, /configz. */
export function createMetricsServer(opts: MetricsServerOptions): MetricsServer {
  const registry = opts.metrics.registry;
  const server = createServer((req, res) => {
    const path = pathOf(req);
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        },
        (e: unknown) => {
          res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end(`error gathering metrics: ${errorMessage(e)}\n`);
        },
      );
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      return res.end('ok');
    }
    if (path === '/proxyMode' && opts.mode !== undefined) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      return res.end(opts.mode);
    }
    if (path === '/configz' && opts.config !== undefined) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ 'kubeproxy.config.k8s.io': opts.config }));
    }
    const debug = path.startsWith('/debug/') && req.method === 'GET' ? opts.debug?.(path, new URL(req.url ?? '/', 'http://x').searchParams) : undefined;
    if (debug !== undefined) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(debug));
    }
    notFound(res);
  });
  return {
    async listen() {
      const l = await listen(server, opts.bindAddress ?? defaultMetricsBindAddress);
      log.info('metrics server listening', { address: `${l.host}:${l.port}` });
      return l;
    },
    close: () => close(server),
  };
}

export interface ServiceHealthServerOptions {
  /** Addresses to open each healthCheckNodePort on (read when a port opens); default every address ("0.0.0.0"), as upstream without nodePortAddresses. */
  bindAddresses?: string[] | (() => string[]);
  /** The node-level proxy health (a stale proxy fails every service check too). */
  isProxyHealthy: () => boolean;
  nodeName?: string;
}

export interface ServiceHealthServer {
  /**
   * The services that need a health check, "namespace/name" → healthCheckNodePort.
   * Opens new ones, closes gone or moved ones, leaves the rest; a port that cannot
   * be opened is logged and retried on the next call.
   */
  syncServices(services: ReadonlyMap<string, number>): Promise<void>;
  /** Local ready endpoint counts, "namespace/name" → N; services not listed have 0. */
  syncEndpoints(endpoints: ReadonlyMap<string, number>): void;
  /** Open checks: "namespace/name" → port. */
  services(): Map<string, number>;
  close(): Promise<void>;
}

/** The exact body upstream prints (a dedented, tab-indented JSON document). */
export function serviceHealthBody(namespace: string, name: string, localEndpoints: number, proxyHealthy: boolean): string {
  return [
    '{',
    '\t"service": {',
    `\t\t"namespace": ${JSON.stringify(namespace)},`,
    `\t\t"name": ${JSON.stringify(name)}`,
    '\t},',
    `\t"localEndpoints": ${localEndpoints},`,
    `\t"serviceProxyHealthy": ${proxyHealthy}`,
    '}',
  ].join('\n');
}

/** healthcheck.ServiceHealthServer: any path on a service's healthCheckNodePort → 200 when it has local endpoints, else 503. */
export function createServiceHealthServer(opts: ServiceHealthServerOptions): ServiceHealthServer {
  const hostsNow = () => (typeof opts.bindAddresses === 'function' ? opts.bindAddresses() : (opts.bindAddresses ?? ['0.0.0.0']));
  const instances = new Map<string, { port: number; servers: Server[]; endpoints: number }>();

  function handler(key: string) {
    const [namespace, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    return (_req: IncomingMessage, res: ServerResponse) => {
      const inst = instances.get(key);
      if (!inst) {
        log.warn('request for closed healthcheck', { service: key });
        res.end();
        return;
      }
      const healthy = opts.isProxyHealthy();
      res.writeHead(inst.endpoints !== 0 && healthy ? 200 : 503, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
      res.end(serviceHealthBody(namespace, name, inst.endpoints, healthy));
    };
  }

  return {
    async syncServices(wanted) {
      for (const [key, inst] of [...instances]) {
        if (wanted.get(key) === inst.port) continue;
        log.info('closing healthcheck', { service: key, port: inst.port });
        instances.delete(key);
        await Promise.all(inst.servers.map(close));
      }
      for (const [key, port] of wanted) {
        if (instances.has(key)) continue;
        const servers: Server[] = [];
        try {
          for (const host of hostsNow()) {
            const s = createServer(handler(key));
            servers.push(s);
            await listen(s, `${host.includes(':') ? `[${host}]` : host}:${port}`);
          }
          instances.set(key, { port, servers, endpoints: 0 });
          log.info('opening healthcheck', { service: key, port });
        } catch (e) {
          await Promise.all(servers.filter((s) => s.listening).map(close));
          log.error('failed to start healthcheck', { node: opts.nodeName, service: key, port, error: errorMessage(e) });
        }
      }
    },
    syncEndpoints(endpoints) {
      for (const [key, inst] of instances) inst.endpoints = endpoints.get(key) ?? 0;
    },
    services: () => new Map([...instances].map(([k, v]) => [k, v.port])),
    async close() {
      const all = [...instances.values()].flatMap((i) => i.servers);
      instances.clear();
      await Promise.all(all.map(close));
    },
  };
}
