// The securityContext a container runs with (the kubelet's
// DetermineEffectiveSecurityContext: the container's fields over the pod's)
// and the seccomp profile it selects.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import type { Container, Pod } from '../../api/types.js';
import { ContainerSpecError } from './spec-error.js';
import { runtimeDefaultProfile } from './seccomp.js';
import type { OciSeccomp } from './types.js';

export type SecurityContext = NonNullable<Container['securityContext']>;
export type PodSecurityContext = NonNullable<NonNullable<Pod['spec']>['securityContext']>;
type SeccompProfile = NonNullable<SecurityContext['seccompProfile']>;

/** The container's securityContext with the pod's runAsUser, runAsGroup, runAsNonRoot, seccompProfile and seLinuxOptions where it has none. */
export function effectiveSecurityContext(pod: PodSecurityContext | undefined, container: SecurityContext | undefined): SecurityContext {
  const sc: SecurityContext = { ...container };
  if (!pod) return sc;
  for (const key of ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'seccompProfile', 'seLinuxOptions', 'appArmorProfile'] as const) {
    if (sc[key] === undefined && pod[key] !== undefined) (sc as Record<string, unknown>)[key] = pod[key];
  }
  return sc;
}

export interface SeccompOptions {
  /**
   * The profile for a container that names none: RuntimeDefault (the
   * kubelet's --seccomp-default, kubesvc's choice) or Unconfined (the
   * kubelet's default).
   */
  defaultProfile?: 'RuntimeDefault' | 'Unconfined';
  /** Where Localhost profiles live (the kubelet's <root-dir>/seccomp). */
  localhostRoot?: string;
  /**
   * RuntimeDefault allows the 32-bit ABIs too (true, as containerd); false
   * keeps to the native one, which the runtime compiles about 20 ms faster.
   */
  compatArchitectures?: boolean;
}

function localhostProfile(profile: SeccompProfile, root: string | undefined): OciSeccomp {
  const rel = profile.localhostProfile ?? '';
  if (!root || !rel || isAbsolute(rel) || normalize(rel).startsWith('..')) {
    throw new ContainerSpecError(`invalid localhostProfile "${rel}": a path relative to the kubelet's seccomp profile root is required`);
  }
  const path = join(root, rel);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as OciSeccomp;
  } catch (e) {
    throw new ContainerSpecError(`failed to load seccomp profile "${path}": ${(e as Error).message}`);
  }
}

/** The spec's linux.seccomp for the (effective) securityContext, or undefined for none. */
export function seccompFor(sc: SecurityContext, capabilities: readonly string[], o: SeccompOptions = {}): OciSeccomp | undefined {
  if (sc.privileged) return undefined;
  const profile: SeccompProfile = sc.seccompProfile ?? { type: o.defaultProfile ?? 'RuntimeDefault' };
  switch (profile.type) {
    case 'Unconfined':
      return undefined;
    case 'Localhost':
      return localhostProfile(profile, o.localhostRoot);
    default:
      return runtimeDefaultProfile(capabilities, process.arch, o.compatArchitectures ?? true);
  }
}
