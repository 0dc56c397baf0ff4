// What the runtime asks the API for on a pod's behalf, as the kubelet's
// managers do: the ConfigMaps and Secrets its environment and volumes name
// (a GET each time; NotFound is "it does not exist"), and the service
// account tokens of its projected volumes (TokenRequest, bound to the pod).
import type { ConfigMapObject, Stored } from '../api/types.js';
import { isNotFound, resourceTypes, type Client, type ResourceClient } from '../client/client.js';
import type { ObjectLookup, Secret } from './config-sources.js';
import type { RequestServiceAccountToken } from './token-manager.js';

/** GET of one object; undefined when it does not exist. */
async function getIfExists<T extends Stored<object>>(api: ResourceClient<T>, namespace: string, name: string): Promise<T | undefined> {
  try {
    return await api.get(namespace, name);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export function apiObjectLookup(client: Client): ObjectLookup {
  const configMaps = client.resource<ConfigMapObject>(resourceTypes.configmaps);
  const secrets = client.resource<Stored<Secret>>(resourceTypes.secrets);
  return {
    getConfigMap: (namespace, name) => getIfExists(configMaps, namespace, name),
    getSecret: (namespace, name) => getIfExists(secrets, namespace, name),
  };
}

interface TokenRequest {
  status?: { token?: string; expirationTimestamp?: string };
}

/** The kubelet's TokenRequest for a pod's projected token: POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token, bound to the pod. */
export function apiServiceAccountTokens(client: Client): RequestServiceAccountToken {
  const accounts = client.resource(resourceTypes.serviceaccounts);
  return async (namespace, serviceAccountName, req) => {
    const answer = await accounts.createSubresource<TokenRequest>(namespace, serviceAccountName, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: req.audiences,
        expirationSeconds: req.expirationSeconds,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: req.boundPod.name, uid: req.boundPod.uid },
      },
    });
    const { token, expirationTimestamp } = answer.status ?? {};
    if (!token || !expirationTimestamp) throw new Error(`the TokenRequest for ${namespace}/${serviceAccountName} was answered without a token`);
    return { token, expirationTimestamp };
  };
}
