// Ensures the bootstrap policy at API server start, as upstream's
// PostStartHook "rbac/bootstrap-roles" with pkg/registry/rbac/reconciliation
// in its union mode: a missing role or binding is created; an existing one
// whose autoupdate annotation is not "false" gains the expected labels and
// annotations it lacks, the rules and aggregation selectors it does not
// cover yet, and the subjects it does not name — what users added stays. A
// binding whose roleRef differs is recreated. Nothing is written when all is
// in place, so a restart costs two lists.
import { deepClone, deepEqual, type KubeObject } from '../../api/object.js';
import type { Registry } from '../../registry/registry.js';
import type { RbacResourceDefs } from '../../registry/rbac/resource.js';
import { bootstrapPolicy, type PolicySet } from './bootstrap-policy.js';
import { covers } from './rules.js';
import { autoUpdateAnnotation, type ClusterRole, type ClusterRoleBinding, type Subject } from './types.js';

/** merge(expected, existing): the expected entries, with the existing ones winning; undefined when both are. */
function mergeMaps(expected: Record<string, string> | undefined, existing: Record<string, string> | undefined): Record<string, string> | undefined {
  return expected || existing ? { ...expected, ...existing } : undefined;
}

function isProtected(obj: KubeObject): boolean {
  return obj.metadata.annotations?.[autoUpdateAnnotation] === 'false';
}

/** The existing object with the expected labels and annotations merged in; whether that changed anything. */
function withMergedMetadata<T extends KubeObject>(existing: T, expected: T): { obj: T; changed: boolean } {
  const obj = deepClone(existing);
  const annotations = mergeMaps(expected.metadata.annotations, existing.metadata.annotations);
  const labels = mergeMaps(expected.metadata.labels, existing.metadata.labels);
  const changed = !deepEqual(annotations, existing.metadata.annotations) || !deepEqual(labels, existing.metadata.labels);
  if (annotations) obj.metadata.annotations = annotations;
  if (labels) obj.metadata.labels = labels;
  return { obj, changed };
}

/** computeReconciledRole (union): the role to write, or undefined when it is in place or protected. */
export function reconcileClusterRole(existing: ClusterRole, expected: ClusterRole): ClusterRole | undefined {
  if (isProtected(existing)) return undefined;
  const { obj: role, changed: metadataChanged } = withMergedMetadata(existing, expected);
  let changed = metadataChanged;
  const missingRules = covers(existing.rules ?? [], expected.rules ?? []).uncovered;
  if (missingRules.length) {
    role.rules = [...(role.rules ?? []), ...missingRules];
    changed = true;
  }
  if (!expected.aggregationRule) {
    if (existing.aggregationRule) {
      delete role.aggregationRule;
      changed = true;
    }
  } else {
    const existingSelectors = existing.aggregationRule?.clusterRoleSelectors ?? [];
    const missingSelectors = (expected.aggregationRule.clusterRoleSelectors ?? []).filter((s) => !existingSelectors.some((e) => deepEqual(e, s)));
    if (missingSelectors.length) {
      role.aggregationRule = { clusterRoleSelectors: [...existingSelectors, ...deepClone(missingSelectors)] };
      changed = true;
    }
  }
  return changed ? role : undefined;
}

const sameSubject = (a: Subject, b: Subject) => a.kind === b.kind && (a.apiGroup ?? '') === (b.apiGroup ?? '') && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');

export type BindingReconcile = { operation: 'update' | 'recreate'; binding: ClusterRoleBinding } | undefined;

/** computeReconciledRoleBinding (union): recreate on another roleRef, else add the missing subjects; undefined when in place or protected. */
export function reconcileClusterRoleBinding(existing: ClusterRoleBinding, expected: ClusterRoleBinding): BindingReconcile {
  if (isProtected(existing)) return undefined;
  if (!deepEqual(existing.roleRef, expected.roleRef)) return { operation: 'recreate', binding: deepClone(expected) };
  const { obj: binding, changed: metadataChanged } = withMergedMetadata(existing, expected);
  const missing = (expected.subjects ?? []).filter((s) => !(existing.subjects ?? []).some((e) => sameSubject(e, s)));
  if (missing.length) binding.subjects = [...(binding.subjects ?? []), ...deepClone(missing)];
  return metadataChanged || missing.length ? { operation: 'update', binding } : undefined;
}

export interface ReconcileSummary {
  created: string[];
  updated: string[];
}

const byName = <T extends KubeObject>(items: KubeObject[]) => new Map(items.map((o) => [o.metadata.name!, o as T]));

/** Creates or reconciles the cluster roles and bindings of `policy` through the registry (as the server itself: no user). */
export async function ensureBootstrapPolicy(registry: Registry, defs: RbacResourceDefs, policy: PolicySet = bootstrapPolicy): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { created: [], updated: [] };
  const [roles, bindings] = await Promise.all([registry.list(defs.clusterRoles, undefined), registry.list(defs.clusterRoleBindings, undefined)]);
  const existingRoles = byName<ClusterRole>(roles.items);
  const existingBindings = byName<ClusterRoleBinding>(bindings.items);

  for (const expected of policy.clusterRoles) {
    const name = expected.metadata.name!;
    const existing = existingRoles.get(name);
    if (!existing) {
      await registry.create(defs.clusterRoles, undefined, deepClone(expected));
      summary.created.push(`clusterroles/${name}`);
    } else if (reconcileClusterRole(existing, expected)) {
      await registry.update(defs.clusterRoles, undefined, name, (current) => reconcileClusterRole(current as ClusterRole, expected) ?? current);
      summary.updated.push(`clusterroles/${name}`);
    }
  }

  for (const expected of policy.clusterRoleBindings) {
    const name = expected.metadata.name!;
    const existing = existingBindings.get(name);
    const result = existing && reconcileClusterRoleBinding(existing, expected);
    if (existing && !result) continue;
    if (result?.operation === 'update') {
      await registry.update(defs.clusterRoleBindings, undefined, name, (current) => {
        const again = reconcileClusterRoleBinding(current as ClusterRoleBinding, expected);
        return again?.operation === 'update' ? again.binding : current;
      });
      summary.updated.push(`clusterrolebindings/${name}`);
      continue;
    }
    // Missing, or bound to another role (a roleRef cannot change): created anew.
    if (result?.operation === 'recreate') await registry.delete(defs.clusterRoleBindings, undefined, name);
    await registry.create(defs.clusterRoleBindings, undefined, deepClone(expected));
    (existing ? summary.updated : summary.created).push(`clusterrolebindings/${name}`);
  }
  return summary;
}
