// Which binding subjects a user is, as upstream's rule resolver appliesTo: a
// User by name, a Group by membership, a ServiceAccount by its
// system:serviceaccount:<namespace>:<name> user name (a RoleBinding's
// subject without a namespace means the binding's own). Also where an index
// of bindings files each subject for the same test, and how an allow reason
// names the binding and subject.
import { goString } from '../../registry/validation/object-meta.js';
import { serviceAccountUsername, type UserInfo } from '../user.js';
import { subjectKinds, type ClusterRoleBinding, type RoleBinding, type Subject } from './types.js';

export type Binding = RoleBinding | ClusterRoleBinding;

/** The namespace a ServiceAccount subject lives in; '' (never matches) for one without a namespace in a ClusterRoleBinding. */
function serviceAccountNamespace(subject: Subject, bindingNamespace: string): string {
  return subject.namespace || bindingNamespace;
}

export function appliesToUser(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case subjectKinds.user:
      return user.name === subject.name;
    case subjectKinds.group:
      return user.groups.includes(subject.name);
    case subjectKinds.serviceAccount: {
      const namespace = serviceAccountNamespace(subject, bindingNamespace);
      return !!namespace && user.name === serviceAccountUsername(namespace, subject.name);
    }
    default:
      return false;
  }
}

/** Where an index of bindings files a subject: users and service accounts under a user name, groups under a group name. */
export function subjectKey(subject: Subject, bindingNamespace: string): { user: string } | { group: string } | undefined {
  switch (subject.kind) {
    case subjectKinds.user:
      return { user: subject.name };
    case subjectKinds.group:
      return { group: subject.name };
    case subjectKinds.serviceAccount: {
      const namespace = serviceAccountNamespace(subject, bindingNamespace);
      return namespace ? { user: serviceAccountUsername(namespace, subject.name) } : undefined;
    }
    default:
      return undefined;
  }
}

/** describeSubject: `Kind "name"`, a ServiceAccount as `"name/namespace"`. */
function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === subjectKinds.serviceAccount) return `${subject.kind} ${goString(`${subject.name}/${subject.namespace || bindingNamespace}`)}`;
  return `${subject.kind} ${goString(subject.name)}`;
}

/** The index of the binding's first subject that is the user, or -1. */
export function firstSubjectOf(binding: Binding, bindingNamespace: string, user: UserInfo): number {
  return (binding.subjects ?? []).findIndex((s) => appliesToUser(user, s, bindingNamespace));
}

/** `ClusterRoleBinding "x" of ClusterRole "y" to User "z"` (a RoleBinding as "name/namespace"), naming one of its subjects. */
export function describeBinding(binding: Binding, bindingNamespace: string, subjectIndex: number): string {
  const subject = binding.subjects?.[subjectIndex];
  const name = bindingNamespace ? `RoleBinding ${goString(`${binding.metadata.name}/${bindingNamespace}`)}` : `ClusterRoleBinding ${goString(binding.metadata.name ?? '')}`;
  const to = subject ? describeSubject(subject, bindingNamespace) : '';
  return `${name} of ${binding.roleRef.kind} ${goString(binding.roleRef.name)} to ${to}`;
}
