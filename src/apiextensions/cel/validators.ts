// The checks cel-go's AST validators make after a successful type check,
// the ones Kubernetes enables: list and map literals must be homogeneous
// (except anywhere inside a string format() call), and literal arguments of
// duration(), timestamp() and matches() must be valid.
import type { Expr } from './ast.js';
import { formatType, type CelType } from './types.js';
import { tryCompileRegex } from './regex.js';
import { CelError, parseDuration, parseTimestamp } from './values.js';

import type { Issue } from './checker.js';

/** cel-go's IsEquivalentType, with a free type parameter (optional.none()'s) matching any type. */
function equivalent(a: CelType, b: CelType): boolean {
  if (a.kind === 'param' || b.kind === 'param') return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'list' || a.kind === 'optional') return equivalent(a.elem, (b as { elem: CelType }).elem);
  if (a.kind === 'map') return equivalent(a.key, (b as { key: CelType }).key) && equivalent(a.value, (b as { value: CelType }).value);
  return formatType(a) === formatType(b);
}

export function validateAst(ast: Expr, types: Map<Expr, CelType>): Issue[] {
  const issues: Issue[] = [];
  const same = equivalent;
  const mismatch = (at: number, expected: CelType, actual: CelType) => issues.push({ at, message: `expected type '${formatType(expected)}' but found '${formatType(actual)}'` });
  const literal = (x: Expr | undefined) => (x?.kind === 'literal' && typeof x.value === 'string' ? x.value : undefined);
  const walk = (e: Expr, inFormat: boolean): void => {
    const typeOf = (x: Expr, optional: boolean) => {
      const t = types.get(x)!;
      return optional && t.kind === 'optional' ? t.elem : t;
    };
    switch (e.kind) {
      case 'list': {
        if (!inFormat) {
          const first = e.items[0] && typeOf(e.items[0], e.optionalItems[0]);
          const bad = e.items.findIndex((x, i) => !same(first!, typeOf(x, e.optionalItems[i])));
          if (bad > 0) mismatch(e.items[bad].at, first!, typeOf(e.items[bad], e.optionalItems[bad]));
        }
        e.items.forEach((x) => walk(x, inFormat));
        return;
      }
      case 'map': {
        if (!inFormat && e.entries.length) {
          const k0 = typeOf(e.entries[0].key, false);
          const v0 = typeOf(e.entries[0].value, e.entries[0].optional);
          for (const en of e.entries.slice(1)) {
            if (!same(k0, typeOf(en.key, false))) mismatch(en.key.at, k0, typeOf(en.key, false));
            if (!same(v0, typeOf(en.value, en.optional))) mismatch(en.value.at, v0, typeOf(en.value, en.optional));
          }
        }
        e.entries.forEach((en) => (walk(en.key, inFormat), walk(en.value, inFormat)));
        return;
      }
      case 'call': {
        const pattern = e.fn === 'matches' ? literal(e.args[0]) : undefined;
        if (pattern !== undefined && typeof tryCompileRegex(pattern) === 'string') issues.push({ at: e.args[0].at, message: 'invalid matches argument' });
        const arg = literal(e.args[0]);
        if (!e.target && arg !== undefined && (e.fn === 'duration' || e.fn === 'timestamp')) {
          try {
            (e.fn === 'duration' ? parseDuration : parseTimestamp)(arg);
          } catch (err) {
            if (!(err instanceof CelError)) throw err;
            issues.push({ at: e.args[0].at, message: `invalid ${e.fn} argument` });
          }
        }
        const format = inFormat || e.fn === 'format';
        if (e.target) walk(e.target, format);
        e.args.forEach((x) => walk(x, format));
        return;
      }
      case 'select':
      case 'has':
      case 'not':
        return walk(e.operand, inFormat);
      case 'index':
        walk(e.operand, inFormat);
        return walk(e.index, inFormat);
      case 'ternary':
        walk(e.cond, inFormat);
        walk(e.then, inFormat);
        return walk(e.else, inFormat);
      case 'and':
      case 'or':
        walk(e.left, inFormat);
        return walk(e.right, inFormat);
      case 'comprehension':
        walk(e.range, inFormat);
        if (e.filter) walk(e.filter, inFormat);
        return walk(e.body, inFormat);
      default:
    }
  };
  walk(ast, false);
  return issues;
}
