// Every container under an OCI runtime (./oci/README.md): the pod runtime's
// launcher.
//
// Per run, in <container dir>/oci-<id>/: the container's root and the
// bundle's config.json (./oci/spec.ts) with the container's
// securityContext, resources, user and mounts (volumes, the pod's
// /etc/hosts, /etc/resolv.conf, /etc/hostname). The root is
//  - for a pulled image, the overlay of its layers with the run's writable
//    layer, mounted at bundle/rootfs (the user: runAsUser, else the image's
//    USER through the image's /etc/passwd);
//  - for a built-in image, the host view (./builtin-view.ts,
//    ./oci/rootfs.ts prepareHostView): a directory of the run's own in
//    which the host's system directories and the kubesvc package are
//    overlays mounted by the runtime inside the container, read-only
//    underneath with the run's writable layer above, the data dir never
//    there; the image's private files (nginx's html) are binds like the
//    volumes, the user the host's /etc/passwd's.
// The container joins the pod's network namespace (the node's for
// hostNetwork pods) and the pod's IPC and UTS namespaces, pinned on the
// pod's first container and removed with its sandbox (releasePod); a
// hostIPC pod's containers take the host's IPC namespace and /dev/shm. Its
// PID namespace is its own, the host's (hostPID), or the pod's
// (shareProcessNamespace): then the pod's pause container, started on the
// pod's first container, is PID 1 of a namespace every container joins; when
// it has ended (the kernel then killed the rest of the namespace, and no new
// process can enter it), the next container's prepare starts a new one, as
// the kubelet makes a new sandbox for a pod whose sandbox died. Its cgroup
// is the kubelet's cgroupfs layout under the launcher's parent. The
// runtime runs it in the foreground; when it ends, its root is unmounted
// and its directory removed before the exit is reported.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { logger, type Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { ContainerStartError, type ContainerExit, type ContainerHandle, type ContainerLauncher, type LaunchSpec } from './launcher.js';
import { containerCgroupsPath, removeCgroup } from './oci/cgroups.js';
import { openRuntime, type OciRuntime, type RunningContainer, type RuntimeKind } from './oci/crun.js';
import { hostFeatures } from './oci/host.js';
import { oomScoreAdj } from './oci/resources.js';
import type { BindMount } from './oci/mounts.js';
import { mountImageRootfs, prepareHostView, unmountRootfs } from './oci/rootfs.js';
import { createPodNamespaces, removePodNamespaces, startPause, type PauseContainer, type PodNamespaceFiles } from './oci/sandbox.js';
import { effectiveSecurityContext } from './oci/security.js';
import { containerSpec, podNamespaceModes, type NamespaceRef } from './oci/spec.js';
import type { OciMount } from './oci/types.js';
import { resolveUser } from './oci/user.js';
import { builtinHostView, type BuiltinHostView } from './builtin-view.js';
import type { Pod } from '../api/types.js';
import { podQOSClass } from './pod-status.js';

export interface OciLauncherOptions {
  /** The runtime's state directory (its --root). */
  root: string;
  /** The cgroup every pod's cgroups go under, absolute from the hierarchies' roots (e.g. /kubesvc-k1-node-a). */
  cgroupParent: string;
  /** The node's memory (bytes), for the OOM score of Burstable containers. */
  nodeMemory: number;
  runtime?: RuntimeKind | 'auto';
  /** What built-in images see of the host (default: ./builtin-view.ts's, hiding nothing beyond its defaults). */
  hostView?: BuiltinHostView;
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
  /** shareProcessNamespace: the pause container, the last one asked for (pausePidNamespace). */
  pause?: Promise<PauseContainer>;
  /** releasePod began: no new pause container. */
  released?: boolean;
}

/** The kubelet's OOM score adjustment for a pod's infrastructure (pause) container. */
const PAUSE_OOM_SCORE_ADJ = -998;

let oomFloorValue: number | undefined;

/**
 * The lowest OOM score adjustment a container can be given: without
 * CAP_SYS_RESOURCE (kubesvc in an unprivileged container, say) the runtime
 * cannot go below this process's own, and would fail the start; the
 * kubelet's -997 for critical pods is then held there.
 */
export function oomScoreFloor(): number {
  if (oomFloorValue !== undefined) return oomFloorValue;
  oomFloorValue = -1000;
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    const CAP_SYS_RESOURCE = 24n;
    if (capEff && ((BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) === 0n) oomFloorValue = Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim()) || 0;
  } catch {
    // not Linux's /proc: no floor
  }
  return oomFloorValue;
}

