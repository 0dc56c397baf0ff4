// Upstream's wording for a denied request (responsewriters.Forbidden):
//   pods is forbidden: User "u" cannot list resource "pods" in API group "" in the namespace "default"
//   nodes "n1" is forbidden: User "u" cannot get resource "nodes" in API group "" at the cluster scope
//   forbidden: User "system:anonymous" cannot get path "/api"
// with the authorizer's reason after a colon when it gave one.
import type { Attributes } from '../attributes.js';

export function forbiddenReason(attrs: Attributes, reason: string): string {
  const who = `User "${attrs.user.name}"`;
  let text: string;
  if (!attrs.resourceRequest) {
    text = `${who} cannot ${attrs.verb} path "${attrs.path ?? ''}"`;
  } else {
    const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
    text = `${who} cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup ?? ''}" ${scope}`;
  }
  return reason ? `${text}: ${reason}` : text;
}
