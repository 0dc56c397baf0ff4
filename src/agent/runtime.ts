// The pod runtime: what the kubelet does with a pod on its node, with a
// container launcher (./launcher.ts; the OCI runtime's, ./oci-launcher.ts)
// for what a container runtime does.
//
// Per pod: a sandbox (network namespace with the pod's IP) from the node
// network, and a state directory <state>/pods/<ns>_<pod>_<uid>/ holding the
// pod's /etc/hosts, /etc/resolv.conf and /etc/hostname (./pod-files.ts), its
// volumes, and per container the run logs (<container>/<restartCount>.log,
// ./container-logs.ts), the image's private paths (<container>/fs/...,
// ./container-mounts.ts) and the launcher's state.
//
// Volumes are set up before the containers start (./volumes.ts); configMap,
// secret, downwardAPI and projected ones are set up again every
// volumeResyncMs while the pod runs, so changes (and refreshed service
// account tokens) reach the containers; failures are FailedMount events,
// retried with the volume manager's back-off.
//
// What to start, restart or kill is the kubelet's computePodActions
// (./pod-actions.ts): restarts follow the pod's restartPolicy with the
// CrashLoopBackOff back-off; stopping runs the preStop hook, then SIGTERM,
// then SIGKILL when the grace period is over (./container-lifecycle.ts).
// The status is what ./runtime-status.ts makes of the runs.
//
// What a run is made of is ./run-plan.ts's: a built-in image is its
// program or command on the host view; any other image is pulled by the
// image manager (./image-pull.ts: ErrImagePull, ImagePullBackOff,
// ErrImageNeverPull, InvalidImageName) and merged with the container
// (./image-config.ts). The launcher prepares the run's root before the
// start and releases the pod's namespaces with its sandbox.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, Pod, Service } from '../api/types.js';
import type { EventRecorder } from '../client/events.js';
import { errorMessage } from '../util/errors.js';
import { logger, type Logger } from '../util/log.js';
import type { ObjectLookup } from './config-sources.js';
import { runPostStartHook, stopContainer, type HookTarget } from './container-lifecycle.js';
import { createTerminationMessageFile, existingLogFile, openRunLog, readTerminationMessage, runLogFile, terminationMessageFromLog } from './container-logs.js';
import { imageFileMounts, volumeMounts } from './container-mounts.js';
import { isStarted, lastRun, observeContainer, type ContainerRecord, type Run } from './container-record.js';
import type { ContainerRuntimeView, NodeNetwork, PodSandbox } from './contracts.js';
import type { ClusterDNS } from './dns.js';
import { ContainerConfigError, expandCommandAndArgs, makeEnvironment, serviceEnvVarMap, type NodeAllocatable } from './envvars.js';
import type { ImageManager } from './image-pull.js';
import { ContainerStartError, type ContainerLauncher, type LaunchSpec } from './launcher.js';
import { ContainerSpecError } from './oci/spec-error.js';
import { computePodActions, containerGracePeriod, formatPod, isSidecar, type KillReason, type PodAction, type PodStop } from './pod-actions.js';
import { containerHostname, podEtcFiles, writePodFiles } from './pod-files.js';
import { imageIDFor, normalizeImage, type PodStatus } from './pod-status.js';
import { startProbeWorker, type ProbeRunner, type ProbeType } from './probes.js';
import { runtimePodStatus } from './runtime-status.js';
import { planRun, type RunPlan } from './run-plan.js';
import { createTokenManager, type RequestServiceAccountToken } from './token-manager.js';
import { isProjection, setUpVolumes, unmountVolumes, volumesShowPodIP } from './volumes.js';

export { cleanupStaleProcesses } from './stale-processes.js';

