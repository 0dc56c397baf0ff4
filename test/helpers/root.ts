// Helpers for the tests that build real network namespaces (they need root).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { debianPackageOf, onPath } from '../../src/host/tools.js';
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

/** The Debian package of each program a test runs that the nodes do not (those are in src/host/tools.ts). */
const testOnlyPackages: Record<string, string> = {
  'iptables-save': 'iptables',
  'iptables-nft': 'iptables',
  'iptables-legacy': 'iptables',
  script: 'bsdutils',
  kubectl: 'kubectl, from the Kubernetes project',
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  chromium: 'chromium',
};

function packageOf(tool: string): string {
  return testOnlyPackages[tool] ?? debianPackageOf(tool) ?? tool;
}

/**
 * Why this machine cannot run a test that needs root, network namespaces and
 * `tools`, or false when it can. Under CI (CI=true) the machine must: a
 * missing tool fails the test file with its package's name instead.
 */
export function namespaceSkipReason(tools: string[] = []): string | false {
  if (process.platform !== 'linux') return orFail('needs Linux network namespaces');
  if (process.getuid?.() !== 0) return orFail('needs root to create network namespaces');
  return toolSkipReason(tools);
}

/** Why a test that runs `tools` cannot run here, or false; under CI a missing tool fails it, naming the package. */
export function toolSkipReason(tools: string[]): string | false {
  const missing = tools.find((tool) => !onPath(tool));
  return missing ? orFail(`needs ${missing} (Debian package ${packageOf(missing)})`) : false;
}

/** Why a test that needs `what` (from Debian package `debianPackage`) cannot run here; under CI it fails instead. */
export function missingPackageReason(what: string, debianPackage: string): string {
  return orFail(`needs ${what} (Debian package ${debianPackage})`);
}

function orFail(why: string): string {
  if (process.env.CI === 'true') throw new Error(`${why}: .ci/run installs the packages the tests use`);
  return why;
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
