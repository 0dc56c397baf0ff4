// The parsed form of a CEL expression. Every node keeps the offset of the
// token cel-go attaches it to (an operator, the "." of a selection, the "("
// of a call), which the error messages point at. The macros (has, all,
// exists, exists_one, map, filter, optMap, optFlatMap) are nodes of their
// own rather than expanded comprehensions.
import type { CelValue } from './values.js';

export type Expr =
  | { kind: 'literal'; at: number; value: CelValue }
  | { kind: 'ident'; at: number; name: string }
  | { kind: 'select'; at: number; operand: Expr; field: string; optional?: boolean }
  | { kind: 'has'; at: number; operand: Expr; field: string }
  | { kind: 'call'; at: number; fn: string; target?: Expr; args: Expr[] }
  | { kind: 'index'; at: number; operand: Expr; index: Expr; optional?: boolean }
  | { kind: 'list'; at: number; items: Expr[]; optionalItems: boolean[] }
  | { kind: 'map'; at: number; entries: { key: Expr; value: Expr; optional: boolean }[] }
  | { kind: 'ternary'; at: number; cond: Expr; then: Expr; else: Expr }
  | { kind: 'and' | 'or'; at: number; left: Expr; right: Expr }
  | { kind: 'not'; at: number; operand: Expr }
  | {
      kind: 'comprehension';
      at: number;
      macro: 'all' | 'exists' | 'exists_one' | 'map' | 'filter' | 'optMap' | 'optFlatMap';
      range: Expr;
      iterVar: string;
      /** The predicate (all, exists, exists_one, filter) or the transform (map, optMap, optFlatMap). */
      body: Expr;
      /** map(x, filter, transform): the filter. */
      filter?: Expr;
    };

/** Walks every node of an expression, parents first. */
export function visit(e: Expr, f: (e: Expr) => void): void {
  f(e);
  switch (e.kind) {
    case 'select':
    case 'has':
    case 'not':
      visit(e.operand, f);
      break;
    case 'call':
      if (e.target) visit(e.target, f);
      e.args.forEach((a) => visit(a, f));
      break;
    case 'index':
      visit(e.operand, f);
      visit(e.index, f);
      break;
    case 'list':
      e.items.forEach((a) => visit(a, f));
      break;
    case 'map':
      e.entries.forEach((en) => (visit(en.key, f), visit(en.value, f)));
      break;
    case 'ternary':
      visit(e.cond, f);
      visit(e.then, f);
      visit(e.else, f);
      break;
    case 'and':
    case 'or':
      visit(e.left, f);
      visit(e.right, f);
      break;
    case 'comprehension':
      visit(e.range, f);
      if (e.filter) visit(e.filter, f);
      visit(e.body, f);
      break;
    default:
  }
}
