// Objects walked by their schema, as structured-merge-diff walks typed values:
// the field set an object (or an applied configuration) sets, the comparison
// of two objects (added, modified, removed paths), the merge of a
// configuration into a live object, and the removal of owned items. Types come
// from the OpenAPI schemas kubesvc serves, read as kube-openapi's schema
// conversion reads them: x-kubernetes-list-type / -list-map-keys /
// -map-type when present, else a list with patch strategy merge is
// associative by its patch merge key (a set for scalars) and other lists are
// atomic; structs and maps are granular. Kinds without a schema are deduced:
// objects granular, lists atomic.
import { deepEqual, isPlainObject } from '../../api/object.js';
import { refOf, schemas, type Schema } from '../openapi/schemas.js';
import { patchSchemaOf } from '../patch/patch-meta.js';
import { FieldSet, serializeElement, type Path, type PathElement } from './fieldpath.js';

export type TypeRef =
  | { readonly kind: 'scalar' }
  | { readonly kind: 'struct'; readonly name: string; readonly atomic: boolean }
  | { readonly kind: 'map'; readonly elem: TypeRef; readonly atomic: boolean }
  | { readonly kind: 'list'; readonly elem: TypeRef; readonly associative: boolean; readonly keys: readonly string[] };

const SCALAR: TypeRef = { kind: 'scalar' };
/** What a value without a schema is: granular maps, atomic lists. */
const DEDUCED: TypeRef = { kind: 'map', elem: { kind: 'scalar' }, atomic: false };

