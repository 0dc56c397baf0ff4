// Signs service account tokens with the sa.key: bound tokens shaped as
// upstream's serviceaccount.Claims makes them (iss, sub, aud, exp, iat, nbf,
// a random jti and the "kubernetes.io" claim) and the legacy tokens of
// kubernetes.io/service-account-token Secrets (LegacyClaims, issuer
// "kubernetes/serviceaccount", no expiry).
import { randomUUID, type KeyObject } from 'node:crypto';
import { nowTimestamp } from '../../api/object.js';
import { serviceAccountUsername } from '../user.js';
import { legacyClaim, legacyIssuer, type BoundClaims, type BoundTokenPayload, type KubernetesClaims, type LegacyTokenPayload, type NodeRef } from './claims.js';
import { signJwt } from './jwt.js';
import { assertRSA, keyId as keyIdOf } from './keys.js';

/** kubeadm's --service-account-issuer: https://kubernetes.default.svc.<dnsDomain>. */
export function clusterIssuer(clusterDomain = 'cluster.local'): string {
  return `https://kubernetes.default.svc.${clusterDomain}`;
}

export interface TokenIssuerOptions {
  privateKey: KeyObject;
  /** Derived from the key when absent. */
  keyId?: string;
  /** --service-account-issuer (the first one, when several are given). */
  issuer: string;
  /** Milliseconds since the epoch; Date.now by default. */
  now?: () => number;
}

export interface IssuedToken {
  token: string;
  payload: BoundTokenPayload;
  /**
   * TokenRequest status.expirationTimestamp: issue time plus the lifetime
   * asked for, which for an extended token is the warnafter and not the exp.
   */
  expirationTimestamp: string;
}

export interface LegacyTokenSubject {
  namespace: string;
  serviceAccountName: string;
  serviceAccountUID: string;
  secretName: string;
}

export interface TokenIssuer {
  readonly issuer: string;
  readonly keyId: string;
  issue(claims: BoundClaims): IssuedToken;
  issueLegacySecretToken(subject: LegacyTokenSubject): string;
}

/** A reference as Go's omitempty writes it: empty name or uid left out. */
function ref<T extends NodeRef>(r: T): T {
  const out = {} as T;
  if (r.name) out.name = r.name;
  if (r.uid) out.uid = r.uid;
  return out;
}

/** The private claim: one bound object at most (a node beside a pod is only the pod's node). */
function kubernetesClaims(c: BoundClaims, iat: number): KubernetesClaims {
  if (c.secret && (c.pod || c.node)) throw new Error('internal error, token can only be bound to one object type');
  return {
    namespace: c.namespace,
    ...(c.node && { node: ref(c.node) }),
    ...(c.pod && { pod: ref(c.pod) }),
    ...(c.secret && { secret: ref(c.secret) }),
    serviceaccount: ref(c.serviceAccount),
    ...(c.warnAfterSeconds && { warnafter: iat + c.warnAfterSeconds }),
  };
}

export function createTokenIssuer(opts: TokenIssuerOptions): TokenIssuer {
  assertRSA(opts.privateKey, 'the service account signing key');
  const keyId = opts.keyId ?? keyIdOf(opts.privateKey);
  const now = opts.now ?? Date.now;
  const sign = (payload: BoundTokenPayload | LegacyTokenPayload) => signJwt({ ...payload }, opts.privateKey, keyId);
  return {
    issuer: opts.issuer,
    keyId,
    issue(claims) {
      const iat = Math.floor(now() / 1000);
      const payload: BoundTokenPayload = {
        aud: claims.audiences,
        exp: iat + claims.expirationSeconds,
        iat,
        iss: opts.issuer,
        jti: randomUUID(),
        'kubernetes.io': kubernetesClaims(claims, iat),
        nbf: iat,
        sub: serviceAccountUsername(claims.namespace, claims.serviceAccount.name),
      };
      const lifetime = claims.warnAfterSeconds ?? claims.expirationSeconds;
      return { token: sign(payload), payload, expirationTimestamp: nowTimestamp(new Date((iat + lifetime) * 1000)) };
    },
    issueLegacySecretToken(s) {
      return sign({
        iss: legacyIssuer,
        [legacyClaim.namespace]: s.namespace,
        [legacyClaim.secretName]: s.secretName,
        [legacyClaim.serviceAccountName]: s.serviceAccountName,
        [legacyClaim.serviceAccountUID]: s.serviceAccountUID,
        sub: serviceAccountUsername(s.namespace, s.serviceAccountName),
      });
    },
  };
}
