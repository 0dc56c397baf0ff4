// RBAC's escalation prevention (pkg/registry/rbac: the policy-based role and
// binding storage, escalation_check.go, ConfirmNoEscalation): nobody can
// grant through a role or a binding a permission they do not hold
// themselves. A write passes when it comes from inside the server (no
// user), from system:masters, or when only garbage-collection fields
// changed; a role write when the user may "escalate" roles, a binding write
// when they may "bind" the role it refers to; otherwise the user's own rules
// must cover every rule granted, and the write is refused with the missing
// permissions listed as upstream lists them.
import { deepClone, deepEqual, type KubeObject } from '../../api/object.js';
import { errors } from '../../api/status.js';
import type { RequestContext } from '../../registry/resource.js';
import { goString } from '../../registry/validation/object-meta.js';
import type { Attributes, PolicyRule } from '../attributes.js';
import { groups, type UserInfo } from '../user.js';
import { aggregate, type RbacRuleResolver } from './authorizer.js';
import { compactRules, compactString, quotedList } from './compact.js';
import { covers } from './rules.js';
import { rbacGroup, ruleWildcard, type ClusterRole, type ClusterRoleBinding, type Role, type RoleBinding } from './types.js';

/** cluster-admin's rules: what setting or changing an aggregationRule takes. */
const fullAuthority: PolicyRule[] = [
  { verbs: [ruleWildcard], apiGroups: [ruleWildcard], resources: [ruleWildcard] },
  { verbs: [ruleWildcard], nonResourceURLs: [ruleWildcard] },
];

/** EscalationAllowed: internal writes and system:masters (the server's own privileged identity). */
export function escalationAllowed(user: UserInfo | undefined): boolean {
  return !user || user.groups.includes(groups.masters);
}

/** IsOnlyMutatingGCFields: the update changes nothing but owner references and finalizers. */
export function onlyGCFieldsChanged(obj: KubeObject, old: KubeObject): boolean {
  const copy = deepClone(obj);
  const meta = copy.metadata as Record<string, unknown>;
  const oldMeta = old.metadata as Record<string, unknown>;
  for (const field of ['ownerReferences', 'finalizers', 'managedFields', 'selfLink', 'resourceVersion']) meta[field] = oldMeta[field];
  return deepEqual(copy, old);
}

/** The rule resolver a write was given, or the authorizer's own when that is an RBAC authorizer. */
function ruleResolverFor(ctx: RequestContext, given: RbacRuleResolver | undefined): RbacRuleResolver | undefined {
  if (given) return given;
  const resolver = ctx.authorizer as Partial<RbacRuleResolver> | undefined;
  return typeof resolver?.policyRulesFor === 'function' && typeof resolver.roleRefRules === 'function' ? (resolver as RbacRuleResolver) : undefined;
}

function requireResolver(resolver: RbacRuleResolver | undefined): RbacRuleResolver {
  if (!resolver) throw errors.internal('RBAC escalation checks need an RBAC rule resolver (policyRulesFor, roleRefRules)');
  return resolver;
}

/** ConfirmNoEscalation: why granting `rules` would escalate the user's own rules in `namespace`, or undefined when it would not. */
export function escalationError(user: UserInfo, resolver: RbacRuleResolver, namespace: string, rules: readonly PolicyRule[]): string | undefined {
  const owned = resolver.policyRulesFor(user, namespace);
  const { covered, uncovered } = covers(owned.rules, rules);
  if (covered) return undefined;
  const missing = [...new Set(compactRules(uncovered).map(compactString))].sort();
  let msg = `user ${goString(user.name)} (groups=${quotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${missing.join('\n')}`;
  if (owned.errors.length) msg += `; resolution errors: [${aggregate(owned.errors)}]`;
  return msg;
}

/** Whether the server's authorizer allows the user this resource request (escalate, bind). */
function authorized(ctx: RequestContext, attrs: Omit<Attributes, 'user' | 'resourceRequest'>): boolean {
  return !!ctx.user && ctx.authorizer?.authorize({ ...attrs, user: ctx.user, resourceRequest: true }).decision === 'allow';
}

type RoleResource = 'roles' | 'clusterroles';

function hasAggregationRule(role: ClusterRole | Role | undefined): boolean {
  return !!(role as ClusterRole | undefined)?.aggregationRule?.clusterRoleSelectors?.length;
}

/**
 * The policy-based role storage: a Role or ClusterRole may be created or
 * updated by whoever may escalate it or already holds its rules; an
 * aggregationRule (which can gather anything) takes cluster-admin's rules.
 * Throws 403 Forbidden.
 */
export function admitRoleWrite(
  resource: RoleResource,
  role: Role | ClusterRole,
  old: Role | ClusterRole | undefined,
  ctx: RequestContext,
  ruleResolver: RbacRuleResolver | undefined,
): void {
  if (escalationAllowed(ctx.user)) return;
  if (old && onlyGCFieldsChanged(role, old)) return;
  const name = role.metadata.name ?? '';
  const namespace = role.metadata.namespace ?? '';
  if (authorized(ctx, { verb: 'escalate', apiGroup: rbacGroup, apiVersion: '*', resource, name, namespace })) return;
  const resolver = requireResolver(ruleResolverFor(ctx, ruleResolver));
  const forbidden = (why: string) => errors.forbidden({ group: rbacGroup, resource }, name, why);
  const why = escalationError(ctx.user!, resolver, namespace, role.rules ?? []);
  if (why) throw forbidden(why);
  if (resource === 'clusterroles' && (hasAggregationRule(role) || hasAggregationRule(old)) && escalationError(ctx.user!, resolver, namespace, fullAuthority)) {
    throw forbidden('must have cluster-admin privileges to use the aggregationRule');
  }
}

/** The resource of the role a binding may refer to; undefined for a kind validation refuses. */
function roleResourceOf(kind: string | undefined, bindingResource: 'rolebindings' | 'clusterrolebindings'): RoleResource | undefined {
  if (kind === 'ClusterRole') return 'clusterroles';
  if (kind === 'Role' && bindingResource === 'rolebindings') return 'roles';
  return undefined;
}

/**
 * The policy-based binding storage: a RoleBinding or ClusterRoleBinding may
 * be created or updated by whoever may bind its role or already holds the
 * role's rules (a role that does not exist is a 404). A roleRef that
 * validation refuses anyway is left to it. Throws 403 Forbidden.
 */
export function admitBindingWrite(
  resource: 'rolebindings' | 'clusterrolebindings',
  binding: RoleBinding | ClusterRoleBinding,
  old: RoleBinding | ClusterRoleBinding | undefined,
  ctx: RequestContext,
  ruleResolver: RbacRuleResolver | undefined,
): void {
  if (escalationAllowed(ctx.user)) return;
  if (old && onlyGCFieldsChanged(binding, old)) return;
  const roleRef = binding.roleRef as typeof binding.roleRef | undefined;
  const roleResource = roleResourceOf(roleRef?.kind, resource);
  if (!roleRef || !roleResource) return;
  const namespace = binding.metadata.namespace ?? '';
  if (authorized(ctx, { verb: 'bind', apiGroup: roleRef.apiGroup, resource: roleResource, name: roleRef.name, namespace })) return;
  const resolver = requireResolver(ruleResolverFor(ctx, ruleResolver));
  const rules = resolver.roleRefRules(roleRef, namespace);
  if (!rules) throw errors.notFound({ group: rbacGroup, resource: roleResource }, roleRef.name);
  const why = escalationError(ctx.user!, resolver, namespace, rules);
  if (why) throw errors.forbidden({ group: rbacGroup, resource }, binding.metadata.name ?? '', why);
}
