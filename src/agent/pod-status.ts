// A pod's status as the kubelet reports it (kubelet_pods.go generateAPIPodStatus,
// getPhase, convertToAPIContainerStatuses; pkg/kubelet/status/generate.go;
// the status manager's condition merge; v1/helper/qos ComputePodQOS). Pure:
// the runtime's observations in, a core/v1 PodStatus out.
import type { Container, Pod } from '../api/types.js';
import { deepEqual } from '../api/object.js';
import { parseImageRef } from './image-resolve.js';
import { parseQuantity } from '../api/quantity.js';

export type PodStatus = NonNullable<Pod['status']>;
export type ContainerStatus = NonNullable<PodStatus['containerStatuses']>[number];
export type ContainerState = NonNullable<ContainerStatus['state']>;
export type PodCondition = NonNullable<PodStatus['conditions']>[number];
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** What the runtime knows of one container. */
export interface ContainerObservation {
  name: string;
  /** Exactly one of waiting, running, terminated. */
  state: ContainerState;
  lastState?: ContainerState;
  restartCount: number;
  /** `kubesvc://<id>` of the current (or last) run. */
  containerID?: string;
  /** The image as the runtime resolved it, and its ID. */
  image?: string;
  imageID?: string;
  ready: boolean;
  started: boolean;
}

export interface PodStatusInput {
  /** The pod as the API has it: spec, and the status the conditions' transition times and startTime carry over from. */
  pod: Pod;
  hostIPs: string[];
  podIPs: string[];
  /** The pod's sandbox exists and has its network (PodReadyToStartContainers). */
  sandboxReady: boolean;
  containers: ContainerObservation[];
  initContainers: ContainerObservation[];
  /** The pod's containers will not run again (it is being deleted and they stopped). */
  podIsTerminal?: boolean;
  /** RFC 3339, seconds. */
  now: string;
}

/** The conditions the kubelet owns (kubetypes.PodConditionByKubelet); the others are kept as the API has them. */
export const kubeletConditions = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

export const waitingReasons = {
  containerCreating: 'ContainerCreating',
  podInitializing: 'PodInitializing',
  crashLoopBackOff: 'CrashLoopBackOff',
  createContainerConfigError: 'CreateContainerConfigError',
  runContainerError: 'RunContainerError',
} as const;

/** How containerd reports an image: the fully qualified reference, tag "latest" when none. */
export function normalizeImage(image: string): string {
  const ref = parseImageRef(image);
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest) return ref.tag ? `${name}:${ref.tag}@${ref.digest}` : `${name}@${ref.digest}`;
  return `${name}:${ref.tag ?? 'latest'}`;
}

/**
 * The image ID the runtime reports. There is no registry and so no digest
 * unless the reference names one: the ID is then the normalized reference.
 */
export function imageIDFor(image: string): string {
  const ref = parseImageRef(image);
  return ref.digest ? `${ref.registry}/${ref.repository}@${ref.digest}` : normalizeImage(image);
}

function isRestartableInit(c: Container): boolean {
  return (c as { restartPolicy?: string }).restartPolicy === 'Always';
}

function hasAnyRegularContainerStarted(pod: Pod, statuses: ContainerStatus[]): boolean {
  const regular = new Set((pod.spec?.containers ?? []).map((c) => c.name));
  return statuses.some((s) => regular.has(s.name) && (s.state?.running || s.state?.terminated));
}

/** getPhase (kubelet_pods.go). */
export function podPhase(pod: Pod, initStatuses: ContainerStatus[], statuses: ContainerStatus[], podIsTerminal: boolean): PodPhase {
  const spec = pod.spec ?? { containers: [] };
  let pendingInitialization = 0;
  let failedInitialization = 0;
  for (const c of spec.initContainers ?? []) {
    if (isRestartableInit(c)) {
      const s = initStatuses.find((x) => x.name === c.name);
      if (!s || !s.started) pendingInitialization++;
      continue;
    }
    const s = initStatuses.find((x) => x.name === c.name);
    if (!s) {
      pendingInitialization++;
      continue;
    }
    if (s.state?.running) pendingInitialization++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInitialization++;
      } else pendingInitialization++;
    } else pendingInitialization++;
  }

  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec.containers ?? []) {
    const s = statuses.find((x) => x.name === c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }

  if (failedInitialization > 0 && spec.restartPolicy === 'Never') return 'Failed';
  const restartPolicy = spec.restartPolicy ?? 'Always';
  if ((pendingInitialization > 0 && !hasAnyRegularContainerStarted(pod, statuses)) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** Go's fmt %s of a []string. */
const goList = (xs: string[]) => `[${xs.join(' ')}]`;

function initializedCondition(pod: Pod, all: ContainerStatus[], phase: PodPhase): PodCondition {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of pod.spec?.initContainers ?? []) {
    const s = all.find((x) => x.name === c.name);
    if (!s) {
      unknown.push(c.name);
      continue;
    }
    if (isRestartableInit(c)) {
      if (!s.started) incomplete.push(c.name);
      continue;
    }
    if (!s.ready) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  if (hasAnyRegularContainerStarted(pod, all)) return { type: 'Initialized', status: 'True' };
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length) msgs.push(`containers with incomplete status: ${goList(incomplete)}`);
  if (msgs.length) return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: msgs.join(', ') };
  return { type: 'Initialized', status: 'True' };
}

