// RS256 JSON Web Tokens (RFC 7519) in compact JWS serialization, with
// node:crypto alone: sign with an RSA private key; decode strictly (three
// unpadded base64url segments, JSON objects); verify against RSA public keys
// picked by "kid". Any algorithm but RS256 is refused, "none" and the HMAC
// family included, so a public key can never serve as an HMAC secret.
import { sign, verify, type KeyObject } from 'node:crypto';

export const rs256 = 'RS256';

export type JsonObject = Record<string, unknown>;

export interface DecodedJwt {
  header: JsonObject;
  payload: JsonObject;
  /** The bytes the signature covers: the first two segments and their dot. */
  signingInput: string;
  signature: Buffer;
}

/** A verification key and its key id (the "kid" a token names). */
export interface VerificationKey {
  kid: string;
  key: KeyObject;
}

const base64url = /^[A-Za-z0-9_-]*$/;

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** header.payload.signature, the header naming RS256 and the signing key's id. */
export function signJwt(payload: JsonObject, privateKey: KeyObject, keyId: string): string {
  const signingInput = `${encodeJson({ alg: rs256, kid: keyId })}.${encodeJson(payload)}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
}

/** The bytes of an unpadded base64url segment, or why not (Buffer's own decoder skips stray characters silently). */
function decodeSegment(text: string, name: string): Buffer | string {
  if (!base64url.test(text) || text.length % 4 === 1) return `malformed token: ${name} is not base64url`;
  return Buffer.from(text, 'base64url');
}

function decodeObject(text: string, name: string): JsonObject | string {
  const bytes = decodeSegment(text, name);
  if (typeof bytes === 'string') return bytes;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return `malformed token: ${name} is not JSON`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `malformed token: ${name} is not a JSON object`;
  return value as JsonObject;
}

/** The parts of a compact JWS, or why it is not one. Nothing is verified yet. */
export function decodeJwt(token: string): DecodedJwt | { error: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { error: `malformed token: ${parts.length} segments, want 3` };
  const [h, p, s] = parts as [string, string, string];
  const header = decodeObject(h, 'header');
  if (typeof header === 'string') return { error: header };
  const payload = decodeObject(p, 'payload');
  if (typeof payload === 'string') return { error: payload };
  const signature = decodeSegment(s, 'signature');
  if (typeof signature === 'string') return { error: signature };
  return { header, payload, signingInput: `${h}.${p}`, signature };
}

/**
 * Why a decoded token's signature does not hold, or undefined when one of the
 * keys verifies it. A token naming a kid is checked against that key alone.
 */
export function signatureError(jwt: DecodedJwt, keys: readonly VerificationKey[]): string | undefined {
  const { alg, kid, crit } = jwt.header;
  if (alg !== rs256) return `unexpected signature algorithm ${JSON.stringify(alg ?? '')}; expected ["${rs256}"]`;
  if (crit !== undefined) return 'unsupported critical header parameters';
  if (kid !== undefined && typeof kid !== 'string') return 'malformed token: kid is not a string';
  const candidates = kid ? keys.filter((k) => k.kid === kid) : keys;
  if (candidates.length === 0) return 'invalid signature, no keys found';
  const data = Buffer.from(jwt.signingInput);
  return candidates.some((k) => verify('sha256', data, k.key, jwt.signature)) ? undefined : 'invalid signature';
}
