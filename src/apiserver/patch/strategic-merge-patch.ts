// Kubernetes strategic merge patch (application/strategic-merge-patch+json), the server half of
// k8s.io/apimachinery/pkg/util/strategicpatch (StrategicMergeMapPatch) for the kinds kubesvc serves.
//
// It is a JSON merge patch in which some lists are merged rather than replaced: lists of objects by a
// merge key, lists of scalars as sets. Which lists merge comes from the Go struct tags of the API types
// (patchStrategy / patchMergeKey), as the served OpenAPI schemas carry them (see patch-meta.ts). The
// patch may also carry directives:
//   $patch: replace | delete          in a map (replace it wholesale / empty it)
//   $patch: replace | delete          as a list element (replace the list / delete the keyed element)
//   $deleteFromPrimitiveList/<field>  scalars to remove from a merged scalar list
//   $setElementOrder/<field>          the order the merged list must end up in
//   $retainKeys                       the only keys the map may keep
//
// The element order of merged lists follows upstream exactly, including one effect of Go slice
// aliasing (see liveView), so `kubectl apply` and `kubectl patch` leave lists as a real cluster does.
// Values taken from the patch are cleaned the way decoding into the typed Go object would clean them:
// null fields and leftover directive keys are dropped.
import { deepEqual, isPlainObject } from '../../api/object.js';
import { errors, StatusError } from '../../api/status.js';
import { goJsonKind, rejectedPatch } from './json-patch.js';
import { fieldPatchMeta, patchSchemaOf, type FieldPatchMeta } from './patch-meta.js';

type JsonObject = Record<string, unknown>;

export { mergeKeysOf, supportsStrategicMergePatch, type FieldPatchMeta } from './patch-meta.js';

// --- errors, worded and coded as kube-apiserver returns them ---------------------------------------

const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';
const RETAIN_KEYS = '$retainKeys';
const DIRECTIVE = '$patch';

/** The mergepatch errors the patch handler maps to 400 (interpretStrategicMergePatchError). */
const BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const BAD_SET_ELEMENT_ORDER = 'invalid patch format of setElementOrder list';

/**
 * Any other strategicpatch error carries its text to the client. Upstream
 * answers these with a bare 500; they are the patch's fault, not the
 * server's, so here they are a 400 BadRequest with the same text.
 */
function patchFailure(message: string): StatusError {
  return errors.badRequest(message);
}

