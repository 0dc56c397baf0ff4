// The RBAC authorizer (plugin/pkg/auth/authorizer/rbac): a request is
// allowed when a rule of a role bound to the user allows it — cluster role
// bindings first, then the role bindings of the request's namespace — and
// RBAC has no opinion otherwise (it never denies). It runs on every request,
// so bindings are indexed by the subjects they name (rebuilt only after the
// policy changed) and a request looks at the bindings of its user and
// groups alone.
import { goString } from '../../registry/validation/object-meta.js';
import type { Attributes, Authorizer, AuthorizerResult, PolicyRule } from '../attributes.js';
import type { UserInfo } from '../user.js';
import type { PolicySource } from './policy-source.js';
import { ruleAllows } from './rules.js';
import { describeBinding, firstSubjectOf, subjectKey, type Binding } from './subjects.js';
import { rbacGroup, type RoleRef } from './types.js';

/** authorization/v1 ResourceRule and NonResourceRule, as SelfSubjectRulesReview reports them. */
export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}

export interface SubjectRules {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  /** RBAC enumerates all its rules: never incomplete (upstream's RBACAuthorizer.RulesFor). */
  incomplete: boolean;
  /** Bindings whose role is missing, as upstream's evaluationError. */
  evaluationError?: string;
}

/** What the escalation checks ask of RBAC: a user's rules, and the rules a binding would grant. */
export interface RbacRuleResolver {
  /** Every rule bound to the user in the namespace ('' for cluster bindings only), and why some could not be resolved. */
  policyRulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] };
  /** The rules of the role a binding in `namespace` ('' for a ClusterRoleBinding) refers to; undefined when it does not exist. */
  roleRefRules(roleRef: RoleRef, namespace: string): readonly PolicyRule[] | undefined;
}

export interface RbacAuthorizer extends Authorizer, RbacRuleResolver {
  /** The user's rules as SelfSubjectRulesReview and `kubectl auth can-i --list` show them. */
  rulesFor(user: UserInfo, namespace: string): SubjectRules;
}

const noBindings: readonly Binding[] = [];

/** Bindings by the user names and group names their subjects stand for, each list in binding name order. */
class BindingIndex {
  private readonly byUser = new Map<string, Binding[]>();
  private readonly byGroup = new Map<string, Binding[]>();

  constructor(
    bindings: Iterable<Binding>,
    readonly namespace: string,
  ) {
    const sorted = [...bindings].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
    for (const binding of sorted) {
      for (const subject of binding.subjects ?? []) {
        const key = subjectKey(subject, namespace);
        if (!key) continue;
        const [map, name] = 'user' in key ? [this.byUser, key.user] : [this.byGroup, key.group];
        const list = map.get(name);
        if (!list) map.set(name, [binding]);
        else if (list[list.length - 1] !== binding) list.push(binding);
      }
    }
  }

  /** The bindings naming the user, then those naming each of its groups in turn, each binding once. */
  bindingsFor(user: UserInfo): readonly Binding[] {
    let found = this.byUser.get(user.name) ?? noBindings;
    let copied = false;
    for (const group of user.groups) {
      const list = this.byGroup.get(group);
      if (!list) continue;
      if (!found.length) {
        found = list;
        continue;
      }
      if (!copied) {
        found = [...found];
        copied = true;
      }
      for (const binding of list) if (!found.includes(binding)) (found as Binding[]).push(binding);
    }
    return found;
  }
}

/** utilerrors.NewAggregate(errs).Error(): one message as is, several as [a, b]. */
export function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/** A binding's grant as visited: the binding, its namespace ('' for cluster bindings) and its role's rules. */
type Visitor = (binding: Binding, bindingNamespace: string, rules: readonly PolicyRule[]) => boolean;

