// The RBAC policy the authorizer reads, kept current from the registry as
// upstream's authorizer reads its informers: each of the four kinds is
// followed (listed, then watched from the list's revision; see
// registry/follow.ts), so the cache has a write's effect by the time the
// write returns.
import type { RbacResourceDefs } from '../../registry/rbac/resource.js';
import { followResource } from '../../registry/follow.js';
import type { Registry } from '../../registry/registry.js';
import { createPolicyStore, policyKinds, type PolicyKind, type PolicyObjects, type PolicySource } from './policy-source.js';

export interface PolicyCache extends PolicySource {
  /** Resolves once every kind has been listed and is being watched. */
  ready: Promise<void>;
  stop(): void;
}

export interface PolicyCacheOptions {
  /** Pause before listing a kind again after a failure (default 1 s). */
  retryMs?: number;
}

export function createPolicyCache(registry: Registry, defs: RbacResourceDefs, opts: PolicyCacheOptions = {}): PolicyCache {
  const store = createPolicyStore();
  const follow = <K extends PolicyKind>(kind: K) =>
    followResource(
      registry,
      defs[kind],
      {
        replace: (items) => store.replace(kind, items as unknown as PolicyObjects[K][]),
        apply(event) {
          const obj = event.object as unknown as PolicyObjects[K];
          if (event.type === 'DELETED') store.remove(kind, obj);
          else store.put(kind, obj);
        },
      },
      opts,
    );
  const followers = policyKinds.map(follow);
  return {
    get revision() {
      return store.revision;
    },
    clusterRole: store.clusterRole,
    role: store.role,
    clusterRoles: store.clusterRoles,
    clusterRoleBindings: store.clusterRoleBindings,
    roleBindings: store.roleBindings,
    ready: Promise.all(followers.map((f) => f.ready)).then(() => undefined),
    stop() {
      for (const f of followers) f.stop();
    },
  };
}
