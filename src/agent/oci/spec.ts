// A container's config.json: what containerd's CRI plugin writes for a
// Kubernetes container (internal/cri/server/container_create*.go over
// pkg/oci's defaults), from the container's resolved command, environment
// and user, its securityContext and resources, and the pod's namespaces.
//
// Namespaces: the container joins the pod's network namespace and the pod's
// IPC and UTS namespaces by path (./sandbox.ts pins them), and gets its own
// mount and cgroup namespaces, and its own PID namespace unless the pod
// shares one (shareProcessNamespace: the pod's pause process's, pinned) or
// takes the host's (hostPID). A hostIPC pod's containers take the host's
// IPC namespace (podNamespaceModes says which the pod spec asks for).
//
// Privileged: every capability, no seccomp, no masked or read-only /proc
// paths, writable sysfs and cgroup tree, every device.
import type { Container } from '../../api/types.js';
import { boundingCapabilities, effectiveCapabilities } from './capabilities.js';
import { containerMounts, rootfsPropagation, type BindMount } from './mounts.js';
import { containerResources } from './resources.js';
import { seccompFor, type PodSecurityContext, type SeccompOptions, type SecurityContext } from './security.js';
import { podSysctls } from './sysctls.js';
import { hostFeatures, type HostFeatures } from './host.js';
import type { OciMount, OciNamespace, OciRlimit, OciSpec, OciUser } from './types.js';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Containers inherit the runtime's own open-file limits under the CRI
 * (it drops pkg/oci's 1024:1024); containerd's unit sets none, so they
 * are systemd's defaults, 1024 and 524288 - the hard one at most this
 * process's own.
 */
export function defaultRlimits(nofileHard?: number): OciRlimit[] {
  const hard = Math.min(524288, nofileHard ?? 524288);
  return [{ type: 'RLIMIT_NOFILE', soft: Math.min(1024, hard), hard }];
}

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** A namespace to join by path, the host's ("host": none of its own), or a new one (undefined). */
export type NamespaceRef = string | 'host' | undefined;

export interface PodNamespaces {
  /** The pod's network namespace, e.g. /var/run/netns/NAME (the node's for hostNetwork pods). */
  network: string;
  ipc: NamespaceRef;
  uts: NamespaceRef;
  /** The pod's shared PID namespace (shareProcessNamespace), "host" (hostPID), or a new one per container. */
  pid?: NamespaceRef;
}

/**
 * Where the pod's containers get their PID and IPC namespaces, as the
 * kubelet maps a pod spec to the CRI's namespace modes: "node" (the host's)
 * for hostPID and hostIPC; otherwise "pod" (one for the pod) for IPC always
 * and for PID with shareProcessNamespace, else "container" (one each).
 * hostPID wins over shareProcessNamespace (the API refuses the two together).
 */
export function podNamespaceModes(spec?: { hostPID?: boolean; hostIPC?: boolean; shareProcessNamespace?: boolean } | null): { pid: 'node' | 'pod' | 'container'; ipc: 'node' | 'pod' } {
  return {
    pid: spec?.hostPID === true ? 'node' : spec?.shareProcessNamespace === true ? 'pod' : 'container',
    ipc: spec?.hostIPC === true ? 'node' : 'pod',
  };
}

export interface ContainerSpecInput {
  /** The command line: the image's entrypoint and cmd with the container's command and args applied and expanded. */
  args: string[];
  /** NAME=value, the image's first then the container's; a later name replaces an earlier one in place. */
  env?: readonly string[];
  /** The container's workingDir, else the image's; "/" by default. */
  cwd?: string;
  /** The root file system: a path, absolute or relative to the bundle. */
  rootfs: string;
  /** The pod's hostname: the HOSTNAME variable, and the kernel's when the UTS namespace is new. */
  hostname: string;
  user: OciUser;
  /** The effective securityContext (./security.ts effectiveSecurityContext). */
  securityContext?: SecurityContext;
  /** The pod's securityContext, for its sysctls. */
  podSecurityContext?: PodSecurityContext;
  resources?: Container['resources'];
  /** The kubelet's OOM score adjustment (./resources.ts oomScoreAdj). */
  oomScoreAdj?: number;
  namespaces: PodNamespaces;
  /** The pod runs in the node's network namespace: net.* sysctls are refused. */
  hostNetwork?: boolean;
  /** The container's cgroup, absolute from the hierarchies' roots (./cgroups.ts). */
  cgroupsPath: string;
  /** Volumes, /etc/hosts, /etc/resolv.conf, /etc/hostname, the termination log. */
  binds?: readonly BindMount[];
  /** Mounts that make up the root file system (./rootfs.ts hostView). */
  rootMounts?: readonly OciMount[];
  /** The pod's shared /dev/shm (./sandbox.ts; the host's for hostIPC pods); the container's own tmpfs when absent. */
  shm?: string;
  seccomp?: SeccompOptions;
  /** What the host offers (./host.ts hostFeatures(), found out when absent). */
  host?: HostFeatures;
  rlimits?: readonly OciRlimit[];
  annotations?: Record<string, string>;
}

const envName = (entry: string) => entry.split('=', 1)[0];

/** Sets NAME=value, replacing the variable where it already is. */
function setEnv(env: string[], entry: string): void {
  const i = env.findIndex((e) => envName(e) === envName(entry));
  if (i >= 0) env[i] = entry;
  else env.push(entry);
}

function processEnv(hostname: string, env: readonly string[] = []): string[] {
  const out = [DEFAULT_PATH];
  for (const e of [`HOSTNAME=${hostname}`, ...env]) setEnv(out, e);
  return out;
}

function namespaceList(ns: PodNamespaces): OciNamespace[] {
  const join = (type: OciNamespace['type'], ref: NamespaceRef): OciNamespace[] => (ref === 'host' ? [] : ref ? [{ type, path: ref }] : [{ type }]);
  return [
    ...join('pid', ns.pid),
    ...join('network', ns.network),
    ...join('ipc', ns.ipc),
    ...join('uts', ns.uts),
    { type: 'mount' },
  ];
}

/** The config.json of a container. Throws ContainerSpecError when the description cannot be run. */
export function containerSpec(input: ContainerSpecInput): OciSpec {
  const sc = input.securityContext ?? {};
  const host = input.host ?? hostFeatures();
  const privileged = sc.privileged === true;
  const all = host.allCapabilities ?? boundingCapabilities();
  const caps = privileged ? [...all] : effectiveCapabilities(sc.capabilities as { add?: string[]; drop?: string[] } | undefined, all);
  const binds = [...(input.binds ?? []), ...(input.shm ? [{ source: input.shm, destination: '/dev/shm' }] : [])];
  const masked = !privileged && sc.procMount !== 'Unmasked';
  const namespaces = namespaceList(input.namespaces);
  if (!privileged) namespaces.push({ type: 'cgroup' });
  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: input.user,
      args: input.args,
      env: processEnv(input.hostname, input.env),
      cwd: input.cwd || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [...(input.rlimits ?? defaultRlimits(host.nofileHard))],
      noNewPrivileges: !privileged && sc.allowPrivilegeEscalation !== true,
      ...(input.oomScoreAdj !== undefined ? { oomScoreAdj: input.oomScoreAdj } : {}),
    },
    root: { path: input.rootfs, readonly: sc.readOnlyRootFilesystem === true },
    ...(input.namespaces.uts === undefined ? { hostname: input.hostname } : {}),
    mounts: containerMounts({ privileged, rootMounts: input.rootMounts, binds }),
    linux: {
      namespaces,
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [{ allow: privileged, access: 'rwm' }],
        ...containerResources(input.resources, { swapLimit: host.swapLimit }),
      },
    },
  };
  const linux = spec.linux;
  if (privileged && host.devices?.length) linux.devices = [...host.devices];
  const sysctl = podSysctls(input.podSecurityContext?.sysctls as { name: string; value: string }[] | undefined, {
    ipc: input.namespaces.ipc === 'host',
    network: input.hostNetwork,
  });
  if (Object.keys(sysctl).length) linux.sysctl = sysctl;
  const seccomp = seccompFor(sc, caps, input.seccomp);
  if (seccomp) linux.seccomp = seccomp;
  if (masked) {
    linux.maskedPaths = [...DEFAULT_MASKED_PATHS];
    linux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
  const propagation = rootfsPropagation(binds);
  if (propagation) linux.rootfsPropagation = propagation;
  if (input.annotations) spec.annotations = { ...input.annotations };
  return spec;
}

/**
 * The command of the pod's pause process when the pod shares one PID
 * namespace: it sits as PID 1, reaps what the containers orphan, and
 * ends on SIGTERM (the shell waits on a sleep so that traps run at once).
 */
export const PAUSE_ARGS: readonly string[] = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 86400 & wait $!; done'];

/**
 * The pause container of a pod that shares its PID namespace: a new PID
 * namespace, the pod's others joined, read-only root, no capabilities, the
 * sandbox's 2 CPU shares. Containers then join its PID namespace
 * (./sandbox.ts startPause pins it).
 */
export function pauseSpec(o: Pick<ContainerSpecInput, 'rootfs' | 'rootMounts' | 'hostname' | 'cgroupsPath' | 'host' | 'oomScoreAdj'> & { namespaces: Omit<PodNamespaces, 'pid'> }): OciSpec {
  return containerSpec({
    ...o,
    args: [...PAUSE_ARGS],
    user: { uid: 0, gid: 0, additionalGids: [0] },
    securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    namespaces: { ...o.namespaces, pid: undefined },
  });
}
