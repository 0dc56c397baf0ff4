// The interpreter of checked expressions: strict evaluation with errors
// thrown as CelError, except where the cel-spec absorbs them (&&, ||, the
// all/exists macros), and a runtime cost counted as cel-go's does roughly
// (1 per evaluated non-literal node and call, per comprehension iteration,
// plus the libraries' length-proportional costs), stopping at the limit.
import type { Expr } from './ast.js';
import { dispatch, type Overload } from './functions.js';
import { CelError, CelMap, CelObject, Optional, TypeValue, UInt, typeName, type CelValue } from './values.js';

export class CostLimitError extends CelError {
  constructor() {
    super('operation cancelled: actual cost limit exceeded');
  }
}

const typeIdents = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'null_type', 'list', 'map', 'type']);

export class Evaluation {
  cost = 0;
  constructor(
    private readonly overloads: Map<Expr, Overload[]>,
    private readonly limit: number,
  ) {}

  private charge(n: number): void {
    this.cost += n;
    if (this.cost > this.limit) throw new CostLimitError();
  }

  eval(e: Expr, vars: Map<string, CelValue>): CelValue {
    switch (e.kind) {
      case 'literal':
        return e.value;
      case 'ident': {
        this.charge(1);
        const v = vars.get(e.name);
        if (v !== undefined) return v;
        if (typeIdents.has(e.name)) return new TypeValue(e.name);
        throw new CelError(`no such attribute: ${e.name}`);
      }
      case 'select': {
        this.charge(1);
        return select(this.eval(e.operand, vars), e.field, !!e.optional);
      }
      case 'has': {
        // Presence tests cost nothing in Kubernetes (PresenceTestHasCost(false)).
        const v = this.eval(e.operand, vars);
        if (v instanceof CelObject) return v.fields.has(e.field);
        if (v instanceof CelMap) return v.has(e.field);
        throw new CelError(`invalid type for field selection.`);
      }
      case 'call': {
        const args = [...(e.target ? [e.target] : []), ...e.args].map((a) => this.eval(a, vars));
        this.charge(1);
        const o = dispatch(this.overloads.get(e) ?? [], args);
        if (o.cost) this.charge(o.cost(...args));
        return o.impl(...args);
      }
      case 'index': {
        this.charge(1);
        return index(this.eval(e.operand, vars), this.eval(e.index, vars), !!e.optional, isAttribute(e.operand));
      }
      case 'list': {
        const out: CelValue[] = [];
        e.items.forEach((item, i) => {
          const v = this.eval(item, vars);
          if (!e.optionalItems[i]) out.push(v);
          else if (!(v instanceof Optional)) throw new CelError('no such overload');
          else if (v.hasValue) out.push(v.value!);
        });
        this.charge(e.items.length ? 1 : 0);
        return out;
      }
      case 'map': {
        const m = new CelMap();
        for (const en of e.entries) {
          const k = this.eval(en.key, vars);
          const v = this.eval(en.value, vars);
          if (m.has(k)) throw new CelError(`Failed with repeated key: ${String(k)}`);
          if (!en.optional) m.set(k, v);
          else if (v instanceof Optional && v.hasValue) m.set(k, v.value!);
        }
        this.charge(e.entries.length ? 1 : 0);
        return m;
      }
      case 'ternary': {
        const c = this.eval(e.cond, vars);
        if (typeof c !== 'boolean') throw new CelError('no such overload');
        return this.eval(c ? e.then : e.else, vars);
      }
      case 'and':
      case 'or':
        return this.logical(e.kind === 'and', e.left, e.right, vars);
      case 'not': {
        const v = this.eval(e.operand, vars);
        if (typeof v !== 'boolean') throw new CelError('no such overload');
        this.charge(1);
        return !v;
      }
      case 'comprehension':
        return this.comprehension(e, vars);
    }
  }

  private attempt(e: Expr, vars: Map<string, CelValue>): CelValue | CelError {
    try {
      return this.eval(e, vars);
    } catch (err) {
      if (err instanceof CostLimitError || !(err instanceof CelError)) throw err;
      return err;
    }
  }

  /** && and ||: a deciding value on either side wins over an error on the other. */
  private logical(and: boolean, left: Expr, right: Expr, vars: Map<string, CelValue>): CelValue {
    const decisive = !and;
    const a = this.attempt(left, vars);
    if (a === decisive) return a;
    const b = this.attempt(right, vars);
    if (b === decisive) return b;
    if (a instanceof CelError) throw a;
    if (b instanceof CelError) throw b;
    if (typeof a !== 'boolean' || typeof b !== 'boolean') throw new CelError('no such overload');
    return !decisive;
  }

