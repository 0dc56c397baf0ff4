// CEL's lexical grammar (cel-spec langdef.md): identifiers, int/uint/
// double literals, quoted/triple-quoted/raw strings and bytes with their
// escapes, the operators and punctuation. Errors are thrown as
// CelSyntaxError with the offset they occur at.

export type TokenType = 'int' | 'uint' | 'double' | 'string' | 'bytes' | 'ident' | 'punct' | 'eof';

export interface Token {
  type: TokenType;
  text: string;
  at: number;
  /** The decoded value of a literal. */
  value?: bigint | number | string | Uint8Array;
}

export class CelSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const puncts = ['==', '!=', '<=', '>=', '&&', '||', '.?', '<', '>', '+', '-', '*', '/', '%', '!', '?', ':', '.', ',', '(', ')', '[', ']', '{', '}'];

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    const quoted = /^([rRbB]{0,2})(['"])/.exec(src.slice(i, i + 3));
    if (quoted && /^(|[rR]|[bB]|[rR][bB]|[bB][rR])$/.test(quoted[1])) {
      const prefix = quoted[1].toLowerCase();
      i += prefix.length;
      const { text, end } = readString(src, i, prefix.includes('r'));
      i = end;
      if (prefix.includes('b')) tokens.push({ type: 'bytes', text: src.slice(start, i), at: start, value: toBytes(text) });
      else tokens.push({ type: 'string', text: src.slice(start, i), at: start, value: text });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i])) i++;
      tokens.push({ type: 'ident', text: src.slice(start, i), at: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      tokens.push(readNumber(src, i));
      i = start + tokens[tokens.length - 1].text.length;
      continue;
    }
    const p = puncts.find((p) => src.startsWith(p, i));
    if (!p) throw new CelSyntaxError(`Syntax error: token recognition error at: '${c}'`, i);
    tokens.push({ type: 'punct', text: p, at: i });
    i += p.length;
  }
  tokens.push({ type: 'eof', text: '<EOF>', at: src.length });
  return tokens;
}

function readNumber(src: string, start: number): Token {
  const rest = src.slice(start);
  let m = /^0[xX][0-9a-fA-F]+[uU]?/.exec(rest);
  if (m) {
    const unsigned = /[uU]$/.test(m[0]);
    const v = BigInt(m[0].replace(/[uU]$/, ''));
    return { type: unsigned ? 'uint' : 'int', text: m[0], at: start, value: v };
  }
  m = /^(\d*\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+\.\d*(?![A-Za-z_])([eE][+-]?\d+)?)/.exec(rest);
  if (m && (m[0].includes('.') || /[eE]/.test(m[0]))) {
    // "1." alone is not a double in CEL: "1.size()" is a call on 1.
    if (/^\d+\.$/.test(m[0])) return { type: 'int', text: m[0].slice(0, -1), at: start, value: BigInt(m[0].slice(0, -1)) };
    return { type: 'double', text: m[0], at: start, value: Number(m[0]) };
  }
  m = /^\d+[uU]?/.exec(rest)!;
  const unsigned = /[uU]$/.test(m[0]);
  return { type: unsigned ? 'uint' : 'int', text: m[0], at: start, value: BigInt(m[0].replace(/[uU]$/, '')) };
}

function readString(src: string, i: number, raw: boolean): { text: string; end: number } {
  const q = src[i];
  const triple = src.startsWith(q.repeat(3), i);
  const delim = triple ? q.repeat(3) : q;
  let j = i + delim.length;
  let out = '';
  for (;;) {
    if (j >= src.length) throw new CelSyntaxError(`Syntax error: token recognition error at: '${src.slice(i - 0)}'`, i);
    if (src.startsWith(delim, j)) return { text: out, end: j + delim.length };
    const c = src[j];
    if (!triple && (c === '\n' || c === '\r')) throw new CelSyntaxError(`Syntax error: token recognition error at: '${src.slice(i, j + 1)}'`, i);
    if (c === '\\' && !raw) {
      const { value, length } = escape(src, j);
      out += value;
      j += length;
      continue;
    }
    if (c === '\\' && raw && src[j + 1] === q) {
      out += c + q;
      j += 2;
      continue;
    }
    out += c;
    j++;
  }
}

function escape(src: string, j: number): { value: string; length: number } {
  const e = src[j + 1];
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '`': '`', '?': '?' };
  if (e in simple) return { value: simple[e], length: 2 };
  const hex = (n: number) => {
    const h = src.slice(j + 2, j + 2 + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw new CelSyntaxError(`Syntax error: token recognition error at: '${src.slice(j, j + 2 + n)}'`, j);
    return { value: String.fromCodePoint(parseInt(h, 16)), length: 2 + n };
  };
  if (e === 'x' || e === 'X') return hex(2);
  if (e === 'u') return hex(4);
  if (e === 'U') return hex(8);
  if (/[0-3]/.test(e) && /^[0-7]{2}$/.test(src.slice(j + 2, j + 4))) return { value: String.fromCodePoint(parseInt(src.slice(j + 1, j + 4), 8)), length: 4 };
  throw new CelSyntaxError(`Syntax error: token recognition error at: '\\${e ?? ''}'`, j);
}

/** A bytes literal's text as its UTF-8 encoding. */
function toBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
