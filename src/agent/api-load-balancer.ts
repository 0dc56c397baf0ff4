// A joined machine's way to the API servers, as k3s agents have one: a TCP
// load balancer on the machine's loopback (for its own agent) and on the
// control plane's in-cluster address 172.18.0.1:6443 in its cluster namespace
// (for kube-proxy and for pods, through the `kubernetes` Service), passing
// each connection whole — TLS is end to end, the servers' certificates name
// both addresses — to one of the API servers. It starts from the server the
// join named and learns the others from the `kubernetes` Endpoints, so a
// client reconnecting after an API server died reaches another one.
import { connect, type Server, type Socket } from 'node:net';
import type { KubeObject } from '../api/object.js';
import { resourceTypes, type Client } from '../client/client.js';
import { errorMessage } from '../util/errors.js';
import { ipv4CIDRContains, parseIPv4, parseIPv4CIDR } from '../net/addr.js';
import { logger } from '../util/log.js';
import { NODE_NETWORK_CIDR } from './network.js';

const log = logger('api-load-balancer');

/** How long a server that refused or timed out is tried last. */
const DOWN_MS = 5_000;
const CONNECT_TIMEOUT_MS = 3_000;

export interface ApiTarget {
  host: string;
  port: number;
}

export interface ApiLoadBalancer {
  /** Serves the connections arriving on this listening socket. */
  serve(server: Server): void;
  /** The servers, in the order they are tried (the last one that answered first). */
  targets(): ApiTarget[];
  setTargets(targets: ApiTarget[]): void;
  close(): void;
}

const key = (t: ApiTarget) => `${t.host}:${t.port}`;

/** The order to try the servers in: the last that answered, then those not seen down, then the rest. */
export function tryOrder(targets: readonly ApiTarget[], preferred: string | undefined, downUntil: ReadonlyMap<string, number>, now: number): ApiTarget[] {
  const isDown = (t: ApiTarget) => (downUntil.get(key(t)) ?? 0) > now;
  const rank = (t: ApiTarget) => (key(t) === preferred && !isDown(t) ? 0 : isDown(t) ? 2 : 1);
  return targets.map((t, i) => ({ t, i })).sort((a, b) => rank(a.t) - rank(b.t) || a.i - b.i).map((x) => x.t);
}

export function createApiLoadBalancer(initial: ApiTarget[]): ApiLoadBalancer {
  let targets = [...initial];
  let preferred: string | undefined;
  const downUntil = new Map<string, number>();
  const listeners: Server[] = [];
  const open = new Set<Socket>();

  function dial(order: ApiTarget[], i: number, client: Socket): void {
    const target = order[i];
    if (!target || client.destroyed) {
      if (!client.destroyed) log.warn('no API server answered', { tried: order.map(key).join(',') });
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    upstream.setTimeout(CONNECT_TIMEOUT_MS);
    const failed = (why: string) => {
      upstream.destroy();
      downUntil.set(key(target), Date.now() + DOWN_MS);
      log.v(2).info('API server not reachable', { server: key(target), why });
      dial(order, i + 1, client);
    };
    upstream.once('timeout', () => failed('timed out'));
    upstream.once('error', (e) => failed(e.message));
    upstream.once('connect', () => {
      upstream.removeAllListeners('timeout');
      upstream.removeAllListeners('error');
      upstream.setTimeout(0);
      downUntil.delete(key(target));
      preferred = key(target);
      open.add(upstream);
      upstream.on('close', () => open.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  return {
    serve(server) {
      listeners.push(server);
      server.on('connection', (client: Socket) => {
        client.pause();
        // A client's end passes on as an end, and the server's answer still comes back (half-close, as a TCP proxy keeps it).
        client.allowHalfOpen = true;
        client.setNoDelay(true);
        open.add(client);
        client.on('close', () => open.delete(client));
        client.on('error', () => {});
        dial(tryOrder(targets, preferred, downUntil, Date.now()), 0, client);
      });
    },
    targets: () => tryOrder(targets, preferred, downUntil, Date.now()),
    setTargets(next) {
      if (next.length === 0) return;
      if (next.map(key).join(',') !== targets.map(key).join(',')) log.info('API servers', { servers: next.map(key).join(',') });
      targets = [...next];
    },
    close() {
      for (const l of listeners) l.close();
      for (const s of open) s.destroy();
    },
  };
}

/** Addresses of the `kubernetes` Endpoints a machine can dial: not the in-cluster address of a machine's own (the node network), not loopback. */
export function apiServersFromEndpoints(ep: KubeObject | undefined): ApiTarget[] {
  const subsets = (ep as { subsets?: { addresses?: { ip: string }[]; ports?: { name?: string; port: number }[] }[] } | undefined)?.subsets ?? [];
  const nodeNet = parseIPv4CIDR(NODE_NETWORK_CIDR);
  const out: ApiTarget[] = [];
  for (const s of subsets) {
    const port = (s.ports ?? []).find((p) => p.name === 'https' || !p.name)?.port ?? s.ports?.[0]?.port;
    if (!port) continue;
    for (const a of s.addresses ?? []) {
      let n: number;
      try {
        n = parseIPv4(a.ip);
      } catch {
        continue;
      }
      if (ipv4CIDRContains(nodeNet, n) || a.ip.startsWith('127.')) continue;
      out.push({ host: a.ip, port });
    }
  }
  return out;
}

/**
 * Keeps the balancer's servers to the one the join named plus every API server
 * the `kubernetes` Endpoints name, read every 10 s (a node may get Endpoints,
 * not list or watch them: the system:node role).
 */
export async function followApiServers(client: Client, lb: ApiLoadBalancer, named: ApiTarget, everyMs = 10_000): Promise<{ stop(): void }> {
  const endpoints = client.resource<KubeObject>(resourceTypes.endpoints);
  const update = async () => {
    try {
      const learned = apiServersFromEndpoints(await endpoints.get('default', 'kubernetes'));
      lb.setTargets([named, ...learned.filter((t) => key(t) !== key(named))]);
    } catch (e) {
      log.v(2).info('kubernetes Endpoints not read', { error: errorMessage(e) });
    }
  };
  await update();
  const timer = setInterval(() => void update(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
