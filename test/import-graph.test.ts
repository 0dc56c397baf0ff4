// The layout stays honest: the import graph of src/ has no cycle, and no
// folder below the two programs (src/cli, the kubesvc command; src/images,
// the built-in images' entry) imports either of them back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = join(import.meta.dirname, '../src');
const programs = ['cli', 'images'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Each file's relative imports (static, re-exports, dynamic, type-only alike), as src-relative paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const specifier = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    const targets = [...text.matchAll(specifier)].map((m) => relative(src, resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
    graph.set(relative(src, file), [...new Set(targets)]);
  }
  return graph;
}

/** The strongly connected components with more than one file (or a file importing itself): Tarjan's algorithm. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!order.has(v)) visit(v);
  return found;
}

test('the import graph of src/ has no cycle', () => {
  assert.deepEqual(cycles(importGraph()), []);
});

test('no folder below the programs imports src/cli or src/images', () => {
  const wrong: string[] = [];
  for (const [file, targets] of importGraph()) {
    const folder = file.split('/')[0]!;
    if (programs.includes(folder)) continue;
    for (const t of targets) if (programs.includes(t.split('/')[0]!)) wrong.push(`${file} → ${t}`);
  }
  assert.deepEqual(wrong, []);
});

test('the check sees imports: the graph names the files every program starts from', () => {
  const graph = importGraph();
  assert.ok(graph.get('cli/main.ts')!.includes('cli/args.ts'));
  assert.ok(graph.get('images/main.ts')!.includes('images/agnhost.ts'), 'dynamic imports count');
});
