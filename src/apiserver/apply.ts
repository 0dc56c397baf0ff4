// Field management for the handlers' writes: who the manager of a request is
// (the fieldManager parameter, else the User-Agent up to its first "/", as
// kube-apiserver's managerOrUserAgent), and what a write of a resource is to
// the field manager (fieldmanager/field-manager.ts), which records updates and
// performs server-side apply with its conflicts.
import type { IncomingMessage } from 'node:http';
import { isCustomResourceDef } from '../apiextensions/custom-resource.js';
import { apiVersionOf, type ResourceDef } from '../registry/resource.js';
import type { FieldManagerScope } from './fieldmanager/field-manager.js';

export { applyConfiguration, recordUpdate } from './fieldmanager/field-manager.js';

/** FieldManagerMaxLength: manager names are cut to 128 bytes. */
const FIELD_MANAGER_MAX_LENGTH = 128;

/** prefixFromUserAgent: what precedes the first "/", printable characters only, at most 128 bytes. */
function prefixFromUserAgent(userAgent: string): string {
  let out = '';
  for (const ch of userAgent.split('/')[0]) {
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) continue;
    if (Buffer.byteLength(out + ch) > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
  }
  return out;
}

/** The manager of a write: the fieldManager query parameter, else the User-Agent's prefix. */
export function managerOf(req: IncomingMessage, q: URLSearchParams): string {
  return q.get('fieldManager') || prefixFromUserAgent(req.headers['user-agent'] ?? '');
}

/** A write of `def` (on `subresource`, '' for the object itself) as the field manager sees it. */
export function fieldManagerScope(def: ResourceDef, subresource: string): FieldManagerScope {
  const type = isCustomResourceDef(def) ? def.fieldManagerType() : undefined;
  return { kind: def.kind, apiVersion: apiVersionOf(def), subresource, hasStatus: def.subresources.some((s) => s.name === 'status'), type };
}
