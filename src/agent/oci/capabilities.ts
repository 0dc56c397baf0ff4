// Linux capabilities for a container's process: the runtime's default set,
// the securityContext's add/drop as the CRI applies them ("ALL" first, then
// the single names), and every capability for privileged containers.
import { readFileSync } from 'node:fs';

/** Every capability the kernel headers name, at its bit number (linux/capability.h). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** What a container gets when its securityContext says nothing (containerd's and Docker's default set). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** A securityContext capability name ("NET_ADMIN", "net_admin", "CAP_NET_ADMIN") as the runtime spells it. */
export function capabilityName(name: string): string {
  const upper = name.trim().toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/**
 * The capabilities of the kernel's bounding set for this process (CapBnd in
 * /proc/self/status): "all" for a privileged container, as containerd takes
 * the capabilities it has itself. The full list when it cannot be read.
 */
export function boundingCapabilities(status = '/proc/self/status'): string[] {
  let mask: bigint;
  try {
    const line = readFileSync(status, 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'));
    if (!line) return [...ALL_CAPABILITIES];
    mask = BigInt(`0x${line.slice('CapBnd:'.length).trim()}`);
  } catch {
    return [...ALL_CAPABILITIES];
  }
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

export interface CapabilityChanges {
  add?: readonly string[];
  drop?: readonly string[];
}

/**
 * The capabilities after the securityContext's changes, as the CRI applies
 * them: add "ALL" sets every capability and drop "ALL" clears them, before
 * the single names are added, then dropped.
 */
export function effectiveCapabilities(changes: CapabilityChanges | undefined, all: readonly string[] = ALL_CAPABILITIES): string[] {
  const isAll = (n: string) => n.trim().toUpperCase() === 'ALL';
  const add = changes?.add ?? [];
  const drop = changes?.drop ?? [];
  let caps = new Set<string>(DEFAULT_CAPABILITIES);
  if (add.some(isAll)) caps = new Set(all);
  if (drop.some(isAll)) caps = new Set();
  for (const n of add) if (!isAll(n)) caps.add(capabilityName(n));
  for (const n of drop) if (!isAll(n)) caps.delete(capabilityName(n));
  return ALL_CAPABILITIES.filter((c) => caps.has(c));
}
