// What this host offers containers, found out once: the capabilities a
// privileged container gets, whether memory limits can hold swap, and the
// open-file limit the runtime may hand down.
import { readFileSync } from 'node:fs';
import { boundingCapabilities } from './capabilities.js';
import { swapLimitSupported } from './cgroups.js';
import type { OciDevice } from './types.js';

export interface HostFeatures {
  /** Every capability a privileged container gets (this process's bounding set). */
  allCapabilities?: readonly string[];
  /** The memory controller can limit swap; swap is then held to the memory limit. */
  swapLimit?: boolean;
  /** This process's hard RLIMIT_NOFILE: a container's cannot be higher (raising it takes CAP_SYS_RESOURCE). */
  nofileHard?: number;
  /** The host's devices, for privileged containers (./devices.ts hostDevices). */
  devices?: readonly OciDevice[];
}

/** The hard "Max open files" of /proc/self/limits (undefined for unlimited or unreadable). */
export function nofileHardLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const m = /^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync(limits, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

let detected: HostFeatures | undefined;

/** The host's features (without devices), read once per process. */
export function hostFeatures(): HostFeatures {
  detected ??= { allCapabilities: boundingCapabilities(), swapLimit: swapLimitSupported(), nofileHard: nofileHardLimit() };
  return detected;
}