function typeOfSchema(s: Schema | undefined): TypeRef {
  if (!s) return DEDUCED;
  const named = refOf(s);
  if (named) return namedType(named);
  if (s.type === 'array') {
    const elem = typeOfSchema(s.items);
    const listType = s['x-kubernetes-list-type'] as string | undefined;
    if (listType === 'map') return { kind: 'list', elem, associative: true, keys: (s['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [] };
    if (listType === 'set') return { kind: 'list', elem, associative: true, keys: [] };
    if (listType === 'atomic') return { kind: 'list', elem, associative: false, keys: [] };
    const strategies = typeof s['x-kubernetes-patch-strategy'] === 'string' ? (s['x-kubernetes-patch-strategy'] as string).split(',') : [];
    if (strategies.includes('merge')) {
      const mergeKey = s['x-kubernetes-patch-merge-key'] as string | undefined;
      return { kind: 'list', elem, associative: true, keys: mergeKey ? [mergeKey] : [] };
    }
    return { kind: 'list', elem, associative: false, keys: [] };
  }
  if (s.type === 'object' && s.additionalProperties) {
    return { kind: 'map', elem: typeOfSchema(s.additionalProperties === true ? undefined : s.additionalProperties), atomic: s['x-kubernetes-map-type'] === 'atomic' };
  }
  return SCALAR;
}

const named = new Map<string, TypeRef>();

function namedType(name: string): TypeRef {
  let t = named.get(name);
  if (!t) {
    const s = schemas[name];
    t = s?.properties ? { kind: 'struct', name, atomic: s['x-kubernetes-map-type'] === 'atomic' } : typeOfSchema({ ...s, $ref: undefined, allOf: undefined });
    named.set(name, t);
  }
  return t;
}

/** The type of a struct's field; unknown fields are deduced. */
export function fieldType(t: TypeRef, field: string): TypeRef {
  if (t.kind === 'struct') {
    const prop = (schemas[t.name].properties as Record<string, Schema>)[field];
    return prop ? typeOfSchema(prop) : DEDUCED;
  }
  return t.kind === 'map' ? t.elem : DEDUCED;
}

/** The type of a served kind's objects. */
export function typeOfKind(kind: string): TypeRef {
  const name = patchSchemaOf(kind);
  return name ? namedType(name) : DEDUCED;
}

const isStructField = (t: TypeRef, field: string) => t.kind === 'struct' && Object.hasOwn(schemas[t.name].properties as object, field);

function isMapLike(t: TypeRef): t is Extract<TypeRef, { kind: 'struct' | 'map' }> {
  return t.kind === 'struct' || t.kind === 'map';
}

/**
 * The schema default of an item's key field (getAssociativeKeyDefault):
 * structured-merge-diff fills a key field the item leaves out from it.
 */
function keyDefault(elem: TypeRef, field: string): unknown {
  if (elem.kind !== 'struct') return undefined;
  return (schemas[elem.name].properties as Record<string, Schema>)[field]?.default;
}

/** A list item's element: its key fields (missing ones from the schema's defaults), or the item itself in a set. */
export function itemElement(t: Extract<TypeRef, { kind: 'list' }>, item: unknown): PathElement {
  if (t.keys.length === 0 || !isPlainObject(item)) return { value: item };
  return {
    key: [...t.keys].sort().flatMap((k) => {
      const v = item[k] === undefined ? keyDefault(t.elem, k) : item[k];
      return v === undefined ? [] : [[k, v] as const];
    }),
  };
}

/** Items of an associative list by element, in list order (the first of duplicates). */
function indexItems(t: Extract<TypeRef, { kind: 'list' }>, list: unknown[]): Map<string, { pe: PathElement; item: unknown }> {
  const out = new Map<string, { pe: PathElement; item: unknown }>();
  for (const item of list) {
    const pe = itemElement(t, item);
    const k = serializeElement(pe);
    if (!out.has(k)) out.set(k, { pe, item });
  }
  return out;
}

/** The paths a value sets (typed.ToFieldSet): leaves, list items, map entries; not struct fields with content. */
export function toFieldSet(value: unknown, t: TypeRef): FieldSet {
  const set = new FieldSet();
  const walk = (v: unknown, type: TypeRef, path: PathElement[]) => {
    if (type.kind === 'scalar' || v === null || v === undefined) {
      set.insert(path);
      return;
    }
    if (type.kind === 'list') {
      if (!type.associative || !Array.isArray(v)) {
        set.insert(path);
        return;
      }
      for (const { pe, item } of indexItems(type, v).values()) {
        const p = [...path, pe];
        walk(item, type.elem, p);
        set.insert(p);
      }
      return;
    }
    if (type.atomic || !isPlainObject(v)) {
      set.insert(path);
      return;
    }
    for (const [k, child] of Object.entries(v)) {
      if (child === undefined) continue;
      const p = [...path, { field: k }];
      walk(child, fieldType(type, k), p);
      if (child === null || (isPlainObject(child) && Object.keys(child).length === 0) || !isStructField(type, k)) set.insert(p);
    }
  };
  walk(value, t, []);
  return set;
}

/**
 * Whether a field's absence is not an addition of the field itself: Go's typed
 * objects always carry struct fields (non-pointer structs encode as {}) and
 * fields without omitempty (the schema's required ones encode as null), so
 * upstream's comparison never sees those appear or disappear — only their contents.
 */
function isZeroPresent(parent: TypeRef, field: string): boolean {
  if (parent.kind !== 'struct') return false;
  const s = schemas[parent.name];
  if ((s.required as string[] | undefined)?.includes(field)) return true;
  return fieldType(parent, field).kind === 'struct';
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

const isEmptyValue = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);

/** What changed from `lhs` to `rhs` (typed.Compare): paths added, modified, removed. */
export function compare(lhs: unknown, rhs: unknown, t: TypeRef): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const leaf = (l: unknown, r: unknown, path: Path) => {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!deepEqual(l, r)) c.modified.insert(path);
  };
  const walk = (l: unknown, r: unknown, type: TypeRef, path: PathElement[], alwaysPresent = false) => {
    const granularList = type.kind === 'list' && type.associative && (Array.isArray(l) || Array.isArray(r));
    const granularMap = isMapLike(type) && !type.atomic && (isPlainObject(l) || isPlainObject(r));
    if ((!granularList && !granularMap) || (isEmptyValue(l) && isEmptyValue(r))) {
      leaf(l, r, path);
      return;
    }
    if (granularList && type.kind === 'list') {
      const li = indexItems(type, Array.isArray(l) ? l : []);
      const ri = indexItems(type, Array.isArray(r) ? r : []);
      for (const [k, { pe, item }] of ri) walk(li.get(k)?.item, item, type.elem, [...path, pe]);
      for (const [k, { pe, item }] of li) if (!ri.has(k)) walk(item, undefined, type.elem, [...path, pe]);
    } else if (granularMap) {
      const lo = isPlainObject(l) ? l : {};
      const ro = isPlainObject(r) ? r : {};
      for (const k of new Set([...Object.keys(lo), ...Object.keys(ro)])) {
        if (lo[k] === undefined && ro[k] === undefined) continue;
        walk(lo[k], ro[k], fieldType(type, k), [...path, { field: k }], isZeroPresent(type, k));
      }
    }
    if (path.length && !alwaysPresent) {
      if (l === undefined) c.added.insert(path);
      else if (r === undefined) c.removed.insert(path);
    }
  };
  walk(lhs, rhs, t, []);
  return c;
}

/**
 * The configuration merged into the live object (typed.Merge): the
 * configuration's values win, granular maps merge by key, associative lists by
 * element keeping both orders; a null in the configuration drops the field.
 */
export function merge(live: unknown, config: unknown, t: TypeRef): unknown {
  if (config === undefined) return live;
  if (t.kind === 'list' && t.associative && Array.isArray(config) && Array.isArray(live)) {
    const li = indexItems(t, live);
    const ri = indexItems(t, config);
    const lk = [...li.keys()];
    const rk = [...ri.keys()];
    const out: unknown[] = [];
    const done = new Set<string>();
    let i = 0;
    let j = 0;
    while (i < lk.length || j < rk.length) {
      if (i < lk.length && done.has(lk[i])) i++;
      else if (i < lk.length && !ri.has(lk[i])) {
        out.push(li.get(lk[i])!.item);
        done.add(lk[i++]);
      } else if (j < rk.length) {
        const k = rk[j++];
        out.push(merge(li.get(k)?.item, ri.get(k)!.item, t.elem));
        done.add(k);
      } else i++;
    }
    return out;
  }
  if (isMapLike(t) && !t.atomic && isPlainObject(config) && isPlainObject(live)) {
    const out: Record<string, unknown> = { ...live };
    for (const [k, v] of Object.entries(config)) {
      if (v === null) delete out[k];
      else if (v !== undefined) out[k] = merge(live[k], v, fieldType(t, k));
    }
    return out;
  }
  return stripNulls(config);
}

function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = stripNulls(x);
  return out;
}