/** The upper (writable) layer of each overlay of a host view, by the directory it covers. */
function overlayUppers(mounts: readonly OciMount[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of mounts) {
    const upper = m.options?.find((o) => o.startsWith('upperdir='));
    if (m.type === 'overlay' && upper) out.set(m.destination, upper.slice('upperdir='.length));
  }
  return out;
}

/** mkdir -p under `upper` for `rel`, each directory with the mode and owner of the host's it stands for under `lower`. */
function mkdirsLike(upper: string, lower: string, rel: string): void {
  let at = '';
  for (const part of rel.split('/').filter(Boolean)) {
    at = join(at, part);
    const path = join(upper, at);
    try {
      if (lstatSync(path).isDirectory()) continue;
    } catch {
      // missing: made below
    }
    mkdirSync(path);
    try {
      const st = statSync(join(lower, at));
      chmodSync(path, st.mode & 0o7777);
      chownSync(path, st.uid, st.gid);
    } catch {
      // not on the host either: a plain directory
    }
  }
}

/**
 * A bind's mount point inside a host overlay that the host does not have
 * (/usr/share/nginx/html) is made in the run's writable layer beforehand:
 * the runtime could not make it in a read-only overlay.
 */
function makeMountPoints(mounts: readonly OciMount[], binds: readonly BindMount[]): void {
  const uppers = overlayUppers(mounts);
  for (const b of binds) {
    const owner = [...uppers.keys()].filter((d) => b.destination.startsWith(`${d}/`)).sort((x, y) => y.length - x.length)[0];
    if (!owner) continue;
    try {
      lstatSync(b.destination);
      continue;
    } catch {
      // not on the host
    }
    const upper = uppers.get(owner)!;
    const rel = relative(owner, b.destination);
    let dir = true;
    try {
      dir = statSync(b.source).isDirectory();
    } catch {
      // made by the runtime's caller
    }
    mkdirsLike(upper, owner, dir ? rel : dirname(rel));
    if (!dir) writeFileSync(join(upper, rel), '', { flag: 'a' });
  }
}

/** Removes the run's root file system and directory (after its end, or when it never started). */
async function removeRun(p: Prepared): Promise<void> {
  await unmountRootfs(p.rootfs);
  rmSync(p.dir, { recursive: true, force: true });
}

