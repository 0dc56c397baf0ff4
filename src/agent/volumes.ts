// A pod's volumes, set up as the kubelet's volume manager does: hostPath
// checked (and made for the ...OrCreate types), emptyDir made, and the
// projections (configMap, secret, downwardAPI, projected) written with the
// atomic writer under <pod>/volumes/<name>. Projections are set up again on
// every resync of a running pod, so a changed ConfigMap or Secret, a
// refreshed token or new labels reach the container through its bind mount
// of the volume directory (a subPath mount pins the file it was made from,
// so it keeps the old content, as upstream).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../util/errors.js';
import { writeAtomic } from './atomic-writer.js';
import { volumePayload, type PayloadContext, type Volume } from './volume-payloads.js';

/** Whether the volume's content comes from the API and the pod (and is kept current). */
export const isProjection = (v: Volume) => !!(v.configMap || v.secret || v.downwardAPI || v.projected);

function checkHostPath(source: NonNullable<Volume['hostPath']>): void {
  const t = source.type ?? '';
  if (t === 'DirectoryOrCreate' && !existsSync(source.path)) mkdirSync(source.path, { recursive: true, mode: 0o755 });
  if (t === 'FileOrCreate' && !existsSync(source.path)) writeFileSync(source.path, '', { mode: 0o644 });
  if ((t === 'Directory' || t === 'File' || t === 'Socket') && !existsSync(source.path)) {
    throw new Error(`hostPath type check failed: ${source.path} is not a ${t.toLowerCase()}`);
  }
}

/** SetUp of one volume in `dir` (whose parent must exist: nothing is made for a pod already removed). */
export async function setUpVolume(ctx: PayloadContext, v: Volume, dir: string): Promise<void> {
  if (v.hostPath) return checkHostPath(v.hostPath);
  if (!existsSync(dir)) mkdirSync(dir);
  if (v.emptyDir) return;
  const payload = await volumePayload(ctx, v);
  if (!payload) throw new Error('kubesvc supports emptyDir, configMap, secret, hostPath, downwardAPI and projected volumes only');
  writeAtomic(dir, payload);
}

export interface VolumesResult {
  /** FailedMount messages, one per volume that could not be set up. */
  failures: string[];
  /** Problems that left a volume as it was (a token not refreshed). */
  warnings: string[];
}

/**
 * Sets up the pod's volumes under `volumesDir` (every volume, or only the
 * projections when `projectionsOnly`, for a resync). Each volume is tried;
 * a failure is reported as the kubelet's FailedMount message.
 */
export async function setUpVolumes(ctx: Omit<PayloadContext, 'warn'>, volumes: Volume[], volumesDir: string, projectionsOnly: boolean): Promise<VolumesResult> {
  const result: VolumesResult = { failures: [], warnings: [] };
  for (const v of volumes) {
    if (projectionsOnly && !isProjection(v)) continue;
    try {
      await setUpVolume({ ...ctx, warn: (m) => result.warnings.push(`volume "${v.name}": ${m}`) }, v, join(volumesDir, v.name));
    } catch (e) {
      result.failures.push(`MountVolume.SetUp failed for volume "${v.name}" : ${errorMessage(e)}`);
    }
  }
  return result;
}