export function createRbacAuthorizer(source: PolicySource): RbacAuthorizer {
  let indexedRevision = -1;
  let clusterIndex = new BindingIndex([], '');
  const namespaceIndexes = new Map<string, BindingIndex>();

  /** Allow reasons by binding and subject: built once, as the same few bindings allow most requests. */
  const reasons = new WeakMap<Binding, Map<number, string>>();
  function allowReason(binding: Binding, bindingNamespace: string, subjectIndex: number): string {
    let bySubject = reasons.get(binding);
    if (!bySubject) reasons.set(binding, (bySubject = new Map()));
    let reason = bySubject.get(subjectIndex);
    if (reason === undefined) bySubject.set(subjectIndex, (reason = `RBAC: allowed by ${describeBinding(binding, bindingNamespace, subjectIndex)}`));
    return reason;
  }

  function indexes(namespace: string): BindingIndex[] {
    if (indexedRevision !== source.revision) {
      clusterIndex = new BindingIndex(source.clusterRoleBindings(), '');
      namespaceIndexes.clear();
      indexedRevision = source.revision;
    }
    if (!namespace) return [clusterIndex];
    let index = namespaceIndexes.get(namespace);
    if (!index) namespaceIndexes.set(namespace, (index = new BindingIndex(source.roleBindings(namespace), namespace)));
    return [clusterIndex, index];
  }

  function roleRefRules(roleRef: RoleRef, namespace: string): readonly PolicyRule[] | undefined {
    const role = roleRef.kind === 'ClusterRole' ? source.clusterRole(roleRef.name) : roleRef.kind === 'Role' ? source.role(namespace, roleRef.name) : undefined;
    return role && (role.rules ?? []);
  }

  /** Why a binding grants nothing: the lister's NotFound, or an unknown kind. */
  function unresolved(roleRef: RoleRef): string {
    if (roleRef.kind !== 'ClusterRole' && roleRef.kind !== 'Role') return `unsupported role reference kind: ${goString(roleRef.kind)}`;
    return `${roleRef.kind.toLowerCase()}.${rbacGroup} ${goString(roleRef.name)} not found`;
  }

  /** VisitRulesFor: each binding of the user with its role's rules, until the visitor returns true. */
  function visit(user: UserInfo, namespace: string, visitor: Visitor, errors: string[]): void {
    for (const index of indexes(namespace)) {
      for (const binding of index.bindingsFor(user)) {
        const rules = roleRefRules(binding.roleRef, index.namespace);
        if (!rules) errors.push(unresolved(binding.roleRef));
        else if (visitor(binding, index.namespace, rules)) return;
      }
    }
  }

  function policyRulesFor(user: UserInfo, namespace: string) {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    visit(user, namespace, (_b, _ns, granted) => (rules.push(...granted), false), errors);
    return { rules, errors };
  }

  return {
    authorize(attrs: Attributes): AuthorizerResult {
      const errors: string[] = [];
      let reason = '';
      visit(
        attrs.user,
        attrs.namespace ?? '',
        (binding, bindingNamespace, rules) => {
          if (!rules.some((rule) => ruleAllows(attrs, rule))) return false;
          reason = allowReason(binding, bindingNamespace, firstSubjectOf(binding, bindingNamespace, attrs.user));
          return true;
        },
        errors,
      );
      if (reason) return { decision: 'allow', reason };
      return { decision: 'no-opinion', reason: errors.length ? `RBAC: ${aggregate(errors)}` : '' };
    },
    policyRulesFor,
    roleRefRules,
    rulesFor(user, namespace) {
      const { rules, errors } = policyRulesFor(user, namespace);
      const result: SubjectRules = { resourceRules: [], nonResourceRules: [], incomplete: false };
      for (const rule of rules) {
        if (rule.resources?.length) result.resourceRules.push(resourceRuleOf(rule));
        if (rule.nonResourceURLs?.length) result.nonResourceRules.push({ verbs: [...rule.verbs], nonResourceURLs: [...rule.nonResourceURLs] });
      }
      if (errors.length) result.evaluationError = aggregate(errors);
      return result;
    },
  };
}

/** A rule's resource part as a ResourceRule, its lists copied and the empty ones left out (omitempty). */
function resourceRuleOf(rule: PolicyRule): ResourceRule {
  const out: ResourceRule = { verbs: [...rule.verbs] };
  if (rule.apiGroups?.length) out.apiGroups = [...rule.apiGroups];
  if (rule.resources?.length) out.resources = [...rule.resources];
  if (rule.resourceNames?.length) out.resourceNames = [...rule.resourceNames];
  return out;
}
