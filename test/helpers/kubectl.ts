// Runs the real kubectl against a test server, with a fresh discovery cache.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  (args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<KubectlResult>;
  /** Fails the test with kubectl's stderr unless it exits 0. */
  ok(args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<string>;
  cleanup(): void;
}

export function kubectlFor(kubeconfig: string): Kubectl {
  const cacheDir = mkdtempSync(join(tmpdir(), 'kubesvc-kubectl-cache-'));
  const run = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
    new Promise<KubectlResult>((resolve) => {
      const child = execFile(
        'kubectl',
        ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args],
        { env: { ...process.env, ...opts.env }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      else child.stdin!.end();
    });
  const fn = run as Kubectl;
  fn.ok = async (args, opts) => {
    const r = await run(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  };
  fn.cleanup = () => rmSync(cacheDir, { recursive: true, force: true });
  return fn;
}
