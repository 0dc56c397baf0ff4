// What to do with a pod's containers now: the kubelet's computePodActions
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go) as a pure function of the
// pod's spec, what the runtime observed of its containers and the clock.
//
// While the pod runs: the init containers one at a time and in order (a
// regular one must have exited 0, a restartable one — a sidecar — must have
// started, before the next), then every container. A running container is
// killed when its definition (its image) changed or a liveness or startup
// probe failed; an exited one is started again as its restart policy says,
// after the CrashLoopBackOff back-off (10 s doubling to 5 min, reset once a
// run lasted 10 min), as the kubelet's doBackOff does. When the pod stops,
// every running container is killed.
//
// The runtime carries the actions out in order; after a kill it computes
// again, since the killed container's restart (and its back-off) is decided
// by how it exited.
import type { Container, Pod } from '../api/types.js';
import { formatGoDuration } from '../util/go-duration.js';

const backoffInitialMs = 10_000;
const backoffMaxMs = 300_000;
const defaultGracePeriodSeconds = 30;

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

/** getStableKey: a container's back-off belongs to its definition (name and image); a new image starts afresh. */
export function backoffKey(c: Pick<Container, 'name' | 'image'>): string {
  return `${c.name}/${c.image}`;
}

// ---------------------------------------------------------------------------
// Pod and container facts.

