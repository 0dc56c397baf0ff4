// Finished responses of the cluster zone, kept as bytes: the same query (the
// same bytes after the ID: flags, question in the case it was sent, EDNS
// record) over the same protocol gets the same response, so a repeat costs a
// map read and a copy with the query's ID written in, not a parse, an answer
// and a serialization. Only answers that depend on nothing but the query and
// the record index are kept (not forwarded names, nor autopath's, which depend
// on the client); the whole cache is dropped when the index changes (its
// generation moves). Keyed on exact bytes, not the lowercased name, because
// name compression keeps case (wire.ts): a question spelled differently can
// compress differently, so it gets an entry of its own. Bounded as two
// generations: when the newer one fills, the older one is dropped and the
// newer one takes its place; an entry used from the older one moves to the
// newer. So what is asked again stays, at constant cost per query, and at
// most `maxEntries` responses (a few hundred bytes each) are held, however
// many different names clients make up.
import type { QueryLabels, QuerySeries } from './metrics.js';

export interface WireCacheEntry {
  /** The response as serialized for the first such query (its ID is overwritten per reply). */
  response: Buffer;
  /** The query's metric labels but the client's family. */
  labels: Omit<QueryLabels, 'family'>;
  /** The query's metrics per client family ('1' IPv4, '2' IPv6), resolved on first use. */
  series: [QuerySeries | undefined, QuerySeries | undefined];
  /** The request size metric: the EDNS buffer size asked for (64K over TCP). */
  requestSize: number;
}

export interface WireCache {
  get(query: Buffer, proto: 'udp' | 'tcp'): WireCacheEntry | undefined;
  set(query: Buffer, proto: 'udp' | 'tcp', generation: number, entry: WireCacheEntry): void;
  /** A reply from an entry: the cached bytes with the query's ID. */
  reply(query: Buffer, entry: WireCacheEntry): Buffer;
  size(): number;
}

/** At most this many entries (about 300 bytes each: the key, the response, its labels): ~6 MB. */
const defaultMaxEntries = 20_000;

const keyOf = (query: Buffer, proto: 'udp' | 'tcp') => (proto === 'udp' ? 'u' : 't') + query.toString('latin1', 2);

export function createWireCache(generation: () => number, maxEntries = defaultMaxEntries): WireCache {
  const half = Math.max(1, Math.floor(maxEntries / 2));
  let newer = new Map<string, WireCacheEntry>();
  let older = new Map<string, WireCacheEntry>();
  let at = generation();
  const current = () => {
    const g = generation();
    if (g !== at) {
      newer = new Map();
      older = new Map();
      at = g;
    }
  };
  const put = (key: string, entry: WireCacheEntry) => {
    if (newer.size >= half) {
      older = newer;
      newer = new Map();
    }
    newer.set(key, entry);
  };
  return {
    get(query, proto) {
      current();
      const key = keyOf(query, proto);
      const hit = newer.get(key);
      if (hit) return hit;
      const old = older.get(key);
      if (old) {
        older.delete(key);
        put(key, old);
      }
      return old;
    },
    set(query, proto, gen, entry) {
      current();
      // Answered from an older index than the current one: not worth keeping.
      if (gen !== at) return;
      put(keyOf(query, proto), entry);
    },
    reply(query, entry) {
      // A copy: the send is asynchronous, and the cached bytes serve other queries meanwhile.
      const out = Buffer.allocUnsafe(entry.response.length);
      entry.response.copy(out);
      out[0] = query[0];
      out[1] = query[1];
      return out;
    },
    size: () => newer.size + older.size,
  };
}
