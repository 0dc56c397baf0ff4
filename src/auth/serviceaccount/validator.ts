// Authenticates service account bearer tokens as upstream's
// JWTTokenAuthenticator does, for bound tokens (the configured issuers) and
// legacy secret-based ones (issuer "kubernetes/serviceaccount") alike:
// decode; a token of another issuer is not ours (unrecognized, so the
// caller can try its other authenticators); verify the RS256 signature with
// the key its kid names; intersect its audiences with the wanted ones (the
// API's by default; a token without any gets the API's); then validate its
// claims against the live objects. Errors are for logs and TokenReview's
// status.error; clients only ever see 401 Unauthorized.
import type { KeyObject } from 'node:crypto';
import { goString } from '../../registry/validation/object-meta.js';
import { errorMessage } from '../../util/errors.js';
import type { UserInfo } from '../user.js';
import { validateBoundClaims } from './bound-validator.js';
import { leewaySeconds, legacyIssuer } from './claims.js';
import { decodeJwt, signatureError, type JsonObject, type VerificationKey } from './jwt.js';
import { assertRSA, keyId, publicKeyOf } from './keys.js';
import { validateLegacyClaims } from './legacy-validator.js';
import type { BoundObjectLookup } from './lookup.js';
import { VerifiedTokenCache, type TokenKind, type VerifiedToken } from './token-cache.js';
import { serviceAccountUserInfo } from './user-info.js';

export interface TokenValidatorOptions {
  /** --service-account-key-file: the keys any of which may have signed a token (a private key stands for its public half). */
  publicKeys: KeyObject[];
  /** --service-account-issuer: every issuer whose bound tokens are accepted. */
  issuers: string[];
  /** --api-audiences: what a token must be meant for when the request names nothing else. */
  audiences: string[];
  lookup: BoundObjectLookup;
  /** Milliseconds since the epoch; Date.now by default. */
  now?: () => number;
  /** How many verified tokens to remember (0: none); defaultTokenCacheSize by default. */
  cacheSize?: number;
}

export type TokenValidation =
  | { user: UserInfo; audiences: string[] }
  /** unrecognized: not a service account token at all (not a JWT, or another issuer's). */
  | { error: string; unrecognized?: true };

export interface TokenValidator {
  /** `audiences`: TokenReview's spec.audiences; the API's audiences when absent or empty. */
  validate(token: string, audiences?: string[]): Promise<TokenValidation>;
}

export const defaultTokenCacheSize = 1024;

/** Go's %q of a string slice: ["a" "b"]. */
const quoteList = (list: string[]) => `[${list.map(goString).join(' ')}]`;

/** go-jose's Audience: one string or a list of them. */
function readAudiences(aud: unknown): string[] | undefined {
  if (aud === undefined) return [];
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? aud : undefined;
}

/** The audiences both the token and the request name, or why there are none. */
function audienceCheck(payload: JsonObject, requested: string[] | undefined, apiAudiences: string[]): string[] | { error: string } {
  const claimed = readAudiences(payload.aud);
  if (!claimed) return { error: 'malformed token: claim "aud" is not a string or a list of strings' };
  const tokenAudiences = claimed.length > 0 ? claimed : apiAudiences;
  const wanted = requested?.length ? requested : apiAudiences;
  const audiences = tokenAudiences.filter((a) => wanted.includes(a));
  if (audiences.length === 0 && apiAudiences.length > 0) {
    return { error: `token audiences ${quoteList(tokenAudiences)} is invalid for the target audiences ${quoteList(wanted)}` };
  }
  return audiences;
}

/** When a verified token can no longer pass, so its cache entry may go. */
function lapsesAt(payload: JsonObject): number {
  return typeof payload.exp === 'number' ? (payload.exp + leewaySeconds) * 1000 : Infinity;
}

export function createTokenValidator(opts: TokenValidatorOptions): TokenValidator {
  const keys: VerificationKey[] = opts.publicKeys.map((key, i) => {
    assertRSA(key, `service account public key #${i}`);
    return { kid: keyId(key), key: publicKeyOf(key) };
  });
  const issuers = new Set(opts.issuers);
  const now = opts.now ?? Date.now;
  const cache = new VerifiedTokenCache(opts.cacheSize ?? defaultTokenCacheSize);
  const kindOf = (iss: unknown): TokenKind | undefined =>
    iss === legacyIssuer ? 'legacy' : typeof iss === 'string' && issuers.has(iss) ? 'bound' : undefined;

  function verified(token: string, nowMs: number): VerifiedToken | { error: string; unrecognized?: true } {
    const hit = cache.get(token, nowMs);
    if (hit) return hit;
    const jwt = decodeJwt(token);
    if ('error' in jwt) return { error: jwt.error, unrecognized: true };
    const kind = kindOf(jwt.payload.iss);
    if (!kind) return { error: `token issuer ${JSON.stringify(jwt.payload.iss ?? '')} is not a service account issuer`, unrecognized: true };
    const err = signatureError(jwt, keys);
    if (err) return { error: err };
    const result = { kind, payload: jwt.payload };
    cache.set(token, result, lapsesAt(jwt.payload));
    return result;
  }

  return {
    async validate(token, requested) {
      const nowMs = now();
      const v = verified(token, nowMs);
      if ('error' in v) return v;
      const audiences = audienceCheck(v.payload, requested, opts.audiences);
      if ('error' in audiences) return audiences;
      try {
        const info =
          v.kind === 'bound' ? await validateBoundClaims(v.payload, opts.lookup, nowMs) : await validateLegacyClaims(token, v.payload, opts.lookup);
        return 'error' in info ? info : { user: serviceAccountUserInfo(info), audiences };
      } catch (e) {
        return { error: errorMessage(e) };
      }
    },
  };
}
