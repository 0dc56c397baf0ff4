// The kernel hash functions the IPVS hashing schedulers use, bit for bit.

/** include/linux/hash.h GOLDEN_RATIO_32 (since Linux 4.7). */
const GOLDEN_RATIO_32 = 0x61c88647;

/** hash_32(val, bits): the top `bits` bits of val * GOLDEN_RATIO_32 mod 2^32. */
export function hash32(val: number, bits: number): number {
  return Math.imul(val >>> 0, GOLDEN_RATIO_32) >>> (32 - bits);
}

/**
 * The older multiplicative hash of ip_vs_dh/lblc_hashkey:
 * (ntohl(addr) * 2654435761UL) & mask. Only the low bits of the product are
 * kept, and those depend only on the low bits of the address.
 */
export function knuthHashLowBits(val: number, mask: number): number {
  return Math.imul(val >>> 0, 2654435761 | 0) & mask;
}

const M64 = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & M64;
}

/** A SipHash key: two 64-bit words (hsiphash_key_t on a 64-bit kernel). */
export interface SipKey {
  k0: bigint;
  k1: bigint;
}

/** SipHash-c-d state after the preamble (lib/siphash.c PREAMBLE). */
function init(key: SipKey): [bigint, bigint, bigint, bigint] {
  return [
    0x736f6d6570736575n ^ key.k0,
    0x646f72616e646f6dn ^ key.k1,
    0x6c7967656e657261n ^ key.k0,
    0x7465646279746573n ^ key.k1,
  ];
}

function sipRound(v: [bigint, bigint, bigint, bigint]): void {
  let [v0, v1, v2, v3] = v;
  v0 = (v0 + v1) & M64;
  v1 = rotl(v1, 13n) ^ v0;
  v0 = rotl(v0, 32n);
  v2 = (v2 + v3) & M64;
  v3 = rotl(v3, 16n) ^ v2;
  v0 = (v0 + v3) & M64;
  v3 = rotl(v3, 21n) ^ v0;
  v2 = (v2 + v1) & M64;
  v1 = rotl(v1, 17n) ^ v2;
  v2 = rotl(v2, 32n);
  v[0] = v0;
  v[1] = v1;
  v[2] = v2;
  v[3] = v3;
}

/** SipHash-c-d of a byte string, 64-bit result (little-endian message words). */
export function sipHash(key: SipKey, data: Uint8Array, cRounds: number, dRounds: number): bigint {
  const v = init(key);
  const whole = data.length - (data.length % 8);
  for (let off = 0; off < whole; off += 8) {
    let m = 0n;
    for (let i = 7; i >= 0; i--) m = (m << 8n) | BigInt(data[off + i]!);
    v[3] ^= m;
    for (let r = 0; r < cRounds; r++) sipRound(v);
    v[0] ^= m;
  }
  let b = BigInt(data.length & 0xff) << 56n;
  for (let i = data.length - 1; i >= whole; i--) b |= BigInt(data[i]!) << BigInt(8 * (i - whole));
  v[3] ^= b;
  for (let r = 0; r < cRounds; r++) sipRound(v);
  v[0] ^= b;
  v[2] ^= 0xffn;
  for (let r = 0; r < dRounds; r++) sipRound(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

export function sipHash13(key: SipKey, data: Uint8Array): bigint {
  return sipHash(key, data, 1, 3);
}

/**
 * hsiphash(&v, sizeof(u32), key) as a 64-bit kernel computes it: there
 * "HalfSipHash-1-3" is SipHash-1-3 truncated to 32 bits, and the u32 is read
 * in little-endian byte order (x86-64, arm64). 32-bit kernels run real
 * HalfSipHash and get other values.
 */
export function hsiphashU32(key: SipKey, value: number): number {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
  return Number(sipHash13(key, bytes) & 0xffffffffn);
}
