// Where a node agent keeps its OCI containers' state, and removing what a
// crashed agent left of them: the runtime's containers (still running,
// detached from the dead agent), the image roots and pinned pod namespaces
// mounted under the pods' directories, and the pods' cgroups. Run when an
// agent starts (before the pods' directories are removed) and by `kubesvc down`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../util/errors.js';
import { removeCgroup } from './oci/cgroups.js';
import { openRuntime } from './oci/crun.js';
import { unmountAllUnder } from './oci/mount.js';

export interface OciPaths {
  /** The OCI runtime's state directory (its --root). */
  root: string;
  /** The pods' directories, where container roots and pod namespaces are mounted. */
  podsDir: string;
  /** The cgroup every pod's cgroups go under. */
  cgroupParent: string;
}

/** The OCI paths of the node agent whose state directory is `stateDir`. */
export function ociPaths(stateDir: string, clusterId: string, nodeName: string): OciPaths {
  return { root: join(stateDir, 'oci-runtime'), podsDir: join(stateDir, 'pods'), cgroupParent: `/kubesvc-${clusterId}-${nodeName}` };
}

export interface OciLeftovers {
  containers: string[];
  mounts: string[];
  /** Cgroups that could not be removed (processes still in them). */
  busyCgroups: string[];
  /** What could not be looked at (no runtime binary, say). */
  problems: string[];
}

/** Deletes the runtime's containers, unmounts everything under the pods' directories and removes the agent's cgroups. */
export async function cleanupOciLeftovers(p: OciPaths): Promise<OciLeftovers> {
  const out: OciLeftovers = { containers: [], mounts: [], busyCgroups: [], problems: [] };
  if (existsSync(p.root)) {
    try {
      out.containers = await (await openRuntime({ root: p.root })).cleanup();
    } catch (e) {
      out.problems.push(`OCI containers not removed: ${errorMessage(e)}`);
    }
  }
  if (existsSync(p.podsDir)) out.mounts = await unmountAllUnder(p.podsDir);
  out.busyCgroups = removeCgroup(p.cgroupParent);
  return out;
}
