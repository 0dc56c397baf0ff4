// Shared shapes of the load-balancing schedulers. Each scheduler mirrors one
// Linux IPVS scheduler (or kube-proxy's random / userspace round robin) and
// picks the backend for a new connection or UDP session.
//
// The order of the `backends` array plays the part of the kernel's
// svc->destinations list: it decides ties and how hash tables are filled, so
// callers should pass a stable order (for example sorted by id).

export interface Backend {
  /** "ip:port", "[ipv6]:port" for IPv6, e.g. "10.244.0.5:8080". */
  id: string;
  ip: string;
  port: number;
  /** IPVS weight: a non-negative integer; 0 quiesces the backend (no new connections). Default 1. */
  weight: number;
  /** Connections in ESTABLISHED state (IPVS activeconns). */
  activeConns: number;
  /** Other connections still tracked (IPVS inactconns). */
  inactiveConns: number;
  /** IPVS IP_VS_DEST_F_OVERLOAD: the backend is over its upper connection threshold. */
  overloaded?: boolean;
}

/** The connection being scheduled, as the proxy sees it. */
export interface Client {
  /** Source address. IPv4-mapped IPv6 ("::ffff:1.2.3.4") is treated as the IPv4 address. */
  ip: string;
  /** Source port (used by sh and mh only with their `port` option, as the kernel's sh-port/mh-port flags). */
  port?: number;
  /**
   * Destination address the client asked for (ClusterIP, node IP of a NodePort,
   * external IP...). dh and lblc key on it; when absent they use the scheduler's
   * `destIp` option.
   */
  destIp?: string;
}

export type SchedulerName = 'random' | 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'sh' | 'dh' | 'sed' | 'nq' | 'mh';

export const SCHEDULER_NAMES: readonly SchedulerName[] = [
  'random',
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'sh',
  'dh',
  'sed',
  'nq',
  'mh',
];

export interface Scheduler {
  readonly name: SchedulerName;
  /**
   * The backend for a new connection, or undefined when none is available
   * (the kernel's "no destination available"). `now` is in milliseconds and
   * only matters to schedulers with timed state (lblc).
   * Schedulers notice a changed backend list (ids or weights) by themselves.
   */
  pick(backends: readonly Backend[], client: Client, now: number): Backend | undefined;
  /**
   * Tells the scheduler the backend list changed (the kernel's add_dest /
   * del_dest / upd_dest). Optional: pick() does the same when it sees a change.
   */
  update?(backends: readonly Backend[]): void;
}

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Rng = () => number;

export function isSchedulerName(name: string): name is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(name);
}
