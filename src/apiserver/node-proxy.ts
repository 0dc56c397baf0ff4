// pods/log and pods/exec: the API server checks the pod and container as
// kube-apiserver does (LogLocation / ExecLocation), then hands the request to
// the node agent of the pod's node over its unix socket.
//   log:  an HTTP GET to the agent's /containerLogs, its body streamed back as
//         it arrives; the agent's plain-text errors become Status objects as
//         GenericHttpResponseChecker makes them.
//   exec: an HTTP Upgrade, forwarded raw (request line and headers) to the
//         agent's /exec, then the two connections piped both ways, as
//         UpgradeAwareHandler does; the websocket handshake and subprotocol
//         (v5/v4.channel.k8s.io) are the agent's, so the API server is
//         protocol-agnostic here.
import { request as httpRequest, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../api/object.js';
import type { Pod } from '../api/types.js';
import { errors, StatusError, toStatusError, type Status } from '../api/status.js';
import { parseRequestInfo } from './request-info.js';
import { queryBool } from './query-params.js';
import type { HandlerContext } from './handler-context.js';
import { errorMessage } from '../util/errors.js';

/** Max bytes of an agent's error body read (upstream's maxReadLength). */
const maxErrorBody = 50_000;

const podOf = (o: KubeObject) => o as unknown as Pod;

/** The agent socket for the pod's node, or undefined when the pod has no node or no agent is known for it. */
export function agentSocketFor(pod: KubeObject, resolve: ((nodeName: string) => string | undefined) | undefined): string | undefined {
  const node = podOf(pod).spec?.nodeName;
  return node && resolve ? resolve(node) : undefined;
}

/** Upstream's validateContainer: default the only container, or insist on a valid name. */
export function validateContainer(container: string, pod: KubeObject): string {
  const spec = podOf(pod).spec;
  const name = pod.metadata.name;
  const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])].map((c) => c.name);
  if (!container) {
    const containers = spec?.containers ?? [];
    if (containers.length === 1) return containers[0].name;
    if (containers.length === 0) throw errors.badRequest(`a container name must be specified for pod ${name}`);
    throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
  }
  if (!all.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

function unreachable(node: string, sub: string, pod: string, cause?: string): StatusError {
  return errors.serviceUnavailable(`the node agent for node "${node}" is not reachable, so ${sub} is not available for pod ${pod}${cause ? `: ${cause}` : ''}`);
}

function dialError(socketPath: string, e: unknown): string {
  const code = (e as { code?: string }).code;
  return `dial unix ${socketPath}: connect: ${code === 'ENOENT' ? 'no such file or directory' : code === 'ECONNREFUSED' ? 'connection refused' : errorMessage(e)}`;
}

/** An agent's non-2xx answer as kube-apiserver's GenericHttpResponseChecker turns it into a Status. */
export function agentErrorStatus(code: number, body: string, pod: string): StatusError {
  if (code === 500) return errors.internal(body);
  if (code === 400) return errors.badRequest(body);
  const known: Record<number, [string, string]> = {
    404: ['NotFound', 'the server could not find the requested resource'],
    409: ['Conflict', 'the server reported a conflict'],
    401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
    405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
    422: ['Invalid', 'the server rejected our request due to an error in our request'],
    429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
    504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
  };
  let [reason, message] = known[code] ?? ['', `the server responded with the status code ${code} but did not return more information`];
  if (code === 403) [reason, message] = ['Forbidden', body];
  else if (!reason && code >= 500) [reason, message] = ['InternalError', `an error on the server (${JSON.stringify(body)}) has prevented the request from succeeding`];
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${message} ( pods/log ${pod})`,
    reason: reason || 'Unknown',
    details: { name: pod, group: '', kind: 'pods/log' },
    code,
  };
  return new StatusError(status);
}

function readLimited(stream: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      if (size < limit) chunks.push(c.subarray(0, limit - size));
      size += c.length;
    });
    stream.on('end', () => resolve(Buffer.concat(chunks).toString()));
    stream.on('error', () => resolve(Buffer.concat(chunks).toString()));
    stream.on('aborted', () => resolve(Buffer.concat(chunks).toString()));
  });
}

const logParams = ['sinceSeconds', 'sinceTime', 'tailLines', 'limitBytes'];
/** PodLogOptions' booleans: read by the query rule, passed on to the agent only when true, as upstream's LogLocation does. */
const logFlags = ['follow', 'previous', 'timestamps'];

/**
 * GET pods/{name}/log: streams the agent's container log to the client,
 * flushing as it arrives, until either side ends. A pod without a node has
 * no log yet: an empty body, as upstream.
 */
export function proxyPodLog(req: IncomingMessage, res: ServerResponse, nodeSocket: string | undefined, ns: string, pod: KubeObject, query: URLSearchParams): Promise<void> {
  const name = pod.metadata.name!;
  const container = validateContainer(query.get('container') ?? '', pod);
  const node = podOf(pod).spec?.nodeName;
  if (!node) {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 });
    res.end();
    return Promise.resolve();
  }
  if (!nodeSocket) throw unreachable(node, 'log', name);
  const params = new URLSearchParams();
  for (const k of logParams) {
    const v = query.get(k);
    if (v !== null) params.set(k, v);
  }
  for (const k of logFlags) if (queryBool(query, k)) params.set(k, 'true');
  const qs = params.toString();
  const path = `/containerLogs/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${qs ? '?' + qs : ''}`;

  return new Promise<void>((resolve, reject) => {
    const upstream = httpRequest({ socketPath: nodeSocket, path, method: req.method === 'HEAD' ? 'HEAD' : 'GET', headers: { Host: 'localhost' } });
    upstream.on('response', (ur) => {
      const code = ur.statusCode ?? 500;
      if (code < 200 || code > 206) {
        void readLimited(ur, maxErrorBody).then((body) => reject(agentErrorStatus(code, body, name)));
        return;
      }
      res.writeHead(code, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
      res.flushHeaders();
      ur.pipe(res);
      ur.on('end', () => resolve());
      const abort = () => {
        if (!res.writableEnded) res.destroy();
        resolve();
      };
      ur.on('aborted', abort);
      ur.on('error', abort);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) reject(unreachable(node, 'log', name, dialError(nodeSocket, e)));
      else {
        res.destroy();
        resolve();
      }
    });
    // The client went away: stop reading from the agent (it stops following).
    res.on('close', () => upstream.destroy());
    upstream.end();
  });
}

/** Answers an upgrade request on its raw socket with a Status error. */
export function writeUpgradeError(socket: Duplex, err: unknown): void {
  if (socket.destroyed || socket.writableEnded) return;
  const e = toStatusError(err);
  const body = JSON.stringify(e.status);
  socket.end(
    `HTTP/1.1 ${e.code} ${STATUS_CODES[e.code] ?? ''}\r\n` +
      `Content-Type: application/json\r\n` +
      `Cache-Control: no-cache, private\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n` +
      body,
  );
}

/**
 * pods/{name}/exec upgraded (websocket, or SPDY which the agent declines):
 * the request goes raw to the agent's /exec and the connections are piped.
 * Throws a StatusError before anything is written when the request is refused.
 */
export function proxyPodExec(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  nodeSocket: string | undefined,
  ns: string,
  pod: KubeObject,
  query: URLSearchParams,
): void {
  const name = pod.metadata.name!;
  const container = validateContainer(query.get('container') ?? '', pod);
  const node = podOf(pod).spec?.nodeName;
  if (!node) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  if (!nodeSocket) throw unreachable(node, 'exec', name);
  const params = new URLSearchParams();
  for (const c of query.getAll('command')) params.append('command', c);
  for (const k of ['stdin', 'stdout', 'stderr', 'tty']) if (queryBool(query, k)) params.set(k, 'true');
  const path = `/exec/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${params}`;

  let headers = '';
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const key = req.rawHeaders[i];
    if (/^(host|authorization|content-length)$/i.test(key)) continue;
    headers += `${key}: ${req.rawHeaders[i + 1]}\r\n`;
  }
  const upstream = createConnection(nodeSocket);
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    upstream.write(`${req.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`);
    if (head.length) upstream.write(head);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  upstream.on('error', (e) => {
    if (!connected) writeUpgradeError(socket, unreachable(node, 'exec', name, dialError(nodeSocket, e)));
    else socket.destroy();
  });
  upstream.on('close', (hadError) => {
    if (hadError) socket.destroy();
  });
  socket.on('error', () => upstream.destroy());
  socket.on('close', () => upstream.destroy());
}

/**
 * The API server's `upgrade` listener: pods/exec goes to the pod's agent;
 * any other upgrade request is refused with a Status.
 */
export function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: HandlerContext): void {
  socket.on('error', () => socket.destroy());
  // Upgraded connections are no longer the HTTP server's: tracked here so closing the server ends them.
  let open = upgraded.get(ctx);
  if (!open) upgraded.set(ctx, (open = new Set()));
  open.add(socket);
  socket.on('close', () => open.delete(socket));
  (async () => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const info = parseRequestInfo(req.method ?? 'GET', path, url.searchParams);
    const def = info.isResourceRequest
      ? ctx.defs.find((d) => d.group === info.group && d.version === info.version && d.resource === info.resource)
      : undefined;
    const sub = info.subresource;
    if (!def || (sub && !def.subresources.some((s) => s.name === sub))) throw errors.pathNotFound();
    if (def.resource !== 'pods' || sub !== 'exec' || !info.namespace || !info.name) {
      throw errors.badRequest(`upgrading to ${JSON.stringify(req.headers.upgrade ?? '')} is not supported for this request`);
    }
    const pod = await ctx.registry.get(def, info.namespace, info.name);
    proxyPodExec(req, socket, head, agentSocketFor(pod, ctx.agentSocket), info.namespace, pod, url.searchParams);
  })().catch((err) => writeUpgradeError(socket, err));
}

const upgraded = new WeakMap<HandlerContext, Set<Duplex>>();

/** Ends every upgraded connection (exec sessions) of a server being closed. */
export function closeUpgrades(ctx: HandlerContext): void {
  for (const socket of upgraded.get(ctx) ?? []) socket.destroy();
  upgraded.delete(ctx);
}
