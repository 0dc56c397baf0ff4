// The type checker: gives every node its static type, resolves each call
// to the overloads its argument types allow, and reports cel-go's issues
// ("undeclared reference to 'x' (in container '')", "undefined field 'f'",
// "found no matching overload for '_+_' applied to '(int, string)'") at the
// offset of the node they concern.
import type { Expr } from './ast.js';
import { overloadsOf, type Overload } from './functions.js';
import { assignable, formatType, isDynOrError, join, substitute, T, type CelType } from './types.js';
import { UInt, type CelValue } from './values.js';
import './library.js';

export interface Issue {
  at: number;
  message: string;
}

export interface Checked {
  type: CelType;
  /** The type of every node. */
  types: Map<Expr, CelType>;
  /** The overloads each call node may dispatch to. */
  overloads: Map<Expr, Overload[]>;
  issues: Issue[];
}

const typeNames: Record<string, CelType> = {
  int: T.int, uint: T.uint, double: T.double, bool: T.bool, string: T.string, bytes: T.bytes, null_type: T.null,
  list: T.list(T.dyn), map: T.map(T.dyn, T.dyn), type: T.type(T.dyn),
};

export function check(e: Expr, vars: Map<string, CelType>): Checked {
  const c = new Checker();
  const type = c.check(e, [vars]);
  return { type, types: c.types, overloads: c.overloads, issues: c.issues.sort((a, b) => a.at - b.at) };
}

function literalType(v: CelValue): CelType {
  if (typeof v === 'bigint') return T.int;
  if (typeof v === 'number') return T.double;
  if (typeof v === 'string') return T.string;
  if (typeof v === 'boolean') return T.bool;
  if (v === null) return T.null;
  if (v instanceof UInt) return T.uint;
  if (v instanceof Uint8Array) return T.bytes;
  return T.dyn;
}

class Checker {
  readonly overloads = new Map<Expr, Overload[]>();
  readonly types = new Map<Expr, CelType>();
  readonly issues: Issue[] = [];

  private error(at: number, message: string): CelType {
    this.issues.push({ at, message });
    return T.error;
  }

  private noOverload(at: number, fn: string, args: CelType[], receiver?: CelType): CelType {
    const list = args.map(formatType).join(', ');
    return this.error(at, `found no matching overload for '${fn}' applied to '${receiver ? `${formatType(receiver)}.(${list})` : `(${list})`}'`);
  }

  check(e: Expr, scopes: Map<string, CelType>[]): CelType {
    const t = this.checkNode(e, scopes);
    this.types.set(e, t);
    return t;
  }

