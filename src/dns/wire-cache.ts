// Finished responses of the cluster zone, kept as bytes: the same query (the
// same bytes after the ID: flags, question in the case it was sent, EDNS
// record) over the same protocol gets the same response, so a repeat costs a
// table read and a copy with the query's ID written in, not a parse, an
// answer and a serialization. Only answers that depend on nothing but the
// query and the record index are kept (not forwarded names, nor autopath's,
// which depend on the client); the whole cache is dropped when the index
// changes (its generation moves). Keyed on exact bytes, not the lowercased
// name, because name compression keeps case (wire.ts): a question spelled
// differently can compress differently, so it gets an entry of its own.
//
// Bounded as two generations: when the newer one fills, the older one is
// dropped and the newer one takes its place; an entry used from the older one
// moves to the newer. So what is asked again stays, at constant cost per
// query, and at most `maxEntries` responses are held, however many different
// names clients make up.
//
// Entries are packed, not objects: each generation is one byte arena (the
// entries one after another: a small header, the query's bytes after its ID,
// the response) and an open-addressing table of entry offsets, probed by a
// hash of the query's bytes, so a lookup makes no string and a kept response
// costs its bytes and ~16 more (a Map entry with a key string, a Buffer and
// an object cost ~250 more each).

export interface WireCache {
  /** The entry kept for this query (its bytes from offset 2) over this protocol, or -1. Valid until the next get or set. */
  get(query: Buffer, proto: 'udp' | 'tcp'): number;
  /** Keeps `response` for the query, answered from the index at `generation`, with a caller's tag and request size. */
  set(query: Buffer, proto: 'udp' | 'tcp', generation: number, response: Buffer, tag: number, requestSize: number): void;
  /** A reply from an entry: the kept bytes with the query's ID. */
  reply(query: Buffer, entry: number): Buffer;
  /** The tag it was kept with (the server's index of the query's metric labels). */
  tagOf(entry: number): number;
  /** The request size metric it was kept with. */
  requestSizeOf(entry: number): number;
  size(): number;
}

/** At most this many entries (about 150 bytes each: the query and the response): ~3 MB. */
const defaultMaxEntries = 20_000;

/*
 * Entry header: hash (u32), key length (u16), response length (u16), tag
 * (u16), request size (u16), protocol (u8), then the key (the query from
 * offset 2) and the response.
 */
const headerSize = 13;
const maxTag = 0xffff;

/** FNV-1a over the query's bytes from offset 2, seeded by the protocol. */
function hashOf(query: Buffer, proto: number): number {
  let h = Math.imul(0x811c9dc5 ^ proto, 0x01000193);
  for (let i = 2; i < query.length; i++) h = Math.imul(h ^ query[i], 0x01000193);
  return h >>> 0;
}

/** One generation: the arena of entries and their table. */
class Generation {
  arena = Buffer.allocUnsafeSlow(0);
  used = 0;
  count = 0;
  /** Entry offset + 1 per bucket, 0 for empty; at most half full. */
  readonly table: Int32Array;

  constructor(readonly capacity: number) {
    let buckets = 16;
    while (buckets < capacity * 2) buckets *= 2;
    this.table = new Int32Array(buckets);
  }

  clear(): void {
    this.used = 0;
    this.count = 0;
    this.table.fill(0);
  }

