// What an authorizer decides on, as upstream's authorizer.Attributes: the
// user, the verb, and either a resource (group, resource, subresource,
// namespace, name) or a non-resource path.
import type { UserInfo } from './user.js';

export interface Attributes {
  user: UserInfo;
  verb: string;
  /** true for /api/..., /apis/... resource requests; false for /healthz, /version, discovery. */
  resourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export type Decision = 'allow' | 'deny' | 'no-opinion';

export interface AuthorizerResult {
  decision: Decision;
  /** Why (RBAC: the binding that allowed it); shown in SubjectAccessReview status.reason. */
  reason: string;
}

export interface Authorizer {
  authorize(attrs: Attributes): AuthorizerResult;
}

/** A rule as RBAC has it (rbac.authorization.k8s.io/v1 PolicyRule). */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
