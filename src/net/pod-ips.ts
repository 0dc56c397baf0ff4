// Pod IP allocation within one node's pod CIDR. Pure: no I/O, state is the set
// of addresses in use. The network address, the gateway (first address, on the
// node's pod bridge) and the broadcast address are never handed out.
// Allocation is next-fit, like CNI host-local: a released address is reused only
// after the rest of the range has been tried, so a stale ARP entry or a
// late-arriving packet for a deleted pod rarely meets a new one.

export function parseIPv4(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) throw new Error(`invalid IPv4 address "${ip}"`);
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) throw new Error(`invalid IPv4 address "${ip}"`);
  return ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface IPv4CIDR {
  /** Network address as a 32-bit number. */
  network: number;
  prefix: number;
}

/** Parses "a.b.c.d/n"; the address must be the network address (no host bits set). */
export function parseCIDR(cidr: string): IPv4CIDR {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`invalid CIDR "${cidr}"`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new Error(`invalid CIDR "${cidr}": prefix length must be at most 32`);
  const addr = parseIPv4(m[1]!);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((addr & mask) >>> 0 !== addr) throw new Error(`invalid CIDR "${cidr}": host bits are set`);
  return { network: addr, prefix };
}

export function formatCIDR(c: IPv4CIDR): string {
  return `${formatIPv4(c.network)}/${c.prefix}`;
}

export function cidrContains(c: IPv4CIDR, ip: number): boolean {
  const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
  return (ip & mask) >>> 0 === c.network;
}

/** The first usable address of a CIDR: the pod bridge's address and every pod's default gateway. */
export function gatewayOf(cidr: string): string {
  return formatIPv4(parseCIDR(cidr).network + 1);
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
  const c = parseCIDR(cidr);
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
