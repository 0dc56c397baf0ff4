// RBAC validation after upstream's pkg/apis/rbac/validation: rules need
// verbs and either resources (with API groups) or non-resource URLs (never
// in a namespaced Role); a ClusterRole's aggregationRule needs valid
// selectors; a binding refers to a Role or ClusterRole of the RBAC group by
// a name it cannot change later, and names Users, Groups or ServiceAccounts.
// Object names are path segments (so "system:coredns" is fine). ObjectMeta is
// validated by the registry.
import { fieldErrors, GoLiteral, path, type FieldError } from '../../api/field-errors.js';
import type { PolicyRule } from '../../auth/attributes.js';
import { rbacGroup, subjectKinds, type ClusterRole, type ClusterRoleBinding, type Role, type RoleBinding, type RoleRef, type Subject } from '../../auth/rbac/types.js';
import { nameIsDNSSubdomain, goString, type NameValidator } from '../validation/object-meta.js';
import { validateLabelSelector } from '../workloads/validation.js';

/** path.IsValidPathSegmentName: not "." or "..", no "/" or "%". */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

/** ValidateRBACName: the minimal rule for roles and bindings (a generateName prefix is checked the same way). */
export const validateRBACName: NameValidator = (name) => isValidPathSegmentName(name);

/** field.NotSupported, which lists the supported values in the order given. */
function notSupported(field: string, value: unknown, supported: string[]): FieldError {
  return { ...fieldErrors.notSupported(field, value, []), detail: `supported values: ${supported.map(goString).join(', ')}` };
}

/** ValidatePolicyRule. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!rule.verbs?.length) errs.push(fieldErrors.required(`${fldPath}.verbs`, 'verbs must contain at least one value'));
  if (rule.nonResourceURLs?.length) {
    const urlsPath = `${fldPath}.nonResourceURLs`;
    if (namespaced) errs.push(fieldErrors.invalid(urlsPath, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (rule.apiGroups?.length || rule.resources?.length || rule.resourceNames?.length) {
      errs.push(fieldErrors.invalid(urlsPath, rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (!rule.apiGroups?.length) errs.push(fieldErrors.required(`${fldPath}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!rule.resources?.length) errs.push(fieldErrors.required(`${fldPath}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(rules: PolicyRule[] | undefined, namespaced: boolean): FieldError[] {
  return (rules ?? []).flatMap((rule, i) => validatePolicyRule(rule, namespaced, path('rules', i)));
}

/** ValidateRole (without ObjectMeta). */
export function validateRole(role: Role): FieldError[] {
  return validateRules(role.rules, true);
}

/** ValidateClusterRole (without ObjectMeta): its rules, and an aggregationRule's selectors. */
export function validateClusterRole(role: ClusterRole): FieldError[] {
  const errs = validateRules(role.rules, false);
  const aggregation = role.aggregationRule;
  if (aggregation) {
    const selectorsPath = 'aggregationRule.clusterRoleSelectors';
    if (!aggregation.clusterRoleSelectors?.length) {
      errs.push(fieldErrors.required(selectorsPath, 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    }
    (aggregation.clusterRoleSelectors ?? []).forEach((selector, i) => {
      const selectorPath = path(selectorsPath, i);
      const selectorErrs = validateLabelSelector(selector, selectorPath);
      errs.push(...selectorErrs);
      // What LabelSelectorAsSelector then fails on: the same problems, reported once more with a nil selector.
      if (selectorErrs.length) errs.push(fieldErrors.invalid(selectorPath, 'null', 'invalid label selector.'));
    });
  }
  return errs;
}

/** ValidateRoleBindingSubject. */
function validateSubject(subject: Subject, namespaced: boolean, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!subject.name) errs.push(fieldErrors.required(`${fldPath}.name`));
  switch (subject.kind) {
    case subjectKinds.serviceAccount:
      if (subject.name) errs.push(...nameIsDNSSubdomain(subject.name, false).map((msg) => fieldErrors.invalid(`${fldPath}.name`, subject.name, msg)));
      if (subject.apiGroup) errs.push(notSupported(`${fldPath}.apiGroup`, subject.apiGroup, ['']));
      if (!namespaced && !subject.namespace) errs.push(fieldErrors.required(`${fldPath}.namespace`));
      break;
    case subjectKinds.user:
    case subjectKinds.group:
      if (subject.apiGroup !== rbacGroup) errs.push(notSupported(`${fldPath}.apiGroup`, subject.apiGroup ?? '', [rbacGroup]));
      break;
    default:
      errs.push(notSupported(`${fldPath}.kind`, subject.kind ?? '', [subjectKinds.serviceAccount, subjectKinds.user, subjectKinds.group]));
  }
  return errs;
}

function validateBinding(binding: RoleBinding | ClusterRoleBinding, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref: Partial<RoleRef> = binding.roleRef ?? {};
  if (ref.apiGroup !== rbacGroup) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [rbacGroup]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind ?? '')) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(fieldErrors.required('roleRef.name'));
  else errs.push(...validateRBACName(ref.name, false).map((msg) => fieldErrors.invalid('roleRef.name', ref.name, msg)));
  (binding.subjects ?? []).forEach((subject, i) => errs.push(...validateSubject(subject, namespaced, path('subjects', i))));
  return errs;
}

/** ValidateRoleBinding (without ObjectMeta). */
export function validateRoleBinding(binding: RoleBinding): FieldError[] {
  return validateBinding(binding, true);
}

/** ValidateClusterRoleBinding (without ObjectMeta). */
export function validateClusterRoleBinding(binding: ClusterRoleBinding): FieldError[] {
  return validateBinding(binding, false);
}

/** Go's %#v of the internal rbac.RoleRef, as the immutability error prints it. */
function goRoleRef(ref: Partial<RoleRef>): GoLiteral {
  return new GoLiteral(`rbac.RoleRef{APIGroup:${goString(ref.apiGroup ?? '')}, Kind:${goString(ref.kind ?? '')}, Name:${goString(ref.name ?? '')}}`);
}

/** The update rule both binding kinds share: roleRef never changes (delete and recreate the binding instead). */
export function validateRoleRefUnchanged(binding: RoleBinding | ClusterRoleBinding, old: RoleBinding | ClusterRoleBinding): FieldError[] {
  const ref: Partial<RoleRef> = binding.roleRef ?? {};
  const oldRef: Partial<RoleRef> = old.roleRef ?? {};
  const same = (ref.apiGroup ?? '') === (oldRef.apiGroup ?? '') && (ref.kind ?? '') === (oldRef.kind ?? '') && (ref.name ?? '') === (oldRef.name ?? '');
  return same ? [] : [fieldErrors.invalid('roleRef', goRoleRef(ref), 'cannot change roleRef')];
}
