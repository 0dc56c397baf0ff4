// What the API server sets up at start for joining nodes, as kubeadm init
// leaves a cluster: the namespaced bootstrap roles of the bootstrap signer
// and token cleaner, kubeadm's token RBAC, and kube-public/cluster-info with
// this server's address and CA (updated when they change, so the bootstrap
// signer re-signs it). Each object is created when missing; existing roles
// and bindings are left as they are (kubeadm's create-or-update is skipped
// for objects an admin may have edited).
import type { KubeObject } from '../../api/object.js';
import type { Registry } from '../../registry/registry.js';
import type { ResourceDef } from '../../registry/resource.js';
import { clusterInfoKubeconfig } from './cluster-info.js';
import { controllerNamespaceRoleBindings, controllerNamespaceRoles, kubeadmTokenPolicy } from './policy.js';
import { clusterInfo } from './token.js';

const ignoreExists = (e: unknown) => {
  if ((e as { code?: number }).code !== 409) throw e;
};

export async function ensureTokenBootstrap(registry: Registry, def: (resource: string) => ResourceDef, cluster: { server: string; caCertPem: string }): Promise<void> {
  const create = (resource: string, obj: object) =>
    registry.create(def(resource), (obj as KubeObject).metadata.namespace, obj as KubeObject).then(() => undefined, ignoreExists);
  await Promise.all([
    ...[...controllerNamespaceRoles, ...kubeadmTokenPolicy.roles].map((r) => create('roles', r)),
    ...[...controllerNamespaceRoleBindings, ...kubeadmTokenPolicy.roleBindings].map((b) => create('rolebindings', b)),
    ...kubeadmTokenPolicy.clusterRoles.map((r) => create('clusterroles', r)),
    ...kubeadmTokenPolicy.clusterRoleBindings.map((b) => create('clusterrolebindings', b)),
  ]);
  const kubeconfig = clusterInfoKubeconfig(cluster.server, cluster.caCertPem);
  const configMaps = def('configmaps');
  const existing = await registry.get(configMaps, clusterInfo.namespace, clusterInfo.name).catch((e: { code?: number }) => {
    if (e.code === 404) return undefined;
    throw e;
  });
  if (!existing) {
    await create('configmaps', { metadata: { name: clusterInfo.name, namespace: clusterInfo.namespace }, data: { [clusterInfo.kubeconfigKey]: kubeconfig } });
  } else if ((existing.data as Record<string, string> | undefined)?.[clusterInfo.kubeconfigKey] !== kubeconfig) {
    await registry.update(configMaps, clusterInfo.namespace, clusterInfo.name, (cm) => ({ ...cm, data: { ...(cm.data as Record<string, string>), [clusterInfo.kubeconfigKey]: kubeconfig } }));
  }
}