/** Resolves true once the container's process exists, false when the run ended first. */
function whenStarted(c: RunningContainer): Promise<boolean> {
  return c.started.then((pid) => pid !== undefined);
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
  const hostView = o.hostView ?? builtinHostView({ hide: [] });

  function podState(pod: Pod, podDir: string, hostname: string): PodState {
    const uid = pod.metadata?.uid ?? '';
    let state = pods.get(uid);
    if (!state) {
      const dir = join(podDir, 'oci-sandbox');
      const namespaces = createPodNamespaces({ dir, hostname, hostIPC: podNamespaceModes(pod.spec).ipc === 'node' });
      state = { dir, cgroup: containerCgroupsPath({ parent: o.cgroupParent, qosClass: podQOSClass(pod), podUID: uid }), namespaces };
      pods.set(uid, state);
      // A failure is the run's; the next run tries again.
      namespaces.catch(() => pods.get(uid) === state && pods.delete(uid));
    }
    return state;
  }

  /**
   * The pod's PID namespace for a pod that shares one: its pause
   * container's, started when the pod has none running (the first
   * container, or the last pause container ended). Calls for one pod run
   * one after the other, so the pod has one pause container at a time.
   */
  function pausePidNamespace(state: PodState, spec: LaunchSpec, rt: OciRuntime, shared: PodNamespaceFiles): Promise<string> {
    const uid = spec.pod.metadata?.uid ?? '';
    const previous = state.pause;
    const next = (async () => {
      const last = await previous?.catch(() => undefined);
      if (last?.alive()) return last;
      if (last) {
        log.warn('pause container ended: the pod gets a new PID namespace', { uid, pause: last.id });
        await last.stop();
      }
      if (state.released) throw new ContainerStartError('the pod sandbox is being removed');
      const id = randomBytes(32).toString('hex');
      return startPause({
        runtime: rt,
        id,
        dir: join(state.dir, `pause-${id.slice(0, 12)}`),
        hostname: spec.hostname,
        namespaces: { network: `/var/run/netns/${spec.netns}`, ipc: shared.ipc, uts: shared.uts },
        cgroupsPath: `${state.cgroup}/${id}`,
        hide: hostView.hide,
        oomScoreAdj: Math.max(PAUSE_OOM_SCORE_ADJ, oomScoreFloor()),
        host: hostFeatures(),
      }).catch((e: unknown) => {
        throw new ContainerStartError(`starting the pod's pause container: ${errorMessage(e)}`);
      });
    })();
    state.pause = next;
    return next.then((p) => p.pidNamespace);
  }

  async function prepare(spec: LaunchSpec): Promise<void> {
    const rt = await openOnce();
    const pod = podState(spec.pod, dirname(spec.stateDir), spec.hostname);
    const namespaces = await pod.namespaces;
    const pidMode = podNamespaceModes(spec.pod.spec).pid;
    const pid: NamespaceRef = pidMode === 'node' ? 'host' : pidMode === 'pod' ? await pausePidNamespace(pod, spec, rt, namespaces) : undefined;
    const dir = join(spec.stateDir, `oci-${spec.id.slice(0, 12)}`);
    const bundle = join(dir, 'bundle');
    const builtin = !spec.layers;
    const p: Prepared = { runtime: rt, dir, bundle, rootfs: builtin ? join(dir, 'rootfs') : join(bundle, 'rootfs') };
    try {
      const podSpec = spec.pod.spec;
      const sc = effectiveSecurityContext(podSpec?.securityContext, spec.container.securityContext);
      let rootMounts: OciMount[] = [];
      if (spec.layers) {
        await mountImageRootfs({ rootfs: p.rootfs, lowers: spec.layers, upper: join(dir, 'upper'), work: join(dir, 'work') });
      } else {
        const view = await prepareHostView({ dir, expose: hostView.expose, hide: hostView.hide, readonly: sc.readOnlyRootFilesystem === true, whiteout: join(dirname(o.root), 'whiteout') });
        rootMounts = view.mounts;
      }
      const user = resolveUser({
        etc: builtin ? '/etc' : join(p.rootfs, 'etc'),
        runAsUser: sc.runAsUser ?? undefined,
        runAsGroup: sc.runAsGroup ?? undefined,
        imageUser: spec.imageUser,
        supplementalGroups: podSpec?.securityContext?.supplementalGroups ?? undefined,
        fsGroup: podSpec?.securityContext?.fsGroup ?? undefined,
      });
      const binds: BindMount[] = [
        ...(builtin ? hostView.binds : []),
        ...spec.mounts.map((m) => ({ source: m.source, destination: m.target, readOnly: m.readOnly })),
        { source: spec.etcFiles.hosts, destination: '/etc/hosts' },
        { source: spec.etcFiles.resolvConf, destination: '/etc/resolv.conf' },
        { source: spec.etcFiles.hostname, destination: '/etc/hostname' },
        ...(builtin && hostView.tsxCache ? [{ source: hostView.tsxCache, destination: `/tmp/tsx-${user.uid}`, readOnly: true }] : []),
      ];
      if (builtin) makeMountPoints(rootMounts, binds);
      const config = containerSpec({
        args: spec.argv,
        env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        cwd: spec.workingDir,
        rootfs: p.rootfs,
        rootMounts,
        hostname: spec.hostname,
        user,
        securityContext: sc,
        podSecurityContext: podSpec?.securityContext,
        resources: spec.container.resources,
        oomScoreAdj: Math.max(oomScoreAdj(spec.pod, spec.container, o.nodeMemory), oomScoreFloor()),
        namespaces: { network: `/var/run/netns/${spec.netns}`, ipc: namespaces.ipc, uts: namespaces.uts, pid },
        hostNetwork: podSpec?.hostNetwork === true,
        cgroupsPath: `${pod.cgroup}/${spec.id}`,
        binds,
        shm: namespaces.shm,
        host: hostFeatures(),
      });
      mkdirSync(bundle, { recursive: true });
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
    preparePod(pod, podDir, hostname) {
      // Begun while the pod's network is made: the first container's prepare then finds them ready or underway.
      void podState(pod, podDir, hostname).namespaces.catch(() => undefined);
    },
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
      state.released = true;
      await state.namespaces.catch(() => undefined);
      // Its containers are gone: the pause container goes before the namespaces it joined.
      await (await state.pause?.catch(() => undefined))?.stop();
      await removePodNamespaces(state.dir);
      const busy = removeCgroup(state.cgroup);
      if (busy.length) log.warn('pod cgroups not removed', { uid, cgroups: busy });
    },
    start,
  };
}
