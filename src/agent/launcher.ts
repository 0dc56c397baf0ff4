// The seam between the pod runtime (the kubelet's part) and what runs a
// container's process (the container runtime's part): the runtime decides
// what runs, with which files, mounts and environment; a launcher makes it a
// process and reports its end. ./oci-launcher.ts runs every container
// under an OCI runtime (crun, runc): a pulled image on an overlay of its
// layers, a built-in image on a read-only view of the host's files.
import type { Container, Pod } from '../api/types.js';

/** A bind mount into the container. */
export interface ContainerMount {
  /** A path on the host (a volume's directory, an image's private directory, a hostPath). */
  source: string;
  /** The absolute path in the container. */
  target: string;
  readOnly?: boolean;
}

/** Everything a container's run is made of. */
export interface LaunchSpec {
  /** The run's id: the container ID without its `kubesvc://` scheme (64 hex digits, new for every run). */
  id: string;
  /** The container's name in its pod. */
  name: string;
  /** The pod and the container's spec as the runtime holds them, for what this spec does not say (securityContext, resources); read only. */
  pod: Pod;
  container: Container;
  /** The spec's image reference, as written (for messages: a built-in image is its argv, env and private files, a pulled one its layers). */
  image: string;
  /** How many runs of the container came before this one (the attempt). */
  restartCount: number;
  /** The run's own directory on the host (<pod dir>/<container name>), for the launcher's state: a pid file, say. */
  stateDir: string;
  /** The command with its arguments, the image's and the spec's command and args expanded; argv[0] is looked up on env.PATH. */
  argv: string[];
  /** The whole environment: PATH, HOSTNAME and HOME, the image's, then the container's env and envFrom. */
  env: Record<string, string>;
  /** The container's workingDir (created when missing); none: the root directory. */
  workingDir?: string;
  /** The container's hostname (UTS namespace): the pod's, or the node's for hostNetwork pods. */
  hostname: string;
  /** The network namespace to join, as `ip netns` names it: the pod sandbox's, or the node's for hostNetwork pods. */
  netns: string;
  /** Bind mounts, in order: the image's private directories, then the volume mounts (subPaths resolved). */
  mounts: ContainerMount[];
  /** The pod's own files for /etc/hosts, /etc/resolv.conf and /etc/hostname (bind-mounted over those). */
  etcFiles: { hosts: string; resolvConf: string; hostname: string };
  /** Where stdout and stderr go, appended (the file exists; the runtime reads it for kubectl logs). */
  logFile: string;
  /** A pulled image: its unpacked layers, top first (the root file system is their overlay). None: a built-in image (the host view). */
  layers?: string[];
  /** A pulled image's USER (the image config's), when the securityContext names no runAsUser. */
  imageUser?: string;
}

/** How a run ended: its exit code (128+N for a signal N), OOMKilled when the kernel's OOM killer ended it, or why it never ran. */
export type ContainerExit = { exitCode: number; reason?: 'OOMKilled' } | { startError: string };

/** A started container. */
export interface ContainerHandle {
  /**
   * The container's main process, as the agent sees it: exec, probes and
   * hooks enter its namespaces by it. Undefined when the start failed at once.
   */
  readonly pid: number | undefined;
  /** Resolves once, when the container's main process exited (or could not be started). */
  readonly exited: Promise<ContainerExit>;
  /**
   * Resolves once the container's process exists (true; pid is then set) or
   * the start failed (false). None: the process exists when start returns.
   */
  readonly started?: Promise<boolean>;
  /**
   * The command line that runs a command in the container (the runtime's
   * exec), the command's argv to be appended; none: nsenter into pid's namespaces.
   */
  execPrefix?(tty: boolean): string[];
  /** Sends the signal to every process of the container. */
  kill(signal: NodeJS.Signals): void;
  /** After the end: kills whatever the container left behind and removes the launcher's state for it. Idempotent. */
  release(): void;
}

/** The container runtime's start error (a runc create failure, such as an executable not found): the run is a StartError. */
export class ContainerStartError extends Error {}

export interface ContainerLauncher {
  /**
   * Makes what the run needs before it starts (its root file system, the
   * pod's namespaces); start follows, or abandon when the pod stopped
   * meanwhile. Throws ContainerStartError, or ContainerSpecError (./oci/spec-error.ts)
   * when the container's description cannot be run.
   */
  prepare?(spec: LaunchSpec): Promise<void>;
  /**
   * The pod is about to get its sandbox: what the launcher keeps per pod
   * (namespaces besides the network's) may be made meanwhile. `podDir` is
   * the pod's directory, the parent of its containers' state dirs.
   */
  preparePod?(pod: Pod, podDir: string, hostname: string): void;
  /** Undoes prepare for a run that will not start. */
  abandon?(spec: LaunchSpec): Promise<void>;
  /** The pod's sandbox is gone: what the launcher holds for the pod (namespaces, cgroups) goes. */
  releasePod?(podUID: string): Promise<void>;
  /**
   * Starts the container's process (no await before it runs, so a pod
   * being stopped gets no new process). Throws ContainerStartError when the
   * container cannot be created.
   */
  start(spec: LaunchSpec): ContainerHandle;
}
