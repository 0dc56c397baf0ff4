// A recursive-descent parser of CEL's grammar (cel-spec langdef.md) with
// the optional syntax (`?.`, `[?`, `?:` entries) and the macros expanded
// into their own nodes. Syntax errors carry the offset of the offending
// token, phrased as cel-go's ANTLR parser phrases the common ones.
import type { Expr } from './ast.js';
import { CelSyntaxError, tokenize, type Token } from './lexer.js';
import { UInt } from './values.js';

const reserved = new Set(['as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);
const relops = new Set(['<', '<=', '>=', '>', '==', '!=', 'in']);
const MAX_DEPTH = 250;

const opNames: Record<string, string> = {
  '<': '_<_',
  '<=': '_<=_',
  '>=': '_>=_',
  '>': '_>_',
  '==': '_==_',
  '!=': '_!=_',
  in: '@in',
  '+': '_+_',
  '-': '_-_',
  '*': '_*_',
  '/': '_/_',
  '%': '_%_',
};

export function parse(src: string): Expr {
  return new Parser(src).parseAll();
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;

  constructor(src: string) {
    this.tokens = tokenize(src);
  }

  private get tok(): Token {
    return this.tokens[this.pos];
  }
  private is(text: string): boolean {
    const t = this.tok;
    return (t.type === 'punct' || t.type === 'ident') && t.text === text;
  }
  private accept(text: string): Token | undefined {
    if (!this.is(text)) return undefined;
    return this.tokens[this.pos++];
  }
  private expect(text: string): Token {
    const t = this.accept(text);
    if (t) return t;
    if (this.tok.type === 'eof') throw new CelSyntaxError(`Syntax error: missing '${text}' at '<EOF>'`, this.tok.at);
    throw this.mismatched(`'${text}'`);
  }
  private mismatched(expecting: string): CelSyntaxError {
    const t = this.tok;
    return new CelSyntaxError(`Syntax error: mismatched input '${t.text}' expecting ${expecting}`, t.at);
  }

  parseAll(): Expr {
    const e = this.expr();
    if (this.tok.type !== 'eof') throw new CelSyntaxError(`Syntax error: extraneous input '${this.tok.text}' expecting <EOF>`, this.tok.at);
    return e;
  }

  private expr(): Expr {
    if (++this.depth > MAX_DEPTH) throw new CelSyntaxError('expression recursion limit exceeded', this.tok.at);
    try {
      const cond = this.or();
      const q = this.accept('?');
      if (!q) return cond;
      const then = this.or();
      this.expect(':');
      const otherwise = this.expr();
      return { kind: 'ternary', at: q.at, cond, then, else: otherwise };
    } finally {
      this.depth--;
    }
  }

  private or(): Expr {
    let left = this.and();
    for (let t; (t = this.accept('||')); ) left = { kind: 'or', at: t.at, left, right: this.and() };
    return left;
  }

  private and(): Expr {
    let left = this.relation();
    for (let t; (t = this.accept('&&')); ) left = { kind: 'and', at: t.at, left, right: this.relation() };
    return left;
  }

  private relation(): Expr {
    let left = this.addition();
    while (relops.has(this.tok.text) && (this.tok.type === 'punct' || this.tok.text === 'in')) {
      const t = this.tokens[this.pos++];
      left = { kind: 'call', at: t.at, fn: opNames[t.text], args: [left, this.addition()] };
    }
    return left;
  }

  private addition(): Expr {
    let left = this.multiplication();
    while (this.tok.type === 'punct' && (this.tok.text === '+' || this.tok.text === '-')) {
      const t = this.tokens[this.pos++];
      left = { kind: 'call', at: t.at, fn: opNames[t.text], args: [left, this.multiplication()] };
    }
    return left;
  }

  private multiplication(): Expr {
    let left = this.unary();
    while (this.tok.type === 'punct' && ['*', '/', '%'].includes(this.tok.text)) {
      const t = this.tokens[this.pos++];
      left = { kind: 'call', at: t.at, fn: opNames[t.text], args: [left, this.unary()] };
    }
    return left;
  }

  private unary(): Expr {
    const t = this.tok;
    if (this.accept('!')) {
      const operand = this.unary();
      return { kind: 'not', at: t.at, operand };
    }
    if (this.accept('-')) {
      // A negated number literal is a literal, so that -9223372036854775808 is an int.
      const n = this.tok;
      if ((n.type === 'int' || n.type === 'double') && !this.isMemberAfter(this.pos + 1)) {
        this.pos++;
        if (n.type === 'int') return this.intLiteral(-(n.value as bigint), t.at);
        return { kind: 'literal', at: t.at, value: -(n.value as number) };
      }
      return { kind: 'call', at: t.at, fn: '-_', args: [this.unary()] };
    }
    return this.member();
  }

  private isMemberAfter(i: number): boolean {
    const t = this.tokens[i];
    return t.type === 'punct' && (t.text === '.' || t.text === '[' || t.text === '.?');
  }

  private intLiteral(v: bigint, at: number): Expr {
    if (v > (1n << 63n) - 1n || v < -(1n << 63n)) throw new CelSyntaxError('invalid int literal', at);
    return { kind: 'literal', at, value: v };
  }

  private member(): Expr {
    let e = this.primary();
    for (;;) {
      const t = this.tok;
      if (this.accept('.') || this.accept('.?')) {
        const id = this.tok;
        if (id.type !== 'ident') throw this.mismatched('IDENTIFIER');
        this.pos++;
        if (t.text === '.?') {
          e = { kind: 'select', at: t.at, operand: e, field: id.text, optional: true };
          continue;
        }
        const open = this.accept('(');
        if (open) {
          const args = this.args(')');
          e = this.receiverCall(id.text, e, args, open.at);
        } else {
          e = { kind: 'select', at: t.at, operand: e, field: id.text };
        }
      } else if (this.accept('[')) {
        const optional = !!this.accept('?');
        const index = this.expr();
        this.expect(']');
        e = { kind: 'index', at: t.at, operand: e, index, optional };
      } else {
        return e;
      }
    }
  }

  private args(close: string): Expr[] {
    const args: Expr[] = [];
    if (this.accept(close)) return args;
    for (;;) {
      args.push(this.expr());
      if (this.accept(close)) return args;
      if (!this.accept(',')) throw this.mismatched(`{',', '${close}'}`);
    }
  }

  private receiverCall(fn: string, target: Expr, args: Expr[], at: number): Expr {
    const macro = (['all', 'exists', 'exists_one', 'filter', 'map', 'optMap', 'optFlatMap'] as const).find((m) => m === fn);
    const arity = fn === 'map' ? [2, 3] : [2];
    if (macro && arity.includes(args.length)) {
      const v = args[0];
      if (v.kind !== 'ident') throw new CelSyntaxError('argument must be a simple name', v.at);
      if (args.length === 3) return { kind: 'comprehension', at, macro, range: target, iterVar: v.name, filter: args[1], body: args[2] };
      return { kind: 'comprehension', at, macro, range: target, iterVar: v.name, body: args[1] };
    }
    return { kind: 'call', at, fn, target, args };
  }

  private primary(): Expr {
    const t = this.tok;
    switch (t.type) {
      case 'int':
        this.pos++;
        return this.intLiteral(t.value as bigint, t.at);
      case 'uint':
        this.pos++;
        if ((t.value as bigint) >= 1n << 64n) throw new CelSyntaxError('invalid uint literal', t.at);
        return { kind: 'literal', at: t.at, value: new UInt(t.value as bigint) };
      case 'double':
      case 'string':
      case 'bytes':
        this.pos++;
        return { kind: 'literal', at: t.at, value: t.value as number | string | Uint8Array };
      case 'ident':
        return this.identOrCall();
      case 'eof':
        throw this.mismatched("{'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}");
      default:
    }
    if (this.accept('(')) {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (this.accept('[')) {
      const items: Expr[] = [];
      const optionalItems: boolean[] = [];
      while (!this.accept(']')) {
        optionalItems.push(!!this.accept('?'));
        items.push(this.expr());
        if (!this.accept(',') && !this.is(']')) throw this.mismatched(`{',', ']'}`);
      }
      return { kind: 'list', at: t.at, items, optionalItems };
    }
    if (this.accept('{')) {
      const entries: { key: Expr; value: Expr; optional: boolean }[] = [];
      while (!this.accept('}')) {
        const optional = !!this.accept('?');
        const key = this.expr();
        this.expect(':');
        entries.push({ key, optional, value: this.expr() });
        if (!this.accept(',') && !this.is('}')) throw this.mismatched(`{',', '}'}`);
      }
      return { kind: 'map', at: t.at, entries };
    }
    if (this.is('.') && this.tokens[this.pos + 1]?.type === 'ident') {
      this.pos++;
      return this.identOrCall();
    }
    throw new CelSyntaxError(`Syntax error: mismatched input '${t.text}' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`, t.at);
  }

  private identOrCall(): Expr {
    const t = this.tokens[this.pos++];
    if (t.text === 'true' || t.text === 'false') return { kind: 'literal', at: t.at, value: t.text === 'true' };
    if (t.text === 'null') return { kind: 'literal', at: t.at, value: null };
    if (reserved.has(t.text) || t.text === 'in') throw new CelSyntaxError(`reserved identifier: ${t.text}`, t.at);
    const open = this.accept('(');
    if (!open) return { kind: 'ident', at: t.at, name: t.text };
    const args = this.args(')');
    if (t.text === 'has') {
      const a = args[0];
      if (args.length !== 1 || a.kind !== 'select' || a.optional) throw new CelSyntaxError('invalid argument to has() macro', a?.at ?? open.at);
      return { kind: 'has', at: open.at, operand: a.operand, field: a.field };
    }
    return { kind: 'call', at: open.at, fn: t.text, args };
  }
}
