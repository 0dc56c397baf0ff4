// What the pod runtime reports: each container's state (waiting, running or
// terminated, the run before as its last state) as the container runtime
// would show it, made into the pod's status by ./pod-status.ts.
import type { Container, Pod } from '../api/types.js';
import { isReady, isStarted, lastRun, type ContainerRecord, type Run } from './container-record.js';
import { isSidecar } from './pod-actions.js';
import { generatePodStatus, type ContainerObservation, type ContainerState, type PodStatus } from './pod-status.js';

/** RFC 3339 in seconds, as the API shows times. */
export function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The container ID of a run, as the status shows it. */
export function containerID(r: Run): string {
  return `kubesvc://${r.id}`;
}

function terminatedState(r: Run): ContainerState {
  return {
    terminated: {
      exitCode: r.exitCode ?? 0,
      reason: r.reason,
      message: r.message || undefined,
      startedAt: iso(r.startedAt),
      finishedAt: iso(r.finishedAt ?? r.startedAt),
      containerID: containerID(r),
    },
  };
}

/** The container's status; undefined when it never ran and waits on nothing. `spec` is its spec in the pod the runtime holds. */
export function containerObservation(cr: ContainerRecord, spec: Container | undefined): ContainerObservation | undefined {
  const run = lastRun(cr);
  const prev = cr.runs[cr.runs.length - 2];
  if (!run && !cr.waiting) return undefined;
  const base = {
    name: cr.name,
    restartCount: run?.restartCount ?? 0,
    containerID: run ? containerID(run) : undefined,
    image: run?.image,
    imageID: run?.imageID,
  };
  if (cr.waiting && !(run && !run.finishedAt)) {
    return { ...base, state: { waiting: { ...cr.waiting } }, lastState: run ? terminatedState(run) : undefined, ready: false, started: false };
  }
  // A regular init container is never ready while it runs, and ready once it exited 0.
  const regularInit = cr.init && !(spec && isSidecar(spec, true));
  const lastState = prev ? terminatedState(prev) : undefined;
  if (run && !run.finishedAt) {
    return { ...base, state: { running: { startedAt: iso(run.startedAt) } }, lastState, ready: regularInit ? false : isReady(cr), started: isStarted(cr) };
  }
  return { ...base, state: terminatedState(run!), lastState, ready: regularInit && run!.exitCode === 0, started: false };
}

export interface RuntimePodStatusInput {
  pod: Pod;
  nodeIP: string;
  podIPs: string[];
  sandboxReady: boolean;
  /** The runtime's containers, in the order it recorded them. */
  containers: ContainerRecord[];
  /** A container's spec in the pod the runtime holds. */
  specOf(name: string): Container | undefined;
  podIsTerminal?: boolean;
  now?: string;
}

/** The pod's status from what the runtime observed. */
export function runtimePodStatus(i: RuntimePodStatusInput): PodStatus {
  const obs = (init: boolean) =>
    i.containers
      .filter((c) => c.init === init)
      .map((c) => containerObservation(c, i.specOf(c.name)))
      .filter((x): x is ContainerObservation => !!x);
  return generatePodStatus({
    pod: i.pod,
    hostIPs: [i.nodeIP],
    podIPs: i.podIPs,
    sandboxReady: i.sandboxReady,
    containers: obs(false),
    initContainers: obs(true),
    podIsTerminal: i.podIsTerminal,
    now: i.now ?? iso(new Date()),
  });
}
