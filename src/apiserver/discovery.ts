// API discovery, both forms kubectl uses: aggregated (apidiscovery.k8s.io/v2,
// two requests) and legacy (APIVersions, APIGroupList, APIResourceList).
import { apiVersionOf, type ResourceDef } from '../registry/resource.js';

export const aggregatedContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

export function wantsAggregated(accept: string | undefined): boolean {
  return !!accept && /as=APIGroupDiscoveryList/.test(accept) && /g=apidiscovery\.k8s\.io/.test(accept);
}

/** The group-versions served, core first, as upstream orders them. */
export function groupVersions(defs: ResourceDef[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const d of defs) seen.set(apiVersionOf(d), { group: d.group, version: d.version });
  return [...seen.values()];
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
      versions: [{ version: ds[0].version, freshness: 'Current', resources: ds.map(aggregatedResource) }],
    })),
  };
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(group: string, version: string) {
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

export function apiGroupList(defs: ResourceDef[]) {
  const groups = groupVersions(defs).filter((g) => g.group);
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => apiGroup(g.group, g.version)) };
}

export function apiGroupDoc(defs: ResourceDef[], group: string) {
  const gv = groupVersions(defs).find((g) => g.group === group);
  return gv ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(gv.group, gv.version) } : undefined;
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
