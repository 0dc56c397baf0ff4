// The node agent's local server: kubelet's streaming endpoints on a unix
// socket, which the API server proxies pods/log and pods/exec to.
//   GET /containerLogs/{namespace}/{pod}/{container}   (see server-logs.ts)
//   GET /exec/{namespace}/{pod}/{container}            websocket upgrade (see server-exec.ts)
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { logger } from '../util/log.js';
import type { ContainerRuntimeView } from './contracts.js';
import { serveContainerLogs } from './server-logs.js';
import { createExecServer, rejectUpgrade } from './server-exec.js';
import { errorMessage } from '../util/errors.js';

const log = logger('agent-server');

export interface AgentServerOptions {
  socketPath: string;
  runtime: ContainerRuntimeView;
}

export interface AgentServer {
  close(): Promise<void>;
}

/** `/kind/ns/pod/container` → its parts, or undefined when the path has another shape. */
function parseStreamPath(pathname: string): { kind: string; namespace: string; pod: string; container: string } | undefined {
  const parts = pathname.split('/').filter(Boolean);
  if (parts.length !== 4) return undefined;
  try {
    const [kind, namespace, pod, container] = parts.map(decodeURIComponent);
    return { kind, namespace, pod, container };
  } catch {
    return undefined;
  }
}

function sendText(res: ServerResponse, code: number, text: string) {
  if (res.headersSent) return void res.end();
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startAgentServer(opts: AgentServerOptions): Promise<AgentServer> {
  const { runtime, socketPath } = opts;
  const exec = createExecServer(runtime);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = parseStreamPath(url.pathname);
    if (target?.kind === 'containerLogs' && (req.method === 'GET' || req.method === 'HEAD')) {
      serveContainerLogs(req, res, runtime, target.namespace, target.pod, target.container, url.searchParams).catch((err) => {
        log.error('container logs failed', { path: url.pathname, error: err instanceof Error ? err.stack : String(err) });
        if (!res.headersSent) sendText(res, 500, errorMessage(err));
        else res.destroy();
      });
      return;
    }
    if (target?.kind === 'exec') return sendText(res, 400, 'Upgrade request required');
    sendText(res, 404, '404 page not found');
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = parseStreamPath(url.pathname);
    if (target?.kind !== 'exec') return rejectUpgrade(socket, 404, '404 page not found');
    try {
      exec.handleUpgrade(req, socket, head, target.namespace, target.pod, target.container, url.searchParams);
    } catch (err) {
      log.error('exec failed', { path: url.pathname, error: err instanceof Error ? err.stack : String(err) });
      rejectUpgrade(socket, 500, errorMessage(err));
    }
  });

  mkdirSync(dirname(socketPath), { recursive: true });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  log.info('serving', { socket: socketPath });

  let closed: Promise<void> | undefined;
  return {
    close() {
      closed ??= (async () => {
        exec.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        rmSync(socketPath, { force: true });
      })();
      return closed;
    },
  };
}
