// Where the RBAC authorizer reads policy from: the current roles, cluster
// roles and both kinds of bindings, with a revision that moves on every
// change so that indexes derived from them know when to rebuild. The
// in-memory store here is what the registry-fed policy cache keeps current;
// tests fill one directly.
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from './types.js';

export interface PolicySource {
  /** Changes whenever any role or binding does. */
  readonly revision: number;
  clusterRole(name: string): ClusterRole | undefined;
  role(namespace: string, name: string): Role | undefined;
  clusterRoles(): Iterable<ClusterRole>;
  clusterRoleBindings(): Iterable<ClusterRoleBinding>;
  roleBindings(namespace: string): Iterable<RoleBinding>;
}

export interface PolicyObjects {
  roles: Role;
  clusterRoles: ClusterRole;
  roleBindings: RoleBinding;
  clusterRoleBindings: ClusterRoleBinding;
}

export type PolicyKind = keyof PolicyObjects;

export const policyKinds: readonly PolicyKind[] = ['roles', 'clusterRoles', 'roleBindings', 'clusterRoleBindings'];

export interface PolicyStore extends PolicySource {
  /** Adds or replaces one object. */
  put<K extends PolicyKind>(kind: K, obj: PolicyObjects[K]): void;
  remove<K extends PolicyKind>(kind: K, obj: PolicyObjects[K]): void;
  /** Replaces every object of a kind (after a list). */
  replace<K extends PolicyKind>(kind: K, objs: readonly PolicyObjects[K][]): void;
}

/** Objects of one kind by namespace ('' for cluster-scoped ones), then by name. */
type Collection<T> = Map<string, Map<string, T>>;

const none: never[] = [];

export function createPolicyStore(initial: Partial<{ [K in PolicyKind]: readonly PolicyObjects[K][] }> = {}): PolicyStore {
  const collections: { [K in PolicyKind]: Collection<PolicyObjects[K]> } = {
    roles: new Map(),
    clusterRoles: new Map(),
    roleBindings: new Map(),
    clusterRoleBindings: new Map(),
  };
  let revision = 0;

  function insert<K extends PolicyKind>(kind: K, obj: PolicyObjects[K]): void {
    const collection = collections[kind] as Collection<PolicyObjects[K]>;
    const namespace = obj.metadata.namespace ?? '';
    let byName = collection.get(namespace);
    if (!byName) collection.set(namespace, (byName = new Map()));
    byName.set(obj.metadata.name ?? '', obj);
  }

  const values = <T>(byName: Map<string, T> | undefined): Iterable<T> => byName?.values() ?? none;

  for (const kind of policyKinds) for (const obj of initial[kind] ?? []) insert(kind, obj);

  return {
    get revision() {
      return revision;
    },
    clusterRole: (name) => collections.clusterRoles.get('')?.get(name),
    role: (namespace, name) => collections.roles.get(namespace)?.get(name),
    clusterRoles: () => values(collections.clusterRoles.get('')),
    clusterRoleBindings: () => values(collections.clusterRoleBindings.get('')),
    roleBindings: (namespace) => values(collections.roleBindings.get(namespace)),
    put(kind, obj) {
      insert(kind, obj);
      revision++;
    },
    remove(kind, obj) {
      const byName = collections[kind].get(obj.metadata.namespace ?? '');
      byName?.delete(obj.metadata.name ?? '');
      if (byName && !byName.size) collections[kind].delete(obj.metadata.namespace ?? '');
      revision++;
    },
    replace(kind, objs) {
      collections[kind].clear();
      for (const obj of objs) insert(kind, obj);
      revision++;
    },
  };
}
