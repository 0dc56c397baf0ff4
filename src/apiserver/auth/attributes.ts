// A request's authorization attributes, as upstream's
// WithAuthorization filter builds them from the RequestInfo: resource
// requests name group, resource, subresource, namespace and name; other paths
// are checked by path. A namespace's own requests (/api/v1/namespaces/x) are
// in namespace x, so a RoleBinding there can grant `get` on it.
import type { Attributes } from '../../auth/attributes.js';
import type { UserInfo } from '../../auth/user.js';
import type { RequestInfo } from '../request-info.js';

export function requestAttributes(user: UserInfo, info: RequestInfo, path: string): Attributes {
  if (!info.isResourceRequest) return { user, verb: info.verb, resourceRequest: false, path };
  let namespace = info.namespace;
  if (info.resource === 'namespaces' && info.name) namespace = info.name;
  return {
    user,
    verb: info.verb,
    resourceRequest: true,
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource,
    subresource: info.subresource,
    namespace,
    name: info.name,
  };
}
