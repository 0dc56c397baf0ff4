// RFC 6902 JSON patch (application/json-patch+json) as kube-apiserver applies it.
//
// kube-apiserver uses evanphx/json-patch v4, whose path handling is laxer than the RFC in ways clients
// can observe: negative array indices count from the end, `replace` of a missing object key adds it,
// `copy` from a missing key copies null, an op without `value` uses null. This module resolves every
// path the way that library does (so its error texts can be reproduced word for word) and hands the
// resolved, RFC-clean operation to fast-json-patch to perform.
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { isPlainObject } from '../../api/object.js';
import { errors, StatusError } from '../../api/status.js';

/** kube-apiserver's maxJSONPatchOperations: longer patches get 413. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

type JsonObject = Record<string, unknown>;
type Container = JsonObject | unknown[];

/**
 * The 422 kube-apiserver returns when a patch cannot be applied (errors.NewGenericServerResponse):
 * a fixed message with the library's error text as the only cause.
 */
export function rejectedPatch(cause: string): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server rejected our request due to an error in our request',
    reason: 'Invalid',
    details: { causes: [{ reason: 'UnexpectedServerResponse', message: cause }] },
    code: 422,
  });
}

/** The JSON kind word Go's encoding/json uses in "cannot unmarshal X into Go value of type Y". */
export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Applies a JSON patch; never mutates its inputs. Throws a StatusError (400, 413 or 422) as kube-apiserver would. */
export function applyJsonPatch(original: unknown, ops: unknown): unknown {
  const operations = decodeOperations(ops);
  let doc: unknown = isPlainObject(original) || Array.isArray(original) ? structuredClone(original) : {};
  for (const op of operations) {
    const failure = applyOperation(doc, op);
    if (typeof failure === 'string') throw rejectedPatch(failure);
    doc = failure.doc;
  }
  return doc;
}

