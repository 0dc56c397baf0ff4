// NodePort allocation over a port range (default 30000-32767), as upstream's
// portallocator: static band first min(max(16, size/32), 128) ports.
import { createBitmap } from './bitmap.js';
import { AllocationError, rangeOffset } from './ip-allocator.js';

export interface PortRange {
  base: number;
  size: number;
}

export interface PortAllocator {
  readonly range: string;
  contains(port: number): boolean;
  isAllocated(port: number): boolean;
  allocate(port: number): void;
  allocateNext(): number;
  release(port: number): void;
  used(): number;
  /** The allocated ports as upstream's RangeAllocation data holds them (see Bitmap.snapshot). */
  snapshot(): Buffer;
}

export function parsePortRange(text: string): PortRange {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`invalid port range "${text}": expected FROM-TO`);
  const from = Number(m[1]);
  const to = Number(m[2]);
  if (from < 1 || to > 65535 || to < from) throw new Error(`invalid port range "${text}"`);
  return { base: from, size: to - from + 1 };
}

/** `snapshot`: start with the ports a RangeAllocation's data names. */
export function createPortAllocator(rangeText: string, random?: () => number, snapshot?: Uint8Array): PortAllocator {
  const { base, size } = parsePortRange(rangeText);
  const range = `${base}-${base + size - 1}`;
  const bitmap = createBitmap(size, rangeOffset(size, 32, 16, 128), random, snapshot);
  const contains = (p: number) => p >= base && p < base + size;
  return {
    range,
    contains,
    isAllocated: (p) => contains(p) && bitmap.has(p - base),
    allocate(p) {
      if (!contains(p)) {
        throw new AllocationError('not-in-range', `provided port is not in the valid range. The range of valid ports is ${range}`);
      }
      if (!bitmap.allocate(p - base)) throw new AllocationError('allocated', 'provided port is already allocated');
    },
    allocateNext() {
      const i = bitmap.allocateNext();
      if (i < 0) throw new AllocationError('full', 'range is full');
      return base + i;
    },
    release(p) {
      if (contains(p)) bitmap.release(p - base);
    },
    used: () => bitmap.used(),
    snapshot: () => bitmap.snapshot(),
  };
}
