// Service.spec.sessionAffinity: ClientIP, as the userspace proxy did it
// (LoadBalancerRR in pkg/proxy/userspace/roundrobin.go): the client IP is
// remembered with the backend it got and the time of last use. A new
// connection from that IP goes to the same backend while fewer than
// timeoutSeconds have passed since the last use, and each such use refreshes
// the time (iptables mode does the same with "-m recent --rcheck --seconds"
// and a "--set" on every new connection). After the timeout, or once the
// backend has left the endpoints, the scheduler picks again and the new
// choice is remembered. A remembered backend that is still an endpoint is
// kept even if quiesced or overloaded, as IPVS persistence does by default.
import { canonicalIP } from './addr.js';
import type { Backend, Client, Scheduler } from './types.js';

/** v1.DefaultClientIPServiceAffinitySeconds (3 hours), also used for a 0 timeout. */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

export interface AffinityEntry {
  backendId: string;
  /** Milliseconds, as `now` in pick(). */
  lastUsed: number;
}

export interface Affinity {
  readonly timeoutSeconds: number;
  /** Remembered entries by canonical client IP. */
  readonly entries: ReadonlyMap<string, Readonly<AffinityEntry>>;
  /** The sticky backend for this client, refreshing its last use; undefined if none (expired or gone). */
  lookup(backends: readonly Backend[], clientIp: string, now: number): Backend | undefined;
  /** Remembers (or replaces) the client's backend as used at `now`. */
  remember(clientIp: string, backendId: string, now: number): void;
  /** Sticky backend if any, else the scheduler's pick, remembered. */
  pick(scheduler: Scheduler, backends: readonly Backend[], client: Client, now: number): Backend | undefined;
  /**
   * Drops entries past the timeout (CleanupStaleStickySessions) and entries
   * whose backend is no longer among `backends` (removeStaleAffinity).
   */
  prune(backends: readonly Backend[], now: number): void;
  /** Forgets everything (the service lost all endpoints: resetService). */
  clear(): void;
}

export function createAffinity(timeoutSeconds: number): Affinity {
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) {
    throw new RangeError(`session affinity timeout must be a non-negative number of seconds, got ${timeoutSeconds}`);
  }
  const ttl = timeoutSeconds === 0 ? DEFAULT_CLIENT_IP_AFFINITY_SECONDS : timeoutSeconds;
  const ttlMs = ttl * 1000;
  const entries = new Map<string, AffinityEntry>();

  const fresh = (en: AffinityEntry, now: number) => now - en.lastUsed < ttlMs;

  function lookup(backends: readonly Backend[], clientIp: string, now: number): Backend | undefined {
    const ip = canonicalIP(clientIp);
    const en = entries.get(ip);
    if (!en) return undefined;
    const backend = fresh(en, now) ? backends.find((b) => b.id === en.backendId) : undefined;
    if (!backend) {
      entries.delete(ip);
      return undefined;
    }
    en.lastUsed = now;
    return backend;
  }

  function remember(clientIp: string, backendId: string, now: number): void {
    entries.set(canonicalIP(clientIp), { backendId, lastUsed: now });
  }

  function pick(scheduler: Scheduler, backends: readonly Backend[], client: Client, now: number): Backend | undefined {
    const sticky = lookup(backends, client.ip, now);
    if (sticky) return sticky;
    const chosen = scheduler.pick(backends, client, now);
    if (chosen) remember(client.ip, chosen.id, now);
    return chosen;
  }

  function prune(backends: readonly Backend[], now: number): void {
    const ids = new Set(backends.map((b) => b.id));
    for (const [ip, en] of entries) if (!fresh(en, now) || !ids.has(en.backendId)) entries.delete(ip);
  }

  return { timeoutSeconds: ttl, entries, lookup, remember, pick, prune, clear: () => entries.clear() };
}

/** A scheduler with ClientIP affinity in front; same name, so it slots in where the plain one did. */
export function withAffinity(scheduler: Scheduler, affinity: Affinity): Scheduler {
  return {
    name: scheduler.name,
    pick: (backends, client, now) => affinity.pick(scheduler, backends, client, now),
    ...(scheduler.update ? { update: (backends: readonly Backend[]) => scheduler.update!(backends) } : {}),
  };
}