/** jsonpatch.DecodePatch plus the operation limit: malformed bodies are 400, too many operations 413. */
function decodeOperations(ops: unknown): JsonObject[] {
  // Go decodes a JSON null into an empty patch.
  if (ops === null || ops === undefined) return [];
  if (!Array.isArray(ops)) throw errors.badRequest(`json: cannot unmarshal ${goJsonKind(ops)} into Go value of type jsonpatch.Patch`);
  const decoded = ops.map((op): JsonObject => {
    if (op === null) return {};
    if (!isPlainObject(op)) throw errors.badRequest(`json: cannot unmarshal ${goJsonKind(op)} into Go value of type jsonpatch.Operation`);
    return op;
  });
  if (decoded.length > MAX_JSON_PATCH_OPERATIONS) {
    throw errors.tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${decoded.length}`);
  }
  return decoded;
}

/** Either the new document or the library's error text. */
type OpResult = { doc: unknown } | string;

function applyOperation(doc: unknown, op: JsonObject): OpResult {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  switch (kind) {
    case 'add':
      return addOp(doc, op);
    case 'remove':
      return removeOp(doc, op);
    case 'replace':
      return replaceOp(doc, op);
    case 'move':
      return moveOp(doc, op);
    case 'copy':
      return copyOp(doc, op);
    case 'test':
      return testOp(doc, op);
    default:
      return `Unexpected kind: ${kind}`;
  }
}

// --- operation fields -----------------------------------------------------------------------------

/** A string field, or the text of Go's error for a missing or mistyped one. */
function stringField(op: JsonObject, field: 'path' | 'from'): { value: string } | { error: string } {
  const v = op[field];
  if (v === undefined || v === null) {
    return { error: field === 'path' ? 'operation missing path field: missing value' : 'operation, missing from field: missing value' };
  }
  if (typeof v !== 'string') return { error: `json: cannot unmarshal ${goJsonKind(v)} into Go value of type string` };
  return { value: v };
}

/** The op's value, deep-copied so the document never aliases the request; absent means null. */
function opValue(op: JsonObject): unknown {
  return op.value === undefined ? null : structuredClone(op.value);
}

// --- path resolution (evanphx findObject and its containers) ---------------------------------------

interface Location {
  container: Container;
  /** Resolved pointer tokens of the container (negative indices already made absolute). */
  parentTokens: string[];
  /** The last path token, unescaped. */
  key: string;
}

function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointer(tokens: string[]): string {
  return tokens.map((t) => '/' + jsonpatch.escapePathComponent(t)).join('');
}

/**
 * The container a path points into. Like evanphx, the first token is never looked at (so "a/b" means
 * "/b"), and a path with no "/" at all points nowhere.
 */
function findContainer(doc: unknown, path: string): Location | undefined {
  const split = path.split('/');
  if (split.length < 2 || !isContainer(doc)) return undefined;
  let node: Container = doc;
  const parentTokens: string[] = [];
  for (const part of split.slice(1, -1)) {
    const step = getChild(node, unescapeToken(part));
    if (typeof step === 'string' || !isContainer(step.value)) return undefined;
    parentTokens.push(step.token);
    node = step.value;
  }
  return { container: node, parentTokens, key: unescapeToken(split[split.length - 1]) };
}

function isContainer(v: unknown): v is Container {
  return isPlainObject(v) || Array.isArray(v);
}

/** strconv.Atoi as Go spells its failure. */
function atoi(key: string): number | string {
  if (!/^[+-]?\d+$/.test(key)) return `strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`;
  return Number(key);
}

function invalidIndex(idx: number): string {
  return `Unable to access invalid index: ${idx}: invalid index referenced`;
}

/** Container get: a missing object key is not an error (it reads as nil), a bad array index is. */
function getChild(c: Container, key: string): { value: unknown; token: string } | string {
  if (!Array.isArray(c)) return { value: Object.hasOwn(c, key) ? c[key] : undefined, token: key };
  const idx = arrayIndex(c.length, key);
  return typeof idx === 'string' ? idx : { value: c[idx], token: String(idx) };
}

/** An existing element's index; negative indices count from the end. */
function arrayIndex(length: number, key: string): number | string {
  const idx = atoi(key);
  if (typeof idx === 'string') return idx;
  if (idx < -length || idx >= length) return invalidIndex(idx);
  return idx < 0 ? idx + length : idx;
}

/** Where an add inserts: "-" appends, otherwise 0..length, negatives counting from length+1. */
function insertToken(c: Container, key: string): string | { error: string } {
  if (!Array.isArray(c) || key === '-') return key;
  const idx = atoi(key);
  if (typeof idx === 'string') return { error: `value was not a proper array index: '${key}': ${idx}` };
  const size = c.length + 1;
  if (idx >= size || idx < -size) return { error: invalidIndex(idx) };
  return String(idx < 0 ? idx + size : idx);
}

// --- mutations (performed by fast-json-patch on already-resolved pointers) --------------------------

function perform(doc: unknown, operation: Operation): unknown {
  return jsonpatch.applyOperation(doc, operation, false, true).newDocument;
}

/** Adds at a location; returns the new document or the container's error text. */
function addAt(doc: unknown, loc: Location, value: unknown): { doc: unknown } | { error: string } {
  const token = insertToken(loc.container, loc.key);
  if (typeof token !== 'string') return token;
  return { doc: perform(doc, { op: 'add', path: pointer([...loc.parentTokens, token]), value }) };
}

/** Removes at a location; returns the new document or the container's error text. */
function removeAt(doc: unknown, loc: Location): { doc: unknown } | { error: string } {
  let token = loc.key;
  if (Array.isArray(loc.container)) {
    const idx = arrayIndex(loc.container.length, loc.key);
    if (typeof idx === 'string') return { error: idx };
    token = String(idx);
  } else if (!Object.hasOwn(loc.container, loc.key)) {
    return { error: `Unable to remove nonexistent key: ${loc.key}: missing value` };
  }
  return { doc: perform(doc, { op: 'remove', path: pointer([...loc.parentTokens, token]) }) };
}

// --- the six operations, each with evanphx v4's messages -----------------------------------------

function addOp(doc: unknown, op: JsonObject): OpResult {
  const path = stringField(op, 'path');
  if ('error' in path) return 'add operation failed to decode path: missing value';
  const loc = findContainer(doc, path.value);
  if (!loc) return `add operation does not apply: doc is missing path: "${path.value}": missing value`;
  const added = addAt(doc, loc, opValue(op));
  return 'error' in added ? `error in add for path: '${path.value}': ${added.error}` : added;
}

function removeOp(doc: unknown, op: JsonObject): OpResult {
  const path = stringField(op, 'path');
  if ('error' in path) return 'remove operation failed to decode path: missing value';
  const loc = findContainer(doc, path.value);
  if (!loc) return `remove operation does not apply: doc is missing path: "${path.value}": missing value`;
  const removed = removeAt(doc, loc);
  return 'error' in removed ? `error in remove for path: '${path.value}': ${removed.error}` : removed;
}

function replaceOp(doc: unknown, op: JsonObject): OpResult {
  const path = stringField(op, 'path');
  if ('error' in path) return `replace operation failed to decode path: ${path.error}`;
  if (path.value === '') {
    // Replacing the whole document only takes an object or array; anything else is silently ignored.
    const value = opValue(op);
    return { doc: isContainer(value) ? value : doc };
  }
  const loc = findContainer(doc, path.value);
  if (!loc) return `replace operation does not apply: doc is missing path: ${path.value}: missing value`;
  let token = loc.key;
  if (Array.isArray(loc.container)) {
    const idx = arrayIndex(loc.container.length, loc.key);
    if (typeof idx === 'string') return `replace operation does not apply: doc is missing key: ${path.value}: missing value`;
    token = String(idx);
  }
  // A missing object key reads as nil rather than an error, so replace quietly adds it (which
  // fast-json-patch's unvalidated replace does too).
  return { doc: perform(doc, { op: 'replace', path: pointer([...loc.parentTokens, token]), value: opValue(op) }) };
}

function moveOp(doc: unknown, op: JsonObject): OpResult {
  const from = stringField(op, 'from');
  if ('error' in from) return `move operation failed to decode from: ${from.error}`;
  const src = findContainer(doc, from.value);
  if (!src) return `move operation does not apply: doc is missing from path: ${from.value}: missing value`;
  const got = getChild(src.container, src.key);
  if (typeof got === 'string') return `error in move for path: '${src.key}': ${got}`;
  const removed = removeAt(doc, src);
  if ('error' in removed) return `error in move for path: '${src.key}': ${removed.error}`;
  const path = stringField(op, 'path');
  if ('error' in path) return `move operation failed to decode path: ${path.error}`;
  const dst = findContainer(removed.doc, path.value);
  if (!dst) return `move operation does not apply: doc is missing destination path: ${path.value}: missing value`;
  const added = addAt(removed.doc, dst, got.value ?? null);
  return 'error' in added ? `error in move for path: '${path.value}': ${added.error}` : added;
}

function copyOp(doc: unknown, op: JsonObject): OpResult {
  const from = stringField(op, 'from');
  if ('error' in from) return `copy operation failed to decode from: ${from.error}`;
  const src = findContainer(doc, from.value);
  if (!src) return `copy operation does not apply: doc is missing from path: ${from.value}: missing value`;
  const got = getChild(src.container, src.key);
  if (typeof got === 'string') return `error in copy for from: '${from.value}': ${got}`;
  const path = stringField(op, 'path');
  if ('error' in path) return 'copy operation failed to decode path: missing value';
  const dst = findContainer(doc, path.value);
  if (!dst) return `copy operation does not apply: doc is missing destination path: ${path.value}: missing value`;
  // A missing source reads as nil, which copies as null.
  const added = addAt(doc, dst, got.value === undefined ? null : structuredClone(got.value));
  return 'error' in added ? `error while adding value during copy: ${added.error}` : added;
}

function testOp(doc: unknown, op: JsonObject): OpResult {
  const path = stringField(op, 'path');
  if ('error' in path) return `test operation failed to decode path: ${path.error}`;
  const failed = `testing value ${path.value} failed: test failed`;
  const expected = op.value ?? null;
  if (path.value === '') return jsonpatch._areEquals(doc, expected) ? { doc } : failed;
  const loc = findContainer(doc, path.value);
  if (!loc) return `test operation does not apply: is missing path: ${path.value}: missing value`;
  const got = getChild(loc.container, loc.key);
  if (typeof got === 'string') return `error in test for path: '${path.value}': ${got}`;
  // Missing and null are the same (nil) to the library: both pass a test for null.
  const actual = got.value ?? null;
  if (actual === null || expected === null) return actual === expected ? { doc } : failed;
  return jsonpatch._areEquals(actual, expected) ? { doc } : failed;
}
