// A rule's fieldPath ("spec.foo", ".spec['a.b']") checked against the
// schema and normalized to the field path errors are reported at, as
// upstream's ValidFieldPath: named properties join with ".", keys of
// additionalProperties maps as "[key]".
import type { JSONSchemaProps } from '../types.js';

export function validFieldPath(jsonPath: string, schema: JSONSchemaProps): { path: string } | { error: string } {
  const tokens = jsonPath.match(/'(?:[^'\\]|\\.)*'|[.[\]]|[^.[\]']+/g) ?? [];
  let path = '';
  let s: JSONSchemaProps | undefined = schema;
  const step = (name: string): string | undefined => {
    if (s?.properties) {
      path = path ? `${path}.${name}` : name;
      s = s.properties[name];
      if (!s) return 'does not refer to a valid field';
    } else if (s?.additionalProperties !== undefined) {
      path = `${path}[${name}]`;
      s = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
    } else {
      return 'does not refer to a valid field';
    }
    return undefined;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '.') {
      const name = tokens[++i];
      if (name === undefined) return { error: 'unexpected end of JSON path' };
      const err = step(name);
      if (err) return { error: err };
    } else if (t === '[') {
      const q = tokens[++i];
      if (q === undefined) return { error: 'unexpected end of JSON path' };
      if (q.length < 2 || !q.startsWith("'") || !q.endsWith("'")) return { error: `expected single quoted string but got ${q}` };
      const unescaped = unescape(q.slice(1, -1));
      if (unescaped === undefined) return { error: 'invalid string literal' };
      const err = step(unescaped);
      if (err) return { error: err };
      if (tokens[++i] !== ']') return { error: `expected ] but got ${tokens[i] ?? ''}` };
    } else {
      return { error: `expected [ or . but got: ${t}` };
    }
  }
  return { path };
}

function unescape(s: string): string | undefined {
  let bad = false;
  const map: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', "'": "'", '\\': '\\' };
  const out = s.replace(/\\./g, (m) => {
    if (!(m[1] in map)) bad = true;
    return map[m[1]] ?? '';
  });
  return bad ? undefined : out;
}