/** The set with every struct field on a path to a member made a member too (EnsureNamedFieldsAreMembers). */
export function ensureNamedFieldsAreMembers(set: FieldSet, t: TypeRef): FieldSet {
  const out = new FieldSet();
  for (const [k, pe] of set.members) out.members.set(k, pe);
  for (const [k, c] of set.children) {
    const childType = 'field' in c.pe ? fieldType(t, c.pe.field) : t.kind === 'list' ? t.elem : DEDUCED;
    const sub = ensureNamedFieldsAreMembers(c.set, childType);
    out.children.set(k, { pe: c.pe, set: sub });
    if ('field' in c.pe && isStructField(t, c.pe.field) && !sub.empty()) out.members.set(k, c.pe);
  }
  return out;
}

/** Removes from `value` (in place) every member of `set`: fields, list items, map entries (typed.RemoveItems). */
export function removeItems(value: unknown, set: FieldSet, t: TypeRef): void {
  if (Array.isArray(value) && t.kind === 'list') {
    for (let i = value.length - 1; i >= 0; i--) {
      const k = serializeElement(itemElement(t, value[i]));
      if (set.members.has(k)) value.splice(i, 1);
      else {
        const sub = set.childSet(k);
        if (sub) removeItems(value[i], sub, t.elem);
      }
    }
    return;
  }
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    const k = serializeElement({ field: key });
    if (set.members.has(k)) delete value[key];
    else {
      const sub = set.childSet(k);
      if (sub) removeItems(value[key], sub, fieldType(t, key));
    }
  }
}
