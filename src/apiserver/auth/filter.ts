// Every request's way in: authenticate (401 with upstream's body when a
// credential fails), apply impersonation, then authorize (403 worded as
// upstream's). What passes carries its user on to the handlers.
import type { IncomingMessage } from 'node:http';
import type { Attributes, Authorizer } from '../../auth/attributes.js';
import type { RequestAuthenticator } from '../../auth/authn/authenticator.js';
import { forbiddenReason } from '../../auth/authz/forbidden.js';
import type { UserInfo } from '../../auth/user.js';
import { errors } from '../../api/status.js';
import { logger } from '../../util/log.js';
import type { RequestInfo } from '../request-info.js';
import type { AdmissionRecord } from '../audit/recorder.js';
import { requestAttributes } from './attributes.js';
import { impersonatedUser } from './impersonation.js';

const log = logger('apiserver');

export interface RequestAuth {
  authenticator: RequestAuthenticator;
  authorizer: Authorizer;
}

/** The user a request acts as, once it is authenticated and allowed; throws 401/403 StatusErrors. */
export async function admitRequest(
  req: IncomingMessage,
  info: RequestInfo,
  path: string,
  auth: RequestAuth,
  extraVerbs: string[] = [],
  /** Filled as the request goes through, for its audit event. */
  record: AdmissionRecord = {},
): Promise<UserInfo> {
  record.attributes = requestAttributes({ name: '', groups: [] }, info, path);
  const result = await auth.authenticator.authenticate(req);
  if ('error' in result) {
    log.info('unable to authenticate the request', { path, error: result.error });
    throw errors.unauthorized();
  }
  record.authenticated = result.user;
  const user = impersonatedUser(req, result.user, auth.authorizer);
  if (user !== result.user) record.impersonated = user;
  const attrs = requestAttributes(user, info, path);
  record.attributes = attrs;
  authorizeOrThrow(auth.authorizer, attrs, record);
  // An exec/attach/portforward upgrade arrives as a GET but must also be allowed to create (upstream, 1.31+).
  for (const verb of extraVerbs) authorizeOrThrow(auth.authorizer, { ...attrs, verb }, record);
  return user;
}

export function authorizeOrThrow(authorizer: Authorizer, attrs: Attributes, record?: AdmissionRecord): void {
  const r = authorizer.authorize(attrs);
  if (record) {
    record.decision = r.decision === 'allow' ? 'allow' : 'forbid';
    record.reason = r.reason;
  }
  if (r.decision === 'allow') return;
  const why = forbiddenReason(attrs, r.reason);
  if (!attrs.resourceRequest) throw errors.forbiddenPath(why);
  throw errors.forbidden({ group: attrs.apiGroup ?? '', resource: attrs.resource ?? '' }, attrs.name ?? '', why);
}
