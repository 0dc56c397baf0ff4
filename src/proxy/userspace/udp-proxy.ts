// One service port's UDP proxy socket: each client (address:port) gets a
// session — a socket connected to the backend chosen for it — that carries
// its datagrams both ways and closes after an idle timeout, as the
// userspace proxier's UDP handling does.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Backend, Scheduler } from '../lb/types.js';
import { toBackends, type Endpoint, type ServicePortProxy } from './tcp-proxy.js';

/** kube-proxy --udp-timeout default for the userspace mode. */
export const defaultUdpIdleTimeoutMs = 250;

export interface UdpProxyOptions {
  bind: string;
  port: number;
  scheduler: Scheduler;
  idleTimeoutMs?: number;
  onError?: (err: Error) => void;
}

interface Session {
  upstream: Socket;
  backend: Backend;
  timer: NodeJS.Timeout;
  /** Datagrams that arrived while the upstream socket was still connecting (e.g. a resolver's parallel A and AAAA queries). */
  queued?: Buffer[];
}

export async function startUdpProxy(opts: UdpProxyOptions): Promise<ServicePortProxy> {
  const idle = opts.idleTimeoutMs ?? defaultUdpIdleTimeoutMs;
  let backends: Backend[] = [];
  const sessions = new Map<string, Session>();
  const family = opts.bind.includes(':') ? 'udp6' : 'udp4';
  const socket = createSocket({ type: family });

  const endSession = (key: string) => {
    const s = sessions.get(key);
    if (!s) return;
    sessions.delete(key);
    clearTimeout(s.timer);
    s.backend.activeConns = Math.max(0, s.backend.activeConns - 1);
    s.upstream.close();
  };
  const touch = (key: string, s: Session) => {
    clearTimeout(s.timer);
    s.timer = setTimeout(() => endSession(key), idle);
  };

  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let s = sessions.get(key);
    // A session whose backend is gone starts over with a live one.
    if (s && !backends.includes(s.backend)) {
      endSession(key);
      s = undefined;
    }
    if (!s) {
      const backend = opts.scheduler.pick(backends, { ip: from.address, port: from.port, destIp: opts.bind }, Date.now());
      if (!backend) return; // no endpoints: drop, as upstream
      const upstream = createSocket({ type: backend.ip.includes(':') ? 'udp6' : 'udp4' });
      upstream.on('message', (reply) => {
        const live = sessions.get(key);
        if (live) touch(key, live);
        socket.send(reply, from.port, from.address);
      });
      upstream.on('error', () => endSession(key));
      upstream.connect(backend.port, backend.ip);
      backend.activeConns++;
      s = { upstream, backend, timer: setTimeout(() => endSession(key), idle), queued: [msg] };
      sessions.set(key, s);
      const session = s;
      upstream.once('connect', () => {
        for (const m of session.queued ?? []) session.upstream.send(m);
        session.queued = undefined;
      });
      return;
    }
    touch(key, s);
    if (s.queued) s.queued.push(msg);
    else s.upstream.send(msg);
  });
  socket.on('error', (e) => opts.onError?.(e));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port, opts.bind, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    setEndpoints(endpoints: Endpoint[]) {
      backends = [...toBackends(endpoints, new Map(backends.map((b) => [b.id, b]))).values()];
    },
    activeConnections: () => sessions.size,
    close() {
      for (const key of [...sessions.keys()]) endSession(key);
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}
