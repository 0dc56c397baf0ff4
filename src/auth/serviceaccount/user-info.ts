// The user a service account token authenticates, as upstream's
// serviceaccount.ServiceAccountInfo.UserInfo builds it: the account's name
// and uid, its two groups, and the bound pod, node and credential id in
// "extra". The caller adds system:authenticated, as the API server does.
import { serviceAccountGroups, serviceAccountUsername, type UserInfo } from '../user.js';

export const extraKeys = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUID: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUID: 'authentication.kubernetes.io/node-uid',
  credentialID: 'authentication.kubernetes.io/credential-id',
} as const;

export interface ServiceAccountInfo {
  namespace: string;
  name: string;
  uid: string;
  podName?: string;
  podUID?: string;
  nodeName?: string;
  nodeUID?: string;
  /** "JTI=<jti>" for tokens that carry a jti. */
  credentialID?: string;
}

/** Upstream's CredentialIDForJTI. */
export function credentialIDForJTI(jti: string | undefined): string | undefined {
  return jti ? `JTI=${jti}` : undefined;
}

export function serviceAccountUserInfo(sa: ServiceAccountInfo): UserInfo {
  const extra: Record<string, string[]> = {};
  if (sa.podName && sa.podUID) {
    extra[extraKeys.podName] = [sa.podName];
    extra[extraKeys.podUID] = [sa.podUID];
  }
  if (sa.credentialID) extra[extraKeys.credentialID] = [sa.credentialID];
  if (sa.nodeName) {
    extra[extraKeys.nodeName] = [sa.nodeName];
    // The node uid only ever accompanies its name.
    if (sa.nodeUID) extra[extraKeys.nodeUID] = [sa.nodeUID];
  }
  const user: UserInfo = { name: serviceAccountUsername(sa.namespace, sa.name), uid: sa.uid, groups: serviceAccountGroups(sa.namespace) };
  if (Object.keys(extra).length > 0) user.extra = extra;
  return user;
}
