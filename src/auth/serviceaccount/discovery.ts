// Service account issuer discovery, as upstream's openidmetadata.go and
// routes/openidmetadata.go serve it: a minimal OpenID provider configuration
// at /.well-known/openid-configuration and the verification keys as a JWK
// set at /openid/v1/jwks, both cacheable for an hour, so that relying
// parties outside the cluster can verify service account tokens.
import type { KeyObject } from 'node:crypto';
import { rs256 } from './jwt.js';
import { assertRSA, keyId, publicKeyOf } from './keys.js';

export const openIdConfigPath = '/.well-known/openid-configuration';
export const jwksPath = '/openid/v1/jwks';
/** Overrides the API's "private, no-cache" on both documents. */
export const discoveryCacheControl = 'public, max-age=3600';
export const openIdConfigContentType = 'application/json';
export const jwksContentType = 'application/jwk-set+json';

export interface OpenIdConfiguration {
  issuer: string;
  jwks_uri: string;
  response_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
}

export interface Jwk {
  use: 'sig';
  kty: 'RSA';
  kid: string;
  alg: typeof rs256;
  n: string;
  e: string;
}

/** Upstream's default jwks_uri: https://<the API's external host:port>/openid/v1/jwks. */
export function defaultJwksUri(externalAddress: string): string {
  return `https://${externalAddress}${jwksPath}`;
}

/**
 * The discovery document. Throws, worded as upstream, when the issuer is not
 * an https URL without query or fragment or the jwks_uri is not https: upstream
 * then logs the error and serves no discovery endpoints.
 */
export function openIdConfiguration(issuer: string, jwksUri: string): OpenIdConfiguration {
  const iss = new URL(issuer);
  if (iss.protocol !== 'https:') throw new Error(`issuer URL must use https scheme, got: ${issuer}`);
  if (iss.search) throw new Error(`issuer URL may not include a query, got: ${issuer}`);
  if (iss.hash) throw new Error(`issuer URL may not include a fragment, got: ${issuer}`);
  const jwks = new URL(jwksUri);
  if (jwks.protocol !== 'https:') throw new Error(`jwksURI requires https scheme, parsed as: ${jwksUri}`);
  return {
    issuer,
    jwks_uri: jwksUri,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [rs256],
  };
}

/** The JWK of an RSA key's public half (never private parts), kid derived from the key unless given. */
export function publicJwk(key: KeyObject, kid?: string): Jwk {
  assertRSA(key, 'a JWKS key');
  const { n, e } = publicKeyOf(key).export({ format: 'jwk' });
  return { use: 'sig', kty: 'RSA', kid: kid ?? keyId(key), alg: rs256, n: n!, e: e! };
}

/** The JWK set of the verification keys (the same ones the validator uses). */
export function jwks(keys: { publicKey: KeyObject; keyId?: string }[]): { keys: Jwk[] } {
  return { keys: keys.map((k) => publicJwk(k.publicKey, k.keyId)) };
}
