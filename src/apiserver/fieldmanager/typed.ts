// Objects walked by their schema, as structured-merge-diff walks typed values:
// the field set an object (or an applied configuration) sets, the comparison
// of two objects (added, modified, removed paths), the merge of a
// configuration into a live object, and the removal of owned items. Types come
// from the OpenAPI schemas kubesvc serves, read as kube-openapi's schema
// conversion reads them: x-kubernetes-list-type / -list-map-keys /
// -map-type when present, else a list with patch strategy merge is
// associative by its patch merge key (a set for scalars) and other lists are
// atomic; structs and maps are granular. Custom resources are typed by
// their CRD version's structural schema (structural-type.ts). Kinds without a
// schema are deduced: objects granular all the way down, lists atomic.
import { deepEqual, isPlainObject } from '../../api/object.js';
import { refOf, schemas, type Schema } from '../openapi/schemas.js';
import { patchSchemaOf } from '../patch/patch-meta.js';
import { FieldSet, serializeElement, type Path, type PathElement } from './fieldpath.js';

export type TypeRef = { readonly kind: 'scalar' } | MapType | ListType;

/**
 * A map as structured-merge-diff's schema.Map: declared fields (a struct's),
 * the type of every other entry, and whether the map is owned whole.
 */
export interface MapType {
  readonly kind: 'map';
  readonly atomic: boolean;
  /** The type of a declared field; undefined when the map declares none by that name. */
  field(name: string): TypeRef | undefined;
  /** The type of entries that are not declared fields; none when the map takes no others (structured-merge-diff refuses them). */
  readonly elem: TypeRef | undefined;
  /** A declared field's schema default (StructField.Default). */
  fieldDefault(name: string): unknown;
  /**
   * Whether the field is always there in the object the field manager compares: Go's typed objects
   * carry struct fields (non-pointer structs encode as {}) and fields without omitempty (the schema's
   * required ones encode as null), so upstream's comparison never sees those appear or disappear —
   * only their contents. Custom objects are unstructured: nothing is.
   */
  alwaysPresent(name: string): boolean;
}

export interface ListType {
  readonly kind: 'list';
  readonly elem: TypeRef;
  /** Associative lists (sets and maps) own their items one by one; the others are atomic. */
  readonly associative: boolean;
  readonly keys: readonly string[];
}

/** A scalar, or __untyped_atomic_: whatever the value, it is owned whole. */
export const SCALAR: TypeRef = { kind: 'scalar' };

/** __untyped_deduced_: maps granular with deduced entries, lists and scalars atomic (the value decides). */
export const DEDUCED: MapType = {
  kind: 'map',
  atomic: false,
  field: () => undefined,
  get elem() {
    return DEDUCED;
  },
  fieldDefault: () => undefined,
  alwaysPresent: () => false,
};

/** A map type with declared fields, their types resolved on first use (named types recurse). */
export function mapType(opts: {
  atomic: boolean;
  fields: Readonly<Record<string, Schema>>;
  fieldType: (s: Schema) => TypeRef;
  elem: TypeRef | undefined;
  alwaysPresent?: (name: string) => boolean;
}): MapType {
  const resolved = new Map<string, TypeRef>();
  return {
    kind: 'map',
    atomic: opts.atomic,
    field(name) {
      if (!Object.hasOwn(opts.fields, name)) return undefined;
      let t = resolved.get(name);
      if (!t) resolved.set(name, (t = opts.fieldType(opts.fields[name])));
      return t;
    },
    elem: opts.elem,
    fieldDefault: (name) => (Object.hasOwn(opts.fields, name) ? opts.fields[name].default : undefined),
    alwaysPresent: opts.alwaysPresent ?? (() => false),
  };
}

/**
 * A list's relationship: x-kubernetes-list-type map (associative by its map keys), set (by value) or
 * atomic; without one, built-in kinds' lists with patch strategy merge are associative by their merge key
 * (a set for scalars) and every other list is atomic.
 */
