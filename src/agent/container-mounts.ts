// What a container mounts: its image's private directories (a built-in
// image's files, fresh for every run as a new container's layer is) and
// its volume mounts (the pod's volume directories from ./volumes.ts, or a
// hostPath; a subPath within them).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Container, Pod } from '../api/types.js';
import type { ImagePlan } from './contracts.js';
import type { ContainerMount } from './launcher.js';

type ImageFiles = Extract<ImagePlan, { kind: 'run' }>['files'];

/**
 * Writes the image's private files under <container dir>/fs (anew); a mount
 * for each of their directories, or for the file itself at the root (a
 * mount over "/" would hide the whole view), read-only as image files are
 * not the container's to change.
 */
export function imageFileMounts(containerDir: string, files: ImageFiles): ContainerMount[] {
  const fsDir = join(containerDir, 'fs');
  rmSync(fsDir, { recursive: true, force: true });
  const imageDirs = new Set<string>();
  const rootFiles: ContainerMount[] = [];
  for (const f of files ?? []) {
    const target = join(fsDir, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content, { mode: f.mode ?? 0o644 });
    if (dirname(f.path) === '/') rootFiles.push({ source: target, target: f.path, readOnly: true });
    else imageDirs.add(dirname(f.path));
  }
  return [...[...imageDirs].map((d) => ({ source: join(fsDir, d), target: d })), ...rootFiles];
}

/** The container's volume mounts (a missing subPath is created); mounts of unknown volumes are left out. */
export function volumeMounts(pod: Pod, podDir: string, c: Container): ContainerMount[] {
  const out: ContainerMount[] = [];
  for (const vm of c.volumeMounts ?? []) {
    const v = pod.spec?.volumes?.find((x) => x.name === vm.name);
    if (!v) continue;
    let source = v.hostPath ? v.hostPath.path : join(podDir, 'volumes', v.name);
    if (vm.subPath) {
      source = join(source, vm.subPath);
      if (!existsSync(source)) mkdirSync(source, { recursive: true });
    }
    out.push({ source, target: vm.mountPath, readOnly: vm.readOnly === true });
  }
  return out;
}
