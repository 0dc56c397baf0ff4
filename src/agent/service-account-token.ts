// The token the kubelet projects into a pod's service account volume, shaped
// as upstream's bound tokens are (a JWT with the kubernetes.io claims:
// namespace, pod, service account, node; audience and issuer the API's own).
// kubesvc does not authenticate requests, so nothing signs or checks it: the
// header says "alg": "none". Clients send it as their bearer token, and those
// that read its expiry (to refresh it) find upstream's claims.
import { randomUUID } from 'node:crypto';
import type { Pod } from '../api/types.js';

export interface TokenRequest {
  pod: Pod;
  nodeName: string;
  clusterDomain: string;
  audience?: string;
  expirationSeconds?: number;
  /** Seconds since the epoch. */
  now?: number;
}

/** The API server extends admission-default tokens to a year (--service-account-extend-token-expiration), warning after the requested hour. */
const extendedSeconds = 365 * 24 * 3600;

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export function serviceAccountToken(req: TokenRequest): string {
  const now = req.now ?? Math.floor(Date.now() / 1000);
  const requested = req.expirationSeconds ?? 3600;
  const issuer = `https://kubernetes.default.svc.${req.clusterDomain}`;
  const namespace = req.pod.metadata?.namespace ?? 'default';
  const account = req.pod.spec?.serviceAccountName || 'default';
  const claims = {
    aud: [req.audience || issuer],
    exp: now + (requested === 3607 ? extendedSeconds : requested),
    iat: now,
    iss: issuer,
    jti: randomUUID(),
    'kubernetes.io': {
      namespace,
      node: { name: req.nodeName },
      pod: { name: req.pod.metadata?.name ?? '', uid: req.pod.metadata?.uid ?? '' },
      serviceaccount: { name: account },
      ...(requested === 3607 ? { warnafter: now + requested } : {}),
    },
    nbf: now,
    sub: `system:serviceaccount:${namespace}:${account}`,
  };
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
}
