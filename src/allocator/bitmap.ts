// A bitmap over [0, size) with the upstream static/dynamic split (KEP-3070,
// KEP-3668): dynamic allocation scans the upper band from a random point first
// and falls back to the lower (static) band, leaving the lower band for
// explicitly requested values.

export interface Bitmap {
  readonly size: number;
  readonly offset: number;
  has(index: number): boolean;
  /** False if taken. */
  allocate(index: number): boolean;
  /** The allocated index, or -1 when full. */
  allocateNext(): number;
  release(index: number): void;
  used(): number;
  /** The allocated indexes as upstream's AllocationBitmap snapshots them: big.Int bytes, big-endian, bit i set for index i, no leading zeros. */
  snapshot(): Buffer;
}

export function createBitmap(size: number, offset: number, random: () => number = Math.random, snapshot?: Uint8Array): Bitmap {
  const bits = new Uint8Array(Math.ceil(size / 8));
  let count = 0;
  if (snapshot) {
    // Big-endian: the last byte holds indexes 0-7; bits beyond the range are dropped.
    for (let j = 0; j < snapshot.length && j < bits.length; j++) bits[j] = snapshot[snapshot.length - 1 - j]!;
    if (size % 8 && bits.length) bits[bits.length - 1]! &= (1 << (size % 8)) - 1;
    for (const b of bits) for (let v = b; v; v &= v - 1) count++;
  }
  const has = (i: number) => (bits[i >> 3] & (1 << (i & 7))) !== 0;
  const set = (i: number) => {
    bits[i >> 3] |= 1 << (i & 7);
    count++;
  };
  const scan = (from: number, to: number): number => {
    const n = to - from;
    if (n <= 0) return -1;
    const start = from + Math.floor(random() * n);
    for (let k = 0; k < n; k++) {
      const i = from + ((start - from + k) % n);
      if (!has(i)) return i;
    }
    return -1;
  };
  return {
    size,
    offset,
    has,
    allocate(i) {
      if (has(i)) return false;
      set(i);
      return true;
    },
    allocateNext() {
      if (count >= size) return -1;
      let i = scan(offset, size);
      if (i < 0) i = scan(0, offset);
      if (i >= 0) set(i);
      return i;
    },
    release(i) {
      if (!has(i)) return;
      bits[i >> 3] &= ~(1 << (i & 7));
      count--;
    },
    used: () => count,
    snapshot() {
      let top = bits.length;
      while (top > 0 && bits[top - 1] === 0) top--;
      return Buffer.from(bits.subarray(0, top)).reverse();
    },
  };
}
