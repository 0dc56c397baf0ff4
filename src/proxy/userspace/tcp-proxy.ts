// One service port's TCP proxy socket, as the userspace proxier's: accept,
// pick a backend (scheduler + ClientIP affinity), dial with upstream's
// escalating timeouts and move on to another backend when one refuses or
// times out, then relay both ways with backpressure and half-close.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Backend, Scheduler } from '../lb/types.js';

/** pkg/proxy/userspace EndpointDialTimeouts: four tries, each with a longer timeout. */
export const endpointDialTimeoutsMs = [250, 500, 1000, 2000];

export interface Endpoint {
  ip: string;
  port: number;
}

export interface TcpProxyOptions {
  bind: string;
  /** 0: any free port. */
  port: number;
  scheduler: Scheduler;
  dialTimeoutsMs?: number[];
  onError?: (err: Error) => void;
}

export interface ServicePortProxy {
  readonly port: number;
  setEndpoints(endpoints: Endpoint[]): void;
  /** Connections relayed right now (for tests and metrics). */
  activeConnections(): number;
  close(): Promise<void>;
}

/** Endpoints as scheduler backends in a stable order, keeping each surviving backend's connection counts. */
export function toBackends(endpoints: Endpoint[], previous: Map<string, Backend>): Map<string, Backend> {
  const next = new Map<string, Backend>();
  for (const e of [...endpoints].sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`))) {
    const id = e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
    next.set(id, previous.get(id) ?? { id, ip: e.ip, port: e.port, weight: 1, activeConns: 0, inactiveConns: 0 });
  }
  return next;
}

function dial(b: Backend, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: b.ip, port: b.port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`dial ${b.id}: timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function startTcpProxy(opts: TcpProxyOptions): Promise<ServicePortProxy> {
  let backends = new Map<string, Backend>();
  const timeouts = opts.dialTimeoutsMs ?? endpointDialTimeoutsMs;
  const open = new Set<Socket>();

  async function connectSomewhere(client: Socket): Promise<{ socket: Socket; backend: Backend } | undefined> {
    const tried = new Set<string>();
    for (const timeout of timeouts) {
      // A backend that just failed is not offered again in this attempt.
      const candidates = [...backends.values()].filter((b) => !tried.has(b.id));
      const b = opts.scheduler.pick(candidates.length ? candidates : [...backends.values()], { ip: client.remoteAddress ?? '', port: client.remotePort, destIp: client.localAddress }, Date.now());
      if (!b) return undefined;
      tried.add(b.id);
      try {
        return { socket: await dial(b, timeout), backend: b };
      } catch {
        continue;
      }
    }
    return undefined;
  }

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    if (backends.size === 0) {
      // No endpoints: refuse at once rather than hang (the client sees a reset).
      client.resetAndDestroy();
      return;
    }
    void connectSomewhere(client).then((conn) => {
      if (!conn) {
        client.resetAndDestroy();
        return;
      }
      const { socket, backend } = conn;
      backend.activeConns++;
      open.add(socket);
      const done = () => {
        backend.activeConns = Math.max(0, backend.activeConns - 1);
        open.delete(socket);
      };
      socket.once('close', done);
      socket.on('error', () => client.destroy());
      client.on('error', () => socket.destroy());
      client.on('close', () => socket.destroy());
      socket.on('close', () => client.destroy());
      // pipe() respects backpressure and, with allowHalfOpen, forwards each side's FIN on its own.
      client.pipe(socket);
      socket.pipe(client);
      client.resume();
    });
  });
  server.on('error', (e) => opts.onError?.(e));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    setEndpoints(endpoints) {
      backends = toBackends(endpoints, backends);
    },
    activeConnections: () => [...backends.values()].reduce((n, b) => n + b.activeConns, 0),
    close() {
      return new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
