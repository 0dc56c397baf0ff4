// Containers of pulled images under an OCI runtime (./oci/README.md): the
// launcher the pod runtime uses for every image it does not build in.
//
// Per run, in <container dir>/oci-<id>/: the overlay of the image's layers
// with the run's writable layer mounted at bundle/rootfs, and the bundle's
// config.json (./oci/spec.ts) with the container's securityContext,
// resources, user (runAsUser, else the image's USER through the image's
// /etc/passwd) and mounts (volumes, the pod's /etc/hosts, /etc/resolv.conf,
// /etc/hostname). The container joins the pod's network namespace and the
// pod's IPC and UTS namespaces, pinned on the pod's first container and
// removed with its sandbox (releasePod). Its cgroup is the kubelet's
// cgroupfs layout under the launcher's parent. The runtime runs it in the
// foreground; when it ends, its root is unmounted and its directory removed
// before the exit is reported.
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { logger, type Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { ContainerStartError, type ContainerExit, type ContainerHandle, type ContainerLauncher, type LaunchSpec } from './launcher.js';
import { containerCgroupsPath, removeCgroup } from './oci/cgroups.js';
import { openRuntime, type OciRuntime, type RunningContainer, type RuntimeKind } from './oci/crun.js';
import { hostFeatures } from './oci/host.js';
import { oomScoreAdj } from './oci/resources.js';
import { mountImageRootfs, unmountRootfs } from './oci/rootfs.js';
import { createPodNamespaces, removePodNamespaces, type PodNamespaceFiles } from './oci/sandbox.js';
import { effectiveSecurityContext } from './oci/security.js';
import { containerSpec } from './oci/spec.js';
import { resolveUser } from './oci/user.js';
import { podQOSClass } from './pod-status.js';

export interface OciLauncherOptions {
  /** The runtime's state directory (its --root). */
  root: string;
  /** The cgroup every pod's cgroups go under, absolute from the hierarchies' roots (e.g. /kubesvc-k1-node-a). */
  cgroupParent: string;
  /** The node's memory (bytes), for the OOM score of Burstable containers. */
  nodeMemory: number;
  runtime?: RuntimeKind | 'auto';
  log?: Logger;
}

interface Prepared {
  runtime: OciRuntime;
  dir: string;
  bundle: string;
  rootfs: string;
}

interface PodState {
  dir: string;
  cgroup: string;
  namespaces: Promise<PodNamespaceFiles>;
}

/** How often the pid file is looked for while a container is being created. */
const startPollMs = 20;

/** Removes the run's root file system and directory (after its end, or when it never started). */
async function removeRun(p: Prepared): Promise<void> {
  await unmountRootfs(p.rootfs);
  rmSync(p.dir, { recursive: true, force: true });
}

/** Resolves true once the container's process exists, false when the run ended first. */
function whenStarted(c: RunningContainer): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    void c.exited.then(() => {
      done = true;
      resolve(c.pid() !== undefined);
    });
    const look = () => {
      if (done) return;
      if (c.pid() !== undefined) return resolve(true);
      setTimeout(look, startPollMs).unref();
    };
    look();
  });
}

