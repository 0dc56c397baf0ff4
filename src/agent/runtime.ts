// The pod runtime: what the kubelet and a container runtime do together,
// with host processes for containers.
//
// Per pod: a sandbox (network namespace with the pod's IP) from the node
// network, and a state directory <state>/pods/<ns>_<pod>_<uid>/ holding the
// pod's /etc/hosts, /etc/resolv.conf and /etc/hostname, its volumes, and per
// container the run logs (<container>/<restartCount>.log), the image's
// private paths (<container>/fs/...) and the pid file of the running process.
//
// Per container run, one process tree in its own process group:
//   setpriv --pdeathsig KILL -- ip netns exec <netns> \
//     unshare --mount --uts --propagation private -- /bin/sh -c '<setup>; exec "$@"' sh argv...
// `ip netns exec` enters the pod's network namespace (and remounts /sys for
// it); unshare gives the container a private mount namespace and its own
// hostname; the setup script sets the hostname, bind-mounts the pod's own
// files over /etc/hosts, /etc/resolv.conf and /etc/hostname (rather than
// /etc/netns/<netns>/, so nothing is written outside the state dir), the
// image's private directories over their paths (creating a missing mount
// point on the host, e.g. /usr/share/nginx/html, the one thing written
// outside), and the volumes over their mount paths, then execs the
// container's command. With everything exec'd in place, the pid spawned is
// the container's process. The parent-death signal ends it if the agent
// dies; a later agent kills whatever a crash left by the pid files.
//
// Volumes are set up before the containers start (./volumes.ts); configMap,
// secret, downwardAPI and projected ones are set up again every
// volumeResyncMs while the pod runs, so changes (and refreshed service
// account tokens) reach the containers; failures are FailedMount events,
// retried with the volume manager's back-off.
//
// Restarts follow the pod's restartPolicy with the kubelet's CrashLoopBackOff
// (10 s doubling to 5 min, reset after 10 min of running); stopping runs the
// preStop hook, then SIGTERM to the process group, then SIGKILL when the
// grace period is over.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import type { Container, Pod, Service } from '../api/types.js';
import type { EventRecorder } from '../client/events.js';
import { logger, type Logger } from '../util/log.js';
import type { ContainerRuntimeView, NodeNetwork, PodSandbox } from './contracts.js';
import { formatResolvConf, hostNetworkHostsFile, managedHostsFile, podDNSConfig, podHostnameAndDomain, podKernelHostname, type ClusterDNS } from './dns.js';
import { ContainerConfigError, expandCommandAndArgs, makeEnvironment, serviceEnvVarMap, type NodeAllocatable } from './envvars.js';
import { formatGoDuration } from '../util/go-duration.js';
import { resolveImage } from './image-resolve.js';
import { generatePodStatus, imageIDFor, normalizeImage, type ContainerObservation, type ContainerState, type PodStatus } from './pod-status.js';
import { runLifecycleHandler, startProbeWorker, which, type LifecycleHandler, type ProbeRunner, type ProbeType, type ProbeWorker } from './probes.js';
import type { ObjectLookup } from './config-sources.js';
import { createTokenManager, type RequestServiceAccountToken } from './token-manager.js';
import { isProjection, setUpVolumes } from './volumes.js';
import { errorMessage } from '../util/errors.js';

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

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const backoffInitialMs = 10_000;
const backoffMaxMs = 300_000;
const minimumGracePeriodSeconds = 2;
const retryConfigMs = 10_000;
// The volume manager's retry of a failed mount: 500 ms doubling to 2m2s (exponentialbackoff).
const volumeRetryInitialMs = 500;
const volumeRetryMaxMs = 122_000;
const defaultVolumeResyncMs = 60_000;
// kubecontainer.MaxContainerTerminationMessageLogLength / LogLines
const maxTerminationLogBytes = 2048;
const maxTerminationLogLines = 80;

