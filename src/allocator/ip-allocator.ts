// ClusterIP allocation over one IPv4 service CIDR, as upstream's bitmap
// ipallocator: network and broadcast addresses excluded, static band first
// min(max(16, size/16), 256) addresses.
import { createBitmap, type Bitmap } from './bitmap.js';

export class AllocationError extends Error {
  constructor(
    readonly kind: 'not-in-range' | 'allocated' | 'full',
    message: string,
  ) {
    super(message);
  }
}

export interface IPAllocator {
  readonly cidr: string;
  contains(ip: string): boolean;
  isAllocated(ip: string): boolean;
  allocate(ip: string): void;
  allocateNext(): string;
  release(ip: string): void;
  /** The address at index n of the usable range (0 → network+1): 10.96.0.1 for n = 0. */
  addressAt(n: number): string;
  used(): number;
}

export function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): { base: number; bits: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`invalid CIDR ${cidr}`);
  const bits = Number(m[2]);
  if (bits < 0 || bits > 32) throw new Error(`invalid CIDR ${cidr}`);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (ipToNumber(m[1]) & mask) >>> 0, bits };
}

export function rangeOffset(size: number, divisor: number, min: number, max: number): number {
  if (size <= min) return 0;
  return Math.min(Math.max(min, Math.floor(size / divisor)), max);
}

export function createIPAllocator(cidr: string, random?: () => number): IPAllocator {
  const { base, bits } = parseCidr(cidr);
  if (32 - bits > 20) throw new Error(`specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= 12`);
  const total = 2 ** (32 - bits);
  // Usable addresses exclude the network and broadcast addresses.
  const size = Math.max(total - 2, 0);
  const first = base + 1;
  const bitmap: Bitmap = createBitmap(size, rangeOffset(size, 16, 16, 256), random);
  const indexOf = (ip: string) => ipToNumber(ip) - first;
  const contains = (ip: string) => {
    const i = indexOf(ip);
    return i >= 0 && i < size;
  };
  return {
    cidr,
    contains,
    isAllocated: (ip) => contains(ip) && bitmap.has(indexOf(ip)),
    allocate(ip) {
      if (!contains(ip)) {
        throw new AllocationError('not-in-range', `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${cidr}`);
      }
      if (!bitmap.allocate(indexOf(ip))) throw new AllocationError('allocated', 'provided IP is already allocated');
    },
    allocateNext() {
      const i = bitmap.allocateNext();
      if (i < 0) throw new AllocationError('full', 'range is full');
      return numberToIp(first + i);
    },
    release(ip) {
      if (contains(ip)) bitmap.release(indexOf(ip));
    },
    addressAt: (n) => numberToIp(first + n),
    used: () => bitmap.used(),
  };
}
