// The file systems a container sees besides its root: the kernel's (proc, a
// tmpfs /dev with devpts, shm and mqueue, sysfs, the cgroup tree) as the CRI
// sets them up, then the kubelet's binds (volumes, /etc/hosts,
// /etc/resolv.conf, /etc/hostname, the termination log) ordered so that a
// shallower destination is mounted before the ones inside it.
import type { OciMount } from './types.js';

export type MountPropagation = 'None' | 'HostToContainer' | 'Bidirectional';

/** A host path bound into the container. */
export interface BindMount {
  source: string;
  destination: string;
  readOnly?: boolean;
  /** The volume mount's mountPropagation (None by default). */
  propagation?: MountPropagation;
}

const NOSUID_NOEXEC_NODEV = ['nosuid', 'noexec', 'nodev'];

/** The kernel file systems; sysfs and the cgroup tree are writable only for privileged containers. */
export function defaultMounts(privileged: boolean): OciMount[] {
  const mode = privileged ? 'rw' : 'ro';
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: NOSUID_NOEXEC_NODEV },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...NOSUID_NOEXEC_NODEV, 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: NOSUID_NOEXEC_NODEV },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...NOSUID_NOEXEC_NODEV, mode] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...NOSUID_NOEXEC_NODEV, 'relatime', mode] },
  ];
}

const clean = (p: string) => (p.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'));
const depth = (p: string) => clean(p).split('/').length;

const propagationOption: Record<MountPropagation, string> = { None: 'rprivate', HostToContainer: 'rslave', Bidirectional: 'rshared' };

export function bindMount(m: BindMount): OciMount {
  return {
    destination: clean(m.destination),
    type: 'bind',
    source: m.source,
    options: ['rbind', propagationOption[m.propagation ?? 'None'], m.readOnly ? 'ro' : 'rw'],
  };
}

/** rootfsPropagation the binds need: rshared for a Bidirectional one, rslave for HostToContainer. */
export function rootfsPropagation(binds: readonly BindMount[]): string | undefined {
  if (binds.some((b) => b.propagation === 'Bidirectional')) return 'rshared';
  if (binds.some((b) => b.propagation === 'HostToContainer')) return 'rslave';
  return undefined;
}

/**
 * The spec's mounts: the kernel's, except where a bind takes the same place
 * (or /dev as a whole), then `rootMounts` (parts of the root file system,
 * e.g. the host view's overlays) and the binds, shallower destinations first.
 */
export function containerMounts(o: { privileged: boolean; rootMounts?: readonly OciMount[]; binds?: readonly BindMount[] }): OciMount[] {
  const supplied = [...(o.rootMounts ?? []), ...(o.binds ?? []).map(bindMount)];
  const taken = new Set(supplied.map((m) => clean(m.destination)));
  const kernel = defaultMounts(o.privileged).filter((m) => !taken.has(m.destination) && !(taken.has('/dev') && m.destination.startsWith('/dev/')));
  // Array.prototype.sort is stable: equal depths keep their order.
  return [...kernel, ...supplied.sort((a, b) => depth(a.destination) - depth(b.destination))];
}
