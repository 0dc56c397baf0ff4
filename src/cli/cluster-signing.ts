// kube-controller-manager's signing flags for csrsigning:
// --cluster-signing-cert-file, --cluster-signing-key-file (with --data-dir
// they default to DIR/pki/ca.crt and ca.key, as kubeadm sets them) and
// --cluster-signing-duration (8760h).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultSigningDurationMs } from '../controllers/certificates/signer.js';
import type { SigningCA } from '../controllers/certificates/types.js';
import { parseGoDuration } from '../util/go-duration.js';
import { UsageError } from './args.js';

export const clusterSigningFlags = {
  'cluster-signing-cert-file': { type: 'string' },
  'cluster-signing-key-file': { type: 'string' },
  'cluster-signing-duration': { type: 'string' },
} as const;

export const clusterSigningUsage = `csrsigning runs with --cluster-signing-cert-file and --cluster-signing-key-file (with --data-dir: DIR/pki/ca.crt and ca.key)
and signs for at most --cluster-signing-duration (8760h).`;

const read = (flag: string, path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
};

/** The signing CA the flags name, or none (csrsigning then does not run). */
export function clusterSigningOption(values: Record<string, unknown>, dataDir: string | undefined): { clusterSigning?: SigningCA } {
  const pki = dataDir ? join(resolve(dataDir), 'pki') : undefined;
  const certFile = (values['cluster-signing-cert-file'] as string | undefined) ?? (pki && join(pki, 'ca.crt'));
  const keyFile = (values['cluster-signing-key-file'] as string | undefined) ?? (pki && join(pki, 'ca.key'));
  if (!certFile || !keyFile) return {};
  let durationMs = defaultSigningDurationMs;
  const duration = values['cluster-signing-duration'] as string | undefined;
  if (duration) {
    try {
      durationMs = parseGoDuration(duration);
    } catch (e) {
      throw new UsageError(`--cluster-signing-duration: ${(e as Error).message}`);
    }
  }
  return { clusterSigning: { cert: read('cluster-signing-cert-file', certFile), key: read('cluster-signing-key-file', keyFile), durationMs } };
}
