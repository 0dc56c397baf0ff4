// A bounded answer cache for forwarded queries, as CoreDNS's cache plugin:
// positive and negative entries kept apart (each capped), TTLs counted down
// as entries age, capped at maxTtl / maxNegativeTtl, least recently used
// evicted first.
import { Rcode, RRType, type Message, type Question, type ResourceRecord } from './types.js';

export interface CacheOptions {
  /** Entries per kind (CoreDNS default 9984). */
  capacity?: number;
  /** Cap for positive answers, seconds (CoreDNS default 3600). */
  maxTtl?: number;
  /** Cap for NXDOMAIN / NODATA, seconds (CoreDNS default 1800). */
  maxNegativeTtl?: number;
  now?: () => number;
}

interface Entry {
  message: Message;
  storedAt: number;
  expiresAt: number;
}

export interface AnswerCache {
  /** The cached answer with TTLs aged, or undefined. */
  get(q: Question, dnssecOk: boolean): Message | undefined;
  /** Stores a response when it is cacheable (NOERROR or NXDOMAIN, not truncated). */
  put(q: Question, dnssecOk: boolean, response: Message): void;
  size(): { positive: number; negative: number };
  hits(): number;
  misses(): number;
}

export function cacheKey(q: Question, dnssecOk: boolean): string {
  return `${q.name.toLowerCase()}/${q.type}/${q.class}/${dnssecOk ? 1 : 0}`;
}

/** The TTL a response may be cached for (seconds), and whether it is negative; undefined: not cacheable. */
export function cacheTtl(m: Message): { ttl: number; negative: boolean } | undefined {
  if (m.header.tc) return undefined;
  if (m.header.rcode !== Rcode.NOERROR && m.header.rcode !== Rcode.NXDOMAIN) return undefined;
  const negative = m.header.rcode === Rcode.NXDOMAIN || m.answers.length === 0;
  if (negative) {
    const soa = m.authorities.find((r) => r.type === RRType.SOA);
    if (!soa || soa.data.kind !== 'SOA') return undefined;
    return { ttl: Math.min(soa.ttl, soa.data.minimum), negative };
  }
  return { ttl: Math.min(...m.answers.map((r) => r.ttl)), negative };
}

function aged(records: ResourceRecord[], elapsed: number): ResourceRecord[] {
  return records.map((r) => ({ ...r, ttl: Math.max(0, r.ttl - elapsed) }));
}

export function createAnswerCache(opts: CacheOptions = {}): AnswerCache {
  const capacity = opts.capacity ?? 9984;
  const maxTtl = opts.maxTtl ?? 3600;
  const maxNegativeTtl = opts.maxNegativeTtl ?? 1800;
  const now = opts.now ?? (() => Date.now() / 1000);
  // Maps iterate in insertion order: re-inserting on use makes the first key the least recently used.
  const positive = new Map<string, Entry>();
  const negative = new Map<string, Entry>();
  let hits = 0;
  let misses = 0;

  return {
    get(q, dnssecOk) {
      const key = cacheKey(q, dnssecOk);
      const map = positive.has(key) ? positive : negative;
      const e = map.get(key);
      const t = now();
      if (!e || e.expiresAt <= t) {
        if (e) map.delete(key);
        misses++;
        return undefined;
      }
      map.delete(key);
      map.set(key, e);
      hits++;
      const elapsed = Math.floor(t - e.storedAt);
      return { ...e.message, answers: aged(e.message.answers, elapsed), authorities: aged(e.message.authorities, elapsed), additionals: aged(e.message.additionals, elapsed) };
    },
    put(q, dnssecOk, response) {
      const ttl = cacheTtl(response);
      if (!ttl || ttl.ttl <= 0) return;
      const map = ttl.negative ? negative : positive;
      const key = cacheKey(q, dnssecOk);
      const t = now();
      map.delete(key);
      map.set(key, { message: response, storedAt: t, expiresAt: t + Math.min(ttl.ttl, ttl.negative ? maxNegativeTtl : maxTtl) });
      while (map.size > capacity) map.delete(map.keys().next().value!);
    },
    size: () => ({ positive: positive.size, negative: negative.size }),
    hits: () => hits,
    misses: () => misses,
  };
}
