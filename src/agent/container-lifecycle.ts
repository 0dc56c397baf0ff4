// A container's lifecycle hooks and its stop sequence, as the kubelet's
// killContainer does it: the preStop hook within the grace period, then
// SIGTERM (or the image's StopSignal), then SIGKILL when the grace period is
// over (at least 2 s of it left after the hook, unless the pod's deletion
// says otherwise).
import type { Container, Pod } from '../api/types.js';
import { runLifecycleHandler, type LifecycleHandler, type ProbeRunner } from './probes.js';

const minimumGracePeriodSeconds = 2;
// After SIGKILL: how long before a process beyond signals is given up on.
const killWaitMs = 10_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Where a hook runs: the container's process (exec) or its pod's IP (httpGet). */
export interface HookTarget {
  runner: ProbeRunner;
  container: Container;
  podIP: string;
  pid: number | undefined;
  /** The runtime's exec command line for the container (argv appended); none: nsenter into pid's namespaces. */
  execPrefix?: string[];
  /** format.Pod of the pod, for the hook's messages. */
  podDesc: string;
}

/** Runs the container's postStart hook, if it has one; resolves to its error. */
export function runPostStartHook(pod: Pod, t: HookTarget): Promise<string | undefined> {
  const postStart = t.container.lifecycle?.postStart as LifecycleHandler | undefined;
  if (!postStart) return Promise.resolve(undefined);
  return runLifecycleHandler(postStart, {
    runner: t.runner,
    container: t.container,
    podIP: t.podIP,
    pid: t.pid,
    execPrefix: t.execPrefix,
    containerName: t.container.name,
    podDesc: t.podDesc,
    timeoutMs: ((pod.spec?.terminationGracePeriodSeconds ?? 30) || 30) * 1000,
  });
}

/** The run being stopped. */
export interface StoppingRun {
  /** Whether it ended. */
  finished(): boolean;
  /** Resolves when it ended. */
  exited: Promise<void>;
  /** Signals every process of the container. */
  signal(signal: NodeJS.Signals): void;
}

export interface StopOptions {
  graceSeconds: number;
  /** The image's StopSignal; SIGTERM by default. */
  stopSignal?: NodeJS.Signals;
  /** The pod deletion's effective grace period: no 2 s minimum. */
  override?: boolean;
  /** Where the preStop hook runs (the spec's, if it has one). */
  hook?: HookTarget;
  onPreStopFailed(error: string): void;
  /** SIGKILL did not end it (uninterruptible): account for it as killed. */
  onUnkillable(): void;
}

/** preStop (within the grace period), the stop signal to the container, SIGKILL when the grace period is over. */
export async function stopContainer(run: StoppingRun, o: StopOptions): Promise<void> {
  const started = Date.now();
  let grace = o.graceSeconds;
  const preStop = o.hook?.container.lifecycle?.preStop as LifecycleHandler | undefined;
  if (o.hook && preStop && grace > 0) {
    const abort = new AbortController();
    void run.exited.then(() => abort.abort());
    const err = await Promise.race([
      runLifecycleHandler(preStop, {
        runner: o.hook.runner,
        container: o.hook.container,
        podIP: o.hook.podIP,
        pid: run.finished() ? undefined : o.hook.pid,
        execPrefix: o.hook.execPrefix,
        containerName: o.hook.container.name,
        podDesc: o.hook.podDesc,
        timeoutMs: grace * 1000,
        signal: abort.signal,
      }),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), grace * 1000).unref()),
    ]);
    if (err) o.onPreStopFailed(err);
    grace -= Math.floor((Date.now() - started) / 1000);
  }
  if (!o.override && grace < minimumGracePeriodSeconds) grace = minimumGracePeriodSeconds;
  if (run.finished()) return;
  run.signal(o.stopSignal ?? 'SIGTERM');
  const killed = await Promise.race([run.exited.then(() => false), sleep(Math.max(0, grace) * 1000).then(() => true)]);
  if (killed && !run.finished()) {
    run.signal('SIGKILL');
    await Promise.race([run.exited, sleep(killWaitMs)]);
    if (!run.finished()) o.onUnkillable();
  }
}
