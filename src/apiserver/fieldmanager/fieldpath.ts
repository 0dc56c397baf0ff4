// Field sets as structured-merge-diff keeps them: a tree of path elements
// (f:<field>, k:<associative list key>, v:<set value>, i:<index>) whose
// nodes are members (the path itself is owned) and/or have children. The
// FieldsV1 wire form is the same tree as JSON: a member leaf is `{}`, a member
// with children carries a "." entry. Elements are ordered as upstream orders
// them, so encoded sets and conflict lists read the same.
import { isPlainObject } from '../../api/object.js';

export interface FieldsV1 {
  [key: string]: FieldsV1;
}

/** One path element, decoded; `key` entries are sorted by name. */
export type PathElement =
  | { readonly field: string }
  | { readonly key: readonly (readonly [string, unknown])[] }
  | { readonly value: unknown }
  | { readonly index: number };

export type Path = readonly PathElement[];

/** The FieldsV1 key of an element: f:name, k:{"a":1,"b":"x"} (keys sorted), v:<json>, i:<n>. */
export function serializeElement(pe: PathElement): string {
  if ('field' in pe) return `f:${pe.field}`;
  if ('key' in pe) return `k:{${pe.key.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
  if ('value' in pe) return `v:${JSON.stringify(pe.value)}`;
  return `i:${pe.index}`;
}

export class FieldPathError extends Error {}

/** Parses a FieldsV1 key; what is not one of the four forms is an error (as DeserializePathElement). */
export function parseElement(s: string): PathElement {
  if (s.length < 2 || s[1] !== ':') throw new FieldPathError(`missing colon: ${s}`);
  const rest = s.slice(2);
  switch (s[0]) {
    case 'f':
      return { field: rest };
    case 'v':
      return { value: parseJson(rest) };
    case 'k': {
      const obj = parseJson(rest);
      if (!isPlainObject(obj)) throw new FieldPathError(`key must be an object: ${s}`);
      return { key: Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
    }
    case 'i': {
      if (!/^-?\d+$/.test(rest)) throw new FieldPathError(`invalid index: ${s}`);
      return { index: Number(rest) };
    }
    default:
      throw new FieldPathError('unknown path element type');
  }
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch (e) {
    throw new FieldPathError((e as Error).message);
  }
}

/** Go's %v of a value in a path: strings quoted, the rest as JSON. */
function valueString(v: unknown): string {
  return JSON.stringify(v);
}

/** A path as fieldpath.Path.String prints it: .spec.ports[port=80,protocol="TCP"].name, [=value], [index]. */
export function pathString(path: Path): string {
  return path
    .map((pe) => {
      if ('field' in pe) return `.${pe.field}`;
      if ('key' in pe) return `[${pe.key.map(([k, v]) => `${k}=${valueString(v)}`).join(',')}]`;
      if ('value' in pe) return `[=${valueString(pe.value)}]`;
      return `[${pe.index}]`;
    })
    .join('');
}

const RANK = (pe: PathElement) => ('field' in pe ? 0 : 'key' in pe ? 1 : 'value' in pe ? 2 : 3);

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Upstream's element order: fields, then keys, values, indexes; each by name or value. */
export function compareElements(a: PathElement, b: PathElement): number {
  const r = RANK(a) - RANK(b);
  if (r !== 0) return r;
  if ('field' in a && 'field' in b) return a.field < b.field ? -1 : a.field > b.field ? 1 : 0;
  if ('key' in a && 'key' in b) {
    for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) {
      const [an, av] = a.key[i];
      const [bn, bv] = b.key[i];
      if (an !== bn) return an < bn ? -1 : 1;
      const c = compareValues(av, bv);
      if (c !== 0) return c;
    }
    return a.key.length - b.key.length;
  }
  if ('value' in a && 'value' in b) return compareValues(a.value, b.value);
  if ('index' in a && 'index' in b) return a.index - b.index;
  return 0;
}

interface Child {
  pe: PathElement;
  set: FieldSet;
}

/** A set of paths, as fieldpath.Set: members at this level and child sets under elements. */
export class FieldSet {
  /** Members and children by serialized element. */
  readonly members = new Map<string, PathElement>();
  readonly children = new Map<string, Child>();

  static fromPaths(paths: Iterable<Path>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: Path): void {
    if (path.length === 0) return;
    const [head, ...rest] = path;
    const k = serializeElement(head);
    if (rest.length === 0) this.members.set(k, head);
    else this.child(head, k).insert(rest);
  }

  private child(pe: PathElement, k = serializeElement(pe)): FieldSet {
    let c = this.children.get(k);
    if (!c) this.children.set(k, (c = { pe, set: new FieldSet() }));
    return c.set;
  }

  childSet(k: string): FieldSet | undefined {
    return this.children.get(k)?.set;
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    const k = serializeElement(path[0]);
    if (path.length === 1) return this.members.has(k);
    return this.children.get(k)?.set.has(path.slice(1)) ?? false;
  }

  empty(): boolean {
    if (this.members.size) return false;
    for (const c of this.children.values()) if (!c.set.empty()) return false;
    return true;
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    for (const [k, pe] of other.members) out.members.set(k, pe);
    for (const [k, c] of other.children) {
      const mine = out.children.get(k);
      out.children.set(k, { pe: c.pe, set: mine ? mine.set.union(c.set) : c.set.clone() });
    }
    return out;
  }

  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const theirs = other.children.get(k);
      const rest = theirs ? c.set.difference(theirs.set) : c.set.clone();
      if (!rest.empty()) out.children.set(k, { pe: c.pe, set: rest });
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const theirs = other.children.get(k);
      if (!theirs) continue;
      const both = c.set.intersection(theirs.set);
      if (!both.empty()) out.children.set(k, { pe: c.pe, set: both });
    }
    return out;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, c] of this.children) out.children.set(k, { pe: c.pe, set: c.set.clone() });
    return out;
  }

  /** Every member path, in upstream's order: this level's members, then each child's. */
  paths(prefix: Path = []): Path[] {
    const out: Path[] = [];
    for (const pe of sortElements([...this.members.values()])) out.push([...prefix, pe]);
    for (const c of [...this.children.values()].sort((a, b) => compareElements(a.pe, b.pe))) out.push(...c.set.paths([...prefix, c.pe]));
    return out;
  }

  /** The FieldsV1 encoding: sorted elements, "." for a member that also has children. */
  toFieldsV1(): FieldsV1 {
    const out: FieldsV1 = {};
    const keys = new Map<string, PathElement>([...this.members, ...[...this.children].map(([k, c]) => [k, c.pe] as const)]);
    for (const [k] of [...keys].sort((a, b) => compareElements(a[1], b[1]))) {
      const c = this.children.get(k);
      const sub = c && !c.set.empty() ? c.set.toFieldsV1() : undefined;
      if (!sub) out[k] = {};
      else out[k] = this.members.has(k) ? { '.': {}, ...sub } : sub;
    }
    return out;
  }

  /** Decodes FieldsV1; anything that is not such a tree is a FieldPathError. */
  static fromFieldsV1(fields: unknown): FieldSet {
    const out = new FieldSet();
    if (!isPlainObject(fields)) throw new FieldPathError('FieldsV1 must be an object');
    for (const [k, v] of Object.entries(fields)) {
      if (k === '.') continue;
      if (!isPlainObject(v)) throw new FieldPathError(`FieldsV1 entry ${k} must be an object`);
      const pe = parseElement(k);
      const entries = Object.keys(v);
      if (entries.length === 0 || Object.hasOwn(v, '.')) out.members.set(k, pe);
      if (entries.some((e) => e !== '.')) out.children.set(k, { pe, set: FieldSet.fromFieldsV1(v) });
    }
    return out;
  }
}

function sortElements(pes: PathElement[]): PathElement[] {
  return pes.sort(compareElements);
}
