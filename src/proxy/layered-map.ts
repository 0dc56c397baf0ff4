// An immutable map made from another by a few changes without copying it: the
// proxy's snapshots and rule sets hold 10,000 services, and copying a map of
// them for every changed service was most of a one-change sync.
//
// A derived map keeps its base and its changes in order; reads look at the
// changes, then the base. The first iteration copies the base once and
// replays the changes, so entries come in exactly the order `new Map(base)`
// followed by the same set()/delete() calls would give, and then the map holds
// that copy alone. Chains of derivations are cut short (a base deeper than
// maxDepth, or changes many compared with the base, are flattened first), so a
// read costs at most maxDepth lookups.

const deleted: unique symbol = Symbol('deleted');

/** How many derived maps a read may walk through. */
const maxDepth = 16;

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  #base: ReadonlyMap<K, V>;
  /** The latest change per key. */
  #latest: Map<K, V | typeof deleted>;
  /** Every change in order, replayed when flattened. */
  #log: [K, V | typeof deleted][];
  #depth: number;
  #size: number;
  #sealed = false;

  private constructor(base: ReadonlyMap<K, V>) {
    let from = base;
    if (from instanceof LayeredMap && from.#depth >= maxDepth) from = from.#flatten();
    this.#base = from;
    this.#depth = from instanceof LayeredMap ? from.#depth + 1 : 1;
    this.#latest = new Map();
    this.#log = [];
    this.#size = from.size;
  }

  /** A map to change (set/delete) and then seal(); until sealed, no one else may read it. */
  static derive<K, V>(base: ReadonlyMap<K, V>): LayeredMap<K, V> {
    return new LayeredMap(base);
  }

  set(key: K, value: V): this {
    if (this.#sealed) throw new Error('LayeredMap: sealed');
    if (!this.has(key)) this.#size++;
    this.#latest.set(key, value);
    this.#log.push([key, value]);
    return this;
  }

  delete(key: K): boolean {
    if (this.#sealed) throw new Error('LayeredMap: sealed');
    if (!this.has(key)) return false;
    this.#size--;
    this.#latest.set(key, deleted);
    this.#log.push([key, deleted]);
    return true;
  }

  /** No more changes: the map is a value from here on. Many changes compared with the base flatten it at once. */
  seal(): ReadonlyMap<K, V> {
    this.#sealed = true;
    if (this.#log.length > 64 && this.#log.length * 8 > this.#size) this.#flatten();
    return this;
  }

  get size(): number {
    return this.#size;
  }

  get(key: K): V | undefined {
    const v = this.#latest.get(key);
    if (v === deleted) return undefined;
    return v !== undefined || this.#latest.has(key) ? v : this.#base.get(key);
  }

  has(key: K): boolean {
    const v = this.#latest.get(key);
    if (v === deleted) return false;
    return v !== undefined || this.#latest.has(key) || this.#base.has(key);
  }

  /**
   * Becomes a plain copy: the base and the changes are let go. One copy of the nearest flat base below, with every
   * layer's changes replayed on it from the bottom up (the layers in between stay as they are: copying each would
   * cost the depth times the size).
   */
  #flatten(): Map<K, V> {
    if (this.#depth === 0) return this.#base as Map<K, V>;
    const layers: LayeredMap<K, V>[] = [this];
    let bottom = this.#base;
    while (bottom instanceof LayeredMap && bottom.#depth > 0) {
      layers.push(bottom);
      bottom = bottom.#base;
    }
    const flat = new Map(bottom);
    for (let i = layers.length - 1; i >= 0; i--) {
      for (const [key, value] of layers[i].#log) {
        if (value === deleted) flat.delete(key);
        else flat.set(key, value);
      }
    }
    this.#base = flat;
    this.#latest = new Map();
    this.#log = [];
    this.#depth = 0;
    return flat;
  }

  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.#flatten()) fn.call(thisArg, v, k, this);
  }

  entries(): MapIterator<[K, V]> {
    return this.#flatten().entries();
  }

  keys(): MapIterator<K> {
    return this.#flatten().keys();
  }

  values(): MapIterator<V> {
    return this.#flatten().values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}