function containersReadyCondition(pod: Pod, all: ContainerStatus[], phase: PodPhase): PodCondition {
  const unknown: string[] = [];
  const unready: string[] = [];
  const check = (name: string) => {
    const s = all.find((x) => x.name === name);
    if (!s) unknown.push(name);
    else if (!s.ready) unready.push(name);
  };
  for (const c of pod.spec?.initContainers ?? []) if (isRestartableInit(c)) check(c.name);
  for (const c of pod.spec?.containers ?? []) check(c.name);
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  if (phase === 'Failed') return { type: 'ContainersReady', status: 'False', reason: 'PodFailed' };
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length) msgs.push(`containers with unready status: ${goList(unready)}`);
  if (msgs.length) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: msgs.join(', ') };
  return { type: 'ContainersReady', status: 'True' };
}

function readyCondition(pod: Pod, containersReady: PodCondition, existing: PodCondition[]): PodCondition {
  if (containersReady.status !== 'True') {
    return { type: 'Ready', status: containersReady.status, reason: containersReady.reason, message: containersReady.message };
  }
  const msgs: string[] = [];
  for (const gate of pod.spec?.readinessGates ?? []) {
    const c = existing.find((x) => x.type === gate.conditionType);
    if (!c) msgs.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    else if (c.status !== 'True') msgs.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
  }
  if (msgs.length) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: msgs.join(', ') };
  return { type: 'Ready', status: 'True' };
}

const stripUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** convertToAPIContainerStatuses for one list: defaults for containers the runtime has not seen. */
function containerStatuses(specs: Container[], observed: ContainerObservation[], defaultReason: string, sortByName: boolean): ContainerStatus[] {
  const out = specs.map((c): ContainerStatus => {
    const o = observed.find((x) => x.name === c.name);
    if (!o) {
      return { name: c.name, state: { waiting: { reason: defaultReason } }, lastState: {}, ready: false, restartCount: 0, image: c.image ?? '', imageID: '', started: false };
    }
    return stripUndefined({
      name: c.name,
      state: o.state,
      lastState: o.lastState ?? {},
      ready: o.ready,
      restartCount: o.restartCount,
      image: o.image ?? c.image ?? '',
      imageID: o.imageID ?? '',
      containerID: o.containerID,
      started: o.started,
    });
  });
  return sortByName ? out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : out;
}

function sum(into: Map<string, number>, list: Record<string, string | number> | undefined, found?: Set<string>) {
  for (const [name, q] of Object.entries(list ?? {})) {
    if (name !== 'cpu' && name !== 'memory') continue;
    const v = parseQuantity(q);
    if (v === undefined || v <= 0) continue;
    found?.add(name);
    into.set(name, (into.get(name) ?? 0) + v);
  }
}

/** ComputePodQOS, with requests defaulted from limits as the API's defaulting does. */
export function podQOSClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    const lim = c.resources?.limits as Record<string, string | number> | undefined;
    const req = { ...lim, ...(c.resources?.requests as Record<string, string | number> | undefined) };
    sum(requests, req);
    const found = new Set<string>();
    sum(limits, lim, found);
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, r] of requests) {
      if (limits.get(name) !== r) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/**
 * generateAPIPodStatus plus the status manager's merge: kubelet-owned
 * conditions computed (lastTransitionTime kept while the status stays the
 * same), the others kept; a terminal phase the API already has is never left.
 */
export function generatePodStatus(input: PodStatusInput): PodStatus {
  const { pod, now } = input;
  const old = pod.status ?? {};
  const spec = pod.spec ?? { containers: [] };
  const hasInit = (spec.initContainers ?? []).length > 0;
  const initStatuses = containerStatuses(spec.initContainers ?? [], input.initContainers, waitingReasons.containerCreating, false);
  const statuses = containerStatuses(spec.containers ?? [], input.containers, hasInit ? waitingReasons.podInitializing : waitingReasons.containerCreating, true);

  let phase = podPhase(pod, initStatuses, statuses, input.podIsTerminal ?? false);
  if ((old.phase === 'Succeeded' || old.phase === 'Failed') && phase !== old.phase) phase = old.phase;

  const all = [...initStatuses, ...statuses];
  const existing = old.conditions ?? [];
  const containersReady = containersReadyCondition(pod, all, phase);
  const computed: PodCondition[] = [
    { type: 'PodReadyToStartContainers', status: input.sandboxReady ? 'True' : 'False' },
    initializedCondition(pod, all, phase),
    readyCondition(pod, containersReady, existing),
    containersReady,
    { type: 'PodScheduled', status: 'True' },
  ];
  const conditions: PodCondition[] = computed.map((c) => {
    const prev = existing.find((x) => x.type === c.type);
    return stripUndefined({
      type: c.type,
      status: c.status,
      lastProbeTime: null as unknown as string,
      lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
      reason: c.reason,
      message: c.message,
    });
  });
  for (const c of existing) if (!kubeletConditions.includes(c.type)) conditions.push(c);

  const status: PodStatus = {
    phase,
    conditions,
    hostIP: input.hostIPs[0],
    hostIPs: input.hostIPs.length ? input.hostIPs.map((ip) => ({ ip })) : undefined,
    podIP: input.podIPs[0] ?? old.podIP,
    podIPs: input.podIPs.length ? input.podIPs.map((ip) => ({ ip })) : old.podIPs,
    startTime: old.startTime ?? now,
    initContainerStatuses: hasInit ? initStatuses : undefined,
    containerStatuses: statuses,
    qosClass: podQOSClass(pod),
  };
  for (const k of ['message', 'reason', 'nominatedNodeName'] as const) if (old[k]) status[k] = old[k];
  return stripUndefined(status);
}

/** Whether writing `next` would change what the API has (ignoring key order). */
export function podStatusChanged(current: PodStatus | undefined, next: PodStatus): boolean {
  return !deepEqual(withoutNulls(current ?? {}), withoutNulls(next));
}

/** A JSON copy without null fields (a server may keep or drop `lastProbeTime: null`). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => [k, withoutNulls(x)]));
  }
  return v;
}
