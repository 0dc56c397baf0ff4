// The pod's sysctls (spec.securityContext.sysctls) for the runtime: names
// normalized as sysctl.d reads them, and only those the kernel keeps per
// namespace (the kubelet's sysctl.NamespacedBy): the IPC ones in the pod's
// IPC namespace, net.* in its network namespace. A sysctl of the host's
// namespace (hostIPC, hostNetwork) or of no namespace is refused.
import { ContainerSpecError } from './spec-error.js';

export type SysctlNamespace = 'ipc' | 'net';

/** sysctl.d's rule: when the first separator is "/", slashes and dots swap ("net/ipv4/conf/eth0.1/x" is "net.ipv4.conf.eth0/1.x"). */
export function normalizeSysctlName(name: string): string {
  const first = name.search(/[./]/);
  if (first < 0 || name[first] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** The namespace that holds the sysctl, or undefined when the kernel has it once for the whole machine. */
export function sysctlNamespace(name: string): SysctlNamespace | undefined {
  if (name === 'kernel.sem' || /^(kernel\.shm|kernel\.msg|fs\.mqueue\.)/.test(name)) return 'ipc';
  if (name.startsWith('net.')) return 'net';
  return undefined;
}

/**
 * The spec's linux.sysctl for the pod's sysctls; throws when one would
 * change the host's namespace or the whole machine.
 */
export function podSysctls(sysctls: readonly { name: string; value: string }[] | undefined, host: { ipc?: boolean; network?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sysctls ?? []) {
    const name = normalizeSysctlName(s.name);
    const ns = sysctlNamespace(name);
    if (!ns) throw new ContainerSpecError(`sysctl "${name}" is not namespaced and cannot be set for a pod`);
    if (ns === 'ipc' && host.ipc) throw new ContainerSpecError(`sysctl "${name}" not allowed with host ipc enabled`);
    if (ns === 'net' && host.network) throw new ContainerSpecError(`sysctl "${name}" not allowed with host net enabled`);
    out[name] = s.value;
  }
  return out;
}
