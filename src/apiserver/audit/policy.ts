// The audit policy (audit.k8s.io/v1 Policy, kube-apiserver's
// --audit-policy-file): rules tried in order, the first that matches a
// request gives its level (None, Metadata, Request, RequestResponse) and
// the stages not to record; no matching rule is level None. Matching as
// upstream's policy checker: users, userGroups, verbs, and for resource
// requests namespaces and resources (group, resources with "*",
// "*/subresource" and "resource/*", resourceNames), for the others
// nonResourceURLs (exact, or a prefix ending in "*").
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { errorMessage } from '../../util/errors.js';

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type AuditLevel = (typeof LEVELS)[number];
export const STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type AuditStage = (typeof STAGES)[number];

export interface GroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}

export interface PolicyRule {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: AuditStage[];
  omitManagedFields?: boolean;
}

export interface AuditPolicy {
  rules: PolicyRule[];
  omitStages?: AuditStage[];
  omitManagedFields?: boolean;
}

/** What a request is, for the rules. */
export interface AuditAttributes {
  user: { username: string; groups: string[] };
  verb: string;
  resourceRequest: boolean;
  path: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface AuditDecision {
  level: AuditLevel;
  omitStages: AuditStage[];
  omitManagedFields: boolean;
}

const asStrings = (v: unknown, what: string): string[] | undefined => {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new Error(`${what} must be a list of strings`);
  return v as string[];
};

function stagesOf(v: unknown, what: string): AuditStage[] | undefined {
  const list = asStrings(v, what);
  for (const s of list ?? []) if (!(STAGES as readonly string[]).includes(s)) throw new Error(`${what}: Unsupported value: "${s}": supported values: ${STAGES.map((x) => `"${x}"`).join(', ')}`);
  return list as AuditStage[] | undefined;
}

/** Reads and checks a policy document; the error says which rule and field is wrong. */
export function parseAuditPolicy(text: string): AuditPolicy {
  const doc = parseYaml(text) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new Error('not a Policy document');
  if (doc.kind !== 'Policy' || !['audit.k8s.io/v1'].includes(String(doc.apiVersion))) {
    throw new Error(`want kind Policy of apiVersion audit.k8s.io/v1, got kind ${JSON.stringify(doc.kind)} of apiVersion ${JSON.stringify(doc.apiVersion)}`);
  }
  if (!Array.isArray(doc.rules)) throw new Error('rules: Required value');
  const rules = (doc.rules as Record<string, unknown>[]).map((r, i): PolicyRule => {
    const at = `rules[${i}]`;
    if (!r || typeof r !== 'object') throw new Error(`${at}: must be an object`);
    if (!(LEVELS as readonly string[]).includes(String(r.level))) {
      throw new Error(`${at}.level: ${r.level === undefined ? 'Required value' : `Unsupported value: "${String(r.level)}": supported values: ${LEVELS.map((l) => `"${l}"`).join(', ')}`}`);
    }
    const resources = r.resources === undefined ? undefined : (r.resources as GroupResources[]);
    if (resources !== undefined && !Array.isArray(resources)) throw new Error(`${at}.resources must be a list`);
    const nonResourceURLs = asStrings(r.nonResourceURLs, `${at}.nonResourceURLs`);
    if (nonResourceURLs && (resources?.length || (r.namespaces as unknown[] | undefined)?.length)) {
      throw new Error(`${at}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs`);
    }
    resources?.forEach((g, j) => {
      asStrings(g.resources, `${at}.resources[${j}].resources`);
      asStrings(g.resourceNames, `${at}.resources[${j}].resourceNames`);
    });
    return {
      level: r.level as AuditLevel,
      users: asStrings(r.users, `${at}.users`),
      userGroups: asStrings(r.userGroups, `${at}.userGroups`),
      verbs: asStrings(r.verbs, `${at}.verbs`),
      resources,
      namespaces: asStrings(r.namespaces, `${at}.namespaces`),
      nonResourceURLs,
      omitStages: stagesOf(r.omitStages, `${at}.omitStages`),
      omitManagedFields: r.omitManagedFields === undefined ? undefined : r.omitManagedFields === true,
    };
  });
  return { rules, omitStages: stagesOf(doc.omitStages, 'omitStages'), omitManagedFields: doc.omitManagedFields === true };
}

/** The policy in `path`; a clear error naming the file when it cannot be used. */
export function loadAuditPolicy(path: string): AuditPolicy {
  try {
    return parseAuditPolicy(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`loading audit policy file ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

function matchesResource(groups: GroupResources[], a: AuditAttributes): boolean {
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? '';
  return groups.some((g) => {
    if ((g.group ?? '') !== (a.apiGroup ?? '')) return false;
    if (!g.resources?.length) return true;
    if (g.resourceNames?.length && !g.resourceNames.includes(a.name ?? '')) return false;
    return g.resources.some(
      (res) =>
        res === combined || res === '*' || (!!a.subresource && res.startsWith('*/') && res.slice(2) === a.subresource) || (res.endsWith('/*') && res.slice(0, -2) === a.resource),
    );
  });
}

function ruleMatches(r: PolicyRule, a: AuditAttributes): boolean {
  if (r.users?.length && !r.users.includes(a.user.username)) return false;
  if (r.userGroups?.length && !r.userGroups.some((g) => a.user.groups.includes(g))) return false;
  if (r.verbs?.length && !r.verbs.includes(a.verb)) return false;
  if (r.namespaces?.length || r.resources?.length) {
    if (!a.resourceRequest) return false;
    if (r.namespaces?.length && !r.namespaces.includes(a.namespace ?? '')) return false;
    if (r.resources?.length && !matchesResource(r.resources, a)) return false;
  }
  if (r.nonResourceURLs?.length) {
    if (a.resourceRequest) return false;
    if (!r.nonResourceURLs.some((u) => u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))))) return false;
  }
  return true;
}

/** The level and omitted stages of a request under the policy. */
export function auditDecision(policy: AuditPolicy, a: AuditAttributes): AuditDecision {
  const rule = policy.rules.find((r) => ruleMatches(r, a));
  if (!rule) return { level: 'None', omitStages: [], omitManagedFields: false };
  return {
    level: rule.level,
    omitStages: [...new Set([...(policy.omitStages ?? []), ...(rule.omitStages ?? [])])],
    omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields ?? false,
  };
}
