// One service port's TCP proxy socket, as the userspace proxier's: accept,
// pick a backend (scheduler + ClientIP affinity), dial with upstream's
// escalating timeouts and move on to another backend when one refuses or
// times out, then relay both ways with backpressure and half-close.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Backend, Client, Scheduler } from '../lb/types.js';

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

/**
 * Bytes queued toward a slow side before the relay stops reading the other
 * side. Larger than a socket's default (16 KiB) so a burst rides on without
 * pausing and resuming the reader (a syscall each) per chunk, and the queued
 * chunks go out together in one writev.
 */
export const relayHighWaterMark = 1 << 20;

/** Both sides of a relay: half-close forwarded, no Nagle delay (as Go's sockets upstream), the larger queue (Duplex options net.Socket passes on). */
const socketOptions = { allowHalfOpen: true, noDelay: true, highWaterMark: relayHighWaterMark };

const ignore = () => {};

/** Moves `from`'s bytes to `to` with backpressure, and its FIN after them (half-close). */
function relay(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
}

/** A backend connection's first read buffer: enough for a short answer, cheap to make per connection. */
const firstReadBufferSize = 16 * 1024;
/** Its buffer once a read has filled the first one: a bulk transfer (at most this much per read). */
export const readBufferSize = 128 * 1024;

/**
 * The read side of a dialed socket relaying into `to` (net.connect's onread):
 * the kernel copies into one buffer that is reused for every read, instead of
 * a fresh 64 KiB buffer per read (fresh pages: faults and cold caches at
 * bulk rates). When a write could not go out at once it still holds the
 * buffer, so the next read gets a new one.
 */
function reusedBufferRelay(to: Socket): { buffer: () => Buffer; callback: (n: number, buf: Buffer) => boolean } {
  let buf: Buffer | undefined;
  let size = firstReadBufferSize;
  let held = true;
  return {
    buffer: () => {
      if (held || buf!.length < size) buf = Buffer.allocUnsafeSlow(size);
      held = false;
      return buf!;
    },
    callback: (n, b) => {
      if (n === b.length) size = readBufferSize;
      // false pauses the socket; the relay's drain handler resumes it.
      const more = to.write(b.subarray(0, n));
      held = to.writableLength > 0;
      return more;
    },
  };
}

/**
 * The client's scheduling view, read only when a scheduler asks (the first
 * read of each is a getpeername/getsockname call; round robin asks for none).
 */
function clientOf(client: Socket): Client {
  return {
    get ip() {
      return client.remoteAddress ?? '';
    },
    get port() {
      return client.remotePort;
    },
    get destIp() {
      return client.localAddress;
    },
  };
}

export async function startTcpProxy(opts: TcpProxyOptions): Promise<ServicePortProxy> {
  let backends = new Map<string, Backend>();
  let list: Backend[] = [];
  const timeouts = opts.dialTimeoutsMs ?? endpointDialTimeoutsMs;
  const open = new Set<Socket>();

  /**
   * Dials a backend for `client`, the next try after a refusal or a timeout
   * going to a backend not tried yet, with a longer timeout; `done` gets the
   * connected socket, or undefined once every try has failed.
   */
  function dialSomewhere(client: Socket, done: (socket: Socket | undefined, backend?: Backend) => void): void {
    const who = clientOf(client);
    let tried: Set<string> | undefined;
    const attempt = (n: number) => {
      if (n >= timeouts.length || client.destroyed) return done(undefined);
      // A backend that just failed is not offered again in this attempt.
      const candidates = tried ? list.filter((b) => !tried!.has(b.id)) : list;
      const b = opts.scheduler.pick(candidates.length ? candidates : list, who, Date.now());
      if (!b) return done(undefined);
      const s = connect({ host: b.ip, port: b.port, ...socketOptions, onread: reusedBufferRelay(client) });
      const timer = setTimeout(() => s.destroy(new Error(`dial ${b.id}: timeout after ${timeouts[n]} ms`)), timeouts[n]);
      const failed = () => {
        clearTimeout(timer);
        s.destroy();
        (tried ??= new Set()).add(b.id);
        attempt(n + 1);
      };
      s.once('error', failed);
      s.once('connect', () => {
        clearTimeout(timer);
        s.off('error', failed);
        done(s, b);
      });
    };
    attempt(0);
  }

  const server: Server = createServer({ ...socketOptions, pauseOnConnect: true }, (client) => {
    if (list.length === 0) {
      // No endpoints: refuse at once rather than hang (the client sees a reset).
      client.on('error', ignore);
      client.resetAndDestroy();
      return;
    }
    open.add(client);
    client.on('error', ignore);
    client.on('close', () => open.delete(client));
    dialSomewhere(client, (socket, backend) => {
      if (!socket || !backend) {
        if (!client.destroyed) client.resetAndDestroy();
        return;
      }
      if (client.destroyed) {
        socket.destroy();
        return;
      }
      backend.activeConns++;
      open.add(socket);
      // A side torn down (a reset, an error: a close follows it) takes the other down at once. A side
      // closed cleanly has relayed both FINs: the other closes by itself once its queued bytes are out.
      socket.on('error', ignore);
      socket.on('close', (hadError) => {
        backend.activeConns = Math.max(0, backend.activeConns - 1);
        open.delete(socket);
        if (hadError) client.destroy();
      });
      client.on('close', (hadError) => hadError && socket.destroy());
      relay(client, socket);
      // socket → client: the reads go straight to the client (onread); its FIN and the client's drain as in relay().
      client.on('drain', () => socket.resume());
      socket.on('end', () => client.end());
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
      list = [...backends.values()];
    },
    activeConnections: () => list.reduce((n, b) => n + b.activeConns, 0),
    close() {
      return new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
