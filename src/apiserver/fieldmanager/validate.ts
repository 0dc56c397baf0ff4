// What structured-merge-diff refuses when it types an applied configuration
// (typed.AsTyped without duplicates): fields a map does not declare and has
// no element type for, associative list items it cannot key (nulls, items
// that are not objects in a keyed list or are objects or lists in a set, a
// key field left out without a default) and the same key twice. Messages
// and paths as its ValidationErrors print them. Scalar kinds are left to
// the schema's own validation.
import { isPlainObject } from '../../api/object.js';
import { pathString, serializeElement, type PathElement } from './fieldpath.js';
import { keyDefault, type ListType, type TypeRef } from './typed.js';

interface ValidationError {
  path: string;
  message: string;
}

/** The element of one item of an associative list, or why it has none (listItemToPathElement). */
function listItemElement(t: ListType, item: unknown): PathElement | string {
  if (t.keys.length > 0) {
    if (item === null || item === undefined) return 'associative list with keys may not have a null element';
    if (!isPlainObject(item)) return 'associative list with keys may not have non-map elements';
    const key: [string, unknown][] = [];
    for (const name of t.keys) {
      const v = item[name] !== undefined ? item[name] : keyDefault(t.elem, name);
      if (v === undefined) return `associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`;
      key.push([name, v]);
    }
    return { key: key.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
  }
  if (isPlainObject(item)) return "associative list without keys has an element that's a map type";
  if (Array.isArray(item)) return 'not supported: associative list with lists as elements';
  if (item === null) return "associative list without keys has an element that's an explicit null";
  return { value: item };
}

function walk(value: unknown, t: TypeRef, path: string, errs: ValidationError[]): void {
  if (value === null || value === undefined || t.kind === 'scalar') return;
  if (t.kind === 'list') {
    if (!Array.isArray(value)) return;
    const seen = new Set<string>();
    for (let i = 0; i < value.length; i++) {
      let pe: PathElement = { index: i };
      if (t.associative) {
        const got = listItemElement(t, value[i]);
        if (typeof got === 'string') {
          // Without an element the item's own errors cannot be placed: the rest of the list is not looked at.
          errs.push({ path, message: `element ${i}: ${got}` });
          return;
        }
        pe = got;
        const k = serializeElement(pe);
        if (seen.has(k)) errs.push({ path, message: `duplicate entries for key ${pathString([pe])}` });
        seen.add(k);
      }
      walk(value[i], t.elem, path + pathString([pe]), errs);
    }
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [name, child] of Object.entries(value)) {
    const declared = t.field(name);
    const childPath = path + pathString([{ field: name }]);
    if (!declared && !t.elem) {
      // Upstream stops at the first such field of a map.
      errs.push({ path: childPath, message: 'field not declared in schema' });
      return;
    }
    walk(child, declared ?? t.elem!, childPath, errs);
  }
}

/** ValidationErrors.Error(): one error as "path: message", several as an "errors:" list; empty when the value types. */
export function typingErrors(value: unknown, t: TypeRef): string {
  const errs: ValidationError[] = [];
  walk(value, t, '', errs);
  const one = (e: ValidationError) => (e.path ? `${e.path}: ${e.message}` : e.message);
  if (errs.length <= 1) return errs.length ? one(errs[0]) : '';
  return ['errors:', ...errs.map((e) => `  ${one(e)}`)].join('\n');
}
