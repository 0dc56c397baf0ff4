// A `kubesvc up` cluster for an e2e test: a temporary data dir, the command
// started through the sources and waited for until its ready screen, a
// kubectl for its kubeconfig, and the teardown (SIGINT, then the data dir).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, waitForOutput, type CliProcess } from './cli.js';
import { kubectlFor, type Kubectl } from './kubectl.js';

export interface UpCluster {
  dataDir: string;
  up: CliProcess;
  kubectl: Kubectl;
  stop(): Promise<void>;
}

/**
 * `kubesvc up --data-dir <temp> --port 0 ...args`, ready; `name` prefixes the data dir. Egress is off
 * (--no-egress, ./cli.ts) unless `args` say otherwise; `env` reaches the command (egress's test-only stand-in).
 */
export async function startUp(name: string, args: string[] = [], opts: { dataDir?: string; env?: Record<string, string> } = {}): Promise<UpCluster> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `kubesvc-${name}-`));
  const up = startCli(['up', '--data-dir', dataDir, '--port', '0', ...args], opts.env);
  const kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
  const stop = async () => {
    up.child.kill('SIGINT');
    await up.exited;
    kubectl.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForOutput(up, /kubesvc is up/, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { dataDir, up, kubectl, stop };
}
