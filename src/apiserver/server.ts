// The HTTPS front of the API server: non-resource paths (version, health,
// discovery, OpenAPI, service account issuer discovery) and resource
// requests, on TCP (loopback by default), on a unix socket in the data dir,
// and on listeners bound elsewhere (inside the cluster network). Every
// listener speaks TLS with the cluster's serving certificate and asks for a
// client certificate; every request is authenticated and authorized before
// anything else is done with it.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { chmodSync } from 'node:fs';
import type { Server as NetServer } from 'node:net';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { errors, StatusError, type Status } from '../api/status.js';
import type { Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import { logger } from '../util/log.js';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroupDoc,
  apiGroupList,
  apiResourceList,
  apiVersions,
  groupVersions,
  wantsAggregated,
} from './discovery.js';
import { sendObject, sendStatusError, sendText } from './http-io.js';
import { apiServerHealthChecks, serveHealth, type HealthEndpoint } from './health.js';
import { closeUpgrades, handleUpgrade, writeUpgradeError } from './node-proxy.js';
import { groupVersionDocument, openApiIndex } from './openapi/document.js';
import { serveOpenApiV2 } from './openapi/v2.js';
import { parseRequestInfo, type RequestInfo } from './request-info.js';
import { createRequestMetrics } from './request-metrics.js';
import type { HandlerContext } from './handler-context.js';
import { handleResource } from './resource-handler.js';
import { admitRequest, type RequestAuth } from './auth/filter.js';
import type { Auditor, RequestAudit } from './audit/recorder.js';
import { serverVersion } from './version.js';
import { isCustomResourceDef } from '../apiextensions/custom-resource.js';
import { documentHash, withCustomSchemas } from '../apiextensions/openapi.js';
import { serveCustomResourceRequest } from '../apiextensions/request-hooks.js';
import { withFieldValidation } from '../apiextensions/request-field-validation.js';
import type { WatchSettings } from './watch.js';

const log = logger('apiserver');

export interface ServerTls {
  /** PEM serving certificate and key, and the CA client certificates must chain to. */
  cert: string;
  key: string;
  clientCA: string;
}

export interface ApiServerOptions {
  registry: Registry;
  defs: ResourceDef[];
  port: number;
  bind: string;
  tls: ServerTls;
  auth: RequestAuth;
  /** Service account issuer discovery documents (/.well-known/openid-configuration, /openid/v1/jwks). */
  issuerDiscovery?: { openIdConfiguration(): unknown; jwks(): unknown };
  /** Extra per-request facilities handlers need (access reviews, token requests). */
  extensions?: HandlerContext['extensions'];
  socketPath?: string;
  bookmarkIntervalMs?: number;
  /** Readiness: false until start-up work (default objects) is done. */
  isReady?: () => boolean;
  /** The unix socket of a node's agent, for pods/log and pods/exec. */
  agentSocket?: (nodeName: string) => string | undefined;
  /** Records every request under the audit policy (--audit-policy-file, --audit-log-path). */
  audit?: Auditor;
}

export interface RunningApiServer {
  /** host:port the TCP listener got (port 0 → the chosen port). */
  address: string;
  port: number;
  /**
   * Serves the API on connections accepted by `listener` (a socket bound
   * elsewhere, e.g. inside the cluster network); closed with the server.
   */
  serveOn(listener: NetServer): void;
  close(): Promise<void>;
}

