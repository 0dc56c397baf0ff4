// Runs every test file with node's test runner (Node 20 has no --test globs).
// Unit tests run first; tests needing root or network namespaces skip themselves
// with a reason when the machine cannot provide them.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return /\.test\.ts$/.test(name) ? [path] : [];
  });
}

const only = process.argv.slice(2);
const files = (only.length ? only : find('test').concat(find('src').filter((f) => f.endsWith('.test.ts')))).sort();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