/** Go's %v of a decoded JSON value: map[k:v ...] with sorted keys, [a b], <nil>. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goFormat(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** The Go type a JSON value decodes to (ints stay int64 in the apiserver's decoding). */
function goType(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  if (isPlainObject(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

function badArgType(expected: string, actual: unknown): StatusError {
  return patchFailure(`expected a ${expected}, but received a ${goType(actual)}`);
}

function noMergeKey(item: JsonObject, mergeKey: string): StatusError {
  return patchFailure(`map: ${goFormat(item)} does not contain declared merge key: ${mergeKey}`);
}

// --- entry point ------------------------------------------------------------------------------------

/**
 * Applies a strategic merge patch to an object of the given kind; never mutates its inputs.
 * Throws a StatusError as kube-apiserver would: 415 for kinds without a schema (as for custom
 * resources), 400 for malformed directives, 422 for lists of lists, 500 for other bad patches such
 * as a list element without its merge key.
 */
export function applyStrategicMergePatch(original: unknown, patch: unknown, kind: string): unknown {
  const struct = patchSchemaOf(kind);
  if (!struct) {
    throw errors.unsupportedMediaType(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  }
  // The body is decoded into a Go map: null decodes to an empty one, anything else but an object fails.
  if (patch === null) return structuredClone(original);
  if (!isPlainObject(patch)) throw errors.badRequest(`json: cannot unmarshal ${goJsonKind(patch)} into Go value of type map[string]interface {}`);
  // Both sides are private copies from here on, so the merge may work in place like upstream's.
  const base = isPlainObject(original) ? structuredClone(original) : {};
  return mergeMap(base, structuredClone(patch), struct);
}

// --- maps ---------------------------------------------------------------------------------------------

/**
 * Merges patch into original (both private copies, changed in place) and returns the result.
 * `struct` is the schema name of original's type, where it is a typed struct.
 */
function mergeMap(original: JsonObject, patch: JsonObject, struct: string | undefined): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) return mapDirective(patch);
  applyRetainKeys(original, patch);
  applyElementOrders(original, patch, struct);

  for (const [patchKey, patchValue] of deletionListsFirst(Object.entries(patch))) {
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = directiveField(patchKey, DELETE_FROM_PRIMITIVE_LIST, BAD_PRIMITIVE_LIST);
      isDeleteList = true;
    } else if (patchKey.startsWith('$')) {
      continue; // an unknown directive: decoding into the typed object would drop it
    }
    // null deletes (a null deletion list deletes the whole field, as upstream).
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const current = original[key];
    if (!Object.hasOwn(original, key) || shapeOf(current) !== shapeOf(patchValue)) {
      // Nothing to merge into: take the patch value, unless it is a deletion list with nothing to delete from.
      if (!isDeleteList) setFromPatch(original, key, patchValue);
      continue;
    }
    const meta = fieldPatchMeta(struct, key);
    if (isPlainObject(current)) {
      setField(original, key, meta?.strategy === 'replace' ? asReplacement(patchValue) : mergeMap(current, patchValue as JsonObject, meta?.struct));
    } else if (Array.isArray(current)) {
      setField(original, key, mergeListField(current, patchValue as unknown[], meta, key, isDeleteList).merged);
    } else {
      setField(original, key, patchValue);
    }
  }
  return original;
}

/**
 * Upstream walks the patch in Go's random map order, so a scalar both deleted and added may or may
 * not survive. Deleting first makes it deterministic, lets the addition win, and is the order the
 * sorted keys of kubectl's patches give anyway.
 */
function deletionListsFirst(entries: [string, unknown][]): [string, unknown][] {
  const isDeletion = ([k]: [string, unknown]) => k.startsWith(DELETE_FROM_PRIMITIVE_LIST);
  return [...entries.filter(isDeletion), ...entries.filter((e) => !isDeletion(e))];
}

/**
 * Sets an own property. Plain assignment would turn a key named "__proto__" (a valid ConfigMap data
 * key) into a prototype change.
 */
function setField(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function shapeOf(v: unknown): 'map' | 'list' | 'scalar' {
  return isPlainObject(v) ? 'map' : Array.isArray(v) ? 'list' : 'scalar';
}

/** `$patch` in a map: replace keeps only the patch's own content, delete empties the map. */
function mapDirective(patch: JsonObject): JsonObject {
  const directive = patch[DIRECTIVE];
  if (directive === 'replace') {
    delete patch[DIRECTIVE];
    return asReplacement(patch) as JsonObject;
  }
  if (directive === 'delete') return {};
  // Upstream has no map-level "merge": merging is what happens without a directive.
  throw patchFailure(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
}

/** `$deleteFromPrimitiveList/x` → x; the prefix must be followed by "/". */
function directiveField(patchKey: string, prefix: string, badFormat: string): string {
  const slash = patchKey.indexOf('/');
  if (slash < 0 || patchKey.slice(0, slash) !== prefix) throw errors.badRequest(badFormat);
  return patchKey.slice(slash + 1);
}

/** `$retainKeys`: drop every original key not listed; the patch itself may only set listed keys. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw errors.badRequest(BAD_RETAIN_KEYS);
  const keep = new Set(retain);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(key)) throw errors.badRequest(BAD_RETAIN_KEYS);
  }
  for (const key of Object.keys(original)) {
    if (!keep.has(key)) delete original[key];
  }
}

// --- cleaning values taken from the patch -----------------------------------------------------------

/**
 * A value stored where the original had nothing to merge with (removeDirectives after
 * discardNullValuesFromPatch): null fields go, and so does any map carrying a `$patch` directive.
 * Returns undefined when the value itself is dropped.
 */
function fromPatch(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromPatch).filter((v) => v !== undefined);
  if (!isPlainObject(value)) return value;
  if (value[DIRECTIVE] !== undefined && value[DIRECTIVE] !== null) return undefined;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || k.startsWith('$')) continue;
    const cleaned = fromPatch(v);
    if (cleaned !== undefined) setField(out, k, cleaned);
  }
  return out;
}

function setFromPatch(target: JsonObject, key: string, value: unknown): void {
  const cleaned = fromPatch(value);
  if (cleaned === undefined) delete target[key];
  else setField(target, key, cleaned);
}

/**
 * A patch value used as it is (replaced lists, `$patch: replace`, new list elements). Upstream keeps
 * it raw and the typed decode then drops null fields and unknown `$...` keys; so do we.
 */
function asReplacement(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asReplacement);
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && !k.startsWith('$')) setField(out, k, asReplacement(v));
  }
  return out;
}

