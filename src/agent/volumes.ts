// A pod's volumes, set up as the kubelet's volume manager does: hostPath
// checked (and made for the ...OrCreate types), emptyDir made, and the
// projections (configMap, secret, downwardAPI, projected) written with the
// atomic writer under <pod>/volumes/<name>. Projections are set up again on
// every resync of a running pod, so a changed ConfigMap or Secret, a
// refreshed token or new labels reach the container through its bind mount
// of the volume directory (a subPath mount pins the file it was made from,
// so it keeps the old content, as upstream).
//
// Memory-backed volumes are tmpfs mounts, as the kubelet's: an emptyDir
// with medium Memory (its sizeLimit the tmpfs's size), and secret and
// projected volumes (wrapped in a memory emptyDir upstream, so that their
// content never reaches the disk). They are unmounted with the pod's
// sandbox (unmountVolumes). With a pod fsGroup, the volumes that support
// ownership management are given to it (./volume-ownership.ts).
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseQuantity } from '../api/quantity.js';
import { errorMessage } from '../util/errors.js';
import { writeAtomic } from './atomic-writer.js';
import { isMountpoint, mountTmpfs, unmountAllUnder } from './oci/mount.js';
import { setVolumeOwnership } from './volume-ownership.js';
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

/**
 * Whether a downwardAPI item of the volumes shows a status field (the pod's
 * or the host's IP): such volumes are set up once the pod's sandbox has its
 * IP. (Upstream's validation admits only metadata fields in volumes.)
 */
export function volumesShowPodIP(volumes: readonly Volume[]): boolean {
  const items = volumes.flatMap((v) => [...(v.downwardAPI?.items ?? []), ...(v.projected?.sources ?? []).flatMap((s) => s.downwardAPI?.items ?? [])]);
  return items.some((i) => i.fieldRef?.fieldPath?.startsWith('status.'));
}

/** Whether the volume lives in memory (a tmpfs). */
export const isMemoryBacked = (v: Volume) => v.emptyDir?.medium === 'Memory' || !!v.secret || !!v.projected;

/** The tmpfs options of a memory-backed volume: an emptyDir's sizeLimit as its size (the kernel's default otherwise). */
function tmpfsOptions(v: Volume): string[] {
  const size = parseQuantity(v.emptyDir?.sizeLimit as string | number | undefined);
  return ['nosuid', 'nodev', ...(size && size > 0 ? [`size=${Math.ceil(size)}`] : [])];
}

/** SetUp of one volume in `dir` (whose parent must exist: nothing is made for a pod already removed). */
export async function setUpVolume(ctx: PayloadContext, v: Volume, dir: string): Promise<void> {
  if (v.hostPath) return checkHostPath(v.hostPath);
  const fresh = !existsSync(dir);
  if (fresh) mkdirSync(dir);
  // The kubelet makes the volume's directory 0777 whatever the umask (a tmpfs's root is 1777 already).
  if (isMemoryBacked(v)) {
    if (!isMountpoint(dir)) await mountTmpfs(dir, tmpfsOptions(v));
  } else if (fresh) chmodSync(dir, 0o777);
  const sc = ctx.pod.spec?.securityContext;
  const fsGroup = typeof sc?.fsGroup === 'number' ? sc.fsGroup : undefined;
  const own = () => fsGroup !== undefined && setVolumeOwnership(dir, { fsGroup, readOnly: !v.emptyDir, changePolicy: sc?.fsGroupChangePolicy ?? undefined });
  if (v.emptyDir) {
    if (fresh) own();
    return;
  }
  const payload = await volumePayload(ctx, v);
  if (!payload) throw new Error('kubesvc supports emptyDir, configMap, secret, hostPath, downwardAPI and projected volumes only');
  if (writeAtomic(dir, payload)) own();
}

/** Unmounts the pod's memory-backed volumes (the pod is done with them). */
export async function unmountVolumes(volumesDir: string): Promise<void> {
  await unmountAllUnder(volumesDir);
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
