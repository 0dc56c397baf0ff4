// The simple JSONPath of additionalPrinterColumns and the scale
// subresource's paths: `.a.b`, `['a.b']`, `[0]`, `[*]` and filters
// `[?(@.type=="Ready")]`, as upstream restricts printer columns to simple
// paths and takes their first result.
import { isPlainObject } from '../api/object.js';

type Step = { key: string } | { index: number } | { all: true } | { filter: { path: string[]; equals: string } };

function parse(path: string): Step[] | undefined {
  const steps: Step[] = [];
  let rest = path.trim().replace(/^\{(.*)\}$/, '$1').replace(/^\$/, '');
  while (rest.length) {
    let m: RegExpMatchArray | null;
    if ((m = rest.match(/^\.([^.[\]]+)/))) steps.push({ key: m[1] });
    else if ((m = rest.match(/^\[\s*'([^']*)'\s*\]/) ?? rest.match(/^\[\s*"([^"]*)"\s*\]/))) steps.push({ key: m[1] });
    else if ((m = rest.match(/^\[(\d+)\]/))) steps.push({ index: Number(m[1]) });
    else if ((m = rest.match(/^\[\*\]/))) steps.push({ all: true });
    else if ((m = rest.match(/^\[\?\(@((?:\.[^.=!)\s]+)+)\s*==\s*(?:"([^"]*)"|'([^']*)')\)\]/))) {
      steps.push({ filter: { path: m[1].slice(1).split('.'), equals: m[2] ?? m[3] } });
    } else return undefined;
    rest = rest.slice(m[0].length);
  }
  return steps;
}

const parsed = new Map<string, Step[] | undefined>();

/** Whether `path` is a JSONPath this evaluator understands. */
export function isSimpleJsonPath(path: string): boolean {
  if (!parsed.has(path)) parsed.set(path, parse(path));
  return parsed.get(path) !== undefined;
}

/** All values `path` selects in `obj`, in document order. */
export function findResults(obj: unknown, path: string): unknown[] {
  if (!parsed.has(path)) parsed.set(path, parse(path));
  const steps = parsed.get(path);
  if (!steps) return [];
  let current: unknown[] = [obj];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if ('key' in step) {
        if (isPlainObject(v) && step.key in v) next.push(v[step.key]);
      } else if ('index' in step) {
        if (Array.isArray(v) && step.index < v.length) next.push(v[step.index]);
      } else if ('all' in step) {
        if (Array.isArray(v)) next.push(...v);
        else if (isPlainObject(v)) next.push(...Object.values(v));
      } else if (Array.isArray(v)) {
        for (const item of v) {
          let field: unknown = item;
          for (const k of step.filter.path) field = isPlainObject(field) ? field[k] : undefined;
          if (field !== undefined && String(field) === step.filter.equals) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}