/** format.Pod: name_namespace(uid). */
export function formatPod(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

/** The pod's directory name under <state>/pods. */
export function podDirName(pod: Pod): string {
  return `${pod.metadata?.namespace}_${pod.metadata?.name}_${pod.metadata?.uid}`;
}

// ---------------------------------------------------------------------------
// Back-off (client-go flowcontrol.Backoff as the kubelet uses it).

export interface BackoffEntry {
  backoffMs: number;
  lastUpdate: number;
}

const hasExpired = (eventTime: number, lastUpdate: number) => eventTime - lastUpdate > backoffMaxMs * 2;

/** IsInBackOffSince: a restart after the run that finished at `finishedAt` must wait. */
export function isInBackOff(entry: BackoffEntry | undefined, finishedAt: number, now: number): boolean {
  if (!entry || hasExpired(finishedAt, entry.lastUpdate)) return false;
  return now - finishedAt < entry.backoffMs;
}

/** Next: the back-off after a restart now (initial, or doubled up to the maximum). */
export function nextBackoff(entry: BackoffEntry | undefined, finishedAt: number, now: number): BackoffEntry {
  if (!entry || hasExpired(finishedAt, entry.lastUpdate)) return { backoffMs: backoffInitialMs, lastUpdate: now };
  return { backoffMs: Math.min(entry.backoffMs * 2, backoffMaxMs), lastUpdate: now };
}

// ---------------------------------------------------------------------------
// Stale processes.

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** A pid file: "<pid> <start time>", so a reused pid is never mistaken for ours. */
export function writePidFile(path: string, pid: number): void {
  writeFileSync(path, `${pid} ${procStartTime(pid) ?? ''}\n`);
}

/** Kills the process (and its process group) a pid file names, when it is still that process. */
export function killByPidFile(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!(pid > 1)) return false;
  const now = procStartTime(pid);
  if (now === undefined || (start && now !== start)) return false;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already, or not a group leader
    }
  }
  return true;
}

function findPidFiles(dir: string, depth: number): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    if (name.endsWith('.pid') || name === 'pid') out.push(path);
    else if (depth > 0) {
      try {
        if (lstatSync(path).isDirectory()) out.push(...findPidFiles(path, depth - 1));
      } catch {
        // raced away
      }
    }
  }
  return out;
}

/**
 * After a crash: kills every process a pid file under the state dir names
 * (containers, the probe helper) and removes the old pods' state. Returns
 * how many processes were killed.
 */
export function cleanupStaleProcesses(stateDir: string): number {
  let killed = 0;
  for (const file of findPidFiles(stateDir, 3)) {
    if (killByPidFile(file)) killed++;
    rmSync(file, { force: true });
  }
  rmSync(join(stateDir, 'pods'), { recursive: true, force: true });
  return killed;
}

// ---------------------------------------------------------------------------
// Shell setup script for the container's mount and UTS namespaces.

export function shQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ContainerMount {
  source: string;
  target: string;
  readOnly?: boolean;
}