/** What the server learns of a request on its way, for its metrics and audit event. */
interface RequestSeen {
  info?: RequestInfo;
  audit?: RequestAudit;
  /** The Status of a failed request. */
  failure?: Status;
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const watch: WatchSettings = { bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, active: new Set() };
  const ctx: HandlerContext = { registry: opts.registry, defs: opts.defs, watch, agentSocket: opts.agentSocket, auth: opts.auth, extensions: opts.extensions };
  // Custom resources come and go with their CRDs: the served group-versions are read per request.
  const gvs = () => groupVersions(opts.defs);
  const openApiResources = (g: string, v: string) =>
    opts.defs
      .filter((d) => d.group === g && d.version === v)
      .map((d) => ({
        group: d.group,
        version: d.version,
        resource: d.resource,
        kind: d.kind,
        namespaced: d.namespaced,
        subresources: d.subresources.map((s) => ({ name: s.name, kind: s.kind, group: s.group, version: s.version })),
        createOnly: !!d.createOnly,
        // Custom resources take no strategic merge patch (the apiextensions server's 415): their PATCH says so, and kubectl sends a merge patch.
        noStrategicMergePatch: isCustomResourceDef(d),
      }));
  /** A group-version's OpenAPI document, with the schemas of the custom kinds it serves. */
  const openApiDocument = (group: string, version: string) =>
    withCustomSchemas(
      groupVersionDocument({ group, version }, openApiResources(group, version)),
      opts.defs.filter(isCustomResourceDef).filter((d) => d.group === group && d.version === version),
    );
  let address = '';
  const metrics = createRequestMetrics({ store: opts.registry.store, defs: opts.defs });
  const healthChecks = apiServerHealthChecks(opts.registry.store, () => !opts.isReady || opts.isReady());