  private checkNode(e: Expr, scopes: Map<string, CelType>[]): CelType {
    switch (e.kind) {
      case 'literal':
        return literalType(e.value);
      case 'ident': {
        for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].has(e.name)) return scopes[i].get(e.name)!;
        if (e.name in typeNames) return T.type(typeNames[e.name]);
        return this.error(e.at, `undeclared reference to '${e.name}' (in container '')`);
      }
      case 'select':
        return this.select(e.at, this.check(e.operand, scopes), e.field, !!e.optional);
      case 'has': {
        const t = this.check(e.operand, scopes);
        if (t.kind === 'object' && !t.fields.has(e.field)) return this.error(e.at, `undefined field '${e.field}'`);
        if (!['object', 'map', 'dyn', 'error'].includes(t.kind)) return this.error(e.at, `type '${formatType(t)}' does not support field selection`);
        return T.bool;
      }
      case 'call':
        return this.call(e, scopes);
      case 'index': {
        let t = this.check(e.operand, scopes);
        const it = this.check(e.index, scopes);
        const optional = t.kind === 'optional';
        if (optional) t = (t as { elem: CelType }).elem;
        let result: CelType;
        if (t.kind === 'list' && ['int', 'uint', 'dyn', 'error'].includes(it.kind)) result = t.elem;
        else if (t.kind === 'map' && assignable(t.key, it, new Map())) result = t.value;
        else if (isDynOrError(t)) result = T.dyn;
        else return this.noOverload(e.at, e.optional ? '_[?_]' : '_[_]', [t, it]);
        return optional || e.optional ? T.optional(result) : result;
      }
      case 'list': {
        let elem: CelType | undefined;
        e.items.forEach((item, i) => {
          let t = this.check(item, scopes);
          if (e.optionalItems[i]) t = t.kind === 'optional' ? t.elem : isDynOrError(t) ? T.dyn : this.error(item.at, `expected type '${formatType(T.optional(t))}' but found '${formatType(t)}'`);
          elem = this.homogeneous(elem, t);
        });
        return T.list(elem ?? T.dyn);
      }
      case 'map': {
        let key: CelType | undefined;
        let value: CelType | undefined;
        for (const en of e.entries) {
          const kt = this.check(en.key, scopes);
          if (!['int', 'uint', 'string', 'bool', 'dyn', 'error'].includes(kt.kind)) this.error(en.key.at, `unsupported map key type: ${formatType(kt)}`);
          key = this.homogeneous(key, kt);
          let vt = this.check(en.value, scopes);
          if (en.optional) vt = vt.kind === 'optional' ? vt.elem : T.dyn;
          value = this.homogeneous(value, vt);
        }
        return T.map(key ?? T.dyn, value ?? T.dyn);
      }
      case 'ternary': {
        const ct = this.check(e.cond, scopes);
        const a = this.check(e.then, scopes);
        const b = this.check(e.else, scopes);
        if (!assignable(T.bool, ct, new Map()) || !(assignable(a, b, new Map()) || assignable(b, a, new Map()))) return this.noOverload(e.at, '_?_:_', [ct, a, b]);
        return join(a, b);
      }
      case 'and':
      case 'or': {
        const a = this.check(e.left, scopes);
        const b = this.check(e.right, scopes);
        if (!assignable(T.bool, a, new Map()) || !assignable(T.bool, b, new Map())) return this.noOverload(e.at, e.kind === 'and' ? '_&&_' : '_||_', [a, b]);
        return T.bool;
      }
      case 'not': {
        const t = this.check(e.operand, scopes);
        if (!assignable(T.bool, t, new Map())) return this.noOverload(e.at, '!_', [t]);
        return T.bool;
      }
      case 'comprehension':
        return this.comprehension(e, scopes);
    }
  }

  /** The element type of an aggregate literal so far: the most general of the two, dyn when they differ (cel-go's joinTypes). */
  private homogeneous(prev: CelType | undefined, t: CelType): CelType {
    if (!prev) return t;
    if (prev.kind === 'error' || t.kind === 'error') return T.error;
    if (assignable(prev, t, new Map())) return prev.kind === 'null' ? t : isDynOrError(t) ? t : prev;
    return T.dyn;
  }

  private select(at: number, t: CelType, field: string, optional: boolean): CelType {
    if (t.kind === 'optional') {
      const inner = this.select(at, t.elem, field, false);
      return inner.kind === 'error' ? inner : T.optional(inner);
    }
    let result: CelType;
    if (t.kind === 'object') {
      const f = t.fields.get(field);
      if (!f) return this.error(at, `undefined field '${field}'`);
      result = f.type;
    } else if (t.kind === 'map' && assignable(t.key, T.string, new Map())) {
      result = t.value;
    } else if (isDynOrError(t)) {
      result = T.dyn;
    } else {
      return this.error(at, `type '${formatType(t)}' does not support field selection`);
    }
    return optional ? T.optional(result) : result;
  }

  private qualifiedName(e: Expr, scopes: Map<string, CelType>[]): string | undefined {
    if (e.kind === 'ident') return scopes.some((s) => s.has(e.name)) ? undefined : e.name;
    if (e.kind === 'select' && !e.optional) {
      const base = this.qualifiedName(e.operand, scopes);
      return base && `${base}.${e.field}`;
    }
    return undefined;
  }

  private call(e: Extract<Expr, { kind: 'call' }>, scopes: Map<string, CelType>[]): CelType {
    let fn = e.fn;
    let target = e.target;
    if (target) {
      const q = this.qualifiedName(target, scopes);
      if (q && overloadsOf(`${q}.${fn}`).length) {
        fn = `${q}.${fn}`;
        target = undefined;
        e.fn = fn;
        e.target = undefined;
      }
    }
    const argTypes = e.args.map((a) => this.check(a, scopes));
    const targetType = target ? this.check(target, scopes) : undefined;
    const all = overloadsOf(fn);
    if (!all.length) return this.error(e.at, `undeclared reference to '${fn}' (in container '')`);
    const actual = targetType ? [targetType, ...argTypes] : argTypes;
    const matched: { o: Overload; result: CelType }[] = [];
    for (const o of all) {
      if (o.receiver !== !!target || o.args.length !== actual.length) continue;
      const bindings = new Map<string, CelType>();
      if (o.args.every((t, i) => assignable(t, actual[i], bindings))) matched.push({ o, result: substitute(o.result, bindings) });
    }
    if (actual.some((t) => t.kind === 'error')) {
      this.overloads.set(e, matched.map((m) => m.o));
      return T.error;
    }
    if (!matched.length) return this.noOverload(e.at, fn, argTypes, targetType);
    this.overloads.set(e, matched.map((m) => m.o));
    const results = matched.map((m) => (m.result.kind === 'param' ? T.dyn : m.result));
    return results.reduce((a, b) => (formatType(a) === formatType(b) ? a : T.dyn));
  }

  private comprehension(e: Extract<Expr, { kind: 'comprehension' }>, scopes: Map<string, CelType>[]): CelType {
    const rt = this.check(e.range, scopes);
    let iter: CelType;
    if (e.macro === 'optMap' || e.macro === 'optFlatMap') {
      if (rt.kind !== 'optional' && !isDynOrError(rt)) return this.noOverload(e.at, e.macro, [rt]);
      iter = rt.kind === 'optional' ? rt.elem : T.dyn;
    } else if (rt.kind === 'list') iter = rt.elem;
    else if (rt.kind === 'map') iter = rt.key;
    else if (isDynOrError(rt)) iter = T.dyn;
    else return this.error(e.range.at, `expression of type '${formatType(rt)}' cannot be range of a comprehension (must be list, map, or dynamic)`);
    const inner = [...scopes, new Map([[e.iterVar, iter]])];
    if (e.filter) {
      const ft = this.check(e.filter, inner);
      if (!assignable(T.bool, ft, new Map())) return this.noOverload(e.filter.at, '_?_:_', [ft, T.list(T.dyn), T.list(T.dyn)]);
    }
    const bt = this.check(e.body, inner);
    switch (e.macro) {
      case 'all':
        if (!assignable(T.bool, bt, new Map())) return this.noOverload(e.body.at, '@not_strictly_false', [bt]);
        return T.bool;
      case 'exists':
        if (!assignable(T.bool, bt, new Map())) return this.noOverload(e.body.at, '_||_', [T.bool, bt]);
        return T.bool;
      case 'exists_one':
        if (!assignable(T.bool, bt, new Map())) return this.noOverload(e.body.at, '_?_:_', [bt, T.int, T.int]);
        return T.bool;
      case 'filter':
        if (!assignable(T.bool, bt, new Map())) return this.noOverload(e.body.at, '_?_:_', [bt, T.list(iter), T.list(iter)]);
        return T.list(iter);
      case 'map':
        return T.list(bt);
      case 'optMap':
        return T.optional(bt);
      case 'optFlatMap':
        if (bt.kind !== 'optional' && !isDynOrError(bt)) return this.noOverload(e.body.at, '_?_:_', [T.bool, bt, T.optional(T.dyn)]);
        return bt.kind === 'optional' ? bt : T.optional(T.dyn);
    }
  }
}