  private comprehension(e: Extract<Expr, { kind: 'comprehension' }>, vars: Map<string, CelValue>): CelValue {
    const range = this.eval(e.range, vars);
    const bind = (x: CelValue) => new Map(vars).set(e.iterVar, x);
    if (e.macro === 'optMap' || e.macro === 'optFlatMap') {
      if (!(range instanceof Optional)) throw new CelError('no such overload');
      if (!range.hasValue) return range;
      const v = this.eval(e.body, bind(range.value!));
      return e.macro === 'optMap' ? new Optional(v) : v;
    }
    let items: CelValue[];
    if (Array.isArray(range)) items = range;
    else if (range instanceof CelMap) items = range.keys();
    else throw new CelError(`cannot iterate over ${typeName(range)}`);
    const out: CelValue[] = [];
    let count = 0;
    let error: CelError | undefined;
    for (const x of items) {
      this.charge(1);
      const scope = bind(x);
      switch (e.macro) {
        case 'all':
        case 'exists': {
          const v = this.attempt(e.body, scope);
          if (v instanceof CelError) error ??= v;
          else if (typeof v !== 'boolean') throw new CelError('no such overload');
          else if (v === (e.macro === 'exists')) return v;
          break;
        }
        case 'exists_one': {
          const v = this.eval(e.body, scope);
          if (typeof v !== 'boolean') throw new CelError('no such overload');
          if (v) count++;
          break;
        }
        case 'filter': {
          const v = this.eval(e.body, scope);
          if (typeof v !== 'boolean') throw new CelError('no such overload');
          if (v) out.push(x);
          break;
        }
        case 'map': {
          if (e.filter) {
            const keep = this.eval(e.filter, scope);
            if (typeof keep !== 'boolean') throw new CelError('no such overload');
            if (!keep) break;
          }
          out.push(this.eval(e.body, scope));
          break;
        }
      }
    }
    if (e.macro === 'all' || e.macro === 'exists') {
      if (error) throw error;
      return e.macro === 'all';
    }
    if (e.macro === 'exists_one') return count === 1;
    return out;
  }
}

function select(v: CelValue, field: string, optional: boolean): CelValue {
  if (v instanceof Optional) {
    if (!v.hasValue) return v;
    return select(v.value!, field, true);
  }
  let found: CelValue | undefined;
  if (v instanceof CelObject) found = v.fields.get(field);
  else if (v instanceof CelMap) found = v.get(field);
  else throw new CelError(`type '${typeName(v)}' does not support field selection`);
  if (optional) return new Optional(found);
  if (found === undefined) throw new CelError(`no such key: ${field}`);
  return found;
}

/** Whether an expression is a variable path (x, x.y, x[0]): cel-go indexes those as attributes, with their own error wording. */
function isAttribute(e: Expr): boolean {
  if (e.kind === 'ident') return true;
  if ((e.kind === 'select' || e.kind === 'index') && !e.optional) return isAttribute(e.operand);
  return false;
}

function index(v: CelValue, i: CelValue, optional: boolean, attribute: boolean): CelValue {
  if (v instanceof Optional) {
    if (!v.hasValue) return v;
    return index(v.value!, i, true, attribute);
  }
  if (Array.isArray(v)) {
    let n: bigint;
    if (typeof i === 'bigint') n = i;
    else if (i instanceof UInt) n = i.v;
    else if (typeof i === 'number' && Number.isInteger(i)) n = BigInt(i);
    else throw new CelError(`unsupported index type '${typeName(i)}' in list`);
    if (n < 0n || n >= BigInt(v.length)) {
      if (optional) return new Optional(undefined);
      throw new CelError(attribute ? `index out of bounds: ${n}` : `index '${n}' out of range in list size '${v.length}'`);
    }
    return optional ? new Optional(v[Number(n)]) : v[Number(n)];
  }
  if (v instanceof CelMap) {
    const found = v.get(i);
    if (optional) return new Optional(found);
    if (found === undefined) throw new CelError(`no such key: ${typeof i === 'string' ? i : String(i instanceof UInt ? i.v : i)}`);
    return found;
  }
  throw new CelError('no such overload');
}