export function createOciLauncher(o: OciLauncherOptions): ContainerLauncher {
  const log = o.log ?? logger('kubelet');
  let runtime: Promise<OciRuntime> | undefined;
  const openOnce = () => (runtime ??= openRuntime({ root: o.root, runtime: o.runtime }).catch((e: unknown) => {
    runtime = undefined;
    throw new ContainerStartError(errorMessage(e));
  }));
  const prepared = new Map<string, Prepared>();
  const pods = new Map<string, PodState>();

  function podState(spec: LaunchSpec): PodState {
    const uid = spec.pod.metadata?.uid ?? '';
    let state = pods.get(uid);
    if (!state) {
      const dir = join(dirname(spec.stateDir), 'oci-sandbox');
      const namespaces = createPodNamespaces({ dir, hostname: spec.hostname });
      state = { dir, cgroup: containerCgroupsPath({ parent: o.cgroupParent, qosClass: podQOSClass(spec.pod), podUID: uid }), namespaces };
      pods.set(uid, state);
      // A failure is the run's; the next run tries again.
      namespaces.catch(() => pods.get(uid) === state && pods.delete(uid));
    }
    return state;
  }

  async function prepare(spec: LaunchSpec): Promise<void> {
    if (!spec.layers) throw new ContainerStartError(`image ${JSON.stringify(spec.image)} has no layers to run under the OCI runtime`);
    const rt = await openOnce();
    const pod = podState(spec);
    const namespaces = await pod.namespaces;
    const dir = join(spec.stateDir, `oci-${spec.id.slice(0, 12)}`);
    const bundle = join(dir, 'bundle');
    const p: Prepared = { runtime: rt, dir, bundle, rootfs: join(bundle, 'rootfs') };
    try {
      await mountImageRootfs({ rootfs: p.rootfs, lowers: spec.layers, upper: join(dir, 'upper'), work: join(dir, 'work') });
      const podSpec = spec.pod.spec;
      const sc = effectiveSecurityContext(podSpec?.securityContext, spec.container.securityContext);
      const config = containerSpec({
        args: spec.argv,
        env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        cwd: spec.workingDir,
        rootfs: p.rootfs,
        hostname: spec.hostname,
        user: resolveUser({
          etc: join(p.rootfs, 'etc'),
          runAsUser: sc.runAsUser ?? undefined,
          runAsGroup: sc.runAsGroup ?? undefined,
          imageUser: spec.imageUser,
          supplementalGroups: podSpec?.securityContext?.supplementalGroups ?? undefined,
          fsGroup: podSpec?.securityContext?.fsGroup ?? undefined,
        }),
        securityContext: sc,
        podSecurityContext: podSpec?.securityContext,
        resources: spec.container.resources,
        oomScoreAdj: oomScoreAdj(spec.pod, spec.container, o.nodeMemory),
        namespaces: { network: `/var/run/netns/${spec.netns}`, ipc: namespaces.ipc, uts: namespaces.uts },
        hostNetwork: podSpec?.hostNetwork === true,
        cgroupsPath: `${pod.cgroup}/${spec.id}`,
        binds: [
          ...spec.mounts.map((m) => ({ source: m.source, destination: m.target, readOnly: m.readOnly })),
          { source: spec.etcFiles.hosts, destination: '/etc/hosts' },
          { source: spec.etcFiles.resolvConf, destination: '/etc/resolv.conf' },
          { source: spec.etcFiles.hostname, destination: '/etc/hostname' },
        ],
        shm: namespaces.shm,
        host: hostFeatures(),
      });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    } catch (e) {
      await removeRun(p).catch(() => undefined);
      throw e;
    }
    prepared.set(spec.id, p);
  }

  function start(spec: LaunchSpec): ContainerHandle {
    const p = prepared.get(spec.id);
    if (!p) throw new ContainerStartError(`container ${spec.id} was not prepared`);
    prepared.delete(spec.id);
    const fd = openSync(spec.logFile, 'a');
    let c: RunningContainer;
    try {
      c = p.runtime.run({ id: spec.id, bundle: p.bundle, stdout: fd, stderr: fd });
    } finally {
      closeSync(fd);
    }
    const exited = c.exited.then(async (exit): Promise<ContainerExit> => {
      await removeRun(p).catch((e: unknown) => log.warn('container root not removed', { id: spec.id, error: errorMessage(e) }));
      if (exit.reason === 'StartError') return { startError: exit.message ?? `${p.runtime.kind} failed` };
      return exit.oomKilled ? { exitCode: exit.exitCode, reason: 'OOMKilled' } : { exitCode: exit.exitCode };
    });
    let ended = false;
    void exited.then(() => (ended = true));
    return {
      get pid() {
        return ended ? undefined : c.pid();
      },
      exited,
      started: whenStarted(c),
      execPrefix: (tty) => p.runtime.execArgv({ id: spec.id, argv: [], tty }),
      kill(signal) {
        if (ended) return;
        // Not created yet or gone already: nothing to signal (release deletes what is left).
        p.runtime.kill(spec.id, signal, signal === 'SIGKILL').catch(() => undefined);
      },
      release() {
        if (!ended) void p.runtime.delete(spec.id).catch(() => undefined);
      },
    };
  }

  return {
    prepare,
    async abandon(spec) {
      const p = prepared.get(spec.id);
      prepared.delete(spec.id);
      if (p) await removeRun(p);
    },
    async releasePod(uid) {
      const state = pods.get(uid);
      if (!state) return;
      pods.delete(uid);
      await state.namespaces.catch(() => undefined);
      await removePodNamespaces(state.dir);
      const busy = removeCgroup(state.cgroup);
      if (busy.length) log.warn('pod cgroups not removed', { uid, cgroups: busy });
    },
    start,
  };
}
