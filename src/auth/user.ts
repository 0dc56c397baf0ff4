// Who a request comes from, as upstream's user.Info: a name, an optional uid,
// the groups and extra attributes an authenticator found.

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The well-known users and groups of upstream's apiserver/pkg/authentication/user. */
export const users = {
  anonymous: 'system:anonymous',
  admin: 'kubernetes-admin',
  controllerManager: 'system:kube-controller-manager',
  scheduler: 'system:kube-scheduler',
  kubeProxy: 'system:kube-proxy',
  apiserver: 'system:apiserver',
} as const;

export const groups = {
  masters: 'system:masters',
  authenticated: 'system:authenticated',
  unauthenticated: 'system:unauthenticated',
  nodes: 'system:nodes',
  serviceAccounts: 'system:serviceaccounts',
} as const;

export const nodeUserPrefix = 'system:node:';
export const serviceAccountUserPrefix = 'system:serviceaccount:';

export const anonymousUser: UserInfo = { name: users.anonymous, groups: [groups.unauthenticated] };

/** system:serviceaccount:<namespace>:<name> */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${serviceAccountUserPrefix}${namespace}:${name}`;
}

/** The groups of a service account: system:serviceaccounts and system:serviceaccounts:<namespace>. */
export function serviceAccountGroups(namespace: string): string[] {
  return [groups.serviceAccounts, `${groups.serviceAccounts}:${namespace}`];
}

/** [namespace, name] of a system:serviceaccount:<ns>:<name> user, or undefined. */
export function parseServiceAccountUsername(name: string): [string, string] | undefined {
  if (!name.startsWith(serviceAccountUserPrefix)) return undefined;
  const parts = name.slice(serviceAccountUserPrefix.length).split(':');
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : undefined;
}

/** The node name of a system:node:<name> user in group system:nodes, or undefined. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.name.startsWith(nodeUserPrefix) || !user.groups.includes(groups.nodes)) return undefined;
  return user.name.slice(nodeUserPrefix.length) || undefined;
}

/** The identities kubesvc's own components authenticate as, named as kubeadm's kubeconfigs and ServiceAccounts name them. */
export const componentUsers = {
  admin: { name: users.admin, groups: [groups.masters] },
  controllerManager: { name: users.controllerManager, groups: [] },
  scheduler: { name: users.scheduler, groups: [] },
  kubeProxy: { name: users.kubeProxy, groups: [] },
  node: (nodeName: string) => ({ name: `${nodeUserPrefix}${nodeName}`, groups: [groups.nodes] }),
  /** `kubesvc dns --data-dir` outside a pod: the coredns ServiceAccount's name, so its ClusterRoleBinding applies. */
  coredns: { name: serviceAccountUsername('kube-system', 'coredns'), groups: serviceAccountGroups('kube-system') },
};
