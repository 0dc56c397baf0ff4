// API discovery, both forms kubectl uses: aggregated (apidiscovery.k8s.io/v2,
// two requests) and legacy (APIVersions, APIGroupList, APIResourceList).
import { apiVersionOf, type ResourceDef } from '../registry/resource.js';

export const aggregatedContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

export function wantsAggregated(accept: string | undefined): boolean {
  return !!accept && /as=APIGroupDiscoveryList/.test(accept) && /g=apidiscovery\.k8s\.io/.test(accept);
}

/** The group-versions served, core first, as upstream orders them; a group's versions by priority (see compareVersions). */
export function groupVersions(defs: ResourceDef[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const d of defs) seen.set(apiVersionOf(d), { group: d.group, version: d.version });
  const groups = [...new Set([...seen.values()].map((gv) => gv.group))];
  return groups.flatMap((g) =>
    [...seen.values()].filter((gv) => gv.group === g).sort((a, b) => compareVersions(a.version, b.version)),
  );
}

/**
 * Upstream's version priority (version.CompareKubeAwareVersionStrings), as
 * discovery orders a group's versions (custom resources may serve several):
 * GA before beta before alpha, higher numbers first, other names last, by name.
 */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    return { major: Number(m[1]), stage: m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2, minor: Number(m[3] ?? 0) };
  };
  const ra = rank(a);
  const rb = rank(b);
  if (!ra || !rb) return ra ? -1 : rb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  if (ra.stage !== rb.stage) return rb.stage - ra.stage;
  if (ra.major !== rb.major) return rb.major - ra.major;
  return rb.minor - ra.minor;
}

function aggregatedResource(d: ResourceDef) {
  const entry: Record<string, unknown> = {
    resource: d.resource,
    responseKind: { group: d.group, version: d.version, kind: d.kind },
    scope: d.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: d.singular,
    verbs: d.verbs,
  };
  if (d.shortNames.length) entry.shortNames = d.shortNames;
  if (d.categories.length) entry.categories = d.categories;
  if (d.subresources.length) {
    entry.subresources = d.subresources.map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group, version: s.version, kind: s.kind },
      verbs: s.verbs,
    }));
  }
  return entry;
}

export function aggregatedDiscovery(defs: ResourceDef[], legacy: boolean) {
  const groups = new Map<string, ResourceDef[]>();
  for (const d of defs.filter((d) => (d.group === '') === legacy)) {
    groups.set(d.group, [...(groups.get(d.group) ?? []), d]);
  }
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [...groups].map(([group, ds]) => ({
      metadata: { name: group },
      versions: [...new Set(ds.map((d) => d.version))]
        .sort(compareVersions)
        .map((version) => ({ version, freshness: 'Current', resources: ds.filter((d) => d.version === version).map(aggregatedResource) })),
    })),
  };
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** A group with its versions in priority order; the first is the preferred one. */
function apiGroup(group: string, versions: string[]) {
  const gvs = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: gvs, preferredVersion: gvs[0] };
}

function versionsOf(defs: ResourceDef[], group: string): string[] {
  return groupVersions(defs)
    .filter((g) => g.group === group)
    .map((g) => g.version);
}

export function apiGroupList(defs: ResourceDef[]) {
  const groups = [...new Set(groupVersions(defs).map((g) => g.group))].filter((g) => g);
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => apiGroup(g, versionsOf(defs, g))) };
}

export function apiGroupDoc(defs: ResourceDef[], group: string) {
  const versions = versionsOf(defs, group);
  return versions.length ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) } : undefined;
}

export function apiResourceList(defs: ResourceDef[], group: string, version: string) {
  const ds = defs.filter((d) => d.group === group && d.version === version);
  if (!ds.length) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const d of ds) {
    const entry: Record<string, unknown> = {
      name: d.resource,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
    };
    if (d.shortNames.length) entry.shortNames = d.shortNames;
    if (d.categories.length) entry.categories = d.categories;
    resources.push(entry);
    for (const s of d.subresources) {
      const sub: Record<string, unknown> = { name: `${d.resource}/${s.name}`, singularName: '', namespaced: d.namespaced, kind: s.kind, verbs: s.verbs };
      if (s.group !== d.group || s.version !== d.version) {
        sub.group = s.group;
        sub.version = s.version;
      }
      resources.push(sub);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(ds[0]), resources };
}
