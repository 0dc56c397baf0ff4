// How the escalation check lists the permissions a user lacks, as upstream
// does: the broken-down rules compacted per group/resource/name
// (CompactRules) and each printed with its non-empty fields
// (rbacv1helpers.CompactString), lists in Go's %q form.
import { deepClone } from '../../api/object.js';
import { goString } from '../../registry/validation/object-meta.js';
import type { PolicyRule } from '../attributes.js';

/** Go's %q of a []string: ["a" "b"]. */
export function quotedList(values: readonly string[]): string {
  return `[${values.map(goString).join(' ')}]`;
}

/** rbacv1helpers.CompactString: the rule's non-empty fields in a fixed order. */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups?.length) parts.push(`APIGroups:${quotedList(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${quotedList(rule.resources)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${quotedList(rule.nonResourceURLs)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${quotedList(rule.resourceNames)}`);
  if (rule.verbs.length) parts.push(`Verbs:${quotedList(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * CompactRules: rules of one group, one resource and at most one name that
 * differ only by verb become one rule with all their verbs.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const isSimple = !rule.nonResourceURLs?.length && (rule.resourceNames?.length ?? 0) <= 1 && rule.apiGroups?.length === 1 && rule.resources?.length === 1;
    if (!isSimple) {
      compacted.push(rule);
      continue;
    }
    const name = rule.resourceNames?.[0];
    const key = JSON.stringify([rule.apiGroups![0], rule.resources![0], name]);
    const existing = simple.get(key);
    if (existing) existing.verbs.push(...rule.verbs);
    else simple.set(key, deepClone(rule));
  }
  return [...compacted, ...simple.values()];
}