/** The setup run inside the new mount and UTS namespaces before the container's command. */
export function containerSetupScript(o: { hostname: string; mounts: ContainerMount[]; workingDir?: string }): string {
  const lines = ['set -e', `printf '%s' ${shQuote(o.hostname)} > /proc/sys/kernel/hostname`];
  for (const m of o.mounts) {
    lines.push(`mount --bind ${shQuote(m.source)} ${shQuote(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${shQuote(m.target)}`);
  }
  if (o.workingDir) lines.push(`cd ${shQuote(o.workingDir)}`);
  lines.push('set +e', 'exec "$@"');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// Runtime state.

interface Run {
  id: string;
  restartCount: number;
  logFile: string;
  image: string;
  imageID: string;
  /** The spec image this run was started for (a change restarts the container). */
  specImage: string;
  startedAt: Date;
  finishedAt?: Date;
  exitCode?: number;
  reason?: string;
  message?: string;
  pid?: number;
  child?: ChildProcess;
  pidFile?: string;
  exited: Promise<void>;
  markExited: () => void;
  killing?: Promise<void>;
  /** Why the kubelet killed it (for the restart decision and events). */
  killedFor?: string;
}

interface ContainerRecord {
  name: string;
  init: boolean;
  runs: Run[];
  waiting?: { reason: string; message?: string };
  /** The waiting reason+message last reported by an event, so it is reported once. */
  reported?: string;
  backoff?: BackoffEntry;
  backoffKey?: string;
  probes: Partial<Record<ProbeType, ProbeWorker>>;
  /** A liveness or startup probe failed: restart. */
  unhealthy?: ProbeType;
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
}

const signalNumber = (signal: NodeJS.Signals) => (osConstants.signals as Record<string, number>)[signal] ?? 9;

function lastRun(c: ContainerRecord | undefined): Run | undefined {
  return c?.runs[c.runs.length - 1];
}

function terminatedState(r: Run): ContainerState {
  return {
    terminated: {
      exitCode: r.exitCode ?? 0,
      reason: r.reason,
      message: r.message || undefined,
      startedAt: iso(r.startedAt),
      finishedAt: iso(r.finishedAt ?? r.startedAt),
      containerID: `kubesvc://${r.id}`,
    },
  };
}

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function tailForTerminationMessage(file: string): string {
  try {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const tail = lines.slice(-maxTerminationLogLines).join('\n') + (text.endsWith('\n') ? '\n' : '');
    return Buffer.from(tail).subarray(-maxTerminationLogBytes).toString('utf8');
  } catch {
    return '';
  }
}

/** Where a command would be found on PATH (for the runtime's "executable file not found" start error). */
function findExecutable(cmd: string, path: string): boolean {
  const isExec = (p: string) => {
    try {
      const s = statSync(p);
      return s.isFile() && (s.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return isExec(cmd);
  return path.split(':').some((dir) => dir && isExec(join(dir, cmd)));
}

export function createRuntime(opts: RuntimeOptions): PodRuntime {
  const log = opts.log ?? logger('kubelet');
  const pods = new Map<string, PodRecord>();
  const tools = { setpriv: which('setpriv'), ip: which('ip'), unshare: which('unshare'), sh: existsSync('/bin/sh') ? '/bin/sh' : which('sh') };
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

  // -- sandbox and pod files ------------------------------------------------

  async function ensureSandbox(rec: PodRecord) {
    if (rec.netns) return;
    if (rec.hostNetwork) {
      rec.netns = opts.network.netns;
      rec.podIPs = [opts.network.nodeIP];
      return;
    }
    try {
      rec.sandbox = await opts.network.createPodSandbox(rec.uid);
    } catch (e) {
      const msg = errorMessage(e);
      event(rec, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${msg}`);
      throw new Error(`creating the sandbox of pod ${rec.namespace}/${rec.name}: ${msg}`, { cause: e });
    }
    rec.netns = rec.sandbox.netns;
    rec.podIPs = [rec.sandbox.ip];
  }

  function writePodFiles(rec: PodRecord) {
    if (rec.filesReady) return;
    const etc = join(rec.dir, 'etc');
    mkdirSync(etc, { recursive: true });
    const pod = rec.pod;
    const { config, warnings } = podDNSConfig(pod, opts.dns);
    for (const w of warnings) event(rec, 'Warning', 'DNSConfigForming', w);
    writeFileSync(join(etc, 'resolv.conf'), formatResolvConf(config));
    if (rec.hostNetwork) {
      writeFileSync(join(etc, 'hosts'), hostNetworkHostsFile(opts.nodeHosts, pod.spec?.hostAliases));
      writeFileSync(join(etc, 'hostname'), `${opts.nodeName}\n`);
    } else {
      const { hostname, domain } = podHostnameAndDomain(pod, opts.dns.clusterDomain);
      writeFileSync(join(etc, 'hosts'), managedHostsFile(rec.podIPs, hostname, domain, pod.spec?.hostAliases));
      writeFileSync(join(etc, 'hostname'), `${podKernelHostname(pod, opts.dns.clusterDomain)}\n`);
    }
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

  function volumeMounts(rec: PodRecord, c: Container): ContainerMount[] {
    const out: ContainerMount[] = [];
    for (const vm of c.volumeMounts ?? []) {
      const v = rec.pod.spec?.volumes?.find((x) => x.name === vm.name);
      if (!v) continue;
      let source = v.hostPath ? v.hostPath.path : join(rec.dir, 'volumes', v.name);
      if (vm.subPath) {
        source = join(source, vm.subPath);
        if (!existsSync(source)) mkdirSync(source, { recursive: true });
      }
      out.push({ source, target: vm.mountPath, readOnly: vm.readOnly === true });
    }
    return out;
  }

  /** A mount point must exist on the host (the mount namespace is private, the file system is not). */
  function ensureMountPoint(m: ContainerMount) {
    let isDir = true;
    try {
      isDir = statSync(m.source).isDirectory();
    } catch {
      // the source is made by the caller
    }
    try {
      const st = statSync(m.target);
      if (st.isDirectory() === isDir) return;
    } catch {
      // missing: create it below
    }
    if (isDir) mkdirSync(m.target, { recursive: true });
    else {
      mkdirSync(dirname(m.target), { recursive: true });
      if (!existsSync(m.target)) writeFileSync(m.target, '');
    }
  }

  /** /etc files of the host are often symlinks; mounting over one mounts over its target, which must exist. */
  function etcTarget(path: string): string | undefined {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  }

  // -- containers ---------------------------------------------------------

  function reportWaiting(rec: PodRecord, cr: ContainerRecord, image: string, reason: string, message: string) {
    cr.waiting = { reason, message };
    const key = `${reason}\0${message}`;
    if (cr.reported === key) return;
    cr.reported = key;
    if (reason === 'ErrImagePull') {
      event(rec, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
      event(rec, 'Warning', 'Failed', `Error: ${reason}`);
    } else {
      event(rec, 'Warning', 'Failed', `Error: ${message}`);
    }
  }

  function newRun(cr: ContainerRecord, c: Container, dir: string): Run {
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const restartCount = cr.runs.length;
    return {
      id: randomBytes(32).toString('hex'),
      restartCount,
      logFile: join(dir, `${restartCount}.log`),
      image: normalizeImage(c.image ?? ''),
      imageID: imageIDFor(c.image ?? ''),
      specImage: c.image ?? '',
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
      const c = specOf(rec, cr.name);
      if (c?.terminationMessagePolicy === 'FallbackToLogsOnError' && exitCode !== 0) run.message = tailForTerminationMessage(run.logFile);
    }
    if (run.pid) {
      // The container is its process group: whatever it left behind goes with it.
      try {
        process.kill(-run.pid, 'SIGKILL');
      } catch {
        // nothing left
      }
    }
    if (run.pidFile) rmSync(run.pidFile, { force: true });
    for (const w of Object.values(cr.probes)) w?.stop();
    cr.probes = {};
    cr.unhealthy = undefined;
    run.markExited();
    changed(rec);
  }

  function isRunning(cr: ContainerRecord | undefined): boolean {
    const r = lastRun(cr);
    return !!r && !r.finishedAt;
  }

  function isStarted(cr: ContainerRecord): boolean {
    if (!isRunning(cr)) return false;
    const w = cr.probes.startup;
    return w ? w.result === true : true;
  }

  function isReady(cr: ContainerRecord): boolean {
    if (!isStarted(cr)) return false;
    const w = cr.probes.readiness;
    return w ? w.result === true : true;
  }

  async function startContainer(rec: PodRecord, cr: ContainerRecord, c: Container): Promise<void> {
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
    const { command, args } = expandCommandAndArgs(c, env);
    const plan = resolveImage({ image, command, args });
    if (plan.kind === 'waiting') {
      reportWaiting(rec, cr, image, plan.reason, plan.message);
      return;
    }
    cr.waiting = undefined;
    cr.reported = undefined;

    const dir = join(rec.dir, cr.name);
    mkdirSync(dir, { recursive: true });
    const run = newRun(cr, c, dir);
    // Built-in images are always present: no pull, as with IfNotPresent.
    event(rec, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);

    // The image's private paths, fresh for every run as a new container's layer is.
    const fsDir = join(dir, 'fs');
    rmSync(fsDir, { recursive: true, force: true });
    const imageDirs = new Set<string>();
    for (const f of plan.files ?? []) {
      const target = join(fsDir, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.content);
      imageDirs.add(dirname(f.path));
    }
    const mounts: ContainerMount[] = [...imageDirs].map((d) => ({ source: join(fsDir, d), target: d }));
    mounts.push(...volumeMounts(rec, c));
    for (const m of mounts) ensureMountPoint(m);
    for (const f of ['hosts', 'resolv.conf', 'hostname']) {
      const target = etcTarget(`/etc/${f}`);
      if (target) mounts.push({ source: join(rec.dir, 'etc', f), target });
    }

    const processEnv: Record<string, string> = {
      PATH: DEFAULT_PATH,
      HOSTNAME: rec.hostNetwork ? opts.nodeName : podKernelHostname(pod, opts.dns.clusterDomain),
      HOME: '/root',
      ...plan.env,
    };
    for (const e of env) processEnv[e.name] = e.value;

    const argv0 = plan.argv[0] ?? '';
    cr.runs.push(run);
    // As the runtime's container GC: the current and the previous run's logs are kept.
    const old = cr.runs[cr.runs.length - 3];
    if (old) rmSync(old.logFile, { force: true });
    writeFileSync(run.logFile, '', { flag: 'a' });
    if (!findExecutable(argv0, processEnv.PATH)) {
      const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv0}": executable file not found in $PATH: unknown`;
      event(rec, 'Normal', 'Created', `Created container ${cr.name}`);
      event(rec, 'Warning', 'Failed', `Error: ${message}`);
      finishRun(rec, cr, run, 128, 'StartError', message);
      return;
    }

    const script = containerSetupScript({
      hostname: rec.hostNetwork ? opts.nodeName : podKernelHostname(pod, opts.dns.clusterDomain),
      mounts,
      workingDir: c.workingDir,
    });
    if (c.workingDir && !existsSync(c.workingDir)) mkdirSync(c.workingDir, { recursive: true });
    // Checked with no await between here and the spawn: a pod being stopped gets no new process.
    if (rec.terminating || stoppedAll) {
      cr.runs.pop();
      return;
    }
    const inner = [tools.ip, 'netns', 'exec', rec.netns!, tools.unshare, '--mount', '--uts', '--propagation', 'private', '--', tools.sh, '-c', script, 'sh', ...plan.argv];
    const [file, argv] = tools.setpriv.startsWith('/') ? [tools.setpriv, ['--pdeathsig', 'KILL', '--', ...inner]] : [inner[0], inner.slice(1)];
    event(rec, 'Normal', 'Created', `Created container ${cr.name}`);
    const fd = openSync(run.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, argv, { cwd: '/', env: processEnv, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    run.child = child;
    run.pid = child.pid;
    child.on('error', (e) => {
      event(rec, 'Warning', 'Failed', `Error: ${e.message}`);
      finishRun(rec, cr, run, 128, 'StartError', e.message);
    });
    child.on('exit', (code, signal) => {
      finishRun(rec, cr, run, code ?? (signal ? 128 + signalNumber(signal) : 1));
    });
    if (run.pid) {
      run.pidFile = join(dir, 'pid');
      try {
        writePidFile(run.pidFile, run.pid);
      } catch {
        // the pod's directory went away under us; the parent-death signal still holds
      }
    }
    event(rec, 'Normal', 'Started', `Started container ${cr.name}`);
    log.info('container started', { pod: `${rec.namespace}/${rec.name}`, container: cr.name, pid: run.pid, restartCount: run.restartCount });
    startProbes(rec, cr, c, run);

    const postStart = c.lifecycle?.postStart as LifecycleHandler | undefined;
    if (postStart) {
      const err = await runLifecycleHandler(postStart, {
        runner: opts.runner,
        container: c,
        podIP: rec.podIPs[0] ?? '',
        pid: run.pid,
        containerName: cr.name,
        podDesc: formatPod(pod),
        timeoutMs: ((pod.spec?.terminationGracePeriodSeconds ?? 30) || 30) * 1000,
      });
      if (err && !run.finishedAt) {
        log.warn('postStart hook failed', { pod: `${rec.namespace}/${rec.name}`, container: cr.name, error: err });
        event(rec, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
        await killRun(rec, cr, run, { message: `FailedPostStartHook`, graceSeconds: gracePeriodFor(rec, c) });
      }
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
      if (cr.init && (c as { restartPolicy?: string }).restartPolicy !== 'Always') continue;
      cr.probes[type] = startProbeWorker({
        type,
        probe,
        container: c,
        podIP: rec.podIPs[0] ?? '',
        startedAt: run.startedAt.getTime(),
        pid: () => (run.finishedAt ? undefined : run.pid),
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

  /** setTerminationGracePeriod: the probe's own terminationGracePeriodSeconds for probe kills, else the pod's. */
  function gracePeriodFor(rec: PodRecord, c: Container | undefined, probe?: ProbeType): number {
    const p = probe === 'liveness' ? c?.livenessProbe : probe === 'startup' ? c?.startupProbe : undefined;
    return p?.terminationGracePeriodSeconds ?? rec.pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /**
   * killContainer: preStop (within the grace period), SIGTERM to the process
   * group, SIGKILL when the grace period is over. `override` is the pod
   * deletion's effective grace period, which skips the 2 s minimum.
   */
  function killRun(rec: PodRecord, cr: ContainerRecord, run: Run, o: { message: string; graceSeconds: number; override?: boolean; killedFor?: string }): Promise<void> {
    if (run.finishedAt) return Promise.resolve();
    if (run.killing) return run.killing;
    run.killedFor = o.killedFor;
    run.killing = (async () => {
      event(rec, 'Normal', 'Killing', o.message);
      const started = Date.now();
      let grace = o.graceSeconds;
      const c = specOf(rec, cr.name);
      const preStop = c?.lifecycle?.preStop as LifecycleHandler | undefined;
      if (preStop && grace > 0) {
        const abort = new AbortController();
        void run.exited.then(() => abort.abort());
        const err = await Promise.race([
          runLifecycleHandler(preStop, {
            runner: opts.runner,
            container: c!,
            podIP: rec.podIPs[0] ?? '',
            pid: run.finishedAt ? undefined : run.pid,
            containerName: cr.name,
            podDesc: formatPod(rec.pod),
            timeoutMs: grace * 1000,
            signal: abort.signal,
          }),
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), grace * 1000).unref()),
        ]);
        if (err) {
          log.warn('preStop hook failed', { pod: `${rec.namespace}/${rec.name}`, container: cr.name, error: err });
          event(rec, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
        }
        grace -= Math.floor((Date.now() - started) / 1000);
      }
      if (!o.override && grace < minimumGracePeriodSeconds) grace = minimumGracePeriodSeconds;
      if (run.finishedAt) return;
      signalGroup(run, 'SIGTERM');
      const killed = await Promise.race([run.exited.then(() => false), sleep(Math.max(0, grace) * 1000).then(() => true)]);
      if (killed && !run.finishedAt) {
        signalGroup(run, 'SIGKILL');
        await Promise.race([run.exited, sleep(10_000)]);
        if (!run.finishedAt) {
          // The process is beyond signals (uninterruptible); account for it as killed.
          const cr2 = rec.containers.get(cr.name);
          if (cr2) finishRun(rec, cr2, run, 137);
        }
      }
    })();
    return run.killing;
  }

  function signalGroup(run: Run, signal: NodeJS.Signals) {
    if (!run.pid) return;
    try {
      process.kill(-run.pid, signal);
    } catch {
      try {
        process.kill(run.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

  /**
   * One container toward its spec. Returns whether it is done for the
   * purpose of the init sequence: an init container that exited 0 (or a
   * sidecar that started).
   */
  async function syncContainer(rec: PodRecord, c: Container, init: boolean): Promise<boolean> {
    const cr = record(rec, c, init);
    const sidecar = init && (c as { restartPolicy?: string }).restartPolicy === 'Always';
    const policy = sidecar ? 'Always' : init ? (rec.pod.spec?.restartPolicy === 'Never' ? 'Never' : 'OnFailure') : (rec.pod.spec?.restartPolicy ?? 'Always');
    let run = lastRun(cr);
    if (run && !run.finishedAt) {
      // computePodActions: a changed definition restarts whatever the policy; a failed probe as the policy says.
      const restartOnFailure = policy !== 'Never';
      if (run.specImage !== (c.image ?? '')) {
        await killRun(rec, cr, run, { message: `Container ${c.name} definition changed, will be restarted`, graceSeconds: gracePeriodFor(rec, c), killedFor: 'definition' });
      } else if (cr.unhealthy) {
        const probe = cr.unhealthy;
        await killRun(rec, cr, run, {
          message: `Container ${c.name} failed ${probe} probe${restartOnFailure ? ', will be restarted' : ''}`,
          graceSeconds: gracePeriodFor(rec, c, probe),
          killedFor: probe,
        });
      } else {
        return sidecar ? isStarted(cr) : false;
      }
      run = lastRun(cr);
    }
    if (run?.finishedAt) {
      const exitCode = run.exitCode ?? 0;
      const killedToRestart = run.killedFor === 'definition' || ((run.killedFor === 'liveness' || run.killedFor === 'startup') && policy !== 'Never');
      if (!killedToRestart && (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0))) return init && exitCode === 0;
      // CrashLoopBackOff, keyed as getStableKey (the container's definition included).
      const key = `${c.name}/${c.image}`;
      if (cr.backoffKey !== key) {
        cr.backoffKey = key;
        cr.backoff = undefined;
      }
      const finishedAt = run.finishedAt.getTime();
      const now = Date.now();
      if (isInBackOff(cr.backoff, finishedAt, now)) {
        const wait = formatGoDuration(cr.backoff!.backoffMs);
        const message = `back-off ${wait} restarting failed container=${c.name} pod=${formatPod(rec.pod)}`;
        const entering = cr.waiting?.reason !== 'CrashLoopBackOff' || cr.waiting.message !== message;
        cr.waiting = { reason: 'CrashLoopBackOff', message };
        if (entering) {
          event(rec, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${formatPod(rec.pod)}`);
          wakeAfter(rec, finishedAt + cr.backoff!.backoffMs - now + 10);
        }
        return false;
      }
      cr.backoff = nextBackoff(cr.backoff, finishedAt, now);
    }
    if (rec.terminating) return false;
    await startContainer(rec, cr, c);
    return false;
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
      const run = cr.runs[cr.runs.length - (previous ? 2 : 1)];
      return run && existsSync(run.logFile) ? run.logFile : undefined;
    },
    containerPid(namespace, pod, container) {
      const run = lastRun(view(namespace, pod, container));
      return run && !run.finishedAt ? run.pid : undefined;
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
        };
        pods.set(uid, rec);
        mkdirSync(rec.dir, { recursive: true });
      }
      rec.pod = pod;
      if (rec.terminating || rec.finished || stoppedAll) return;
      await ensureSandbox(rec);
      writePodFiles(rec);
      if (!(await syncVolumes(rec))) return;
      // Init containers in order; the containers once all of them are done.
      for (const c of pod.spec?.initContainers ?? []) {
        // A regular init container must have exited 0, a sidecar must have started.
        if (!(await syncContainer(rec, c, true))) return;
      }
      for (const c of pod.spec?.containers ?? []) await syncContainer(rec, c, false);
    },

    async terminatePod(uid, pod) {
      const rec = pods.get(uid);
      if (!rec) return;
      if (pod) rec.pod = pod;
      rec.terminating = true;
      for (const t of rec.timers) clearTimeout(t);
      rec.timers.clear();
      // calculateEffectiveGracePeriod: the deletion's grace, else the pod's; at least 1 s.
      let grace = rec.pod.metadata?.deletionGracePeriodSeconds ?? 0;
      if (grace === 0) grace = rec.pod.spec?.terminationGracePeriodSeconds ?? 30;
      if (grace < 1) grace = 1;
      const kills: Promise<void>[] = [];
      for (const cr of rec.containers.values()) {
        const run = lastRun(cr);
        cr.waiting = undefined;
        if (!run || run.finishedAt) continue;
        kills.push(killRun(rec, cr, run, { message: `Stopping container ${cr.name}`, graceSeconds: grace, override: true }));
      }
      await Promise.all(kills);
      await releaseSandbox(rec);
      rec.terminated = true;
      changed(rec);
    },

    async finishPod(uid) {
      const rec = pods.get(uid);
      if (!rec || rec.finished) return;
      rec.finished = true;
      for (const t of rec.timers) clearTimeout(t);
      rec.timers.clear();
      const kills: Promise<void>[] = [];
      for (const cr of rec.containers.values()) {
        const run = lastRun(cr);
        if (run && !run.finishedAt) kills.push(killRun(rec, cr, run, { message: `Stopping container ${cr.name}`, graceSeconds: rec.pod.spec?.terminationGracePeriodSeconds ?? 30 }));
      }
      await Promise.all(kills);
      await releaseSandbox(rec);
    },

    removePod(uid) {
      const rec = pods.get(uid);
      if (!rec) return;
      for (const t of rec.timers) clearTimeout(t);
      pods.delete(uid);
      tokens.forgetPod(uid);
      rmSync(rec.dir, { recursive: true, force: true });
    },

    podStatus(pod, o = {}) {
      const rec = pods.get(pod.metadata?.uid ?? '');
      const observe = (cr: ContainerRecord): ContainerObservation | undefined => {
        const run = lastRun(cr);
        const prev = cr.runs[cr.runs.length - 2];
        if (!run && !cr.waiting) return undefined;
        const base = {
          name: cr.name,
          restartCount: run?.restartCount ?? 0,
          containerID: run ? `kubesvc://${run.id}` : undefined,
          image: run?.image,
          imageID: run?.imageID,
        };
        if (cr.waiting && !(run && !run.finishedAt)) {
          return { ...base, state: { waiting: { ...cr.waiting } }, lastState: run ? terminatedState(run) : undefined, ready: false, started: false };
        }
        if (run && !run.finishedAt) {
          const init = cr.init && (specOf(rec!, cr.name) as { restartPolicy?: string } | undefined)?.restartPolicy !== 'Always';
          return {
            ...base,
            state: { running: { startedAt: iso(run.startedAt) } },
            lastState: prev ? terminatedState(prev) : undefined,
            ready: init ? false : isReady(cr),
            started: isStarted(cr),
          };
        }
        const regularInit = cr.init && (specOf(rec!, cr.name) as { restartPolicy?: string } | undefined)?.restartPolicy !== 'Always';
        return {
          ...base,
          state: terminatedState(run!),
          lastState: prev ? terminatedState(prev) : undefined,
          ready: regularInit && run!.exitCode === 0,
          started: false,
        };
      };
      const obs = (init: boolean) =>
        rec ? [...rec.containers.values()].filter((c) => c.init === init).map(observe).filter((x): x is ContainerObservation => !!x) : [];
      return generatePodStatus({
        pod,
        hostIPs: [opts.network.nodeIP],
        podIPs: rec?.podIPs ?? [],
        sandboxReady: !!rec?.netns && !rec.sandboxGone,
        containers: obs(false),
        initContainers: obs(true),
        podIsTerminal: o.podIsTerminal,
        now: o.now ?? iso(new Date()),
      });
    },

    podUIDs: () => [...pods.keys()],
    isTerminated: (uid) => pods.get(uid)?.terminated ?? true,

    async stopAll(graceMs = 2000) {
      stoppedAll = true;
      await Promise.all(
        [...pods.values()].map(async (rec) => {
          rec.terminating = true;
          for (const t of rec.timers) clearTimeout(t);
          rec.timers.clear();
          const kills: Promise<void>[] = [];
          for (const cr of rec.containers.values()) {
            const run = lastRun(cr);
            if (run && !run.finishedAt) kills.push(killRun(rec, cr, run, { message: `Stopping container ${cr.name}`, graceSeconds: graceMs / 1000, override: true }));
          }
          await Promise.all(kills);
          await releaseSandbox(rec).catch((e) => log.warn('sandbox not removed', { pod: `${rec.namespace}/${rec.name}`, error: String(e) }));
          rec.terminated = true;
        }),
      );
    },
  };

  async function releaseSandbox(rec: PodRecord) {
    if (rec.sandboxGone) return;
    rec.sandboxGone = true;
    if (rec.sandbox) {
      try {
        await opts.network.deletePodSandbox(rec.uid);
      } catch (e) {
        rec.sandboxGone = false;
        throw e;
      }
    }
  }

  return runtime;
}
