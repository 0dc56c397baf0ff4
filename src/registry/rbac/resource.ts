// rbac.authorization.k8s.io/v1 roles, clusterroles, rolebindings and
// clusterrolebindings, served as upstream's pkg/registry/rbac: decoding
// defaults (a roleRef's and a User or Group subject's apiGroup), the
// validation of pkg/apis/rbac/validation, and the policy-based storage that
// refuses writes granting permissions the writer does not hold.
import type { FieldError } from '../../api/field-errors.js';
import type { KubeObject } from '../../api/object.js';
import type { RbacRuleResolver } from '../../auth/rbac/authorizer.js';
import { admitBindingWrite, admitRoleWrite } from '../../auth/rbac/escalation.js';
import { rbacGroup, subjectKinds, type ClusterRole, type ClusterRoleBinding, type Role, type RoleBinding } from '../../auth/rbac/types.js';
import { standardVerbs, type ResourceDef, type Strategy } from '../resource.js';
import { clusterRoleBindingTable, clusterRoleTable, roleBindingTable, roleTable } from './table.js';
import {
  validateClusterRole,
  validateClusterRoleBinding,
  validateRBACName,
  validateRole,
  validateRoleBinding,
  validateRoleRefUnchanged,
} from './validation.js';

/** SetDefaults_RoleBinding / ClusterRoleBinding / Subject: the RBAC group where the API leaves apiGroup empty. */
function defaultBinding(binding: RoleBinding | ClusterRoleBinding): void {
  const roleRef = (binding.roleRef ??= { apiGroup: '', kind: '', name: '' });
  roleRef.apiGroup ||= rbacGroup;
  for (const subject of binding.subjects ?? []) {
    if (!subject.apiGroup && (subject.kind === subjectKinds.user || subject.kind === subjectKinds.group)) subject.apiGroup = rbacGroup;
  }
}

const base = {
  group: rbacGroup,
  version: 'v1',
  shortNames: [],
  categories: [],
  verbs: standardVerbs,
  subresources: [],
  validateName: validateRBACName,
} satisfies Partial<ResourceDef>;

export interface RbacResourceDeps {
  /**
   * RBAC's own rule resolver for the escalation checks (late-bound: the
   * policy cache is built after the registry). Without it, the request's
   * authorizer is used when it is itself an RBAC authorizer.
   */
  ruleResolver?: () => RbacRuleResolver | undefined;
}

/** The four definitions by role, for the API server, the policy cache and the bootstrap reconciler. */
export interface RbacResourceDefs {
  roles: ResourceDef;
  clusterRoles: ResourceDef;
  roleBindings: ResourceDef;
  clusterRoleBindings: ResourceDef;
}

export function createRbacResources(deps: RbacResourceDeps = {}): RbacResourceDefs {
  const resolver = () => deps.ruleResolver?.();

  function roleStrategy<T extends Role | ClusterRole>(resource: 'roles' | 'clusterroles', validate: (role: T) => FieldError[]): Strategy {
    const role = (obj: KubeObject) => obj as T;
    return {
      admitCreate: async (obj, ctx) => admitRoleWrite(resource, role(obj), undefined, ctx, resolver()),
      admitUpdate: async (obj, old, ctx) => admitRoleWrite(resource, role(obj), role(old), ctx, resolver()),
      validate: (obj) => validate(role(obj)),
      validateUpdate: (obj) => validate(role(obj)),
    };
  }

  function bindingStrategy<T extends RoleBinding | ClusterRoleBinding>(resource: 'rolebindings' | 'clusterrolebindings', validate: (binding: T) => FieldError[]): Strategy {
    const binding = (obj: KubeObject) => obj as T;
    return {
      prepareForCreate: (obj) => defaultBinding(binding(obj)),
      prepareForUpdate: (obj) => defaultBinding(binding(obj)),
      admitCreate: async (obj, ctx) => admitBindingWrite(resource, binding(obj), undefined, ctx, resolver()),
      admitUpdate: async (obj, old, ctx) => admitBindingWrite(resource, binding(obj), binding(old), ctx, resolver()),
      validate: (obj) => validate(binding(obj)),
      validateUpdate: (obj, old) => [...validate(binding(obj)), ...validateRoleRefUnchanged(binding(obj), binding(old))],
    };
  }

  return {
    roles: {
      ...base,
      kind: 'Role',
      resource: 'roles',
      singular: 'role',
      namespaced: true,
      table: roleTable,
      strategy: roleStrategy<Role>('roles', validateRole),
    },
    clusterRoles: {
      ...base,
      kind: 'ClusterRole',
      resource: 'clusterroles',
      singular: 'clusterrole',
      namespaced: false,
      table: clusterRoleTable,
      strategy: roleStrategy<ClusterRole>('clusterroles', validateClusterRole),
    },
    roleBindings: {
      ...base,
      kind: 'RoleBinding',
      resource: 'rolebindings',
      singular: 'rolebinding',
      namespaced: true,
      table: roleBindingTable,
      strategy: bindingStrategy<RoleBinding>('rolebindings', validateRoleBinding),
    },
    clusterRoleBindings: {
      ...base,
      kind: 'ClusterRoleBinding',
      resource: 'clusterrolebindings',
      singular: 'clusterrolebinding',
      namespaced: false,
      table: clusterRoleBindingTable,
      strategy: bindingStrategy<ClusterRoleBinding>('clusterrolebindings', validateClusterRoleBinding),
    },
  };
}

/** The definitions whose escalation checks use the request's authorizer as the rule resolver (an RBAC authorizer). */
export const rbacDefs: RbacResourceDefs = createRbacResources();

export const rbacResources: ResourceDef[] = [rbacDefs.roles, rbacDefs.clusterRoles, rbacDefs.roleBindings, rbacDefs.clusterRoleBindings];
