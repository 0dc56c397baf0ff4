// RFC 7386 JSON merge patch (application/merge-patch+json) as kube-apiserver applies it
// (evanphx/json-patch MergePatch): null deletes a key, objects merge recursively, anything else,
// arrays included, replaces. Values that land where there was nothing to merge into have their
// nulls pruned, including inside objects nested in arrays, as that library does.
import { isPlainObject } from '../../api/object.js';
import { errors } from '../../api/status.js';

type JsonObject = Record<string, unknown>;

/** Applies a merge patch; never mutates its inputs. A body that is not a JSON object is a 400. */
export function applyMergePatch(original: unknown, patch: unknown): unknown {
  // A Kubernetes object cannot be replaced by a scalar or an array; the library calls that a bad patch.
  if (!isPlainObject(patch)) throw errors.badRequest('Invalid JSON Patch');
  if (!isPlainObject(original)) return pruneNulls(patch);
  return mergeInto(structuredClone(original), patch);
}

/** Merges patch into result (a private copy, so it may be changed in place). */
function mergeInto(result: JsonObject, patch: JsonObject): JsonObject {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = Object.hasOwn(result, key) ? result[key] : undefined;
    if (isPlainObject(current) && isPlainObject(value)) {
      setField(result, key, mergeInto(current, value));
    } else if (isPlainObject(current)) {
      // An object overwritten by a non-object takes the patch value as it is, nulls and all.
      setField(result, key, structuredClone(value));
    } else {
      setField(result, key, pruneNulls(value));
    }
  }
  return result;
}

/** A copy with null-valued object keys removed at every depth; null array elements stay. */
function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === null ? null : pruneNulls(v)));
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null) setField(out, k, pruneNulls(v));
  }
  return out;
}

/**
 * Sets an own property. Plain assignment would turn a key named "__proto__" (a valid ConfigMap data
 * key) into a prototype change.
 */
function setField(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}
