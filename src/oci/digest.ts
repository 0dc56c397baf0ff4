// Content digests as go-digest validates them ("sha256:<64 lowercase hex>"),
// and the hashing that checks a blob against its descriptor.
import { createHash, type Hash } from 'node:crypto';

/** The algorithms go-digest registers when their hash is linked in, and the length of each's hex. */
const hexLength: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** go-digest's own words for a digest that is not one. */
export class DigestError extends Error {}

/** Checks `digest` as go-digest's Digest.Validate does; returns it unchanged. */
export function validateDigest(digest: string): string {
  const i = digest.indexOf(':');
  if (i <= 0 || i + 1 === digest.length) throw new DigestError('invalid checksum digest format');
  const algorithm = digest.slice(0, i);
  const encoded = digest.slice(i + 1);
  const length = hexLength[algorithm];
  if (length === undefined) {
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) throw new DigestError('invalid checksum digest format');
    throw new DigestError('unsupported digest algorithm');
  }
  if (encoded.length !== length) throw new DigestError('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(encoded)) throw new DigestError('invalid checksum digest format');
  return digest;
}

export function isDigest(s: string): boolean {
  try {
    validateDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(digest: string): string {
  return digest.slice(0, digest.indexOf(':'));
}

/** The hex part of a digest ("sha256:ab…" → "ab…"). */
export function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** A hash of the digest's algorithm, to feed and then compare with `digestOf`. */
export function hasherFor(digest: string): Hash {
  return createHash(digestAlgorithm(digest));
}

export function digestOf(data: Buffer | string, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
