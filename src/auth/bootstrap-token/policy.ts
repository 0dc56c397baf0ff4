// The RBAC a token-joined node relies on, beyond upstream's cluster roles
// (system:node-bootstrapper, the nodeclient/selfnodeclient roles and the
// certificate controller's, in ../rbac/bootstrap-policy.ts):
// - upstream's namespaced bootstrap roles of the bootstrap signer (read
//   token Secrets in kube-system, update cluster-info in kube-public) and the
//   token cleaner (delete expired token Secrets), bound to their accounts;
// - what kubeadm's bootstrap-token phase adds: kubeadm:kubelet-bootstrap,
//   kubeadm:node-autoapprove-bootstrap and kubeadm:get-nodes for its token
//   group, kubeadm:node-autoapprove-certificate-rotation for system:nodes,
//   and cluster-info readable by system:anonymous
//   (kubeadm:bootstrap-signer-clusterinfo).
import { groups, users } from '../user.js';
import { autoUpdateAnnotation, bootstrappingLabel, rbacGroup, subjectKinds, type ClusterRole, type ClusterRoleBinding, type Role, type RoleBinding, type Subject } from '../rbac/types.js';
import { clusterInfo, kubeadmDefaultNodeTokenGroup, tokenNamespace } from './token.js';

const bootstrapMetadata = () => ({ labels: { ...bootstrappingLabel }, annotations: { [autoUpdateAnnotation]: 'true' } });
const group = (name: string): Subject => ({ apiGroup: rbacGroup, kind: subjectKinds.group, name });
const user = (name: string): Subject => ({ apiGroup: rbacGroup, kind: subjectKinds.user, name });
const account = (name: string): Subject => ({ kind: subjectKinds.serviceAccount, name, namespace: tokenNamespace });

function role(namespace: string, name: string, rules: Role['rules'], metadata: object = bootstrapMetadata()): Role {
  return { apiVersion: `${rbacGroup}/v1`, kind: 'Role', metadata: { name, namespace, ...metadata }, rules };
}
function roleBinding(namespace: string, name: string, subjects: Subject[], metadata: object = bootstrapMetadata()): RoleBinding {
  return { apiVersion: `${rbacGroup}/v1`, kind: 'RoleBinding', metadata: { name, namespace, ...metadata }, roleRef: { apiGroup: rbacGroup, kind: 'Role', name }, subjects };
}
function clusterRoleBinding(name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding {
  return { apiVersion: `${rbacGroup}/v1`, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: roleName }, subjects };
}
const eventsRule = { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] };

/** NamespaceRoles / NamespaceRoleBindings of the bootstrap signer and the token cleaner. */
export const controllerNamespaceRoles: Role[] = [
  role(tokenNamespace, 'system:controller:bootstrap-signer', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }]),
  role(tokenNamespace, 'system:controller:token-cleaner', [{ apiGroups: [''], resources: ['secrets'], verbs: ['delete', 'get', 'list', 'watch'] }, eventsRule]),
  role(clusterInfo.namespace, 'system:controller:bootstrap-signer', [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['configmaps'], resourceNames: [clusterInfo.name], verbs: ['update'] },
    eventsRule,
  ]),
];
export const controllerNamespaceRoleBindings: RoleBinding[] = [
  roleBinding(tokenNamespace, 'system:controller:bootstrap-signer', [account('bootstrap-signer')]),
  roleBinding(tokenNamespace, 'system:controller:token-cleaner', [account('token-cleaner')]),
  roleBinding(clusterInfo.namespace, 'system:controller:bootstrap-signer', [account('bootstrap-signer')]),
];

/** kubeadm's bootstrap-token phase (phases/bootstraptoken/node and clusterinfo). */
export const kubeadmTokenPolicy = {
  clusterRoles: [{ apiVersion: `${rbacGroup}/v1`, kind: 'ClusterRole', metadata: { name: 'kubeadm:get-nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] }] as ClusterRole[],
  clusterRoleBindings: [
    clusterRoleBinding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', [group(kubeadmDefaultNodeTokenGroup)]),
    clusterRoleBinding('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [group(kubeadmDefaultNodeTokenGroup)]),
    clusterRoleBinding('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [group(groups.nodes)]),
    clusterRoleBinding('kubeadm:get-nodes', 'kubeadm:get-nodes', [group(kubeadmDefaultNodeTokenGroup)]),
  ],
  roles: [role(clusterInfo.namespace, 'kubeadm:bootstrap-signer-clusterinfo', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [clusterInfo.name], verbs: ['get'] }], {})],
  roleBindings: [roleBinding(clusterInfo.namespace, 'kubeadm:bootstrap-signer-clusterinfo', [user(users.anonymous)], {})],
};
