// The checks upstream's legacy.go validator makes of a secret-based token
// (issuer "kubernetes/serviceaccount") whose signature already holds: its
// four claims and subject, then its Secret (present, not being deleted,
// still holding this very token) and its service account (present, not
// being deleted, same uid). Such tokens never expire. Upstream's
// last-used/invalid-since labels and warnings are left out.
import { timingSafeEqual } from 'node:crypto';
import { parseServiceAccountUsername } from '../user.js';
import { legacyClaim } from './claims.js';
import type { JsonObject } from './jwt.js';
import { notFound, type BoundObjectLookup } from './lookup.js';
import type { ServiceAccountInfo } from './user-info.js';

const legacyInvalidated = 'Token has been invalidated';

function sameToken(stored: string | undefined, token: string): boolean {
  if (stored === undefined) return false;
  const [a, b] = [Buffer.from(stored), Buffer.from(token)];
  return a.length === b.length && timingSafeEqual(a, b);
}

const claimString = (payload: JsonObject, claim: string): string => {
  const v = payload[claim];
  return typeof v === 'string' ? v : '';
};

export async function validateLegacyClaims(token: string, payload: JsonObject, lookup: BoundObjectLookup): Promise<ServiceAccountInfo | { error: string }> {
  const sub = claimString(payload, 'sub');
  const namespace = claimString(payload, legacyClaim.namespace);
  const secretName = claimString(payload, legacyClaim.secretName);
  const name = claimString(payload, legacyClaim.serviceAccountName);
  const uid = claimString(payload, legacyClaim.serviceAccountUID);
  const missing = !sub ? 'sub' : !namespace ? 'namespace' : !secretName ? 'secretName' : !name ? 'serviceAccountName' : !uid ? 'serviceAccountUID' : undefined;
  if (missing) return { error: `${missing} claim is missing` };
  const subject = parseServiceAccountUsername(sub);
  if (!subject || subject[0] !== namespace || subject[1] !== name) return { error: 'sub claim is invalid' };

  const secret = await lookup.secret(namespace, secretName);
  if (!secret || secret.deletionTimestamp !== undefined) return { error: legacyInvalidated };
  if (!sameToken(secret.token, token)) return { error: "Token does not match server's copy" };

  const sa = await lookup.serviceAccount(namespace, name);
  if (!sa) return { error: notFound('serviceaccounts', name) };
  if (sa.deletionTimestamp !== undefined) return { error: `ServiceAccount ${namespace}/${name} has been deleted` };
  if (sa.uid !== uid) return { error: `ServiceAccount UID (${sa.uid}) does not match claim (${uid})` };
  return { namespace, name, uid };
}
