// `kubectl get roles,clusterroles,rolebindings,clusterrolebindings` columns
// and cells (printers.go printRole, printClusterRole, printRoleBinding,
// printClusterRoleBinding): roles show when they were created; bindings
// show Kind/name of their role and, with -o wide, their subjects by kind.
import { nowTimestamp } from '../../api/object.js';
import { subjectKinds, type ClusterRole, type ClusterRoleBinding, type Role, type RoleBinding, type Subject } from '../../auth/rbac/types.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor, creationTimestampDoc } from '../table-format.js';

/** The creation time in RFC 3339 (UTC, seconds), as Go's Time.UTC().Format(time.RFC3339); unset is Go's zero time. */
function createdAt(obj: { metadata?: { creationTimestamp?: string } }): string {
  const t = obj.metadata?.creationTimestamp ? Date.parse(obj.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? '0001-01-01T00:00:00Z' : nowTimestamp(new Date(t));
}

const roleColumns = [nameColumn, column('Created At', 'date', 0, creationTimestampDoc)];

export const roleTable = convertor<Role>(roleColumns, (role) => [role.metadata?.name ?? '', createdAt(role)]);
export const clusterRoleTable = convertor<ClusterRole>(roleColumns, (role) => [role.metadata?.name ?? '', createdAt(role)]);

/** rbac.SubjectsStrings: user names, group names and service accounts as namespace/name. */
function subjectsStrings(subjects: Subject[] | undefined): [users: string, groups: string, serviceAccounts: string] {
  const of = (kind: string, show: (s: Subject) => string) => (subjects ?? []).filter((s) => s.kind === kind).map(show).join(', ');
  return [
    of(subjectKinds.user, (s) => s.name),
    of(subjectKinds.group, (s) => s.name),
    of(subjectKinds.serviceAccount, (s) => `${s.namespace ?? ''}/${s.name}`),
  ];
}

/** The binding columns; `what` names the binding kind in the subject columns' descriptions. */
function bindingColumns(what: string, roleRefDoc: string) {
  return [
    nameColumn,
    column('Role', 'string', 0, roleRefDoc),
    ageColumn,
    column('Users', 'string', 1, `Users in the ${what}`),
    column('Groups', 'string', 1, `Groups in the ${what}`),
    column('ServiceAccounts', 'string', 1, `ServiceAccounts in the ${what}`),
  ];
}

function bindingCells(binding: RoleBinding | ClusterRoleBinding, now: Date): unknown[] {
  const roleRef = binding.roleRef as Partial<RoleBinding['roleRef']> | undefined;
  return [binding.metadata?.name ?? '', `${roleRef?.kind ?? ''}/${roleRef?.name ?? ''}`, age(binding, now), ...subjectsStrings(binding.subjects)];
}

export const roleBindingTable = convertor<RoleBinding>(
  bindingColumns(
    'roleBinding',
    'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.',
  ),
  bindingCells,
);

export const clusterRoleBindingTable = convertor<ClusterRoleBinding>(
  bindingColumns('clusterRoleBinding', 'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.'),
  bindingCells,
);
