// Splits an API path into what is being asked, as upstream's
// RequestInfoFactory does: /api/v1/namespaces/{ns}/{resource}/{name}/{sub}.
import { errors } from '../api/status.js';
import { queryBool } from './query-params.js';

export interface RequestInfo {
  /** false for /version, /healthz, discovery roots and OpenAPI. */
  isResourceRequest: boolean;
  /** The path below the API prefix, e.g. ["api"] or ["apis", "apps"] for discovery. */
  parts: string[];
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
  verb: string;
}

const namespaceSubresources = new Set(['status', 'finalize']);

/** A path segment unescaped; a broken escape is the client's error (400), as Go's URL parser says. */
function unescapeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw errors.badRequest(`invalid URL escape ${JSON.stringify(/%(?![0-9a-fA-F]{2})..?|%[0-9a-fA-F]{2}/.exec(segment)?.[0] ?? segment)}`);
  }
}

export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const parts = pathname.split('/').filter(Boolean).map(unescapeSegment);
  const info: RequestInfo = { isResourceRequest: false, parts, group: '', version: '', verb: method.toLowerCase() };
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    info.version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    info.group = parts[1];
    info.version = parts[2];
    rest = parts.slice(3);
  } else {
    return info;
  }
  if (rest.length === 0) return info;
  info.isResourceRequest = true;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    info.namespace = rest[1];
    if (rest.length > 2 && !namespaceSubresources.has(rest[2])) rest = rest.slice(2);
  }
  info.resource = rest[0];
  if (rest.length > 1) info.name = rest[1];
  if (rest.length > 2) info.subresource = rest[2];
  if (rest.length > 3) info.subresource += '/' + rest.slice(3).join('/');
  if (info.resource === 'namespaces') delete info.namespace;

  switch (method) {
    case 'GET':
    case 'HEAD':
      // Only a collection can be watched: on a named path `watch` is not
      // looked at and the request stays a get, as upstream's RequestInfo says.
      info.verb = info.name ? 'get' : queryBool(query, 'watch') ? 'watch' : 'list';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
  }
  return info;
}
