// The rbac.authorization.k8s.io/v1 objects as the server works on them
// (mutable views of kubernetes-types' shapes), and the names the API gives
// their fixed values (k8s.io/api/rbac/v1 types.go).
import type * as rbac from 'kubernetes-types/rbac/v1.js';
import type { DeepMutable, KubeObject } from '../../api/types.js';

export type Role = DeepMutable<rbac.Role> & KubeObject;
export type ClusterRole = DeepMutable<rbac.ClusterRole> & KubeObject;
export type RoleBinding = DeepMutable<rbac.RoleBinding> & KubeObject;
export type ClusterRoleBinding = DeepMutable<rbac.ClusterRoleBinding> & KubeObject;
export type Subject = DeepMutable<rbac.Subject>;
export type RoleRef = DeepMutable<rbac.RoleRef>;
export type AggregationRule = DeepMutable<rbac.AggregationRule>;

/** rbacv1.GroupName */
export const rbacGroup = 'rbac.authorization.k8s.io';

/** Subject kinds (rbacv1.UserKind, GroupKind, ServiceAccountKind). */
export const subjectKinds = { user: 'User', group: 'Group', serviceAccount: 'ServiceAccount' } as const;

/** The wildcards of PolicyRule fields (rbacv1.VerbAll, APIGroupAll, ResourceAll, NonResourceAll). */
export const ruleWildcard = '*';

/** rbacv1.AutoUpdateAnnotationKey: "false" keeps the API server from reconciling a bootstrap object. */
export const autoUpdateAnnotation = 'rbac.authorization.kubernetes.io/autoupdate';

/** The label on every bootstrap role and binding (bootstrappolicy.Label). */
export const bootstrappingLabel = { 'kubernetes.io/bootstrapping': 'rbac-defaults' } as const;
