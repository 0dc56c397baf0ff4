// ClusterIP allocation over one IPv4 service CIDR, as upstream's bitmap
// ipallocator: network and broadcast addresses excluded, static band first
// min(max(16, size/16), 256) addresses.
import { formatIPv4, ipv4ToNumber, parseCIDRSloppy, uint32At } from '../net/addr.js';
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
  /** The allocated addresses, in order. */
  allocated(): string[];
}

export function rangeOffset(size: number, divisor: number, min: number, max: number): number {
  if (size <= min) return 0;
  return Math.min(Math.max(min, Math.floor(size / divisor)), max);
}

export function createIPAllocator(cidr: string, random?: () => number): IPAllocator {
  const c = parseCIDRSloppy(cidr);
  if (!c || c.bits !== 32) throw new Error(`invalid CIDR ${cidr}`);
  const bits = c.prefix;
  if (32 - bits > 20) throw new Error(`specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= 12`);
  const total = 2 ** (32 - bits);
  // Usable addresses exclude the network and broadcast addresses.
  const size = Math.max(total - 2, 0);
  const first = uint32At(c.network, 12) + 1;
  const bitmap: Bitmap = createBitmap(size, rangeOffset(size, 16, 16, 256), random);
  // -1 (outside the range) for anything that is no dotted-quad IPv4 address.
  const indexOf = (ip: string) => {
    const n = ipv4ToNumber(ip);
    return n === null ? -1 : n - first;
  };
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
      return formatIPv4(first + i);
    },
    release(ip) {
      if (contains(ip)) bitmap.release(indexOf(ip));
    },
    addressAt: (n) => formatIPv4(first + n),
    used: () => bitmap.used(),
    allocated() {
      const out: string[] = [];
      for (let i = 0; i < size && out.length < bitmap.used(); i++) if (bitmap.has(i)) out.push(formatIPv4(first + i));
      return out;
    },
  };
}
