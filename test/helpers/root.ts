// Helpers for the tests that build real network namespaces (they need root).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never rejects (the exit code says how it went). */
export function run(file: string, args: string[], timeout = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Why this machine cannot run namespace tests, or false when it can. */
export function namespaceSkipReason(tools: string[] = []): string | false {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  for (const tool of tools) {
    if (!(process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, tool)))) return `needs ${tool}`;
  }
  return false;
}

/** `kubesvc exec --data-dir DIR [--node NODE] -- ARGS`: a command on a node's network (node-1 by default). */
export function onNode(dataDir: string, args: string[], node = 'node-1'): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'exec', '--data-dir', dataDir, '--node', node, '--', ...args]);
}

/** Distinct answers (FAILED for a failed request) to n curl requests made from a node in one shell. */
export async function answersFrom(dataDir: string, url: string, opts: { n?: number; node?: string; timeout?: number } = {}): Promise<string[]> {
  const { n = 12, node = 'node-1', timeout = 3 } = opts;
  const out = await onNode(dataDir, ['sh', '-c', `for i in $(seq ${n}); do curl -s -m ${timeout} ${url} || echo FAILED; echo; done`], node);
  return [...new Set(out.stdout.trim().split('\n').filter(Boolean))].sort();
}
