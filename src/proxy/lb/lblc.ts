// ip_vs_lblc.c — locality-based least connection.
//
// A table maps each destination address to the backend last chosen for it.
// A pick for a known destination refreshes the entry's last use and returns
// its backend, unless that backend is gone, quiesced (weight 0) or
// "overloaded" in lblc's own sense: more active connections than its weight
// while some backend has fewer than half its weight. (The IPVS overload flag
// is not consulted for the cached backend, as in the kernel.) Otherwise the
// backend is chosen by weighted least connection and remembered.
//
// Key: the kernel keys by destination IP within one virtual service. Our
// proxy runs one scheduler per service port and passes the address the
// client connected to (client.destIp, defaulting to the service's ClusterIP
// given as the destIp option), so the key is in effect the service IP:port
// the client asked for. Behind a single ClusterIP the table holds one entry:
// all clients share one backend until it is overloaded in the sense above.
//
// Expiry: the kernel drops entries unused for net.ipv4.vs.lblc_expiration
// (24 h) in a full sweep every 30 minutes, and, when the table holds more
// than 16384 entries, entries unused for 6 minutes in a sweep every minute.
// Here the same limits are applied exactly at pick time.
import { canonicalIP } from './addr.js';
import { weightOf } from './common.js';
import { pickWeightedLeastConnection } from './wlc.js';
import type { Backend, Client, Scheduler } from './types.js';

export const LBLC_DEFAULT_EXPIRATION_SECONDS = 24 * 60 * 60;
/** IP_VS_LBLC_TAB_SIZE * 16 with CONFIG_IP_VS_LBLC_TAB_BITS = 10. */
export const LBLC_MAX_ENTRIES = 1024 * 16;
const ENTRY_TIMEOUT_MS = 6 * 60 * 1000;

export interface LblcOptions {
  /** Destination used when a pick's client carries no destIp (the service's ClusterIP). */
  destIp?: string;
  /** net.ipv4.vs.lblc_expiration in seconds; default 86400. */
  expirationSeconds?: number;
}

interface LblcEntry {
  backendId: string;
  lastUse: number;
}

/** lblc's is_overloaded(): busier than its weight while another backend is under half of its own. */
export function lblcOverloaded(dest: Backend, backends: readonly Backend[]): boolean {
  if (dest.activeConns <= weightOf(dest)) return false;
  return backends.some((d) => d.activeConns * 2 < weightOf(d));
}

export function createLblc(opts: LblcOptions = {}): Scheduler & { readonly entries: ReadonlyMap<string, Readonly<LblcEntry>> } {
  const expirationMs = (opts.expirationSeconds ?? LBLC_DEFAULT_EXPIRATION_SECONDS) * 1000;
  const table = new Map<string, LblcEntry>();

  function expire(now: number): void {
    for (const [k, en] of table) if (now >= en.lastUse + expirationMs) table.delete(k);
    if (table.size <= LBLC_MAX_ENTRIES) return;
    let goal = Math.min(Math.floor(((table.size - LBLC_MAX_ENTRIES) * 4) / 3), LBLC_MAX_ENTRIES / 2);
    for (const [k, en] of table) {
      if (goal <= 0) break;
      if (now >= en.lastUse + ENTRY_TIMEOUT_MS) {
        table.delete(k);
        goal--;
      }
    }
  }

  function pick(backends: readonly Backend[], client: Client, now: number): Backend | undefined {
    const destIp = client.destIp ?? opts.destIp;
    if (destIp === undefined) throw new TypeError('lblc scheduler: no destination address (client.destIp or the destIp option)');
    const key = canonicalIP(destIp);
    expire(now);
    const en = table.get(key);
    if (en) {
      en.lastUse = now;
      const cached = backends.find((b) => b.id === en.backendId);
      if (cached && weightOf(cached) > 0 && !lblcOverloaded(cached, backends)) return cached;
    }
    const dest = pickWeightedLeastConnection(backends);
    if (!dest) return undefined;
    if (!en || en.backendId !== dest.id) table.set(key, { backendId: dest.id, lastUse: now });
    return dest;
  }

  return { name: 'lblc', pick, entries: table };
}