// --- lists ----------------------------------------------------------------------------------------------

interface ListMerge {
  /** The merged list, in its final order. */
  merged: unknown[];
  /**
   * What upstream's `original` slice shows after the merge. Elements are deleted from it in place, so
   * its tail ends up holding stale elements and then the first appended new ones; $setElementOrder
   * later ranks elements by their position here. See liveView.
   */
  view: unknown[];
}

/** mergeSliceHandler: merge-strategy lists (and deletion lists) merge, any other list is replaced. */
function mergeListField(original: unknown[], patch: unknown[], meta: FieldPatchMeta | undefined, field: string, isDeleteList: boolean): ListMerge {
  if (meta?.strategy === 'merge' || isDeleteList) return mergeList(original, patch, meta, field, isDeleteList);
  return { merged: asReplacement(patch) as unknown[], view: original };
}

type ElementKind = 'map' | 'scalar';

/** sliceElementType: all elements of all lists must have one Go type, and not be lists. */
function elementKind(...lists: unknown[][]): ElementKind | undefined {
  let first: string | undefined;
  for (const list of lists) {
    for (const item of list) {
      const type = goType(item);
      if (first === undefined) {
        if (Array.isArray(item)) throw rejectedPatch('lists of lists are not supported');
        first = type;
      } else if (type !== first) {
        throw patchFailure(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  if (first === undefined) return undefined;
  if (first === '<nil>') throw patchFailure(`list element types are not identical: ${goFormat(lists)}`);
  return first === 'map[string]interface {}' ? 'map' : 'scalar';
}

/** mergeSlice: merges two lists of one field, then orders the result as upstream does. */
function mergeList(original: unknown[], patch: unknown[], meta: FieldPatchMeta | undefined, field: string, isDeleteList: boolean): ListMerge {
  if (original.length === 0 && patch.length === 0) return { merged: original, view: original };
  const kind = elementKind(original, patch)!;
  const mergeKey = meta?.mergeKey ?? '';

  if (kind === 'scalar') {
    if (isDeleteList) {
      const doomed = new Set(patch);
      return { merged: original.filter((v) => !doomed.has(v)), view: original };
    }
    const merged = dedupeScalars([...original, ...patch]);
    // A keyed list given scalars on both sides fails where upstream partitions by merge key.
    if (mergeKey) throw badArgType('map[string]interface {}', merged[0]);
    const [fromPatchItems, serverOnly] = partitionScalars(merged, patch);
    return { merged: orderElements(fromPatchItems, serverOnly, patch, original, '', kind), view: original };
  }

  if (!mergeKey) throw patchFailure(`cannot merge lists without merge key for ${field}`);
  const slice = liveView(original);
  const special = applySpecialElements(slice, patch as JsonObject[], mergeKey);
  const merged = mergePlainElements(slice, special.live, special.plain, mergeKey, meta?.struct);
  const [fromPatchItems, serverOnly] = partitionMaps(merged, special.plain, mergeKey);
  // Ranked against the list as it was after deletions (upstream's shortened `original`).
  return { merged: orderElements(fromPatchItems, serverOnly, special.plain, special.live, mergeKey, kind), view: slice.view() };
}

/**
 * Upstream edits the original Go slice in place: deleting shifts the tail left inside the same
 * backing array, and the first appended elements then land in the slots that frees. Code holding the
 * original slice (the $setElementOrder pass) still sees all of its old length, so it sees those new
 * elements at the end. The effect is visible (a new element is ranked after the server-only ones), so
 * it is emulated here.
 */
function liveView(original: unknown[]) {
  const backing = original.slice();
  let length = backing.length;
  return {
    deleteAt(index: number): void {
      backing.copyWithin(index, index + 1, length);
      length--;
    },
    append(item: unknown): void {
      if (length < backing.length) backing[length] = item;
      length++;
    },
    view: (): unknown[] => backing,
  };
}

type LiveView = ReturnType<typeof liveView>;

/** Handles list elements carrying `$patch`: deletions by merge key, or a whole-list replace. */
function applySpecialElements(slice: LiveView, patch: JsonObject[], mergeKey: string): { live: unknown[]; plain: JsonObject[] } {
  let current = slice.view().slice();
  const plain: JsonObject[] = [];
  let replace = false;
  for (const item of patch) {
    if (!Object.hasOwn(item, DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === 'delete') {
      if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      // Every element with that key goes, each removal shifting the slice in place.
      for (let i = findByKey(current, mergeKey, item[mergeKey]); i >= 0; i = findByKey(current, mergeKey, item[mergeKey])) {
        current.splice(i, 1);
        slice.deleteAt(i);
      }
    } else if (directive === 'replace') {
      replace = true; // keep scanning: later $patch elements are still pruned
    } else if (directive === 'merge') {
      throw patchFailure('merging lists cannot yet be specified in the patch');
    } else {
      throw patchFailure(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(item)}`);
    }
  }
  if (replace) {
    // The list becomes the patch's plain elements, in order, with nothing left to merge.
    current = plain.map(asReplacement);
    return { live: current, plain: [] };
  }
  return { live: current, plain };
}

/** mergeSliceWithoutSpecialElements: patch elements merge into same-key elements or are appended. */
function mergePlainElements(
  slice: LiveView,
  live: unknown[],
  plain: JsonObject[],
  mergeKey: string,
  struct: string | undefined,
): unknown[] {
  const merged = live.slice();
  for (const item of plain) {
    if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const index = findByKey(merged, mergeKey, item[mergeKey]);
    if (index >= 0) {
      merged[index] = mergeMap(merged[index] as JsonObject, item, struct);
    } else {
      const added = asReplacement(item);
      merged.push(added);
      slice.append(added);
    }
  }
  return merged;
}

/** findMapInSliceBasedOnKeyValue: the first element whose merge key equals value, or -1. */
function findByKey(list: unknown[], mergeKey: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isPlainObject(item)) throw patchFailure(`value for key ${i} is not a map`);
    if (Object.hasOwn(item, mergeKey) && sameValue(item[mergeKey], value)) return i;
  }
  return -1;
}

/** Go's == on decoded JSON values (nil for missing); structured values compare deeply. */
function sameValue(a: unknown, b: unknown): boolean {
  const x = a === undefined ? null : a;
  const y = b === undefined ? null : b;
  return x === y || (typeof x === 'object' && typeof y === 'object' && deepEqual(x, y));
}

/** Upstream's in-place deduplication (it moves the last element into each duplicate's slot). */
function dedupeScalars(list: unknown[]): unknown[] {
  const s = list.slice();
  let last = s.length - 1;
  for (let i = 0; i < last; i++) {
    for (let j = i + 1; j <= last; j++) {
      if (s[i] === s[j]) {
        s[j] = s[last];
        s.length = last;
        last--;
        j--;
      }
    }
  }
  return s;
}

function partitionScalars(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inBy = new Set(by);
  return [list.filter((v) => inBy.has(v)), list.filter((v) => !inBy.has(v))];
}

function partitionMaps(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inBy: unknown[] = [];
  const rest: unknown[] = [];
  for (const item of list) {
    if (!isPlainObject(item)) throw badArgType('map[string]interface {}', item);
    if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    (findByKey(by, mergeKey, item[mergeKey]) >= 0 ? inBy : rest).push(item);
  }
  return [inBy, rest];
}

// --- ordering ---------------------------------------------------------------------------------------

/**
 * normalizeElementOrder: patch elements sorted by the patch's order, server-only elements by the
 * server's, then interleaved: a server element goes first only when the server list ranks it before
 * the next patch element. A new element the server list does not know goes before the remaining
 * server elements, so `kubectl patch` adding an element puts it first.
 */
function orderElements(fromPatchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  const right = sortByOrder(fromPatchItems, patchOrder, mergeKey, kind);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const li = indexIn(serverOrder, left[i], mergeKey, kind);
    const ri = indexIn(serverOrder, right[j], mergeKey, kind);
    if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
    else out.push(right[j++]);
  }
  return out.concat(left.slice(i), right.slice(j));
}

/** The position of an element in an order list, by merge key for maps, by value for scalars. */
function indexIn(order: unknown[], item: unknown, mergeKey: string, kind: ElementKind): number {
  const keyOf = (v: unknown) => (kind === 'map' ? (isPlainObject(v) ? v[mergeKey] : undefined) : v);
  const wanted = keyOf(item);
  return order.findIndex((v) => sameValue(keyOf(v), wanted));
}

/**
 * normalizeSliceOrder: a stable sort by position in `order` with upstream's comparator (an element
 * missing from `order` compares as "less"), as an insertion sort, which is what Go's SliceStable does
 * for the short lists involved. Elements marked `$patch: delete` go last.
 */
function sortByOrder(items: unknown[], order: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  let toSort = items.slice();
  let deleted: unknown[] = [];
  if (kind === 'map') {
    for (const item of [...toSort, ...order]) {
      if (!isPlainObject(item)) throw badArgType('map[string]interface {}', item);
      if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    }
    deleted = toSort.filter((v) => (v as JsonObject)[DIRECTIVE] === 'delete');
    toSort = toSort.filter((v) => (v as JsonObject)[DIRECTIVE] !== 'delete');
  }
  const less = (a: unknown, b: unknown) => {
    const ia = indexIn(order, a, mergeKey, kind);
    const ib = indexIn(order, b, mergeKey, kind);
    return ia >= 0 && ib >= 0 ? ia < ib : true;
  };
  for (let i = 1; i < toSort.length; i++) {
    for (let j = i; j > 0 && less(toSort[j], toSort[j - 1]); j--) {
      [toSort[j], toSort[j - 1]] = [toSort[j - 1], toSort[j]];
    }
  }
  return toSort.concat(deleted);
}

// --- $setElementOrder ---------------------------------------------------------------------------

/**
 * mergePatchIntoOriginal: each `$setElementOrder/x` merges the list x (if patched) and then orders
 * it: elements named in the directive in its order, elements only the server has placed around them
 * by their server position. The list is then done and taken out of the patch.
 */
function applyElementOrders(original: JsonObject, patch: JsonObject, struct: string | undefined): void {
  for (const patchKey of Object.keys(patch)) {
    if (!patchKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[patchKey];
    delete patch[patchKey];
    if (!Array.isArray(order)) throw badArgType('[]interface {}', order);
    const key = directiveField(patchKey, SET_ELEMENT_ORDER, BAD_SET_ELEMENT_ORDER);
    const hasOriginal = Object.hasOwn(original, key);
    const hasPatch = Object.hasOwn(patch, key);
    const originalList = hasOriginal ? original[key] : [];
    const patchList = hasPatch ? patch[key] : [];
    if (!Array.isArray(originalList)) throw badArgType('[]interface {}', originalList);
    if (!Array.isArray(patchList)) throw badArgType('[]interface {}', patchList);
    const meta = fieldPatchMeta(struct, key);
    const mergeKey = meta?.mergeKey ?? '';
    validateAgainstOrder(patchList, order, mergeKey);

    let result: ListMerge;
    if (hasOriginal && hasPatch) result = mergeListField(originalList, patchList, meta, key, false);
    else if (hasPatch) result = { merged: fromPatch(patchList) as unknown[], view: [] };
    else if (hasOriginal) result = { merged: originalList, view: originalList };
    else continue;

    const kind = elementKind(originalList, patchList);
    // Upstream errors out on an order for a list with no elements anywhere; leaving it empty is kinder.
    // Lists of objects without a merge key cannot be ranked (upstream would crash): left as merged.
    if (kind === undefined || (kind === 'map' && !mergeKey)) {
      setField(original, key, result.merged);
    } else {
      const [named, serverOnly] = kind === 'map' ? partitionMaps(result.merged, order, mergeKey) : partitionScalars(result.merged, order);
      setField(original, key, orderElements(named, serverOnly, order, result.view, mergeKey, kind));
    }
    delete patch[key];
  }
}

/** validatePatchWithSetOrderList: the patch list's elements must appear in the directive, in its order. */
function validateAgainstOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  let items = patchList;
  if (mergeKey) {
    for (const item of patchList) if (!isPlainObject(item)) throw badArgType('map[string]interface {}', item);
    items = patchList.filter((v) => (v as JsonObject)[DIRECTIVE] !== 'delete');
  }
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    if (isPlainObject(items[p]) && Object.hasOwn(items[p] as JsonObject, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyEqual(items[p], order[o], mergeKey)) p++;
    o++;
  }
  if (p < items.length) {
    throw patchFailure(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}\n`);
  }
}

function mergeKeyEqual(a: unknown, b: unknown, mergeKey: string): boolean {
  if (!mergeKey) return sameValue(a, b);
  if (!isPlainObject(a)) throw badArgType('map[string]interface {}', a);
  if (!isPlainObject(b)) throw badArgType('map[string]interface {}', b);
  if (!Object.hasOwn(a, mergeKey)) throw noMergeKey(a, mergeKey);
  if (!Object.hasOwn(b, mergeKey)) throw noMergeKey(b, mergeKey);
  return sameValue(a[mergeKey], b[mergeKey]);
}
