// Pod IP allocation within one node's pod CIDR. Pure: no I/O, state is the set
// of addresses in use. The network address, the gateway (first address, on the
// node's pod bridge) and the broadcast address are never handed out.
// Allocation is next-fit, like CNI host-local: a released address is reused only
// after the rest of the range has been tried, so a stale ARP entry or a
// late-arriving packet for a deleted pod rarely meets a new one.
import { formatIPv4, parseIPv4, parseIPv4CIDR } from './addr.js';

/** The first usable address of a CIDR: the pod bridge's address and every pod's default gateway. */
export function gatewayOf(cidr: string): string {
  return formatIPv4(parseIPv4CIDR(cidr).network + 1);
}

export interface PodIPAllocator {
  readonly cidr: string;
  readonly gateway: string;
  /** Hands out a free address; throws when the range is exhausted. */
  allocate(): string;
  /** Marks a specific address as in use (restoring state); throws if outside the range, reserved or already used. */
  claim(ip: string): void;
  /** Returns an address to the pool; releasing a free address is a no-op. */
  release(ip: string): void;
  has(ip: string): boolean;
  inUse(): string[];
  /** How many addresses are still free. */
  free(): number;
}

/** An allocator over `cidr` (prefix /8 to /30) with `inUse` already taken. */
export function createPodIPAllocator(cidr: string, inUse: Iterable<string> = []): PodIPAllocator {
  const c = parseIPv4CIDR(cidr);
  if (c.prefix < 8 || c.prefix > 30) throw new Error(`pod CIDR ${cidr}: prefix length must be between /8 and /30`);
  const first = c.network + 2; // network address and gateway are reserved
  const last = c.network + 2 ** (32 - c.prefix) - 2; // broadcast is reserved
  const size = last - first + 1;
  const used = new Set<number>();
  let next = first;

  const checkInRange = (ip: string): number => {
    const n = parseIPv4(ip);
    if (n < first || n > last) {
      throw new Error(`${ip} is not an allocatable pod IP in ${cidr} (usable ${formatIPv4(first)}-${formatIPv4(last)})`);
    }
    return n;
  };

  const allocator: PodIPAllocator = {
    cidr,
    gateway: formatIPv4(c.network + 1),
    allocate() {
      if (used.size >= size) {
        throw new Error(`no IP addresses available in range ${formatIPv4(first)}-${formatIPv4(last)} of pod CIDR ${cidr}`);
      }
      for (let i = 0; i < size; i++) {
        const n = first + ((next - first + i) % size);
        if (!used.has(n)) {
          used.add(n);
          next = n + 1 > last ? first : n + 1;
          return formatIPv4(n);
        }
      }
      throw new Error(`unreachable: pod IP range ${cidr} inconsistent`);
    },
    claim(ip) {
      const n = checkInRange(ip);
      if (used.has(n)) throw new Error(`pod IP ${ip} is already in use`);
      used.add(n);
      if (n >= next) next = n + 1 > last ? first : n + 1;
    },
    release(ip) {
      used.delete(parseIPv4(ip));
    },
    has(ip) {
      return used.has(parseIPv4(ip));
    },
    inUse() {
      return [...used].sort((a, b) => a - b).map(formatIPv4);
    },
    free() {
      return size - used.size;
    },
  };
  for (const ip of inUse) allocator.claim(ip);
  return allocator;
}
