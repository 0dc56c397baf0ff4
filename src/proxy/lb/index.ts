// Load-balancing schedulers for the userspace proxy, selectable by the IPVS
// scheduler names (kube-proxy --ipvs-scheduler) plus kube-proxy's 'random'.
import { createDh } from './dh.js';
import { createLblc } from './lblc.js';
import { createLc } from './lc.js';
import { createMh } from './mh.js';
import { createNq } from './nq.js';
import { createRandom } from './random.js';
import { createRr, type RoundRobinFlavor } from './rr.js';
import { createSed } from './sed.js';
import { createSh } from './sh.js';
import { createWlc } from './wlc.js';
import { createWrr } from './wrr.js';
import { SCHEDULER_NAMES, type Backend, type Rng, type Scheduler, type SchedulerName } from './types.js';

export type { Backend, Client, Rng, Scheduler, SchedulerName } from './types.js';
export { SCHEDULER_NAMES, isSchedulerName } from './types.js';
export { createAffinity, withAffinity, DEFAULT_CLIENT_IP_AFFINITY_SECONDS, type Affinity } from './affinity.js';
export { createSeededRng } from '../../util/seeded-random.js';

export interface SchedulerOptions {
  /** random; rr 'userspace' shuffle. Default Math.random. */
  rng?: Rng;
  /** rr: 'ipvs' (ip_vs_rr, default) or 'userspace' (LoadBalancerRR). */
  rrFlavor?: RoundRobinFlavor;
  /** dh, lblc: destination address when the client carries none (the service's ClusterIP). */
  destIp?: string;
  /** sh, mh: sh-fallback / mh-fallback. */
  fallback?: boolean;
  /** sh, mh: sh-port / mh-port. */
  port?: boolean;
  /** lblc: net.ipv4.vs.lblc_expiration in seconds (default 86400). */
  expirationSeconds?: number;
  /** mh: CONFIG_IP_VS_MH_TAB_INDEX (default 12, table size 4093). */
  tabIndex?: number;
}

export function createScheduler(name: SchedulerName, opts: SchedulerOptions = {}): Scheduler {
  switch (name) {
    case 'random':
      return createRandom(opts.rng);
    case 'rr':
      return createRr(opts.rrFlavor, opts.rng);
    case 'wrr':
      return createWrr();
    case 'lc':
      return createLc();
    case 'wlc':
      return createWlc();
    case 'lblc':
      return createLblc({ destIp: opts.destIp, expirationSeconds: opts.expirationSeconds });
    case 'sh':
      return createSh({ fallback: opts.fallback, port: opts.port });
    case 'dh':
      return createDh({ destIp: opts.destIp });
    case 'sed':
      return createSed();
    case 'nq':
      return createNq();
    case 'mh':
      return createMh({ fallback: opts.fallback, port: opts.port, tabIndex: opts.tabIndex });
    default:
      throw new Error(`unknown scheduler "${String(name)}"; valid: ${SCHEDULER_NAMES.join(', ')}`);
  }
}

/** A Backend for ip:port with weight 1 and no connections unless given; id "ip:port" ("[ip]:port" for IPv6). */
export function toBackend(ip: string, port: number, init: Partial<Omit<Backend, 'ip' | 'port'>> = {}): Backend {
  return {
    id: ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`,
    ip,
    port,
    weight: 1,
    activeConns: 0,
    inactiveConns: 0,
    ...init,
  };
}
