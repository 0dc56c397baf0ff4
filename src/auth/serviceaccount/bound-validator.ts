// The checks upstream's claims.go validator makes of a bound token whose
// signature, issuer and audience already hold: its times (with a minute's
// leeway), then the objects it names, looked up afresh — the service account
// (same uid, not deleted), and the secret, pod or node it is bound to. A
// node beside a pod is only the pod's node: reported, not checked.
import { leewaySeconds, type NodeRef, type ObjectRef } from './claims.js';
import type { JsonObject } from './jwt.js';
import { deletedBefore, notFound, type BoundObjectLookup, type LiveObject } from './lookup.js';
import { credentialIDForJTI, type ServiceAccountInfo } from './user-info.js';

const tokenInvalidated = 'service account token has been invalidated';
const unexpectedPrivateClaim = 'service account token claims could not be validated due to unexpected private claim';

interface PrivateClaims {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: NodeRef;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';

/** A {name, uid} reference (either may be left out, as omitempty does), or null when malformed. */
function readRef(v: unknown): ObjectRef | undefined | null {
  if (v === undefined) return undefined;
  if (!isObject(v) || !optionalString(v.name) || !optionalString(v.uid)) return null;
  return { name: v.name ?? '', uid: v.uid ?? '' };
}

function readPrivateClaims(v: unknown): PrivateClaims | undefined {
  if (!isObject(v) || typeof v.namespace !== 'string') return undefined;
  const [serviceaccount, pod, secret, node] = [v.serviceaccount, v.pod, v.secret, v.node].map(readRef);
  if (!serviceaccount || pod === null || secret === null || node === null) return undefined;
  return { namespace: v.namespace, serviceaccount, pod, secret, node };
}

/** go-jose's Claims.Validate with jwt.Expected{Time: now} and the default leeway. */
function timeError(payload: JsonObject, nowMs: number): string | undefined {
  const { nbf, exp, iat } = payload;
  for (const [claim, value] of [['nbf', nbf], ['exp', exp], ['iat', iat]] as const) {
    if (value !== undefined && typeof value !== 'number') return `malformed token: claim "${claim}" is not a number`;
  }
  const leeway = leewaySeconds * 1000;
  if (typeof nbf === 'number' && nowMs + leeway < nbf * 1000) return 'service account token is not valid yet';
  if (typeof exp === 'number' && nowMs - leeway > exp * 1000) return 'service account token has expired';
  if (typeof iat === 'number' && nowMs + leeway < iat * 1000) return 'service account token is issued in the future';
  return undefined;
}

/** A bound secret, pod or node: gone, replaced or long deleted invalidates the token. */
function boundObjectError(kind: string, ref: ObjectRef | NodeRef, obj: LiveObject | undefined, nowMs: number): string | undefined {
  if (!obj) return tokenInvalidated;
  if (obj.uid !== (ref.uid ?? '')) return `${kind} UID (${obj.uid}) does not match service account ${kind} ref claim (${ref.uid ?? ''})`;
  if (deletedBefore(obj, nowMs)) return tokenInvalidated;
  return undefined;
}

export async function validateBoundClaims(payload: JsonObject, lookup: BoundObjectLookup, nowMs: number): Promise<ServiceAccountInfo | { error: string }> {
  const timeErr = timeError(payload, nowMs);
  if (timeErr) return { error: timeErr };
  const claims = readPrivateClaims(payload['kubernetes.io']);
  if (!claims) return { error: unexpectedPrivateClaim };
  const { namespace, serviceaccount: saRef, pod, secret, node } = claims;

  const sa = await lookup.serviceAccount(namespace, saRef.name);
  if (!sa) return { error: notFound('serviceaccounts', saRef.name) };
  if (sa.uid !== saRef.uid) return { error: `service account UID (${sa.uid}) does not match claim (${saRef.uid})` };
  if (deletedBefore(sa, nowMs)) return { error: `service account ${namespace}/${saRef.name} has been deleted` };

  const info: ServiceAccountInfo = { namespace, name: saRef.name, uid: saRef.uid };
  if (secret) {
    const err = boundObjectError('secret', secret, await lookup.secret(namespace, secret.name), nowMs);
    if (err) return { error: err };
  }
  if (pod) {
    const err = boundObjectError('pod', pod, await lookup.pod(namespace, pod.name), nowMs);
    if (err) return { error: err };
    info.podName = pod.name;
    info.podUID = pod.uid;
  }
  if (node && !pod) {
    const err = boundObjectError('node', node, await lookup.node(node.name), nowMs);
    if (err) return { error: err };
  }
  if (node) {
    info.nodeName = node.name;
    info.nodeUID = node.uid;
  }
  const credentialID = credentialIDForJTI(typeof payload.jti === 'string' ? payload.jti : undefined);
  if (credentialID) info.credentialID = credentialID;
  return info;
}
