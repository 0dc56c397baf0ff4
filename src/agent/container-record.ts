// The pod runtime's record of a container: its runs (the current one last),
// what it waits on, its back-off and probe workers; and what the decision
// (./pod-actions.ts) and the status (./runtime-status.ts) read of it.
import type { ContainerHandle } from './launcher.js';
import type { BackoffEntry, KillReason, ObservedContainer, ProbeKill } from './pod-actions.js';
import type { ProbeType, ProbeWorker } from './probes.js';

/** One run of a container: one process, one log file, one container ID. */
export interface Run {
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
  /** What stops it: its image's StopSignal, else SIGTERM. */
  stopSignal?: NodeJS.Signals;
  handle?: ContainerHandle;
  exited: Promise<void>;
  markExited: () => void;
  killing?: Promise<void>;
  /** Why the kubelet killed it (for the restart decision). */
  killedFor?: KillReason;
}

export interface ContainerRecord {
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
  unhealthy?: ProbeKill;
}

export function lastRun(c: ContainerRecord | undefined): Run | undefined {
  return c?.runs[c.runs.length - 1];
}

export function isRunning(cr: ContainerRecord | undefined): boolean {
  const r = lastRun(cr);
  return !!r && !r.finishedAt;
}

/** Running, and its startup probe (if any) succeeded. */
export function isStarted(cr: ContainerRecord): boolean {
  if (!isRunning(cr)) return false;
  const w = cr.probes.startup;
  return w ? w.result === true : true;
}

/** Started, and its readiness probe (if any) succeeded. */
export function isReady(cr: ContainerRecord): boolean {
  if (!isStarted(cr)) return false;
  const w = cr.probes.readiness;
  return w ? w.result === true : true;
}

/** What the decision reads of the container. */
export function observeContainer(cr: ContainerRecord): ObservedContainer {
  const run = lastRun(cr);
  return {
    name: cr.name,
    init: cr.init,
    run: run && {
      image: run.specImage,
      exited: run.finishedAt ? { exitCode: run.exitCode ?? 0, finishedAt: run.finishedAt.getTime(), killedFor: run.killedFor } : undefined,
      unhealthy: cr.unhealthy,
      started: isStarted(cr),
    },
    backoff: cr.backoff && cr.backoffKey !== undefined ? { key: cr.backoffKey, entry: cr.backoff } : undefined,
  };
}
