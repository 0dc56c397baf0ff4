// authentication.k8s.io/v1: TokenReview (is this token good, and whose is
// it — for webhooks and auth proxies, given `create tokenreviews`) and
// SelfSubjectReview (`kubectl auth whoami`: who the server takes me for).
import { fieldErrors } from '../../api/field-errors.js';
import { errors } from '../../api/status.js';
import type { UserInfo } from '../../auth/user.js';
import type { ResourceDef } from '../../registry/resource.js';
import type { Extensions } from '../extensions.js';
import { answered, reviewResource } from './review-resource.js';

const group = 'authentication.k8s.io';

/** authentication.k8s.io/v1 UserInfo: username, uid, groups, extra. */
export function userInfoObject(user: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: user.name };
  if (user.uid) out.uid = user.uid;
  out.groups = user.groups;
  if (user.extra && Object.keys(user.extra).length) out.extra = user.extra;
  return out;
}

export function authenticationReviewResources(deps: { extensions: () => Extensions }): ResourceDef[] {
  return [
    reviewResource({
      group,
      kind: 'TokenReview',
      resource: 'tokenreviews',
      async answer(obj) {
        const spec = (obj.spec ?? {}) as { token?: string; audiences?: string[] };
        if (!spec.token) throw errors.invalid('TokenReview', group, '', [fieldErrors.required('spec.token', 'token must be specified')]);
        const ext = deps.extensions();
        const wanted = spec.audiences?.length ? spec.audiences : ext.apiAudiences;
        const r = await ext.tokens.authenticate(spec.token);
        if ('error' in r) return answered(obj, { user: {}, error: r.error, authenticated: false });
        const audiences = r.audiences.filter((a) => wanted.includes(a));
        if (!audiences.length) return answered(obj, { user: {}, error: 'token audiences do not match the requested audiences', authenticated: false });
        const user = r.user.groups.includes('system:authenticated') ? r.user : { ...r.user, groups: [...r.user.groups, 'system:authenticated'] };
        return answered(obj, { authenticated: true, user: userInfoObject(user), audiences });
      },
    }),
    reviewResource({
      group,
      kind: 'SelfSubjectReview',
      resource: 'selfsubjectreviews',
      answer: (obj, { user }) => answered(obj, { userInfo: userInfoObject(user) }),
    }),
  ];
}