  async function route(req: IncomingMessage, res: ServerResponse, seen: RequestSeen) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const info = parseRequestInfo(req.method ?? 'GET', path, url.searchParams);
    seen.info = info;
    const user = await admitRequest(req, info, url.pathname, opts.auth, [], seen.audit?.admission);
    seen.audit?.admitted(info.verb === 'watch');
    if (info.verb === 'watch') metrics.trackLongRunning(req, res, info);
    switch (path) {
      case '/version':
        return sendObject(req, res, 200, serverVersion);
      case '/metrics':
        return sendText(res, 200, await metrics.text(), metrics.contentType);
      case '/api':
        if (wantsAggregated(req.headers.accept)) return sendObject(req, res, 200, aggregatedDiscovery(opts.defs, true), aggregatedContentType);
        return sendObject(req, res, 200, apiVersions(address));
      case '/apis':
        if (wantsAggregated(req.headers.accept)) return sendObject(req, res, 200, aggregatedDiscovery(opts.defs, false), aggregatedContentType);
        return sendObject(req, res, 200, apiGroupList(opts.defs));
      case '/openapi/v2':
        return serveOpenApiV2(req, res, gvs(), (gv) => openApiDocument(gv.group, gv.version));
      case '/openapi/v3': {
        const index = openApiIndex(gvs(), gvs().flatMap((gv) => openApiResources(gv.group, gv.version))) as { paths: Record<string, { serverRelativeURL: string }> };
        // Custom kinds' documents hash with their schemas, so kubectl refetches when a CRD changes.
        for (const d of opts.defs.filter(isCustomResourceDef)) {
          const path = `apis/${d.group}/${d.version}`;
          index.paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${documentHash(openApiDocument(d.group, d.version))}` };
        }
        return sendObject(req, res, 200, index);
      }
      case '/.well-known/openid-configuration':
        if (opts.issuerDiscovery) return sendObject(req, res, 200, opts.issuerDiscovery.openIdConfiguration());
        break;
      case '/openid/v1/jwks':
        if (opts.issuerDiscovery) return sendObject(req, res, 200, opts.issuerDiscovery.jwks(), 'application/jwk-set+json');
        break;
    }
    const health = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(path);
    if (health && (await serveHealth(res, health[1] as HealthEndpoint, health[2] ?? '', url.searchParams, healthChecks[health[1] as HealthEndpoint]))) return;
    if (path.startsWith('/openapi/v3/')) {
      const rest = path.slice('/openapi/v3/'.length).split('/');
      const [group, version] = rest[0] === 'api' ? ['', rest[1]] : [rest[1], rest[2]];
      const resources = openApiResources(group, version);
      if (!resources.length) throw errors.pathNotFound();
      return sendObject(req, res, 200, openApiDocument(group, version));
    }
    if (!info.isResourceRequest) {
      if (info.parts[0] === 'api' && info.parts.length === 2) {
        const list = apiResourceList(opts.defs, '', info.parts[1]);
        if (list) return sendObject(req, res, 200, list);
      } else if (info.parts[0] === 'apis' && info.parts.length === 2) {
        const doc = apiGroupDoc(opts.defs, info.parts[1]);
        if (doc) return sendObject(req, res, 200, doc);
      } else if (info.parts[0] === 'apis' && info.parts.length === 3) {
        const list = apiResourceList(opts.defs, info.parts[1], info.parts[2]);
        if (list) return sendObject(req, res, 200, list);
      }
      throw errors.pathNotFound();
    }
    if (await serveCustomResourceRequest(req, res, info, url.searchParams, opts.defs, opts.registry)) return;
    // Custom resources find their unknown fields when pruning, in the strategy: it reads the request's fieldValidation.
    return withFieldValidation(url.searchParams.get('fieldValidation'), () => handleResource(req, res, info, url, ctx, user));
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const seen: RequestSeen = { audit: opts.audit?.begin(req, res) };
    const started = performance.now();
    // 'close', not 'finish': a watch the client ends never finishes its response, and still counts.
    res.once('close', () => {
      metrics.observe(req, seen.info, res.statusCode, (performance.now() - started) / 1000);
      seen.audit?.finish(res.statusCode, seen.failure);
    });
    route(req, res, seen).catch((err) => {
      const e = sendStatusError(req, res, err);
      seen.failure = e.status;
      // Statuses we chose (e.g. 503 agent unreachable) are answers; anything else that became a 500 is a bug worth its stack.
      if (e.code >= 500 && !(err instanceof StatusError)) {
        log.error('request failed', { method: req.method, url: req.url, code: e.code, error: err instanceof Error ? err.stack : String(err) });
      }
    });
  };

  /** Upgrades (exec) are authenticated and authorized first; a websocket exec is a GET that must also be allowed to create. */
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const info = parseRequestInfo(req.method ?? 'GET', url.pathname.replace(/\/+$/, '') || '/', url.searchParams);
      const streaming = info.verb === 'get' && ['exec', 'attach', 'portforward'].includes(info.subresource ?? '');
      await admitRequest(req, info, url.pathname, opts.auth, streaming ? ['create'] : []);
      handleUpgrade(req, socket, head, ctx);
    })().catch((err) => writeUpgradeError(socket, err));
  };

  const servers: Server[] = [];
  /** Sockets bound elsewhere whose connections servers[] take (serveTls). */
  const listeners: NetServer[] = [];
  const listen = (server: Server, target: { port: number; host: string } | string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if (typeof target === 'string') server.listen(target, done);
      else server.listen(target.port, target.host, done);
    });

  /** TLS asking for (not requiring) a client certificate: token and anonymous requests come without one. */
  const httpsServer = () => {
    const server = createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCA, requestCert: true, rejectUnauthorized: false }, handler);
    server.on('upgrade', upgrade);
    server.keepAliveTimeout = 65_000;
    // A client that fails the handshake (plain HTTP, a bad certificate) is its own problem.
    server.on('tlsClientError', (err, socket) => socket.destroy());
    return server;
  };
  const tcp = httpsServer();
  await listen(tcp, { port: opts.port, host: opts.bind });
  servers.push(tcp);
  const port = (tcp.address() as AddressInfo).port;
  address = `${opts.bind.includes(':') ? `[${opts.bind}]` : opts.bind}:${port}`;
  if (opts.socketPath) {
    rmSync(opts.socketPath, { force: true });
    const unix = httpsServer();
    await listen(unix, opts.socketPath);
    chmodSync(opts.socketPath, 0o600);
    servers.push(unix);
  }

  return {
    address,
    port,
    serveOn(listener) {
      const tls = httpsServer();
      listener.on('connection', (socket) => tls.emit('connection', socket));
      // An accept error (EMFILE, ...) is the listener's problem, not a reason to crash the server.
      listener.on('error', (err) => log.warn('in-cluster listener error', { error: err.message }));
      servers.push(tls);
      listeners.push(listener);
    },
    async close() {
      for (const res of watch.active) res.end();
      closeUpgrades(ctx);
      for (const l of listeners) l.close();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      if (opts.socketPath) rmSync(opts.socketPath, { force: true });
    },
  };
}
