// Label and field selectors: apimachinery's string syntax, parsed once and
// matched against plain maps.

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!' }
  | { key: string; op: '=' | '!='; values: [string] }
  | { key: string; op: 'gt' | 'lt'; values: [string] };

export type Selector = Requirement[];

export class SelectorParseError extends Error {}

/** Parses `a=b,c!=d,e in (x,y),!f,g` (labels.Parse). Empty string selects everything. */
export function parseLabelSelector(text: string): Selector {
  const reqs: Selector = [];
  let i = 0;
  const s = text;
  const skipSpace = () => {
    while (i < s.length && s[i] === ' ') i++;
  };
  const readKey = () => {
    skipSpace();
    const start = i;
    while (i < s.length && /[A-Za-z0-9_.\-/]/.test(s[i])) i++;
    return s.slice(start, i);
  };
  const readValue = () => {
    skipSpace();
    const start = i;
    while (i < s.length && /[A-Za-z0-9_.-]/.test(s[i])) i++;
    return s.slice(start, i);
  };
  skipSpace();
  if (i >= s.length) return reqs;
  for (;;) {
    skipSpace();
    if (s[i] === '!') {
      i++;
      const key = readKey();
      if (!key) throw new SelectorParseError(`unable to parse requirement: found '${s.slice(i)}', expected: identifier`);
      reqs.push({ key, op: '!' });
    } else {
      const key = readKey();
      if (!key) throw new SelectorParseError(`unable to parse requirement: found '${s.slice(i, i + 1)}', expected: identifier`);
      skipSpace();
      if (s.startsWith('==', i)) {
        i += 2;
        reqs.push({ key, op: '=', values: [readValue()] });
      } else if (s.startsWith('!=', i)) {
        i += 2;
        reqs.push({ key, op: '!=', values: [readValue()] });
      } else if (s[i] === '=') {
        i += 1;
        reqs.push({ key, op: '=', values: [readValue()] });
      } else if (s[i] === '>' || s[i] === '<') {
        const op = s[i] === '>' ? 'gt' : 'lt';
        i += 1;
        const v = readValue();
        if (!/^-?\d+$/.test(v)) throw new SelectorParseError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
        reqs.push({ key, op, values: [v] });
      } else if (/^(notin|in)\s*\(/.test(s.slice(i))) {
        const op = s.startsWith('notin', i) ? 'notin' : 'in';
        i += op.length;
        skipSpace();
        i++; // '('
        const values: string[] = [];
        for (;;) {
          values.push(readValue());
          skipSpace();
          if (s[i] === ',') {
            i++;
            continue;
          }
          if (s[i] === ')') {
            i++;
            break;
          }
          throw new SelectorParseError(`unable to parse requirement: found '${s.slice(i)}', expected: ',', ')' or identifier`);
        }
        reqs.push({ key, op, values });
      } else if (i >= s.length || s[i] === ',') {
        reqs.push({ key, op: 'exists' });
      } else {
        throw new SelectorParseError(`unable to parse requirement: found '${s.slice(i)}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    skipSpace();
    if (i >= s.length) break;
    if (s[i] !== ',') throw new SelectorParseError(`found '${s[i]}', expected: ',' or 'end of string'`);
    i++;
  }
  return reqs;
}

export function matchesSelector(selector: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v);
      case 'notin':
        return !has || !r.values.includes(v);
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'gt':
        return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0]);
      case 'lt':
        return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0]);
    }
  });
}

/** metav1.LabelSelector (matchLabels + matchExpressions) as a Selector. */
export function fromLabelSelector(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): Selector {
  if (!sel) return [];
  const reqs: Selector = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, op: '=' as const, values: [v] as [string] }));
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In') reqs.push({ key: e.key, op: 'in', values: e.values ?? [] });
    else if (op === 'NotIn') reqs.push({ key: e.key, op: 'notin', values: e.values ?? [] });
    else if (op === 'Exists') reqs.push({ key: e.key, op: 'exists' });
    else if (op === 'DoesNotExist') reqs.push({ key: e.key, op: '!' });
  }
  return reqs;
}

/** The `kubectl get -o wide` rendering of a LabelSelector (metav1.FormatLabelSelector). */
export function selectorString(selector: Selector): string {
  if (!selector.length) return '<none>';
  return selector
    .map((r) => {
      switch (r.op) {
        case '=':
          return `${r.key}=${r.values[0]}`;
        case '!=':
          return `${r.key}!=${r.values[0]}`;
        case 'in':
        case 'notin':
          return `${r.key} ${r.op} (${r.values.join(',')})`;
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
        case 'gt':
          return `${r.key}>${r.values[0]}`;
        case 'lt':
          return `${r.key}<${r.values[0]}`;
      }
    })
    .join(',');
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Parses `metadata.name=x,status.phase!=Running` (fields.ParseSelector). */
export function parseFieldSelector(text: string): FieldRequirement[] {
  if (!text.trim()) return [];
  return splitUnescaped(text, ',').map((term) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term.trim());
    if (!m) throw new SelectorParseError(`invalid selector: '${text}'; can't understand '${term}'`);
    return { field: m[1].trim(), op: m[2] === '!=' ? '!=' : '=', value: unescapeFieldValue(m[3].trim()) };
  });
}

function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
    } else if (s[i] === sep) {
      parts.push(cur);
      cur = '';
    } else cur += s[i];
  }
  parts.push(cur);
  return parts;
}

function unescapeFieldValue(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

export function matchesFields(reqs: FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => {
    const v = fields[r.field] ?? '';
    return r.op === '=' ? v === r.value : v !== r.value;
  });
}
