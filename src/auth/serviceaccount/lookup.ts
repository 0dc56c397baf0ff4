// The objects a service account token names, as the validator looks them up
// on every request (upstream's ServiceAccountTokenGetter): a token dies with
// its account, its bound pod, secret or node, or their replacement by a
// namesake with another uid.
import { leewaySeconds } from './claims.js';

type Maybe<T> = T | undefined | Promise<T | undefined>;

export interface LiveObject {
  uid: string;
  /** metadata.deletionTimestamp (RFC 3339), when deletion has begun. */
  deletionTimestamp?: string;
}

export interface LiveSecret extends LiveObject {
  /** The decoded data.token: a legacy token is good only while it equals this. */
  token?: string;
}

/** Each returns undefined when the object does not exist. */
export interface BoundObjectLookup {
  serviceAccount(namespace: string, name: string): Maybe<LiveObject>;
  pod(namespace: string, name: string): Maybe<LiveObject>;
  secret(namespace: string, name: string): Maybe<LiveSecret>;
  node(name: string): Maybe<LiveObject>;
}

/** The error of a lookup that found nothing, as the API's 404 words it. */
export function notFound(resource: string, name: string): string {
  return `${resource} "${name}" not found`;
}

/** Upstream's rule: an object whose deletionTimestamp is more than the leeway in the past no longer backs a token. */
export function deletedBefore(obj: LiveObject, nowMs: number): boolean {
  return obj.deletionTimestamp !== undefined && Date.parse(obj.deletionTimestamp) < nowMs - leewaySeconds * 1000;
}
