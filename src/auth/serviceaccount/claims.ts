// The claims of service account tokens as upstream's pkg/serviceaccount
// writes them: bound tokens (claims.go: iss, sub, aud, exp, iat, nbf, jti and
// the private "kubernetes.io" object naming the account and the object the
// token is bound to) and the legacy tokens of kubernetes.io/service-account-token
// Secrets (legacy.go: issuer "kubernetes/serviceaccount", four flat claims).
// Keys are in the order go-jose marshals them (sorted), as real tokens show.

/** The issuer of secret-based tokens, whatever --service-account-issuer says. */
export const legacyIssuer = 'kubernetes/serviceaccount';

/** What the kubelet asks for the admission-mounted token: an hour and 7 s, the marker of --service-account-extend-token-expiration. */
export const warnOnlyBoundTokenExpirationSeconds = 60 * 60 + 7;

/** The lifetime such a token is given instead: a year. */
export const expirationExtensionSeconds = 24 * 365 * 60 * 60;

/** go-jose's jwt.DefaultLeeway: exp, nbf, iat and deletion timestamps are compared with a minute's slack. */
export const leewaySeconds = 60;

export interface ObjectRef {
  name: string;
  uid: string;
}

/** A node reference: the uid is absent when a pod's node was not found at issue time. */
export interface NodeRef {
  name: string;
  uid?: string;
}

/** The "kubernetes.io" private claim. */
export interface KubernetesClaims {
  namespace: string;
  node?: NodeRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  serviceaccount: ObjectRef;
  /** Seconds since the epoch after which an extended token counts as stale. */
  warnafter?: number;
}

export interface BoundTokenPayload {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti: string;
  'kubernetes.io': KubernetesClaims;
  nbf: number;
  sub: string;
}

/** The claims of legacy.go's legacyPrivateClaims. */
export const legacyClaim = {
  namespace: 'kubernetes.io/serviceaccount/namespace',
  secretName: 'kubernetes.io/serviceaccount/secret.name',
  serviceAccountName: 'kubernetes.io/serviceaccount/service-account.name',
  serviceAccountUID: 'kubernetes.io/serviceaccount/service-account.uid',
} as const;

export interface LegacyTokenPayload {
  iss: typeof legacyIssuer;
  [legacyClaim.namespace]: string;
  [legacyClaim.secretName]: string;
  [legacyClaim.serviceAccountName]: string;
  [legacyClaim.serviceAccountUID]: string;
  sub: string;
}

/** What a bound token is to say, before the issuer stamps the times, issuer and jti. */
export interface BoundClaims {
  namespace: string;
  serviceAccount: ObjectRef;
  /** At most one of pod, secret and node-alone; a node beside a pod is the pod's node. */
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: NodeRef;
  audiences: string[];
  /** exp - iat. */
  expirationSeconds: number;
  /** warnafter - iat, for extended tokens: the lifetime the client asked for. */
  warnAfterSeconds?: number;
}
