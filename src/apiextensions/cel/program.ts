// Compiling an expression (parse, type check, then the AST validators
// Kubernetes enables) into a program, with the issues rendered as
// cel-go's Issues.String() renders them:
//   ERROR: <input>:1:6: undeclared reference to 'foo' (in container '')
//    | self.foo == 1
//    | .....^
import { visit, type Expr } from './ast.js';
import { check } from './checker.js';
import { Evaluation } from './evaluator.js';
import type { Overload } from './functions.js';
import { CelSyntaxError } from './lexer.js';
import { parse } from './parser.js';
import type { CelType } from './types.js';
import type { CelValue } from './values.js';
import { validateAst } from './validators.js';

/** The per-call cost limit (celconfig.PerCallLimit). */
export const PER_CALL_LIMIT = 1_000_000;

export interface Program {
  type: CelType;
  /** Whether the expression references the variable named (e.g. oldSelf). */
  references(name: string): boolean;
  /** The value and the cost of evaluating it; throws CelError on runtime errors. */
  eval(vars: Map<string, CelValue>, limit?: number): { value: CelValue; cost: number };
}

export type Compiled = { program: Program; issues?: undefined } | { program?: undefined; issues: string };

export function compile(src: string, vars: Map<string, CelType>): Compiled {
  let ast: Expr;
  try {
    ast = parse(src);
  } catch (e) {
    if (!(e instanceof CelSyntaxError)) throw e;
    return { issues: render(src, [{ at: e.at, message: e.message }]) };
  }
  const checked = check(ast, vars);
  if (checked.issues.length) return { issues: render(src, checked.issues) };
  const issues = validateAst(ast, checked.types).sort((a, b) => a.at - b.at);
  if (issues.length) return { issues: render(src, issues) };
  return { program: new CompiledProgram(ast, checked.type, checked.overloads) };
}

class CompiledProgram implements Program {
  private readonly idents = new Set<string>();
  constructor(
    private readonly ast: Expr,
    readonly type: CelType,
    private readonly overloads: Map<Expr, Overload[]>,
  ) {
    visit(ast, (e) => {
      if (e.kind === 'ident') this.idents.add(e.name);
    });
  }
  references(name: string): boolean {
    return this.idents.has(name);
  }
  eval(vars: Map<string, CelValue>, limit = PER_CALL_LIMIT): { value: CelValue; cost: number } {
    const ev = new Evaluation(this.overloads, limit);
    const value = ev.eval(this.ast, vars);
    return { value, cost: ev.cost };
  }
}

function render(src: string, issues: { at: number; message: string }[]): string {
  return issues
    .map(({ at, message }) => {
      const before = src.slice(0, at);
      const line = before.split('\n').length;
      const lineStart = before.lastIndexOf('\n') + 1;
      const column = [...src.slice(lineStart, at)].length;
      const text = src.slice(lineStart).split('\n')[0];
      return `ERROR: <input>:${line}:${column + 1}: ${message}\n | ${text}\n | ${'.'.repeat(column)}^`;
    })
    .join('\n');
}
