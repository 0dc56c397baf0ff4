// Storage keys, as kube-apiserver lays them out in etcd, so that
// `etcdctl get --prefix /registry/services/specs/` finds a Service where a
// kubeadm cluster keeps it:
//
//   /registry/<prefix>/<namespace>/<name>   namespaced resources
//   /registry/<prefix>/<name>               cluster-scoped ones
//
// <prefix> is the resource's storage prefix (the storage factory's
// ResourcePrefix): the plural alone for the built-in API groups (deployments,
// endpointslices, leases — no group), a few historical names (services/specs,
// services/endpoints, minions, controllers, ingress), and <group>/<plural> for
// apiextensions.k8s.io and apiregistration.k8s.io and for custom resources.
// This module is the one mapping: the registry, the encryption configuration
// and the SQLite store's key migration all read it.

/** The resources upstream stores under a name other than their plural (pkg/kubeapiserver's special default prefixes). */
const specialPrefixes: Record<string, string> = {
  'replicationcontrollers': 'controllers',
  'endpoints': 'services/endpoints',
  'nodes': 'minions',
  'services': 'services/specs',
  'ingresses.extensions': 'ingress',
  'ingresses.networking.k8s.io': 'ingress',
};

/** Built-in groups whose storage prefix keeps the group (their own API servers' storage: group/resource). */
const groupPrefixedGroups = new Set(['apiextensions.k8s.io', 'apiregistration.k8s.io']);

/**
 * The stored resources of kube-apiserver's built-in API groups (v1.32), the
 * core group ('') included. A group not listed here is a custom resource's.
 */
export const builtinGroupResources: Readonly<Record<string, readonly string[]>> = {
  '': ['configmaps', 'endpoints', 'events', 'limitranges', 'namespaces', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'pods', 'podtemplates', 'replicationcontrollers', 'resourcequotas', 'secrets', 'serviceaccounts', 'services'],
  'admissionregistration.k8s.io': ['mutatingwebhookconfigurations', 'validatingadmissionpolicies', 'validatingadmissionpolicybindings', 'validatingwebhookconfigurations'],
  'apiextensions.k8s.io': ['customresourcedefinitions'],
  'apiregistration.k8s.io': ['apiservices'],
  'apps': ['controllerrevisions', 'daemonsets', 'deployments', 'replicasets', 'statefulsets'],
  'autoscaling': ['horizontalpodautoscalers'],
  'batch': ['cronjobs', 'jobs'],
  'certificates.k8s.io': ['certificatesigningrequests', 'clustertrustbundles'],
  'coordination.k8s.io': ['leasecandidates', 'leases'],
  'discovery.k8s.io': ['endpointslices'],
  'events.k8s.io': ['events'],
  'extensions': ['ingresses'],
  'flowcontrol.apiserver.k8s.io': ['flowschemas', 'prioritylevelconfigurations'],
  'internal.apiserver.k8s.io': ['storageversions'],
  'networking.k8s.io': ['ingressclasses', 'ingresses', 'ipaddresses', 'networkpolicies', 'servicecidrs'],
  'node.k8s.io': ['runtimeclasses'],
  'policy': ['poddisruptionbudgets'],
  'rbac.authorization.k8s.io': ['clusterrolebindings', 'clusterroles', 'rolebindings', 'roles'],
  'resource.k8s.io': ['deviceclasses', 'resourceclaims', 'resourceclaimtemplates', 'resourceslices'],
  'scheduling.k8s.io': ['priorityclasses'],
  'storage.k8s.io': ['csidrivers', 'csinodes', 'csistoragecapacities', 'storageclasses', 'volumeattachments', 'volumeattributesclasses'],
  'storagemigration.k8s.io': ['storageversionmigrations'],
};

export const isBuiltinGroup = (group: string): boolean => Object.hasOwn(builtinGroupResources, group);

/** Where every key lives: kube-apiserver's --etcd-prefix default. */
export const registryRoot = '/registry/';

/** A resource's storage prefix, with the root and a trailing slash: /registry/services/specs/, /registry/example.com/widgets/. */
export function resourcePrefix(gr: { group: string; resource: string }): string {
  const special = specialPrefixes[gr.group ? `${gr.resource}.${gr.group}` : gr.resource];
  if (special) return `${registryRoot}${special}/`;
  const withGroup = gr.group && (!isBuiltinGroup(gr.group) || groupPrefixedGroups.has(gr.group));
  return `${registryRoot}${withGroup ? `${gr.group}/` : ''}${gr.resource}/`;
}

export function collectionPrefix(def: { group: string; resource: string; namespaced: boolean }, namespace?: string): string {
  const base = resourcePrefix(def);
  return def.namespaced && namespace ? `${base}${namespace}/` : base;
}

export function objectKey(def: { group: string; resource: string; namespaced: boolean }, namespace: string | undefined, name: string): string {
  return `${collectionPrefix(def, def.namespaced ? namespace : undefined)}${name}`;
}

/**
 * A key of kubesvc's first layout (/registry/<group>/<resource>/… for every
 * named group, /registry/<resource>/… for the core one) in upstream's layout.
 * Keys of custom resources and of the group-prefixed groups stay as they are.
 */
export function upstreamKeyOfLegacy(key: string): string {
  if (!key.startsWith(registryRoot)) return key;
  const parts = key.slice(registryRoot.length).split('/');
  // The first segment was a group when it is a dotted name or one of the undotted built-in groups (apps, batch, policy, …).
  const named = parts.length > 2 && (parts[0]!.includes('.') || (parts[0] !== '' && isBuiltinGroup(parts[0]!)));
  const [group, resource, rest] = named ? [parts[0]!, parts[1]!, parts.slice(2)] : ['', parts[0]!, parts.slice(1)];
  return `${resourcePrefix({ group, resource })}${rest.join('/')}`;
}
