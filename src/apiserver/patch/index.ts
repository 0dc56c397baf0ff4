// PATCH bodies by Content-Type: the three patch formats kube-apiserver applies to a stored object.
// Server-side apply (application/apply-patch+yaml) is not a patch format here: it has its own path.
import { errors } from '../../api/status.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';

export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json-patch.js';
export { applyMergePatch } from './merge-patch.js';
export { applyStrategicMergePatch, mergeKeysOf, supportsStrategicMergePatch } from './strategic-merge-patch.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** The patch media types kube-apiserver accepts for built-in kinds, in its order. */
export const PATCH_MEDIA_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH] as const;

/**
 * Applies a decoded PATCH body to the stored object according to the request's Content-Type
 * (parameters such as charset are ignored). Never mutates its inputs; failures are StatusErrors
 * worded as kube-apiserver words them, and an unknown Content-Type is a 415.
 */
export function applyPatch(contentType: string, original: unknown, patchBody: unknown, kind: string): unknown {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  switch (mediaType) {
    case JSON_PATCH:
      return applyJsonPatch(original, patchBody);
    case MERGE_PATCH:
      return applyMergePatch(original, patchBody);
    case STRATEGIC_MERGE_PATCH:
      return applyStrategicMergePatch(original, patchBody, kind);
    case APPLY_PATCH:
      // A caller bug rather than a client error: server-side apply needs field managers, not a merge.
      throw new Error(`${APPLY_PATCH} is server-side apply, which applyPatch does not handle`);
    default:
      throw errors.unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_MEDIA_TYPES.join(', ')}`,
      );
  }
}
