// Volume ownership for a pod's fsGroup, as the kubelet's SetVolumeOwnership
// does it for the volumes that support ownership management (emptyDir,
// configMap, secret, downwardAPI, projected; never a hostPath): every file
// and directory in the volume gets the fsGroup as its group, files become
// group-readable (and group-writable unless the volume is read-only),
// directories also group-searchable with the setgid bit, so that what the
// container creates later belongs to the group too. Symbolic links are left
// alone (the atomic writer's ..data and key links point into the volume).
// fsGroupChangePolicy OnRootMismatch skips the walk when the volume's root
// already has the group and the permissions.
import { chmodSync, chownSync, lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

const S_ISGID = 0o2000;
const rwMask = 0o660;
const roMask = 0o440;
const execMask = 0o110;

export interface VolumeOwnership {
  fsGroup: number;
  readOnly: boolean;
  /** The pod's fsGroupChangePolicy: Always (the default) or OnRootMismatch. */
  changePolicy?: string;
}

function wantedMode(st: Stats, readOnly: boolean): number {
  let mask = readOnly ? roMask : rwMask;
  if (st.isDirectory()) mask |= S_ISGID | execMask;
  return (st.mode & 0o7777) | mask;
}

/** Whether the volume's root already has the group and the permissions (OnRootMismatch's test). */
function rootMatches(dir: string, o: VolumeOwnership): boolean {
  const st = lstatSync(dir);
  return st.gid === o.fsGroup && (st.mode & 0o7777) === wantedMode(st, o.readOnly);
}

function own(path: string, o: VolumeOwnership): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.gid !== o.fsGroup) chownSync(path, -1, o.fsGroup);
  const mode = wantedMode(st, o.readOnly);
  if ((st.mode & 0o7777) !== mode) chmodSync(path, mode);
  if (st.isDirectory()) for (const name of readdirSync(path)) own(join(path, name), o);
}

/** Gives the volume at `dir` to the pod's fsGroup. */
export function setVolumeOwnership(dir: string, o: VolumeOwnership): void {
  if (o.changePolicy === 'OnRootMismatch' && rootMatches(dir, o)) return;
  own(dir, o);
}
