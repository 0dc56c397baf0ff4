// Impersonation (kubectl --as / --as-group / --as-uid), as upstream's
// WithImpersonation filter: each Impersonate-* header is a request to act as
// someone, allowed only when the real user may `impersonate` that user,
// service account, group, uid or extra value; the request then runs as the
// impersonated user, who is in system:authenticated (system:unauthenticated
// for system:anonymous), and a service account without explicit groups gets
// its own.
import type { IncomingMessage } from 'node:http';
import type { Attributes, Authorizer } from '../../auth/attributes.js';
import { forbiddenReason } from '../../auth/authz/forbidden.js';
import { groups as wellKnown, parseServiceAccountUsername, serviceAccountGroups, users, type UserInfo } from '../../auth/user.js';
import { errors } from '../../api/status.js';

const extraPrefix = 'impersonate-extra-';

function headerValues(req: IncomingMessage, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === name) out.push(req.rawHeaders[i + 1]!);
  }
  return out;
}

/** The user the request acts as: `user` itself unless it asks to impersonate someone (and may). */
export function impersonatedUser(req: IncomingMessage, user: UserInfo, authorizer: Authorizer): UserInfo {
  const name = req.headers['impersonate-user'] as string | undefined;
  const asGroups = headerValues(req, 'impersonate-group');
  const uid = req.headers['impersonate-uid'] as string | undefined;
  const extra: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const key = req.rawHeaders[i]!.toLowerCase();
    if (key.startsWith(extraPrefix)) (extra[decodeURIComponent(key.slice(extraPrefix.length))] ??= []).push(req.rawHeaders[i + 1]!);
  }
  if (name === undefined) {
    if (asGroups.length || uid !== undefined || Object.keys(extra).length) {
      throw errors.internal(`requested ${describe(asGroups, uid, extra)} without impersonating a user`);
    }
    return user;
  }
  const check = (attrs: Omit<Attributes, 'user' | 'verb' | 'resourceRequest'>) => {
    const full: Attributes = { user, verb: 'impersonate', resourceRequest: true, ...attrs };
    const r = authorizer.authorize(full);
    if (r.decision !== 'allow') throw errors.forbidden({ group: attrs.apiGroup ?? '', resource: attrs.resource ?? '' }, attrs.name ?? '', forbiddenReason(full, r.reason));
  };
  const account = parseServiceAccountUsername(name);
  if (account) check({ apiGroup: '', resource: 'serviceaccounts', namespace: account[0], name: account[1] });
  else check({ apiGroup: '', resource: 'users', name });
  for (const g of asGroups) check({ apiGroup: '', resource: 'groups', name: g });
  if (uid !== undefined) check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
  for (const [key, values] of Object.entries(extra)) {
    for (const v of values) check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
  }
  const groups = asGroups.length || !account ? [...asGroups] : serviceAccountGroups(account[0]);
  const implied = name === users.anonymous ? wellKnown.unauthenticated : wellKnown.authenticated;
  if (!groups.includes(implied)) groups.push(implied);
  const impersonated: UserInfo = { name, groups };
  if (uid !== undefined) impersonated.uid = uid;
  if (Object.keys(extra).length) impersonated.extra = extra;
  return impersonated;
}

function describe(asGroups: string[], uid: string | undefined, extra: Record<string, string[]>): string {
  const parts = asGroups.map((g) => `{Group  ${g}}`);
  if (uid !== undefined) parts.push(`{UID  ${uid}}`);
  for (const [k, vs] of Object.entries(extra)) for (const v of vs) parts.push(`{UserExtra ${k} ${v}}`);
  return `[${parts.join(' ')}]`;
}