/** getConfigMap and getSecret: the ConfigMap or Secret, or undefined when it does not exist. */
export interface RuntimeOptions extends ObjectLookup {
  /** The agent's state directory; pods live under <stateDir>/pods. */
  stateDir: string;
  nodeName: string;
  network: NodeNetwork;
  recorder: EventRecorder;
  runner: ProbeRunner;
  /**
   * A token for the service account, bound to the pod (the API's
   * TokenRequest): what projected serviceAccountToken sources hold.
   */
  requestServiceAccountToken: RequestServiceAccountToken;
  /**
   * How often a running pod's configMap, secret, downwardAPI and projected
   * volumes are set up again, so changes reach them (default 60 s, the
   * kubelet's sync frequency).
   */
  volumeResyncMs?: number;
  /** Every Service (all namespaces), for the service environment variables. */
  services(): Service[];
  dns: ClusterDNS;
  /** The node's /etc/hosts, for hostNetwork pods. */
  nodeHosts: string;
  node: NodeAllocatable;
  /** Something a pod's status shows changed (a container started or exited, a probe result, a back-off ended). */
  onPodChange(uid: string): void;
  /** What runs the containers (./oci-launcher.ts). */
  launcher: ContainerLauncher;
  /**
   * Pulls the images ./image-resolve.ts does not build in. Without it such
   * images wait with ErrImagePull.
   */
  images?: ImageManager;
  log?: Logger;
}

export interface PodRuntime extends ContainerRuntimeView {
  /** Moves the pod's processes toward its spec: sandbox, init containers, containers (re)started as the restart policy and back-off allow. */
  syncPod(pod: Pod): Promise<void>;
  /**
   * Stops every container (preStop, SIGTERM, SIGKILL after the grace
   * period) and removes the sandbox. `pod` is the API's last word on it (its
   * deletionGracePeriodSeconds and terminationGracePeriodSeconds decide the grace).
   */
  terminatePod(uid: string, pod?: Pod): Promise<void>;
  /** The pod's containers all finished for good (Succeeded/Failed): the sandbox goes, the status stays. */
  finishPod(uid: string): Promise<void>;
  /** Forgets the pod and removes its state directory (after terminatePod). */
  removePod(uid: string): void;
  /** The pod's status from what the runtime observed. */
  podStatus(pod: Pod, opts?: { podIsTerminal?: boolean; now?: string }): PodStatus;
  /** UIDs of the pods the runtime holds. */
  podUIDs(): string[];
  /** Whether the pod's containers have all stopped and its sandbox is gone. */
  isTerminated(uid: string): boolean;
  /** Stops every pod (with at most `graceMs` before SIGKILL) and removes their sandboxes. */
  stopAll(graceMs?: number): Promise<void>;
}

/** The waiting reasons of the image manager (./image-pull.ts), whose events say more. */
const imageReasons = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);
const retryConfigMs = 10_000;
// The volume manager's retry of a failed mount: 500 ms doubling to 2m2s (exponentialbackoff).
const volumeRetryInitialMs = 500;
const volumeRetryMaxMs = 122_000;
const defaultVolumeResyncMs = 60_000;

/** Milliseconds to one decimal, for logs. */
const ms = (x: number) => Math.round(x * 10) / 10;

/** The running container's main process, as the launcher knows it. */
const runPid = (run: Run): number | undefined => (run.finishedAt ? undefined : run.handle?.pid);

/**
 * The kubelet's Pulled event for an image present on the node, saying which
 * built-in implementation runs it: kubesvc's own program, or the node's
 * programs running the command (busybox, alpine, ...).
 */
export function builtinPulledMessage(image: string, program: string | undefined): string {
  return `Container image ${JSON.stringify(image)} already present on machine (built into kubesvc: ${program ?? "the node's programs"})`;
}

/** The pod's directory name under <state>/pods. */
export function podDirName(pod: Pod): string {
  return `${pod.metadata?.namespace}_${pod.metadata?.name}_${pod.metadata?.uid}`;
}

interface PodRecord {
  uid: string;
  namespace: string;
  name: string;
  pod: Pod;
  dir: string;
  sandbox?: PodSandbox;
  sandboxGone: boolean;
  hostNetwork: boolean;
  netns?: string;
  podIPs: string[];
  filesReady: boolean;
  containers: Map<string, ContainerRecord>;
  terminating: boolean;
  terminated: boolean;
  finished: boolean;
  timers: Set<NodeJS.Timeout>;
  volumesReady: boolean;
  /** The volumes are to be set up (again): at first, then when the resync or the retry after a failure is due. */
  volumesDue: boolean;
  /** The current retry delay after failed volume set-ups (0: the last one went well). */
  volumeRetryMs: number;
  /** When the last sync began and when its sandbox and volumes were ready (performance.now()), for the start steps' log. */
  syncSteps: { began: number; ready: number };
}

