// What the serviceaccounts/token subresource makes of a TokenRequest before
// signing, as upstream's TokenREST.Create and ValidateTokenRequest do: spec
// defaults (an hour; the API server's audiences), the 10 minute to 2^32 s
// bounds, the --service-account-max-token-expiration cap, and the
// --service-account-extend-token-expiration rule: a pod-bound token asked
// for with exactly 3607 s (the kubelet's admission-mounted token) for API
// audiences only lives a year and warns after the hour.
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { errors } from '../../api/status.js';
import { expirationExtensionSeconds, warnOnlyBoundTokenExpirationSeconds, type BoundClaims, type NodeRef, type ObjectRef } from './claims.js';

/** SetDefaults_TokenRequestSpec. */
export const defaultTokenExpirationSeconds = 60 * 60;
/** authentication validation's MinTokenAgeSec. */
export const minTokenExpirationSeconds = 10 * 60;
const maxTokenExpirationSeconds = 2 ** 32;

export interface BoundTokenRequest {
  namespace: string;
  serviceAccount: ObjectRef;
  /** spec.boundObjectRef, resolved by the caller (with, for a pod, its node when scheduled). */
  pod?: ObjectRef;
  node?: NodeRef;
  secret?: ObjectRef;
  /** spec.audiences; none means the API server's audiences. */
  audiences?: string[];
  /** spec.expirationSeconds; absent means an hour. */
  expirationSeconds?: number;
  /** --api-audiences (by default the issuer). */
  apiAudiences: string[];
  /** --service-account-extend-token-expiration, true by default as upstream. */
  extendExpiration?: boolean;
  /** --service-account-max-token-expiration in seconds; 0 or absent: no cap. */
  maxExpirationSeconds?: number;
}

export interface BoundTokenPlan {
  claims: BoundClaims;
  /** Warning headers for the response (a shortened expiration). */
  warnings: string[];
}

/** ValidateTokenRequest's checks of spec.expirationSeconds. */
export function validateTokenExpiration(expirationSeconds: number): FieldError[] {
  const field = 'spec.expirationSeconds';
  const errs: FieldError[] = [];
  if (expirationSeconds < minTokenExpirationSeconds) errs.push(fieldErrors.invalid(field, expirationSeconds, 'may not specify a duration less than 10 minutes'));
  if (expirationSeconds > maxTokenExpirationSeconds) errs.push(fieldErrors.invalid(field, expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  return errs;
}

/**
 * The claims of the token a TokenRequest gets. Throws the 422 upstream
 * answers for an out-of-range expiration
 * (`TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: ...`).
 */
export function boundTokenClaims(req: BoundTokenRequest): BoundTokenPlan {
  const audiences = req.audiences?.length ? req.audiences : req.apiAudiences;
  let requested = req.expirationSeconds ?? defaultTokenExpirationSeconds;
  const errs = validateTokenExpiration(requested);
  if (errs.length > 0) throw errors.invalid('TokenRequest', 'authentication.k8s.io', '', errs);
  const warnings: string[] = [];
  const max = req.maxExpirationSeconds ?? 0;
  if (max > 0 && requested > max) {
    warnings.push(`requested expiration of ${requested} seconds shortened to ${max} seconds`);
    requested = max;
  }
  const extend =
    (req.extendExpiration ?? true) &&
    req.pod !== undefined &&
    requested === warnOnlyBoundTokenExpirationSeconds &&
    audiences.every((a) => req.apiAudiences.includes(a));
  const claims: BoundClaims = {
    namespace: req.namespace,
    serviceAccount: req.serviceAccount,
    audiences,
    expirationSeconds: extend ? expirationExtensionSeconds : requested,
  };
  if (extend) claims.warnAfterSeconds = requested;
  if (req.pod) claims.pod = req.pod;
  if (req.node) claims.node = req.node;
  if (req.secret) claims.secret = req.secret;
  return { claims, warnings };
}
