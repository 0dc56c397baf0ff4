// JSON text into values the way kube-apiserver's decoder (Go's encoding/json,
// as sigs.k8s.io/json patches it) reads a request body, keeping what
// JSON.parse throws away and a typed decode needs:
// - keys that appear twice in one object, with their field path (the later
//   value wins, as in Go; strict field validation reports them);
// - number literals that a JS number does not keep as written (1.0, 1e3,
//   integers past 2^53), so an integer field can refuse them as Go does;
// - nesting bounded at Go's 10,000 levels, so no later walk over the value
//   can exhaust the stack.
// Invalid UTF-8 was already replaced by U+FFFD when the body became text;
// lone surrogates from \u escapes are replaced the same way, as Go does.

export const MAX_JSON_DEPTH = 10_000;

export class JsonSyntaxError extends Error {}

/** Number literals kept as written where the JS number differs: container → key → literal. */
export type NumberLiterals = WeakMap<object, Map<string | number, string>>;

export interface ParsedJson {
  value: unknown;
  /** Field paths (`spec.ports[0].name`) of keys seen twice in one object, in document order. */
  duplicates: string[];
  literals: NumberLiterals;
}

/** An object or array being read. Paths are built only for a duplicate's report. */
interface Frame {
  array: unknown[] | undefined;
  object: Record<string, unknown> | undefined;
  /** The key (or index) under which this container sits in its parent. */
  at: string | number;
  parent: Frame | undefined;
  /** The current member's key, for objects. */
  key: string;
  started: boolean;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

const QUOTE = 34;
const BACKSLASH = 92;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** The field path of `key` in `frame`, as strict decoding names it: `spec.ports[0].name`. */
function pathOf(frame: Frame, key: string | number): string {
  const steps: (string | number)[] = [key];
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) steps.push(f.at);
  let out = '';
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]!;
    out += typeof step === 'number' ? `[${step}]` : out ? `.${step}` : step;
  }
  return out;
}

/** What encoding/json calls a JSON value in its errors: string, number, bool, array, object. */
export function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return Array.isArray(v) ? 'array' : 'object';
}