export function createRuntime(opts: RuntimeOptions): PodRuntime {
  const log = opts.log ?? logger('kubelet');
  const pods = new Map<string, PodRecord>();
  const launcher = opts.launcher;
  const podsDir = join(opts.stateDir, 'pods');
  mkdirSync(podsDir, { recursive: true });
  let stoppedAll = false;
  const tokens = createTokenManager(opts.requestServiceAccountToken);
  const volumeResyncMs = opts.volumeResyncMs ?? defaultVolumeResyncMs;

  const podObj = (rec: PodRecord): Pod => ({ ...rec.pod, kind: 'Pod', apiVersion: 'v1' }) as Pod;
  const event = (rec: PodRecord, type: 'Normal' | 'Warning', reason: string, message: string) =>
    opts.recorder.event(podObj(rec) as Parameters<EventRecorder['event']>[0], type, reason, message);
  const changed = (rec: PodRecord) => opts.onPodChange(rec.uid);

  /** Syncs the pod again after `ms` (`first` runs before: what makes the sync do something). */
  function wakeAfter(rec: PodRecord, ms: number, first?: () => void) {
    const t = setTimeout(() => {
      rec.timers.delete(t);
      first?.();
      changed(rec);
    }, ms);
    t.unref?.();
    rec.timers.add(t);
  }

  function clearTimers(rec: PodRecord) {
    for (const t of rec.timers) clearTimeout(t);
    rec.timers.clear();
  }

  function specOf(rec: PodRecord, name: string): Container | undefined {
    const spec = rec.pod.spec;
    return spec?.containers?.find((c) => c.name === name) ?? spec?.initContainers?.find((c) => c.name === name);
  }

  function record(rec: PodRecord, c: Container, init: boolean): ContainerRecord {
    let cr = rec.containers.get(c.name);
    if (!cr) {
      cr = { name: c.name, init, runs: [], probes: {} };
      rec.containers.set(c.name, cr);
    }
    return cr;
  }

  function findPod(namespace: string, name: string): PodRecord | undefined {
    let found: PodRecord | undefined;
    for (const rec of pods.values()) {
      if (rec.namespace !== namespace || rec.name !== name) continue;
      if (!found || (found.terminated && !rec.terminated)) found = rec;
    }
    return found;
  }

  const hookTarget = (rec: PodRecord, c: Container, run: Run): HookTarget => ({
    runner: opts.runner,
    container: c,
    podIP: rec.podIPs[0] ?? '',
    pid: runPid(run),
    execPrefix: run.handle?.execPrefix?.(false),
    podDesc: formatPod(rec.pod),
  });

  // -- sandbox and pod files ------------------------------------------------

  /** The pod's sandbox, made unless it is there: rejects with the node network's error (the caller reports it). */
  async function ensureSandbox(rec: PodRecord) {
    if (rec.netns) return;
    if (rec.hostNetwork) {
      rec.netns = opts.network.netns;
      rec.podIPs = [opts.network.nodeIP];
      return;
    }
    rec.sandbox = await opts.network.createPodSandbox(rec.uid);
    rec.netns = rec.sandbox.netns;
    rec.podIPs = [rec.sandbox.ip];
  }

  function sandboxFailed(rec: PodRecord, e: unknown): Error {
    const msg = errorMessage(e);
    event(rec, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${msg}`);
    return new Error(`creating the sandbox of pod ${rec.namespace}/${rec.name}: ${msg}`, { cause: e });
  }

  /**
   * The sandbox and the volumes, ready for the containers (false: the
   * volumes are not, and the pod waits for them). The kubelet mounts the
   * volumes before it makes the sandbox; neither needs the other (unless a
   * volume shows the pod's IP), so both are made at once here, and what
   * is observable stays the kubelet's: a pod whose volumes are not ready
   * shows no sandbox and no IP, and a sandbox failure is reported (and
   * retried) once its volumes are ready.
   */
  async function ensureSandboxAndVolumes(rec: PodRecord): Promise<boolean> {
    const first = !rec.netns && !volumesShowPodIP(rec.pod.spec?.volumes ?? []);
    const sandbox = ensureSandbox(rec).then(() => ensurePodFiles(rec));
    const volumes = first ? syncVolumes(rec) : sandbox.then(() => syncVolumes(rec));
    const [made, ready] = await Promise.allSettled([sandbox, volumes]);
    if (ready.status === 'fulfilled' && !ready.value) return false;
    if (made.status === 'rejected') throw sandboxFailed(rec, made.reason);
    if (ready.status === 'rejected') throw ready.reason;
    return true;
  }

  async function releaseSandbox(rec: PodRecord) {
    if (rec.sandboxGone) return;
    rec.sandboxGone = true;
    await launcher.releasePod?.(rec.uid);
    await unmountVolumes(join(rec.dir, 'volumes'));
    if (rec.sandbox) {
      try {
        await opts.network.deletePodSandbox(rec.uid);
      } catch (e) {
        rec.sandboxGone = false;
        throw e;
      }
    }
  }

  function ensurePodFiles(rec: PodRecord) {
    if (rec.filesReady) return;
    for (const w of writePodFiles(rec.dir, rec.pod, rec.podIPs, opts)) event(rec, 'Warning', 'DNSConfigForming', w);
    rec.filesReady = true;
  }

  /**
   * The pod's volumes: all of them set up before its containers start (false
   * until they are), then its projections again every resync. A failure is
   * a FailedMount event and a retry with back-off; a running pod keeps what
   * its volumes last held.
   */
  async function syncVolumes(rec: PodRecord): Promise<boolean> {
    // Not before the next resync, or the retry's back-off has passed (whatever else wakes the pod).
    if (!rec.volumesDue) return rec.volumesReady;
    const volumesDir = join(rec.dir, 'volumes');
    mkdirSync(volumesDir, { recursive: true });
    rec.volumesDue = false;
    const ctx = { pod: rec.pod, podIPs: rec.podIPs, hostIPs: [opts.network.nodeIP], node: opts.node, lookup: opts, tokens };
    const volumes = rec.pod.spec?.volumes ?? [];
    const result = await setUpVolumes(ctx, volumes, volumesDir, rec.volumesReady);
    if (pods.get(rec.uid) !== rec || rec.terminating || rec.finished) return false;
    // Each failed attempt is an event, as the volume manager's (the recorder counts repeats).
    for (const msg of result.failures) event(rec, 'Warning', 'FailedMount', msg);
    for (const w of result.warnings) log.warn('volume not refreshed', { pod: `${rec.namespace}/${rec.name}`, problem: w });
    if (!result.failures.length) rec.volumesReady = true;
    const retry = result.failures.length > 0 || result.warnings.length > 0;
    rec.volumeRetryMs = retry ? Math.min(rec.volumeRetryMs ? rec.volumeRetryMs * 2 : volumeRetryInitialMs, volumeRetryMaxMs) : 0;
    // Nothing to keep current: no resync.
    const next = retry ? rec.volumeRetryMs : volumes.some(isProjection) ? volumeResyncMs : undefined;
    if (next !== undefined) wakeAfter(rec, next, () => (rec.volumesDue = true));
    return rec.volumesReady;
  }

  // -- runs -----------------------------------------------------------------

  function reportWaiting(rec: PodRecord, cr: ContainerRecord, image: string, reason: string, message: string) {
    cr.waiting = { reason, message };
    const key = `${reason}\0${message}`;
    if (cr.reported === key) return;
    cr.reported = key;
    if (reason === 'ErrImagePull' && !opts.images) {
      event(rec, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
      event(rec, 'Warning', 'Failed', `Error: ${reason}`);
    } else if (imageReasons.has(reason)) {
      // The image manager's own events said what happened.
      event(rec, 'Warning', 'Failed', `Error: ${reason}`);
    } else {
      event(rec, 'Warning', 'Failed', `Error: ${message}`);
    }
  }

  function newRun(cr: ContainerRecord, c: Container, dir: string, plan: RunPlan): Run {
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const restartCount = cr.runs.length;
    return {
      id: randomBytes(32).toString('hex'),
      restartCount,
      logFile: runLogFile(dir, restartCount),
      image: plan.image ?? normalizeImage(c.image ?? ''),
      imageID: plan.imageID ?? imageIDFor(c.image ?? ''),
      specImage: c.image ?? '',
      stopSignal: plan.stopSignal,
      startedAt: new Date(),
      exited,
      markExited,
    };
  }

  function finishRun(rec: PodRecord, cr: ContainerRecord, run: Run, exitCode: number, reason?: string, message?: string) {
    if (run.finishedAt) return;
    run.finishedAt = new Date();
    run.exitCode = exitCode;
    run.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    if (message !== undefined) run.message = message;
    else {
      // The kubelet: the termination-message file's content; when empty, the log's tail for a failed run under FallbackToLogsOnError.
      const c = specOf(rec, cr.name);
      const written = c?.terminationMessagePath ? readTerminationMessage(run.logFile) : '';
      if (written) run.message = written;
      else if (c?.terminationMessagePolicy === 'FallbackToLogsOnError' && exitCode !== 0) run.message = terminationMessageFromLog(run.logFile);
    }
    run.handle?.release();
    for (const w of Object.values(cr.probes)) w?.stop();
    cr.probes = {};
    cr.unhealthy = undefined;
    run.markExited();
    changed(rec);
  }

  /**
   * The launcher's preparation of the run (its root file system and
   * config): false when it failed, the container then waiting with
   * CreateContainerConfigError (a description that cannot run) or
   * CreateContainerError, tried again later.
   */
  async function prepareRun(rec: PodRecord, cr: ContainerRecord, launcher: ContainerLauncher, spec: LaunchSpec): Promise<boolean> {
    if (!launcher.prepare) return true;
    try {
      await launcher.prepare(spec);
      return true;
    } catch (e) {
      const reason = e instanceof ContainerSpecError ? 'CreateContainerConfigError' : 'CreateContainerError';
      log.warn('container not created', { pod: `${rec.namespace}/${rec.name}`, container: cr.name, error: errorMessage(e) });
      reportWaiting(rec, cr, spec.image, reason, errorMessage(e));
      wakeAfter(rec, retryConfigMs);
      return false;
    }
  }

  async function startContainer(rec: PodRecord, cr: ContainerRecord, c: Container): Promise<void> {
    const began = performance.now();
    const pod = rec.pod;
    const image = c.image ?? '';
    let env;
    try {
      env = await makeEnvironment({
        pod,
        container: c,
        podIPs: rec.podIPs,
        hostIPs: [opts.network.nodeIP],
        serviceEnv: serviceEnvVarMap(opts.services(), rec.namespace, pod.spec?.enableServiceLinks !== false),
        node: opts.node,
        getConfigMap: opts.getConfigMap,
        getSecret: opts.getSecret,
        warn: (reason, message) => event(rec, 'Warning', reason, message),
      });
    } catch (e) {
      if (!(e instanceof ContainerConfigError)) throw e;
      reportWaiting(rec, cr, image, 'CreateContainerConfigError', e.message);
      wakeAfter(rec, retryConfigMs);
      return;
    }
    const envAt = performance.now();
    const { command, args } = expandCommandAndArgs(c, env);
    const hostname = containerHostname(pod, opts);
    const outcome = await planRun({ pod, container: c, command, args, hostname, images: opts.images, event: (t, reason, message) => event(rec, t, reason, message) });
    if (outcome.kind === 'waiting') {
      reportWaiting(rec, cr, image, outcome.reason, outcome.message);
      if (outcome.retryMs !== undefined) wakeAfter(rec, outcome.retryMs);
      else if (outcome.reason.startsWith('CreateContainer')) wakeAfter(rec, retryConfigMs);
      return;
    }
    const plan = outcome.plan;
    const planAt = performance.now();

    const dir = join(rec.dir, cr.name);
    mkdirSync(dir, { recursive: true });
    const run = newRun(cr, c, dir, plan);
    // Built-in images are always present: no pull, as with IfNotPresent; the event says what implements it.
    if (plan.builtin) event(rec, 'Normal', 'Pulled', builtinPulledMessage(image, plan.builtin.program));
    const processEnv: Record<string, string> = { ...plan.env };
    for (const e of env) processEnv[e.name] = e.value;
    const spec: LaunchSpec = {
      id: run.id,
      name: cr.name,
      pod,
      container: c,
      image,
      restartCount: run.restartCount,
      stateDir: dir,
      argv: plan.argv,
      env: processEnv,
      workingDir: plan.workingDir,
      hostname,
      netns: rec.netns!,
      mounts: [
        ...imageFileMounts(dir, plan.files),
        ...volumeMounts(pod, rec.dir, c),
        ...(c.terminationMessagePath ? [{ source: createTerminationMessageFile(run.logFile), target: c.terminationMessagePath }] : []),
      ],
      etcFiles: podEtcFiles(rec.dir),
      logFile: run.logFile,
      layers: plan.layers,
      imageUser: plan.imageUser,
    };
    if (!(await prepareRun(rec, cr, launcher, spec))) return;
    const preparedAt = performance.now();
    // Checked with no await between here and the start: a pod being stopped gets no new process.
    if (rec.terminating || stoppedAll) {
      await launcher.abandon?.(spec);
      return;
    }
    cr.waiting = undefined;
    cr.reported = undefined;
    cr.runs.push(run);
    // As the runtime's container GC: the current and the previous run's logs are kept.
    openRunLog(run.logFile, cr.runs[cr.runs.length - 3]?.logFile);
    event(rec, 'Normal', 'Created', `Created container ${cr.name}`);
    try {
      run.handle = launcher.start(spec);
    } catch (e) {
      if (!(e instanceof ContainerStartError)) throw e;
      event(rec, 'Warning', 'Failed', `Error: ${e.message}`);
      finishRun(rec, cr, run, 128, 'StartError', e.message);
      return;
    }
    void run.handle.exited.then((exit) => {
      if ('exitCode' in exit) return finishRun(rec, cr, run, exit.exitCode, exit.reason);
      event(rec, 'Warning', 'Failed', `Error: ${exit.startError}`);
      finishRun(rec, cr, run, 128, 'StartError', exit.startError);
    });
    if (run.handle.started && !(await run.handle.started)) return;
    const s = rec.syncSteps;
    log.v(4).info('container start steps', {
      pod: `${rec.namespace}/${rec.name}`,
      container: cr.name,
      sandboxAndVolumesMs: ms(s.ready - s.began),
      environmentMs: ms(envAt - began),
      imageMs: ms(planAt - envAt),
      prepareMs: ms(preparedAt - planAt),
      runtimeMs: ms(performance.now() - preparedAt),
    });
    event(rec, 'Normal', 'Started', `Started container ${cr.name}`);
    log.info('container started', { pod: `${rec.namespace}/${rec.name}`, container: cr.name, pid: runPid(run), restartCount: run.restartCount });
    startProbes(rec, cr, c, run);

    const err = await runPostStartHook(pod, hookTarget(rec, c, run));
    if (err && !run.finishedAt) {
      log.warn('postStart hook failed', { pod: `${rec.namespace}/${rec.name}`, container: cr.name, error: err });
      event(rec, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
      await killRun(rec, cr, run, { message: `FailedPostStartHook`, graceSeconds: containerGracePeriod(rec.pod, c) });
    }
    changed(rec);
  }

  function startProbes(rec: PodRecord, cr: ContainerRecord, c: Container, run: Run) {
    const types: [ProbeType, Container['readinessProbe']][] = [
      ['startup', c.startupProbe],
      ['readiness', c.readinessProbe],
      ['liveness', c.livenessProbe],
    ];
    for (const [type, probe] of types) {
      if (!probe) continue;
      // Init containers have no probes; sidecars (restartable init containers) do.
      if (cr.init && !isSidecar(c, true)) continue;
      cr.probes[type] = startProbeWorker({
        type,
        probe,
        container: c,
        podIP: rec.podIPs[0] ?? '',
        startedAt: run.startedAt.getTime(),
        pid: () => runPid(run),
        execPrefix: () => run.handle?.execPrefix?.(false),
        runner: opts.runner,
        started: () => isStarted(cr),
        terminating: () => rec.terminating,
        onResult: (ok) => {
          if (run.finishedAt) return;
          if (!ok && (type === 'liveness' || type === 'startup')) cr.unhealthy = type;
          if (ok && type === 'startup') cr.probes.readiness?.trigger();
          changed(rec);
        },
        event: (t, reason, message) => event(rec, t, reason, message),
      });
    }
  }

  /**
   * killContainer: the Killing event, then the stop sequence. `override` is
   * the pod deletion's effective grace period, which skips the 2 s minimum.
   */
  function killRun(rec: PodRecord, cr: ContainerRecord, run: Run, o: { message: string; graceSeconds: number; override?: boolean; killedFor?: KillReason }): Promise<void> {
    if (run.finishedAt) return Promise.resolve();
    if (run.killing) return run.killing;
    run.killedFor = o.killedFor;
    run.killing = (async () => {
      event(rec, 'Normal', 'Killing', o.message);
      const c = specOf(rec, cr.name);
      const stopping = { finished: () => !!run.finishedAt, exited: run.exited, signal: (s: NodeJS.Signals) => run.handle?.kill(s) };
      await stopContainer(stopping, {
        graceSeconds: o.graceSeconds,
        stopSignal: run.stopSignal,
        override: o.override,
        hook: c && hookTarget(rec, c, run),
        onPreStopFailed: (error) => {
          log.warn('preStop hook failed', { pod: `${rec.namespace}/${rec.name}`, container: cr.name, error });
          event(rec, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
        },
        onUnkillable: () => {
          // The process is beyond signals (uninterruptible); account for it as killed.
          const cr2 = rec.containers.get(cr.name);
          if (cr2) finishRun(rec, cr2, run, 137);
        },
      });
    })();
    return run.killing;
  }

  // -- carrying out the pod's actions ---------------------------------------

  const observe = (rec: PodRecord) => [...rec.containers.values()].map(observeContainer);

  /** Kills the container an action names (its current run). */
  function kill(rec: PodRecord, a: Extract<PodAction, { type: 'kill' }>): Promise<void> {
    const cr = rec.containers.get(a.name);
    const run = lastRun(cr);
    if (!cr || !run) return Promise.resolve();
    return killRun(rec, cr, run, { message: a.message, graceSeconds: a.graceSeconds, override: a.override, killedFor: a.reason === 'stop' ? undefined : a.reason });
  }

  async function carryOut(rec: PodRecord, a: PodAction, now: number): Promise<void> {
    if (a.type === 'kill') return kill(rec, a);
    const c = specOf(rec, a.name);
    if (!c) return;
    const cr = record(rec, c, a.init);
    if (a.type === 'backoff') {
      const entering = cr.waiting?.reason !== 'CrashLoopBackOff' || cr.waiting.message !== a.message;
      cr.waiting = { reason: 'CrashLoopBackOff', message: a.message };
      if (entering) {
        event(rec, 'Warning', 'BackOff', `Back-off restarting failed container ${a.name} in pod ${formatPod(rec.pod)}`);
        wakeAfter(rec, a.retryAt - now + 10);
      }
      return;
    }
    if (a.backoff) {
      cr.backoffKey = a.backoff.key;
      cr.backoff = a.backoff.entry;
    }
    if (rec.terminating) return;
    await startContainer(rec, cr, c);
  }

  /**
   * The pod's actions carried out in order, each decided when its turn
   * comes, as the containers are walked: the init containers until one is
   * not done (an action on an init container ends the sync: the next one
   * goes on), then the containers. A killed container is decided again
   * (its restart) once it has stopped.
   */
  async function syncContainers(rec: PodRecord): Promise<void> {
    const order = [...(rec.pod.spec?.initContainers ?? []), ...(rec.pod.spec?.containers ?? [])].map((c) => c.name);
    const killed = new Set<string>();
    let from = 0;
    for (;;) {
      const now = Date.now();
      const next = computePodActions({ pod: rec.pod, containers: observe(rec), now }).find((a) => order.indexOf(a.name) >= from);
      if (!next || (next.type === 'kill' && killed.has(next.name))) return;
      const at = order.indexOf(next.name);
      await carryOut(rec, next, now);
      if (next.type === 'kill') {
        killed.add(next.name);
        from = at;
      } else if (next.init) {
        return;
      } else {
        from = at + 1;
      }
    }
  }

  /** Kills every running container of the pod, all at once, as `stop` says. */
  async function stopPod(rec: PodRecord, stop: PodStop): Promise<void> {
    const actions = computePodActions({ pod: rec.pod, containers: observe(rec), now: Date.now(), stop });
    await Promise.all(actions.map((a) => (a.type === 'kill' ? kill(rec, a) : undefined)));
  }

  // -- the view the agent's server reads ----------------------------------

  function view(namespace: string, pod: string, container: string) {
    const rec = findPod(namespace, pod);
    return rec?.containers.get(container);
  }

  const runtime: PodRuntime = {
    logFile(namespace, pod, container, previous) {
      const cr = view(namespace, pod, container);
      if (!cr) return undefined;
      return existingLogFile(cr.runs[cr.runs.length - (previous ? 2 : 1)]?.logFile);
    },
    containerPid(namespace, pod, container) {
      const run = lastRun(view(namespace, pod, container));
      return run && runPid(run);
    },
    containerExecPrefix(namespace, pod, container, tty) {
      const run = lastRun(view(namespace, pod, container));
      return run && !run.finishedAt ? run.handle?.execPrefix?.(tty) : undefined;
    },
    containerNames(namespace, pod) {
      const rec = findPod(namespace, pod);
      if (!rec) return undefined;
      return [...(rec.pod.spec?.initContainers ?? []), ...(rec.pod.spec?.containers ?? [])].map((c) => c.name);
    },

    async syncPod(pod) {
      const uid = pod.metadata?.uid ?? '';
      let rec = pods.get(uid);
      if (!rec) {
        rec = {
          uid,
          namespace: pod.metadata?.namespace ?? 'default',
          name: pod.metadata?.name ?? '',
          pod,
          dir: join(podsDir, podDirName(pod)),
          sandboxGone: false,
          hostNetwork: pod.spec?.hostNetwork === true,
          podIPs: [],
          filesReady: false,
          containers: new Map(),
          terminating: false,
          terminated: false,
          finished: false,
          timers: new Set(),
          volumesReady: false,
          volumesDue: true,
          volumeRetryMs: 0,
          syncSteps: { began: 0, ready: 0 },
        };
        pods.set(uid, rec);
        mkdirSync(rec.dir, { recursive: true });
      }
      rec.pod = pod;
      if (rec.terminating || rec.finished || stoppedAll) return;
      if (!rec.netns) launcher.preparePod?.(pod, rec.dir, containerHostname(pod, opts));
      rec.syncSteps = { began: performance.now(), ready: 0 };
      if (!(await ensureSandboxAndVolumes(rec))) return;
      rec.syncSteps.ready = performance.now();
      await syncContainers(rec);
    },

    async terminatePod(uid, pod) {
      const rec = pods.get(uid);
      if (!rec) return;
      if (pod) rec.pod = pod;
      rec.terminating = true;
      clearTimers(rec);
      for (const cr of rec.containers.values()) cr.waiting = undefined;
      await stopPod(rec, { kind: 'delete' });
      await releaseSandbox(rec);
      rec.terminated = true;
      changed(rec);
    },

    async finishPod(uid) {
      const rec = pods.get(uid);
      if (!rec || rec.finished) return;
      rec.finished = true;
      clearTimers(rec);
      await stopPod(rec, { kind: 'finish' });
      await releaseSandbox(rec);
    },

    removePod(uid) {
      const rec = pods.get(uid);
      if (!rec) return;
      for (const t of rec.timers) clearTimeout(t);
      pods.delete(uid);
      tokens.forgetPod(uid);
      opts.images?.forgetPod(uid);
      rmSync(rec.dir, { recursive: true, force: true });
    },

    podStatus(pod, o = {}) {
      const rec = pods.get(pod.metadata?.uid ?? '');
      return runtimePodStatus({
        pod,
        nodeIP: opts.network.nodeIP,
        // Not before the volumes are ready: the kubelet makes the sandbox after them.
        podIPs: rec && (rec.volumesReady || rec.hostNetwork) ? rec.podIPs : [],
        sandboxReady: !!rec?.netns && rec.volumesReady && !rec.sandboxGone,
        containers: rec ? [...rec.containers.values()] : [],
        specOf: (name) => specOf(rec!, name),
        podIsTerminal: o.podIsTerminal,
        now: o.now,
      });
    },

    podUIDs: () => [...pods.keys()],
    isTerminated: (uid) => pods.get(uid)?.terminated ?? true,

    async stopAll(graceMs = 2000) {
      stoppedAll = true;
      await Promise.all(
        [...pods.values()].map(async (rec) => {
          rec.terminating = true;
          clearTimers(rec);
          await stopPod(rec, { kind: 'shutdown', graceSeconds: graceMs / 1000 });
          await releaseSandbox(rec).catch((e) => log.warn('sandbox not removed', { pod: `${rec.namespace}/${rec.name}`, error: String(e) }));
          rec.terminated = true;
        }),
      );
    },
  };

  return runtime;
}