/** format.Pod: name_namespace(uid). */
export function formatPod(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** A restartable init container: an init container with restartPolicy Always. */
export function isSidecar(c: Container, init: boolean): boolean {
  return init && (c as { restartPolicy?: string }).restartPolicy === 'Always';
}

/**
 * The restart policy a container runs under: a sidecar's own Always; a
 * regular init container's OnFailure (Never when the pod's is); the pod's
 * for the others.
 */
export function containerRestartPolicy(pod: Pod, c: Container, init: boolean): RestartPolicy {
  if (isSidecar(c, init)) return 'Always';
  const podPolicy = (pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
  if (init) return podPolicy === 'Never' ? 'Never' : 'OnFailure';
  return podPolicy;
}

export type ProbeKill = 'liveness' | 'startup';

/** setTerminationGracePeriod: the probe's own terminationGracePeriodSeconds for probe kills, else the pod's. */
export function containerGracePeriod(pod: Pod, c: Container | undefined, probe?: ProbeKill): number {
  const p = probe === 'liveness' ? c?.livenessProbe : probe === 'startup' ? c?.startupProbe : undefined;
  return p?.terminationGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? defaultGracePeriodSeconds;
}

/** calculateEffectiveGracePeriod: the deletion's grace, else the pod's; at least 1 s. */
export function deletionGracePeriod(pod: Pod): number {
  let grace = pod.metadata?.deletionGracePeriodSeconds ?? 0;
  if (grace === 0) grace = pod.spec?.terminationGracePeriodSeconds ?? defaultGracePeriodSeconds;
  return grace < 1 ? 1 : grace;
}

// ---------------------------------------------------------------------------
// Input and output.

/** Why the kubelet killed a run: its definition changed, or a probe failed. */
export type KillReason = 'definition' | ProbeKill;

/** The last run of a container, as the runtime observed it. */
export interface ObservedRun {
  /** The spec's image the run was started for (another one in the spec now: the definition changed). */
  image: string;
  /** Set once the run ended. */
  exited?: {
    exitCode: number;
    /** When it ended (ms since the epoch). */
    finishedAt: number;
    /** Set when the kubelet killed it for this. */
    killedFor?: KillReason;
  };
  /** A running container's liveness or startup probe failed. */
  unhealthy?: ProbeKill;
  /** A running container has started: its startup probe succeeded, or it has none. */
  started: boolean;
}

/** A container the runtime knows, in the order it first recorded them. */
export interface ObservedContainer {
  name: string;
  /** Whether it is one of the pod's init containers. */
  init: boolean;
  /** Its last run; none when it never started (it may be waiting: a config error, an image that cannot be had). */
  run?: ObservedRun;
  /** Its CrashLoopBackOff entry and the key it is kept under. */
  backoff?: { key: string; entry: BackoffEntry };
}

/** Why every container of the pod stops. */
export type PodStop =
  /** The pod is deleted: within the deletion's effective grace period, which skips the 2 s minimum. */
  | { kind: 'delete' }
  /** The pod's containers are done for good (Succeeded or Failed): within the spec's grace period. */
  | { kind: 'finish' }
  /** The agent shuts down: within the grace it is given, which skips the 2 s minimum. */
  | { kind: 'shutdown'; graceSeconds: number };

export interface PodActionsInput {
  pod: Pod;
  containers: readonly ObservedContainer[];
  /** The clock (ms since the epoch). */
  now: number;
  /** Set when the pod is to stop: its running containers are killed, nothing starts. */
  stop?: PodStop;
}

export type PodAction =
  /**
   * Start (again) the container. `backoff` is the back-off to record for it
   * (when it ran before): the next restart must wait that long after this
   * run ends.
   */
  | { type: 'start'; name: string; init: boolean; backoff?: { key: string; entry: BackoffEntry } }
  /** Not yet: the container is in CrashLoopBackOff until `retryAt` (ms since the epoch). */
  | { type: 'backoff'; name: string; init: boolean; backoffMs: number; retryAt: number; message: string }
  /**
   * Stop the running container: preStop, SIGTERM, SIGKILL after
   * `graceSeconds` (at least 2 s unless `override`). `restart`: it is meant
   * to run again (the restart itself is decided once it exited).
   */
  | { type: 'kill'; name: string; init: boolean; reason: KillReason | 'stop'; message: string; graceSeconds: number; override: boolean; restart: boolean };

// ---------------------------------------------------------------------------
// The decision.

/** What to do with the pod's containers now, in the order to do it. */
export function computePodActions(input: PodActionsInput): PodAction[] {
  if (input.stop) return stopActions(input.pod, input.containers, input.stop);
  const { pod, now } = input;
  const observed = new Map(input.containers.map((c) => [c.name, c]));
  const actions: PodAction[] = [];
  // Init containers in order; the containers once all of them are done.
  for (const c of pod.spec?.initContainers ?? []) {
    const { action, done } = containerAction(pod, c, true, observed.get(c.name), now);
    if (action) actions.push(action);
    if (!done) return actions;
  }
  for (const c of pod.spec?.containers ?? []) {
    const { action } = containerAction(pod, c, false, observed.get(c.name), now);
    if (action) actions.push(action);
  }
  return actions;
}

function stopActions(pod: Pod, containers: readonly ObservedContainer[], stop: PodStop): PodAction[] {
  const graceSeconds = stop.kind === 'delete' ? deletionGracePeriod(pod) : stop.kind === 'finish' ? (pod.spec?.terminationGracePeriodSeconds ?? defaultGracePeriodSeconds) : stop.graceSeconds;
  const override = stop.kind !== 'finish';
  return containers
    .filter((c) => c.run && !c.run.exited)
    .map((c) => ({ type: 'kill', name: c.name, init: c.init, reason: 'stop', message: `Stopping container ${c.name}`, graceSeconds, override, restart: false }));
}

/**
 * One container's action, and whether it is done for the init sequence: a
 * regular init container that exited 0, or a sidecar that started.
 */
function containerAction(pod: Pod, c: Container, init: boolean, obs: ObservedContainer | undefined, now: number): { action?: PodAction; done: boolean } {
  const sidecar = isSidecar(c, init);
  const policy = containerRestartPolicy(pod, c, init);
  const run = obs?.run;
  if (!run) return { action: { type: 'start', name: c.name, init }, done: false };
  if (!run.exited) {
    // A changed definition restarts whatever the policy; a failed probe as the policy says.
    const kill = (reason: KillReason, message: string, restart: boolean): { action: PodAction; done: boolean } => ({
      action: {
        type: 'kill',
        name: c.name,
        init,
        reason,
        message: restart ? `${message}, will be restarted` : message,
        graceSeconds: containerGracePeriod(pod, c, reason === 'definition' ? undefined : reason),
        override: false,
        restart,
      },
      done: false,
    });
    if (run.image !== (c.image ?? '')) return kill('definition', `Container ${c.name} definition changed`, true);
    if (run.unhealthy) return kill(run.unhealthy, `Container ${c.name} failed ${run.unhealthy} probe`, policy !== 'Never');
    return { done: sidecar && run.started };
  }
  const { exitCode, finishedAt, killedFor } = run.exited;
  const killedToRestart = killedFor === 'definition' || (killedFor !== undefined && policy !== 'Never');
  if (!killedToRestart && (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0))) return { done: init && exitCode === 0 };
  const key = backoffKey(c);
  const entry = obs?.backoff?.key === key ? obs.backoff.entry : undefined;
  if (entry && isInBackOff(entry, finishedAt, now)) {
    const message = `back-off ${formatGoDuration(entry.backoffMs)} restarting failed container=${c.name} pod=${formatPod(pod)}`;
    return { action: { type: 'backoff', name: c.name, init, backoffMs: entry.backoffMs, retryAt: finishedAt + entry.backoffMs, message }, done: false };
  }
  return { action: { type: 'start', name: c.name, init, backoff: { key, entry: nextBackoff(entry, finishedAt, now) } }, done: false };
}