export function listType(s: Schema, elem: TypeRef, patchStrategy: boolean): ListType {
  const kind = s['x-kubernetes-list-type'] as string | undefined;
  if (kind === 'map') return { kind: 'list', elem, associative: true, keys: (s['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [] };
  if (kind === 'set') return { kind: 'list', elem, associative: true, keys: [] };
  if (kind === undefined && patchStrategy) {
    const strategies = typeof s['x-kubernetes-patch-strategy'] === 'string' ? (s['x-kubernetes-patch-strategy'] as string).split(',') : [];
    if (strategies.includes('merge')) {
      const mergeKey = s['x-kubernetes-patch-merge-key'] as string | undefined;
      return { kind: 'list', elem, associative: true, keys: mergeKey ? [mergeKey] : [] };
    }
  }
  return { kind: 'list', elem, associative: false, keys: [] };
}

function typeOfSchema(s: Schema | undefined): TypeRef {
  if (!s) return DEDUCED;
  const named = refOf(s);
  if (named) return namedType(named);
  if (s.type === 'array') return listType(s, typeOfSchema(s.items), true);
  if (s.type === 'object' && s.additionalProperties) {
    const elem = typeOfSchema(s.additionalProperties === true ? undefined : s.additionalProperties);
    return mapType({ atomic: s['x-kubernetes-map-type'] === 'atomic', fields: {}, fieldType: typeOfSchema, elem });
  }
  return SCALAR;
}

const named = new Map<string, TypeRef>();
/** The built-in named types that are Go structs. */
const goStructs = new WeakSet<TypeRef>();

/** A built-in named type (io.k8s.…) as the published OpenAPI schemas define it; unknown fields are deduced. */
export function namedType(name: string): TypeRef {
  let t = named.get(name);
  if (!t) {
    const s = schemas[name];
    if (s?.properties) {
      const required = new Set((s.required as string[] | undefined) ?? []);
      const struct: MapType = mapType({
        atomic: s['x-kubernetes-map-type'] === 'atomic',
        fields: s.properties as Record<string, Schema>,
        fieldType: typeOfSchema,
        elem: DEDUCED,
        alwaysPresent: (field) => required.has(field) || goStructs.has(struct.field(field) ?? SCALAR),
      });
      goStructs.add(struct);
      t = struct;
    } else t = typeOfSchema({ ...s, $ref: undefined, allOf: undefined });
    named.set(name, t);
  }
  return t;
}

/** The type of a map's entry: its declared field's, else the map's element type (deduced when it has none). */
export function fieldType(t: TypeRef, field: string): TypeRef {
  return t.kind === 'map' ? (t.field(field) ?? t.elem ?? DEDUCED) : DEDUCED;
}

/** The type of a served kind's objects. */
export function typeOfKind(kind: string): TypeRef {
  const name = patchSchemaOf(kind);
  return name ? namedType(name) : DEDUCED;
}

const isStructField = (t: TypeRef, field: string) => t.kind === 'map' && t.field(field) !== undefined;

/**
 * The schema default of an item's key field (getAssociativeKeyDefault):
 * structured-merge-diff fills a key field the item leaves out from it.
 */
export function keyDefault(elem: TypeRef, field: string): unknown {
  return elem.kind === 'map' ? elem.fieldDefault(field) : undefined;
}

/** A list item's element: its key fields (missing ones from the schema's defaults), or the item itself in a set. */
export function itemElement(t: ListType, item: unknown): PathElement {
  if (t.keys.length === 0 || !isPlainObject(item)) return { value: item };
  return {
    key: [...t.keys].sort().flatMap((k) => {
      const v = item[k] === undefined ? keyDefault(t.elem, k) : item[k];
      return v === undefined ? [] : [[k, v] as const];
    }),
  };
}

/** Items of an associative list by element, in list order (the first of duplicates). */
function indexItems(t: ListType, list: unknown[]): Map<string, { pe: PathElement; item: unknown }> {
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
    const granularMap = type.kind === 'map' && !type.atomic && (isPlainObject(l) || isPlainObject(r));
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
        walk(lo[k], ro[k], fieldType(type, k), [...path, { field: k }], type.kind === 'map' && type.alwaysPresent(k));
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
  if (t.kind === 'map' && !t.atomic && isPlainObject(config) && isPlainObject(live)) {
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