  find(query: Buffer, proto: number, hash: number): number {
    const { table, arena } = this;
    const mask = table.length - 1;
    const keyLength = query.length - 2;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const b = table[i];
      if (b === 0) return -1;
      const at = b - 1;
      if (arena.readUInt32LE(at) === hash && arena.readUInt16LE(at + 4) === keyLength && arena[at + 12] === proto && query.compare(arena, at + headerSize, at + headerSize + keyLength, 2) === 0) return at;
    }
  }

  /** Adds an entry (the caller checked it is not there and there is room); its offset. */
  add(hash: number, proto: number, key: Buffer, keyStart: number, keyEnd: number, response: Buffer, responseStart: number, responseEnd: number, tag: number, requestSize: number): number {
    const keyLength = keyEnd - keyStart;
    const length = headerSize + keyLength + (responseEnd - responseStart);
    if (this.used + length > this.arena.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(16 * 1024, (this.used + length) * 2));
      this.arena.copy(grown, 0, 0, this.used);
      this.arena = grown;
    }
    const at = this.used;
    const a = this.arena;
    a.writeUInt32LE(hash, at);
    a.writeUInt16LE(keyLength, at + 4);
    a.writeUInt16LE(responseEnd - responseStart, at + 6);
    a.writeUInt16LE(tag, at + 8);
    a.writeUInt16LE(requestSize, at + 10);
    a[at + 12] = proto;
    key.copy(a, at + headerSize, keyStart, keyEnd);
    response.copy(a, at + headerSize + keyLength, responseStart, responseEnd);
    this.used += length;
    const mask = this.table.length - 1;
    let i = hash & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = at + 1;
    this.count++;
    return at;
  }
}

export function createWireCache(generation: () => number, maxEntries = defaultMaxEntries): WireCache {
  const half = Math.max(1, Math.floor(maxEntries / 2));
  let newer = new Generation(half);
  let older = new Generation(half);
  let at = generation();
  const current = () => {
    const g = generation();
    if (g !== at) {
      newer.clear();
      older.clear();
      at = g;
    }
  };
  /** Room for one more in the newer generation: when it is full it becomes the older one. */
  const makeRoom = () => {
    if (newer.count < half) return;
    const dropped = older;
    older = newer;
    newer = dropped;
    newer.clear();
  };
  const protoByte = (proto: 'udp' | 'tcp') => (proto === 'udp' ? 0 : 1);
  const entryLength = (e: number) => newer.arena.readUInt16LE(e + 4);
  return {
    get(query, proto) {
      if (query.length < 12) return -1;
      current();
      const p = protoByte(proto);
      const hash = hashOf(query, p);
      const hit = newer.find(query, p, hash);
      if (hit >= 0) return hit;
      const old = older.find(query, p, hash);
      if (old < 0) return -1;
      const a = older.arena;
      const keyLength = a.readUInt16LE(old + 4);
      const start = old + headerSize + keyLength;
      const tag = a.readUInt16LE(old + 8);
      const requestSize = a.readUInt16LE(old + 10);
      let response = a.subarray(start, start + a.readUInt16LE(old + 6));
      // A full newer generation makes room by dropping the older one, where the response is: copied out first.
      if (newer.count >= half) response = Buffer.from(response);
      makeRoom();
      return newer.add(hash, p, query, 2, query.length, response, 0, response.length, tag, requestSize);
    },
    set(query, proto, gen, response, tag, requestSize) {
      current();
      // Answered from an older index than the current one, or too big to note: not worth keeping.
      if (gen !== at || query.length < 12 || query.length > 0xffff || response.length > 0xffff || tag > maxTag || requestSize > 0xffff) return;
      const p = protoByte(proto);
      const hash = hashOf(query, p);
      if (newer.find(query, p, hash) >= 0) return;
      makeRoom();
      newer.add(hash, p, query, 2, query.length, response, 0, response.length, tag, requestSize);
    },
    reply(query, entry) {
      // A copy: the send is asynchronous, and the kept bytes serve other queries meanwhile.
      const a = newer.arena;
      const start = entry + headerSize + entryLength(entry);
      const out = Buffer.allocUnsafe(a.readUInt16LE(entry + 6));
      a.copy(out, 0, start, start + out.length);
      out[0] = query[0];
      out[1] = query[1];
      return out;
    },
    tagOf: (entry) => newer.arena.readUInt16LE(entry + 8),
    requestSizeOf: (entry) => newer.arena.readUInt16LE(entry + 10),
    size: () => newer.count + older.count,
  };
}
