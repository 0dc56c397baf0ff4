// Credentials of a service account for a component that can ask for them
// (kube-controller-manager's --use-service-account-credentials): the account
// is made if missing, a token is requested through TokenRequest and requested
// again when 80% of its life has passed, as the kubelet's token manager does.
import type { KubeObject } from '../api/object.js';
import { errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';
import { isAlreadyExists, resourceTypes, type Client } from './client.js';

const log = logger('token-source');

export interface TokenSource {
  /** The current token. */
  token(): string;
  stop(): void;
}

interface TokenRequestStatus {
  status?: { token?: string; expirationTimestamp?: string };
}

export async function serviceAccountTokenSource(client: Client, namespace: string, name: string, expirationSeconds = 3600): Promise<TokenSource> {
  const accounts = client.resource(resourceTypes.serviceaccounts);
  try {
    await accounts.create(namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } } as KubeObject);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  let current = '';
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const refresh = async (): Promise<void> => {
    const answer = await accounts.createSubresource<TokenRequestStatus>(namespace, name, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds },
    });
    const token = answer.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
    current = token;
    const ttl = Date.parse(answer.status?.expirationTimestamp ?? '') - Date.now();
    schedule(Number.isFinite(ttl) && ttl > 0 ? ttl * 0.8 : expirationSeconds * 800);
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      refresh().catch((e) => {
        log.warn('token refresh failed; retrying', { account: `${namespace}/${name}`, error: errorMessage(e) });
        schedule(10_000);
      });
    }, ms);
    timer.unref();
  };
  await refresh();
  return {
    token: () => current,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
