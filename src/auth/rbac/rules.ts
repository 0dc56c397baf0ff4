// What one RBAC PolicyRule allows, as upstream's rbac authorizer RuleAllows
// (k8s.io/kubernetes/pkg/apis/rbac/v1 evaluation helpers), and whether one
// set of rules covers another, as the escalation check's Covers
// (k8s.io/component-helpers/auth/rbac/validation): the servant rules are
// broken down into single verb/group/resource/name tuples, each of which
// one owner rule must cover on its own.
import type { Attributes, PolicyRule } from '../attributes.js';
import { ruleWildcard } from './types.js';

/** One of the rule's values is the wildcard or the requested value. */
function matchesValue(values: readonly string[] | undefined, requested: string): boolean {
  if (!values) return false;
  for (const v of values) if (v === ruleWildcard || v === requested) return true;
  return false;
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return matchesValue(rule.verbs, verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return matchesValue(rule.apiGroups, group);
}

/** "*", the exact resource or resource/subresource, or "*\/subresource" when a subresource is asked for. */
export function resourceMatches(rule: PolicyRule, combinedResource: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ruleWildcard || r === combinedResource) return true;
    if (subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

/** No resourceNames allows any name; otherwise the requested name (empty for list and create) must be one of them. */
export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames;
  return !names?.length || names.includes(name);
}

/** A path equal to a rule URL, or starting with the part before a rule URL's trailing "*". */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === ruleWildcard || url === path) return true;
    if (url.endsWith('*') && path.startsWith(trimTrailingStars(url))) return true;
  }
  return false;
}

function trimTrailingStars(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === '*') end--;
  return s.slice(0, end);
}

/** RuleAllows: a resource request matches verb, group, resource and name; any other request verb and path. */
export function ruleAllows(attrs: Attributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, attrs.verb)) return false;
  if (!attrs.resourceRequest) return nonResourceURLMatches(rule, attrs.path ?? '');
  const subresource = attrs.subresource ?? '';
  const resource = attrs.resource ?? '';
  return (
    apiGroupMatches(rule, attrs.apiGroup ?? '') &&
    resourceMatches(rule, subresource ? `${resource}/${subresource}` : resource, subresource) &&
    resourceNameMatches(rule, attrs.name ?? '')
  );
}

/** breakdownRule: the equivalent rules of one verb, one group, one resource and at most one name (or one URL). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const subrules: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if (rule.resourceNames?.length) {
          for (const name of rule.resourceNames) subrules.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        } else {
          subrules.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs) subrules.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return subrules;
}

/** Every value of `wanted` is in `owned`, or `owned` has the wildcard. */
function hasAllOrWildcard(owned: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  if (!wanted?.length) return true;
  if (!owned?.length) return false;
  return owned.includes(ruleWildcard) || wanted.every((w) => owned.includes(w));
}

function nonResourceURLCovers(ownerURL: string, url: string): boolean {
  return ownerURL === url || (ownerURL.endsWith('*') && url.startsWith(trimTrailingStars(ownerURL)));
}

/** ruleCovers: whether one owner rule covers a broken-down servant rule. */
function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const urlsCovered = (sub.nonResourceURLs ?? []).every((url) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, url)));
  const ownerNames = owner.resourceNames ?? [];
  // A rule limited to names never covers all names; an unlimited one covers any.
  const namesCovered = sub.resourceNames?.length ? !ownerNames.length || sub.resourceNames.every((n) => ownerNames.includes(n)) : !ownerNames.length;
  return (
    hasAllOrWildcard(owner.verbs, sub.verbs) &&
    hasAllOrWildcard(owner.apiGroups, sub.apiGroups) &&
    hasAllOrWildcard(owner.resources, sub.resources) &&
    namesCovered &&
    urlsCovered
  );
}

export interface CoverResult {
  covered: boolean;
  /** The broken-down servant rules no owner rule covers. */
  uncovered: PolicyRule[];
}

/** Covers: whether the owner's rules allow everything the servant rules allow. */
export function covers(ownerRules: readonly PolicyRule[], servantRules: readonly PolicyRule[]): CoverResult {
  const uncovered: PolicyRule[] = [];
  for (const servant of servantRules) {
    for (const sub of breakdownRule(servant)) {
      if (!ownerRules.some((owner) => ruleCovers(owner, sub))) uncovered.push(sub);
    }
  }
  return { covered: uncovered.length === 0, uncovered };
}
