// authorization.k8s.io/v1: asking the authorizer instead of trying.
// SelfSubjectAccessReview (`kubectl auth can-i`) asks for the requester;
// SubjectAccessReview and LocalSubjectAccessReview for anyone (who may create
// them); SelfSubjectRulesReview (`kubectl auth can-i --list`) lists the
// requester's rules in a namespace. Validation and answers as upstream's.
import type { KubeObject } from '../../api/object.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { errors } from '../../api/status.js';
import type { Attributes, Authorizer } from '../../auth/attributes.js';
import type { UserInfo } from '../../auth/user.js';
import type { ResourceDef } from '../../registry/resource.js';
import type { Extensions } from '../extensions.js';
import { answered, reviewResource } from './review-resource.js';

const group = 'authorization.k8s.io';

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

function specErrors(spec: AccessReviewSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    errs.push(fieldErrors.invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes'));
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    errs.push(fieldErrors.invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  }
  return errs;
}

function attributesOf(user: UserInfo, spec: AccessReviewSpec): Attributes {
  const r = spec.resourceAttributes;
  if (r) {
    return {
      user,
      verb: r.verb ?? '',
      resourceRequest: true,
      apiGroup: r.group ?? '',
      apiVersion: r.version ?? '',
      resource: r.resource ?? '',
      subresource: r.subresource || undefined,
      namespace: r.namespace || undefined,
      name: r.name || undefined,
    };
  }
  const n = spec.nonResourceAttributes ?? {};
  return { user, verb: n.verb ?? '', resourceRequest: false, path: n.path ?? '' };
}

function answer(obj: KubeObject, user: UserInfo, spec: AccessReviewSpec, authorizer: Authorizer): KubeObject {
  const r = authorizer.authorize(attributesOf(user, spec));
  const status: Record<string, unknown> = { allowed: r.decision === 'allow' };
  if (r.decision === 'deny') status.denied = true;
  if (r.reason) status.reason = r.reason;
  return answered(obj, status);
}

const specOf = (obj: KubeObject) => (obj.spec ?? {}) as AccessReviewSpec;

export function accessReviewResources(deps: { authorizer: () => Authorizer; extensions: () => Extensions }): ResourceDef[] {
  return [
    reviewResource({
      group,
      kind: 'SelfSubjectAccessReview',
      resource: 'selfsubjectaccessreviews',
      answer(obj, { user }) {
        const spec = specOf(obj);
        const errs = specErrors(spec);
        if (errs.length) throw errors.invalid('SelfSubjectAccessReview', group, '', errs);
        return answer(obj, user, spec, deps.authorizer());
      },
    }),
    reviewResource({
      group,
      kind: 'SubjectAccessReview',
      resource: 'subjectaccessreviews',
      answer(obj) {
        const spec = specOf(obj);
        const errs = subjectErrors(spec);
        if (errs.length) throw errors.invalid('SubjectAccessReview', group, '', errs);
        return answer(obj, subjectOf(spec), spec, deps.authorizer());
      },
    }),
    reviewResource({
      group,
      kind: 'LocalSubjectAccessReview',
      resource: 'localsubjectaccessreviews',
      namespaced: true,
      answer(obj, { namespace }) {
        const spec = specOf(obj);
        const errs = subjectErrors(spec);
        if (errs.length) throw errors.invalid('LocalSubjectAccessReview', group, '', errs);
        if (spec.nonResourceAttributes) throw errors.badRequest('disallowed on this kind of request: nonResourceAttributes');
        if ((spec.resourceAttributes?.namespace ?? '') !== namespace) {
          throw errors.badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
        }
        return answer(obj, subjectOf(spec), spec, deps.authorizer());
      },
    }),
    reviewResource({
      group,
      kind: 'SelfSubjectRulesReview',
      resource: 'selfsubjectrulesreviews',
      answer(obj, { user }) {
        const namespace = (obj.spec as { namespace?: string } | undefined)?.namespace ?? '';
        const rules = deps.extensions().rulesFor(user, namespace);
        const status: Record<string, unknown> = { resourceRules: rules.resourceRules, nonResourceRules: rules.nonResourceRules, incomplete: rules.incomplete };
        if (rules.evaluationError) status.evaluationError = rules.evaluationError;
        return answered(obj, status);
      },
    }),
  ];
}

function subjectErrors(spec: AccessReviewSpec): FieldError[] {
  const errs = specErrors(spec);
  if (!spec.user && !spec.groups?.length) errs.push(fieldErrors.invalid('spec.user', spec.user ?? '', 'at least one of user or group must be specified'));
  return errs;
}

/** The user a SubjectAccessReview names; as upstream, its groups are taken as given (no system:authenticated added). */
function subjectOf(spec: AccessReviewSpec): UserInfo {
  const user: UserInfo = { name: spec.user ?? '', groups: [...(spec.groups ?? [])] };
  if (spec.uid) user.uid = spec.uid;
  if (spec.extra) user.extra = spec.extra;
  return user;
}
