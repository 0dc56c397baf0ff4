// The kubelet's service account token manager (pkg/kubelet/token): tokens
// for projected serviceAccountToken sources come from the API's TokenRequest
// (POST .../serviceaccounts/<name>/token) and are cached per pod, service
// account, audiences and lifetime. A cached token is used until it is older
// than 80% of its lifetime or than 24 hours (less a jitter of up to 10 s),
// or its issue time lies in the future (the clock went back); then a new one
// is requested. A failed request keeps the cached token while it is valid.
import { errorMessage } from '../util/errors.js';

export interface ServiceAccountTokenRequest {
  /** Empty: the API server's own audience. */
  audiences: string[];
  expirationSeconds: number;
  boundPod: { name: string; uid: string };
}

export interface ServiceAccountToken {
  token: string;
  /** RFC 3339, as TokenRequest's status.expirationTimestamp. */
  expirationTimestamp: string;
}

export type RequestServiceAccountToken = (namespace: string, serviceAccountName: string, req: ServiceAccountTokenRequest) => Promise<ServiceAccountToken>;

export interface TokenResult {
  token: string;
  /** Set when a refresh failed and the cached, still valid token is returned instead. */
  refreshError?: string;
}

export interface TokenManager {
  /** The token for the request: cached, or requested when the cached one needs a refresh. Throws when there is no valid token. */
  get(namespace: string, serviceAccountName: string, req: ServiceAccountTokenRequest): Promise<TokenResult>;
  /** Forgets the tokens bound to the pod (it was removed). */
  forgetPod(uid: string): void;
}

interface Cached {
  token: string;
  expiresAt: number;
  expirationSeconds: number;
  podUID: string;
}

const maxTTLMs = 24 * 3600_000;
const maxJitterSeconds = 10;

/** requiresRefresh: older than 24 h or than 80% of the lifetime (less the jitter), or issued in the future. */
export function requiresRefresh(t: { expiresAt: number; expirationSeconds: number }, now: number, jitterMs: number): boolean {
  if (!Number.isFinite(t.expiresAt)) return true;
  const issuedAt = t.expiresAt - t.expirationSeconds * 1000;
  if (now > issuedAt + maxTTLMs - jitterMs) return true;
  if (now > t.expiresAt - Math.floor((t.expirationSeconds * 20) / 100) * 1000 - jitterMs) return true;
  return now < issuedAt;
}

export function createTokenManager(request: RequestServiceAccountToken, o: { now?: () => number; random?: () => number } = {}): TokenManager {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const cache = new Map<string, Cached>();

  return {
    async get(namespace, serviceAccountName, req) {
      const key = `${namespace}/${serviceAccountName} for pod ${req.boundPod.name} (${req.boundPod.uid}), audiences [${req.audiences.join(' ')}], ${req.expirationSeconds}s`;
      const cached = cache.get(key);
      const jitterMs = Math.floor(random() * maxJitterSeconds) * 1000;
      if (cached && !requiresRefresh(cached, now(), jitterMs)) return { token: cached.token };
      let fresh: ServiceAccountToken;
      try {
        fresh = await request(namespace, serviceAccountName, req);
      } catch (e) {
        if (!cached) throw new Error(`failed to fetch token: ${errorMessage(e)}`, { cause: e });
        if (now() > cached.expiresAt) throw new Error(`token ${key} expired and refresh failed: ${errorMessage(e)}`, { cause: e });
        return { token: cached.token, refreshError: errorMessage(e) };
      }
      cache.set(key, { token: fresh.token, expiresAt: Date.parse(fresh.expirationTimestamp), expirationSeconds: req.expirationSeconds, podUID: req.boundPod.uid });
      return { token: fresh.token };
    },
    forgetPod(uid) {
      for (const [k, v] of cache) if (v.podUID === uid) cache.delete(k);
    },
  };
}
