// The ClusterRole aggregation controller (pkg/controller/clusterroleaggregation):
// a ClusterRole with an aggregationRule gets as its rules the union of the
// rules of every other ClusterRole its selectors match — selector by
// selector, roles in name order, each distinct rule once — written when
// that differs from what it holds. Any ClusterRole change brings every
// aggregated role back to the queue.
import type { PolicyRule } from '../auth/attributes.js';
import type { ClusterRole } from '../auth/rbac/types.js';
import { fromLabelSelector, matchesSelector } from '../api/selectors.js';
import type { ResourceType } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';

export const clusterRolesType: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false };

const ruleFields = ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const;

/** equality.Semantic.DeepEqual of two rules: the same lists, an empty list the same as none. */
function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  return ruleFields.every((f) => {
    const x = a[f] ?? [];
    const y = b[f] ?? [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  });
}

function sameRules(a: readonly PolicyRule[], b: readonly PolicyRule[]): boolean {
  return a.length === b.length && a.every((rule, i) => sameRule(rule, b[i]!));
}

const byName = (a: ClusterRole, b: ClusterRole) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1);

/** The rules an aggregated ClusterRole should hold, given every ClusterRole there is. */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const sorted = [...all].sort(byName);
  for (const labelSelector of role.aggregationRule?.clusterRoleSelectors ?? []) {
    const selector = fromLabelSelector(labelSelector);
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name || !matchesSelector(selector, other.metadata.labels)) continue;
      for (const rule of other.rules ?? []) if (!rules.some((r) => sameRule(r, rule))) rules.push(rule);
    }
  }
  return rules;
}

export function createClusterRoleAggregationController(ctx: ControllerContext): Controller {
  const client = ctx.client.resource<ClusterRole>(clusterRolesType);
  let roles: Informer<ClusterRole>;
  const { queue } = queueFor('clusterrole-aggregation', async (name) => {
    const role = roles.get(name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, roles.list());
    if (sameRules(rules, role.rules ?? [])) return;
    // A conflict (the cache is behind) fails this key; it is retried once the cache caught up.
    await client.update({ ...role, rules });
  });
  const enqueueAggregated = () => {
    for (const role of roles.list()) if (role.aggregationRule) queue.add(role.metadata.name!);
  };
  return {
    name: 'clusterrole-aggregation',
    setup() {
      roles = ctx.factory.informer<ClusterRole>(clusterRolesType);
      roles.on({ add: enqueueAggregated, update: enqueueAggregated, delete: enqueueAggregated });
    },
    run: enqueueAggregated,
    stop: () => queue.shutdown(),
    idle: () => queue.idle(),
  };
}
