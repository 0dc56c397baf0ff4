// One service port's TCP proxy socket, as the userspace proxier's: accept,
// pick a backend (scheduler + ClientIP affinity), dial with upstream's
// escalating timeouts and move on to another backend when one refuses or
// times out, then relay both ways with backpressure and half-close. The
// relay runs on bare libuv handles (handle-relay.ts) where this Node offers
// them, else on net.Socket (socket-relay.ts); both behave alike.
import type { Backend, Scheduler } from '../lb/types.js';
import { endpointDialTimeoutsMs, type DialContext, type Relay } from './dialing.js';
import { serveWithHandles } from './handle-relay.js';
import { serveWithSockets } from './socket-relay.js';
import { uvHandles } from './uv-handles.js';

export { endpointDialTimeoutsMs } from './dialing.js';

export interface Endpoint {
  ip: string;
  port: number;
}

/** Which relay moves the bytes: 'handles' when this Node offers them (the default), else 'sockets'. */
export type RelayKind = 'handles' | 'sockets';

/** The relay used when none is asked for. */
export const defaultRelay: RelayKind = uvHandles ? 'handles' : 'sockets';

export interface TcpProxyOptions {
  bind: string;
  /** 0: any free port. */
  port: number;
  scheduler: Scheduler;
  dialTimeoutsMs?: number[];
  onError?: (err: Error) => void;
  /** The relay (tests run both); 'handles' falls back to 'sockets' when this Node lacks them. */
  relay?: RelayKind;
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

export async function startTcpProxy(opts: TcpProxyOptions): Promise<ServicePortProxy> {
  let backends = new Map<string, Backend>();
  const proxy: DialContext = { list: [], scheduler: opts.scheduler, timeouts: opts.dialTimeoutsMs ?? endpointDialTimeoutsMs };
  const relayOptions = { bind: opts.bind, port: opts.port, proxy, onError: opts.onError };
  const relay: Relay = (opts.relay ?? defaultRelay) === 'handles' && uvHandles ? await serveWithHandles(uvHandles, relayOptions) : await serveWithSockets(relayOptions);
  return {
    port: relay.port,
    setEndpoints(endpoints) {
      backends = toBackends(endpoints, backends);
      proxy.list = [...backends.values()];
    },
    activeConnections: () => proxy.list.reduce((n, b) => n + b.activeConns, 0),
    close: () => relay.close(),
  };
}
