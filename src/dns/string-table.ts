// A set of strings that numbers its members: each string held gets a small
// slot number, reused once the string goes, so what the caller keeps per
// member can live in plain arrays indexed by slot instead of one object and
// one Map entry each. It is an open-addressing hash table (linear probing,
// deletion by shifting the run back, no tombstones) of 32-bit slot numbers,
// each slot's hash kept beside it: about 20 bytes a member, where a Map entry
// and a small object cost ~110. The record index (records.ts) keeps its
// names and reverse addresses in two of these.

/** FNV-1a over the UTF-16 code units: the table's own hash (V8 keeps a string's hash but does not show it). */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class StringTable {
  /** Slot → the member (undefined: a free slot). */
  private readonly keys: (string | undefined)[] = [];
  /** Slot → its member's hash. */
  private hashes = new Uint32Array(64);
  /** Free slots, to be reused before new ones are made. */
  private readonly free: number[] = [];
  /** Slot + 1 per bucket, 0 for an empty bucket; at most half full. */
  private buckets = new Int32Array(128);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** One past the highest slot ever given: the length the caller's arrays reach. */
  get slots(): number {
    return this.keys.length;
  }

  /** The member's slot, or -1. */
  get(key: string): number {
    const mask = this.buckets.length - 1;
    const h = hashOf(key);
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const b = this.buckets[i];
      if (b === 0) return -1;
      if (this.hashes[b - 1] === h && this.keys[b - 1] === key) return b - 1;
    }
  }

  /** The member's slot, adding it (the string itself is kept) when it is not one. */
  add(key: string): number {
    const found = this.get(key);
    if (found >= 0) return found;
    if ((this.count + 1) * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    const slot = this.free.length > 0 ? this.free.pop()! : this.keys.length;
    if (slot === this.keys.length) this.keys.push(key);
    else this.keys[slot] = key;
    if (slot >= this.hashes.length) {
      const grown = new Uint32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    const h = hashOf(key);
    this.hashes[slot] = h;
    this.place(slot, h);
    this.count++;
    return slot;
  }

  /** Takes the member out; its slot is free for the next one added. */
  delete(key: string): void {
    const slot = this.get(key);
    if (slot < 0) return;
    const mask = this.buckets.length - 1;
    let hole = this.hashes[slot] & mask;
    while (this.buckets[hole] !== slot + 1) hole = (hole + 1) & mask;
    // Members after the hole in its run move back into it when their home bucket is not between the hole and them.
    for (let j = (hole + 1) & mask; this.buckets[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[this.buckets[j] - 1] & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.buckets[hole] = this.buckets[j];
      hole = j;
    }
    this.buckets[hole] = 0;
    this.keys[slot] = undefined;
    this.free.push(slot);
    this.count--;
  }

  /** The member at a slot (the string that was added). */
  keyOf(slot: number): string {
    return this.keys[slot]!;
  }

  private place(slot: number, h: number): void {
    const mask = this.buckets.length - 1;
    let i = h & mask;
    while (this.buckets[i] !== 0) i = (i + 1) & mask;
    this.buckets[i] = slot + 1;
  }

  private rehash(size: number): void {
    this.buckets = new Int32Array(size);
    for (let slot = 0; slot < this.keys.length; slot++) if (this.keys[slot] !== undefined) this.place(slot, this.hashes[slot]);
  }
}
