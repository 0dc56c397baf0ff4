// `kubectl get pods` columns and cells (printers.go printPod).
import type { Container, ContainerStatus, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor, humanDuration } from '../table-format.js';

/** podutil.IsRestartableInitContainer: a sidecar, which keeps running beside the main containers. */
function isRestartableInit(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

function conditionTrue(conditions: PodCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** isPodInitializedConditionTrue: only the first Initialized condition counts. */
function initializedTrue(conditions: PodCondition[] | undefined): boolean {
  return conditions?.find((c) => c.type === 'Initialized')?.status === 'True';
}

/** Milliseconds of the latest restart seen so far (0 = none), as metav1.Time.Before keeps it. */
function laterRestart(latest: number, status: ContainerStatus): number {
  const finished = status.lastState?.terminated?.finishedAt;
  const t = finished ? Date.parse(finished) : NaN;
  return !Number.isNaN(t) && t > latest ? t : latest;
}

/** The reason a terminated container reports, with upstream's fallbacks for an empty one. */
function terminatedReason(status: ContainerStatus, prefix: string): string | undefined {
  const t = status.state?.terminated;
  if (!t) return undefined;
  if (t.reason) return `${prefix}${t.reason}`;
  return t.signal ? `${prefix}Signal:${t.signal}` : `${prefix}ExitCode:${t.exitCode ?? 0}`;
}

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

/**
 * printPod's Ready, Status and Restarts: the phase (or status.reason), then
 * the first init container still in the way (`Init:…`), then the main
 * containers' waiting/terminated reasons, last container first so the first
 * one wins; Terminating/Unknown once deletion has begun.
 */
export function summarizePod(pod: Pod, now: Date): PodSummary {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  if ((status.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initContainers = spec?.initContainers ?? [];
  const initSpecs = new Map(initContainers.map((c) => [c.name, c]));
  // Sidecars count towards READY like regular containers.
  const totalContainers = (spec?.containers ?? []).length + initContainers.filter(isRestartableInit).length;
  let readyContainers = 0;
  let restarts = 0;
  let lastRestart = 0;
  let sidecarRestarts = 0;
  let lastSidecarRestart = 0;

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (const [i, c] of initStatuses.entries()) {
    restarts += c.restartCount ?? 0;
    lastRestart = laterRestart(lastRestart, c);
    const sidecar = isRestartableInit(initSpecs.get(c.name));
    if (sidecar) {
      sidecarRestarts += c.restartCount ?? 0;
      lastSidecarRestart = laterRestart(lastSidecarRestart, c);
    }
    if (c.state?.terminated && (c.state.terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && c.started) {
      if (c.ready) readyContainers++;
      continue;
    }
    // This init container is what the pod waits on: it failed, is waiting, or is running.
    initializing = true;
    const waiting = c.state?.waiting?.reason;
    reason =
      terminatedReason(c, 'Init:') ??
      (waiting && waiting !== 'PodInitializing' ? `Init:${waiting}` : `Init:${i}/${initContainers.length}`);
    break;
  }

  if (!initializing || initializedTrue(status.conditions)) {
    // Once initialized only sidecar restarts stay relevant among init containers.
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    for (const c of [...(status.containerStatuses ?? [])].reverse()) {
      restarts += c.restartCount ?? 0;
      lastRestart = laterRestart(lastRestart, c);
      const containerReason = c.state?.waiting?.reason || terminatedReason(c, '');
      if (containerReason) reason = containerReason;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // Some containers completed while others still run: the pod is not "Completed".
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsText =
    restarts !== 0 && lastRestart !== 0 ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)` : String(restarts);
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

/** The Readiness Gates cell: how many gated conditions are True, or `<none>`. */
function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (!gates.length) return '<none>';
  const conditions = pod.status?.conditions ?? [];
  const met = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
  return `${met}/${gates.length}`;
}

export const table = convertor<Pod>(
  [
    nameColumn,
    column('Ready', 'string', 0, 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 0, 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 0, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn,
    column('IP', 'string', 1, 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'),
    column('Node', 'string', 1, 'NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.'),
    column('Nominated Node', 'string', 1, 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.'),
    column('Readiness Gates', 'string', 1, 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates'),
  ],
  (pod, now) => {
    const { ready, status, restarts } = summarizePod(pod, now);
    return [
      pod.metadata?.name ?? '',
      ready,
      status,
      restarts,
      age(pod, now),
      // The internal PodStatus only has podIPs; conversion fills it from podIP.
      pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>',
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      readinessGates(pod),
    ];
  },
);
