// The detached JWS signatures of cluster-info (k8s.io/cluster-bootstrap
// token/jws): HS256 over the kubeconfig with the token's secret as key and
// its id as `kid`, in compact form with the payload left out
// ("<header>..<signature>"). A joining node recomputes it with the token it
// was given: a match proves the kubeconfig (and its CA) came from someone
// who knows the token.
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** ComputeDetachedSignature. */
export function computeDetachedSignature(content: string, tokenID: string, tokenSecret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenID }));
  const payload = b64url(content);
  const signature = b64url(createHmac('sha256', tokenSecret).update(`${header}.${payload}`).digest());
  return `${header}..${signature}`;
}

/** DetachedTokenIsValid: whether `detached` is the signature of `content` with this token. */
export function detachedTokenIsValid(detached: string, content: string, tokenID: string, tokenSecret: string): boolean {
  const expected = Buffer.from(computeDetachedSignature(content, tokenID, tokenSecret));
  const given = Buffer.from(detached);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