/** Parses JSON text; throws JsonSyntaxError with Go's wording for the common faults. */
export function parseJson(text: string): ParsedJson {
  const duplicates: string[] = [];
  const literals: NumberLiterals = new WeakMap();
  const n = text.length;
  let pos = 0;
  let root: unknown;
  let top: Frame | undefined;
  let depth = 0;

  const fail = (what: string): never => {
    throw new JsonSyntaxError(pos >= n ? 'unexpected end of JSON input' : `invalid character ${quoteChar(text[pos]!)} ${what}`);
  };
  const skipSpace = () => {
    while (pos < n && isSpace(text.charCodeAt(pos))) pos++;
  };

  /** Stores a finished value into the innermost container (or as the root). */
  const put = (value: unknown, literal?: string) => {
    if (!top) {
      root = value;
      return;
    }
    let key: string | number;
    if (top.array) {
      key = top.array.length;
      top.array.push(value);
    } else {
      key = top.key;
      const obj = top.object!;
      if (Object.hasOwn(obj, key)) duplicates.push(pathOf(top, key));
      // A "__proto__" key is data, as JSON.parse makes it, not the prototype.
      if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      else obj[key] = value;
    }
    if (literal !== undefined) {
      const container = (top.array ?? top.object)!;
      let m = literals.get(container);
      if (!m) literals.set(container, (m = new Map()));
      m.set(key, literal);
    }
  };

  const readString = (): string => {
    pos++; // the opening quote
    let out = '';
    let from = pos;
    for (;;) {
      if (pos >= n) fail('');
      const c = text.charCodeAt(pos);
      if (c === QUOTE) {
        out += text.slice(from, pos);
        pos++;
        return out;
      }
      if (c < 0x20) fail('in string literal');
      if (c !== BACKSLASH) {
        pos++;
        continue;
      }
      out += text.slice(from, pos);
      const e = text[pos + 1];
      pos += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const unit = hex4(text, pos);
          if (unit < 0) fail('in \\u hexadecimal character escape');
          pos += 4;
          if (unit >= 0xd800 && unit < 0xdc00 && text.charCodeAt(pos) === BACKSLASH && text[pos + 1] === 'u') {
            const low = hex4(text, pos + 2);
            if (low >= 0xdc00 && low < 0xe000) {
              out += String.fromCharCode(unit, low);
              pos += 6;
              break;
            }
          }
          out += unit >= 0xd800 && unit < 0xe000 ? '\ufffd' : String.fromCharCode(unit);
          break;
        }
        default:
          pos--;
          fail('in string escape code');
      }
      from = pos;
    }
  };

  const open = (isArray: boolean) => {
    if (++depth > MAX_JSON_DEPTH) throw new JsonSyntaxError('exceeded max depth');
    const value: unknown[] | Record<string, unknown> = isArray ? [] : {};
    const at = top ? (top.array ? top.array.length : top.key) : '';
    put(value);
    top = { array: isArray ? (value as unknown[]) : undefined, object: isArray ? undefined : (value as Record<string, unknown>), at, parent: top, key: '', started: false };
    pos++;
  };

  const readValue = () => {
    skipSpace();
    const c = text.charCodeAt(pos);
    if (c === 123 /* { */) return open(false);
    if (c === 91 /* [ */) return open(true);
    if (c === QUOTE) return put(readString());
    if (c === 116 /* t */ && text.startsWith('true', pos)) return (pos += 4), put(true);
    if (c === 102 /* f */ && text.startsWith('false', pos)) return (pos += 5), put(false);
    if (c === 110 /* n */ && text.startsWith('null', pos)) return (pos += 4), put(null);
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m) return fail('looking for beginning of value');
    pos = NUMBER.lastIndex;
    const literal = m[0];
    const num = Number(literal);
    put(num, String(num) === literal ? undefined : literal);
  };

  readValue();
  while (top) {
    skipSpace();
    const close = top.array ? 93 /* ] */ : 125; /* } */
    const c = text.charCodeAt(pos);
    if (c === close) {
      pos++;
      top = top.parent;
      depth--;
      continue;
    }
    if (top.started) {
      if (c !== 44 /* , */) fail(top.array ? 'after array element' : 'after object key:value pair');
      pos++;
    }
    top.started = true;
    if (top.object) {
      skipSpace();
      if (text.charCodeAt(pos) !== QUOTE) fail('looking for beginning of object key string');
      top.key = readString();
      skipSpace();
      if (text.charCodeAt(pos) !== 58 /* : */) fail('after object key');
      pos++;
    }
    readValue();
  }
  skipSpace();
  if (pos < n) fail('after top-level value');
  return { value: root, duplicates, literals };
}

function hex4(text: string, at: number): number {
  const h = text.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(h) ? parseInt(h, 16) : -1;
}

const goShortEscapes: Record<string, string> = { '\x07': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v', '\\': '\\' };

/** One character as strconv.Quote escapes it (without quotes): '\n', '\x01', '\u0081', or itself. */
function escapeGo(c: string): string {
  if (goShortEscapes[c]) return `\\${goShortEscapes[c]}`;
  const code = c.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
  // What Go's unicode.IsPrint refuses: controls, format characters and spaces other than ' '.
  if (c !== ' ' && /^[\p{C}\p{Z}]$/u.test(c)) return code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  return c;
}

/** A character as Go's scanner quotes it in errors: strconv.Quote's escapes between single quotes ('x', '\n', '\x01', '\u0081'). */
function quoteChar(c: string): string {
  return c === "'" ? "'\\''" : `'${escapeGo(c)}'`;
}

/** A string as Go's strconv.Quote (and %q) writes it: "bell\a", "tab\t", "\x7f". */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) out += c === '"' ? '\\"' : escapeGo(c);
  return `${out}"`;
}
