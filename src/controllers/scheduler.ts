// The default scheduler, reduced to what kubesvc's pods need: the filter
// plugins NodeUnschedulable, TaintToleration and NodeAffinity (nodeSelector,
// required node affinity incl. matchFields), a Ready check expressed as the
// node-condition taints upstream relies on, and even spreading by fewest pods.
// The decision is a pure function over plain objects; the shell binds through
// pods/binding and reports failures as upstream does (PodScheduled=False
// Unschedulable + a FailedScheduling event); it retries when a node changes
// (after the pod's backoff) and otherwise every five minutes, as upstream.
import { nowTimestamp } from '../api/object.js';
import { ApiError, isConflict, isNotFound, resourceTypes } from '../client/client.js';
import { keyOf, type Informer } from '../client/informer.js';
import { getControllerOf } from './workloads/controller-ref.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';
import { createEventRecorder } from '../client/events.js';
import { errorMessage } from '../util/errors.js';
import type { PodObject as Pod, NodeObject as Node } from '../api/types.js';

/** The API types with the metadata every stored object has. */

export const defaultSchedulerName = 'default-scheduler';

type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];
type Toleration = NonNullable<NonNullable<Pod['spec']>['tolerations']>[number];
type NodeSelectorTerm = NonNullable<NonNullable<NonNullable<NonNullable<Pod['spec']>['affinity']>['nodeAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>['nodeSelectorTerms'][number];
type NodeSelectorRequirement = NonNullable<NodeSelectorTerm['matchExpressions']>[number];

// Filter reasons, worded as the upstream plugins word them.
export const reasons = {
  unschedulable: 'node(s) were unschedulable',
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  untoleratedTaint: (t: Taint) => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`,
};

export const taintKeys = {
  notReady: 'node.kubernetes.io/not-ready',
  unreachable: 'node.kubernetes.io/unreachable',
  unschedulable: 'node.kubernetes.io/unschedulable',
};

/** Whether this scheduler is responsible for the pod and it still waits for a node. */
export function needsScheduling(pod: Pod): boolean {
  const name = pod.spec?.schedulerName;
  if (name && name !== defaultSchedulerName) return false;
  if (pod.spec?.nodeName || pod.metadata.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

export function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** v1.Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function readyStatus(node: Node): string | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

/**
 * The node's taints as the scheduler sees them. Upstream never looks at the
 * Ready condition: the node lifecycle controller turns it into the not-ready /
 * unreachable NoSchedule taints. A node whose taint has not been written yet
 * (the controller lags, or is not running) is treated as if it had it.
 */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = readyStatus(node);
  if (ready !== 'True') {
    const key = ready === 'False' ? taintKeys.notReady : taintKeys.unreachable;
    if (!taints.some((t) => t.key === key && t.effect === 'NoSchedule')) taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

function matchesRequirement(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0])) return false;
      return req.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields do; an empty term matches nothing (nodeaffinity.nodeSelectorTerm). */
export function matchesNodeSelectorTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const labels = node.metadata.labels ?? {};
  for (const e of exprs) {
    if (!matchesRequirement(e, Object.prototype.hasOwnProperty.call(labels, e.key) ? labels[e.key] : undefined)) return false;
  }
  for (const f of fields) {
    // metadata.name is the only supported field, with In/NotIn and one value.
    if (f.key !== 'metadata.name' || (f.operator !== 'In' && f.operator !== 'NotIn') || (f.values ?? []).length !== 1) return false;
    if (!matchesRequirement(f, node.metadata.name)) return false;
  }
  return true;
}

/** NodeAffinity's Filter: spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (terms are ORed). */
export function matchesNodeAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) return (required.nodeSelectorTerms ?? []).some((t) => matchesNodeSelectorTerm(t, node));
  return true;
}

/** Runs the filters in upstream's order; the first that rejects names the reason. */
export function filterNode(pod: Pod, node: Node): string | undefined {
  const tolerations = pod.spec?.tolerations ?? [];
  if (node.spec?.unschedulable) {
    const taint: Taint = { key: taintKeys.unschedulable, effect: 'NoSchedule' };
    if (!tolerations.some((t) => toleratesTaint(t, taint))) return reasons.unschedulable;
  }
  for (const taint of effectiveTaints(node)) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerations.some((t) => toleratesTaint(t, taint))) return reasons.untoleratedTaint(taint);
  }
  if (!matchesNodeAffinity(pod, node)) return reasons.nodeAffinity;
  return undefined;
}

/** framework.FitError.Error() followed by DefaultPreemption's PostFilter message. */
export function fitErrorMessage(pod: Pod, numNodes: number, failures: string[]): string {
  const hist = new Map<string, number>();
  for (const r of failures) hist.set(r, (hist.get(r) ?? 0) + 1);
  const sorted = [...hist].map(([r, n]) => `${n} ${r}`).sort();
  let msg = `0/${numNodes} nodes are available:`;
  if (sorted.length) msg += ` ${sorted.join(', ')}.`;
  // Every reason above is UnschedulableAndUnresolvable: evicting pods would not help.
  const preemption =
    pod.spec?.preemptionPolicy === 'Never'
      ? 'preemption: not eligible due to preemptionPolicy=Never.'
      : `preemption: 0/${numNodes} nodes are available: ${numNodes} Preemption is not helpful for scheduling.`;
  return `${msg} ${preemption}`;
}

export const noNodesAvailable = 'no nodes available to schedule pods';

export type ScheduleResult = { node: string } | { message: string };

/** What a node already runs, for scoring: pods of the same controller as the one being placed, and all pods. */
export interface NodeLoad {
  siblings: number;
  pods: number;
}

/**
 * One scheduling cycle: filter every node, then score: fewest pods of the
 * same controller first (upstream's default topology spreading by hostname),
 * then the fewest non-terminal pods (its least-allocated scoring, where pods
 * without requests count as equal default requests); ties go to the smaller
 * name. So a Deployment's replicas spread over the nodes whatever else runs there.
 */
export function schedulePod(pod: Pod, nodes: Node[], load: (node: string) => NodeLoad): ScheduleResult {
  if (!nodes.length) return { message: noNodesAvailable };
  const failures: string[] = [];
  let best: (NodeLoad & { name: string }) | undefined;
  for (const node of nodes) {
    const reason = filterNode(pod, node);
    if (reason) {
      failures.push(reason);
      continue;
    }
    const name = node.metadata.name!;
    const l = load(name);
    const better =
      !best ||
      l.siblings < best.siblings ||
      (l.siblings === best.siblings && (l.pods < best.pods || (l.pods === best.pods && name < best.name)));
    if (better) best = { name, ...l };
  }
  return best ? { node: best.name } : { message: fitErrorMessage(pod, nodes.length, failures) };
}

/** What makes a node change worth retrying unschedulable pods (not heartbeats). */
function schedulingRelevant(node: Node): string {
  return JSON.stringify([node.metadata.labels ?? {}, node.spec?.taints ?? [], !!node.spec?.unschedulable, readyStatus(node)]);
}

/** What makes a pod change worth scheduling again (upstream ignores status-only updates). */
function podSchedulingInputs(pod: Pod): string {
  return JSON.stringify([pod.spec ?? {}, pod.metadata.labels ?? {}, !!pod.metadata.deletionTimestamp, isTerminal(pod)]);
}

// upstream's scheduling queue: per-pod backoff 1 s doubling to 10 s, applied
// when a cluster event moves the pod back; without one, a retry after 5 minutes
// (podMaxInUnschedulablePodsDuration).
const initialBackoffMs = 1_000;
const maxBackoffMs = 10_000;
const maxUnschedulableMs = 5 * 60_000;
const assumeTimeoutMs = 30_000;

export function createScheduler(ctx: ControllerContext): Controller {
  const client = ctx.client;
  const podsClient = client.resource<Pod>(resourceTypes.pods);
  // Events come from "default-scheduler", as `kubectl describe` shows them upstream.
  const recorder = createEventRecorder(client, defaultSchedulerName);
  let pods: Informer<Pod>;
  let nodes: Informer<Node>;
  let running = false;
  // Pods bound (or being bound) whose binding the cache has not shown yet: counted on their node.
  const assumed = new Map<string, { node: string; at: number }>();
  // Unschedulable pods: attempts so far, when the last one was, and the timer of the next.
  const unschedulable = new Map<string, { attempts: number; last: number; timer?: NodeJS.Timeout }>();

  const { queue, log } = queueFor('scheduler', reconcile, 1);

  function enqueue(pod: Pod) {
    if (running && needsScheduling(pod)) queue.add(keyOf(pod));
  }

  function forget(key: string) {
    const u = unschedulable.get(key);
    if (u?.timer) clearTimeout(u.timer);
    unschedulable.delete(key);
  }

  function retryAfter(key: string, u: { timer?: NodeJS.Timeout }, delayMs: number) {
    if (u.timer) clearTimeout(u.timer);
    u.timer = setTimeout(() => {
      u.timer = undefined;
      queue.add(key);
    }, Math.max(0, delayMs));
    u.timer.unref();
  }

  /** A cluster change may make unschedulable pods fit: retry each once its backoff has passed. */
  function retryUnschedulable() {
    const now = Date.now();
    for (const [key, u] of unschedulable) retryAfter(key, u, u.last + Math.min(maxBackoffMs, initialBackoffMs * 2 ** (u.attempts - 1)) - now);
  }

  /** The node's pods, counting those bound but not yet seen bound in the cache, and how many share `pod`'s controller. */
  function loadOf(pod: Pod, node: string): NodeLoad {
    const owner = getControllerOf(pod)?.uid;
    const onNode = pods.byIndex('scheduler/node', node);
    for (const [key, a] of assumed) {
      if (a.node !== node) continue;
      const p = pods.get(key);
      if (p && !p.spec?.nodeName) onNode.push(p);
    }
    return { pods: onNode.length, siblings: owner ? onNode.filter((p) => getControllerOf(p)?.uid === owner).length : 0 };
  }

  async function bind(pod: Pod, node: string): Promise<void> {
    const { namespace, name } = pod.metadata;
    const res = await client.transport.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace!)}/pods/${encodeURIComponent(name!)}/binding`, {
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid: pod.metadata.uid }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
    });
    if (res.status >= 200 && res.status < 300) return;
    let status: ApiError['status'] = { message: res.body };
    try {
      status = JSON.parse(res.body) as ApiError['status'];
    } catch {
      /* not a Status */
    }
    throw new ApiError(res.status, status);
  }

  /**
   * Upstream's binding sets PodScheduled=True in the same write; ours only sets
   * spec.nodeName, so the condition follows in a status update.
   */
  async function markScheduled(key: string, namespace: string, name: string) {
    for (let attempt = 0; attempt < 5; attempt++) {
      let pod: Pod;
      try {
        pod = await podsClient.get(namespace, name);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      const conditions = (pod.status ??= {}).conditions ?? [];
      if (conditions.some((c) => c.type === 'PodScheduled' && c.status === 'True')) return;
      pod.status.conditions = [...conditions.filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastTransitionTime: nowTimestamp() }];
      try {
        await podsClient.updateStatus(pod);
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) throw e;
      }
    }
    log.warn('could not set PodScheduled condition', { pod: key });
  }

  async function reportUnschedulable(pod: Pod, message: string) {
    const key = keyOf(pod);
    recorder.event(pod, 'Warning', 'FailedScheduling', message);
    const u = unschedulable.get(key) ?? { attempts: 0, last: 0 };
    u.attempts++;
    u.last = Date.now();
    unschedulable.set(key, u);
    retryAfter(key, u, maxUnschedulableMs);

    const conditions = pod.status?.conditions ?? [];
    const old = conditions.find((c) => c.type === 'PodScheduled');
    if (old && old.status === 'False' && old.reason === 'Unschedulable' && old.message === message) return;
    const next: Pod = { ...pod, status: { ...pod.status } };
    next.status!.conditions = [
      ...conditions.filter((c) => c.type !== 'PodScheduled'),
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message,
        lastTransitionTime: old?.status === 'False' && old.lastTransitionTime ? old.lastTransitionTime : nowTimestamp(),
      },
    ];
    try {
      await podsClient.updateStatus(next);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async function reconcile(key: string): Promise<void> {
    const pod = pods.get(key);
    if (!pod || !needsScheduling(pod)) {
      assumed.delete(key);
      forget(key);
      return;
    }
    const a = assumed.get(key);
    if (a && Date.now() - a.at < assumeTimeoutMs) return; // bound; the cache has not caught up
    assumed.delete(key);

    const result = schedulePod(pod, nodes.list(), (node) => loadOf(pod, node));
    if ('message' in result) {
      await reportUnschedulable(pod, result.message);
      return;
    }
    assumed.set(key, { node: result.node, at: Date.now() });
    try {
      await bind(pod, result.node);
    } catch (e) {
      if (isConflict(e)) {
        // Already bound (by an earlier incarnation of us, or someone else): nothing to do.
        log.info('pod already bound', { pod: key, error: errorMessage(e) });
        forget(key);
        return;
      }
      assumed.delete(key);
      if (isNotFound(e)) return;
      throw e;
    }
    forget(key);
    log.v(2).info('bound', { pod: key, node: result.node });
    recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${result.node}`);
    await markScheduled(key, pod.metadata.namespace!, pod.metadata.name!);
  }

  return {
    name: 'scheduler',
    setup() {
      pods = ctx.factory.informer<Pod>(resourceTypes.pods);
      nodes = ctx.factory.informer<Node>(resourceTypes.nodes);
      pods.addIndex('scheduler/node', (p) => (p.spec?.nodeName && !isTerminal(p) ? [p.spec.nodeName] : []));
      pods.on({
        add: enqueue,
        update(old, pod) {
          if (pod.spec?.nodeName) assumed.delete(keyOf(pod));
          if (!needsScheduling(pod)) {
            forget(keyOf(pod));
            return;
          }
          if (!needsScheduling(old) || podSchedulingInputs(old) !== podSchedulingInputs(pod)) enqueue(pod);
        },
        delete(pod) {
          assumed.delete(keyOf(pod));
          forget(keyOf(pod));
        },
      });
      nodes.on({
        add: () => running && retryUnschedulable(),
        update(old, node) {
          if (running && schedulingRelevant(old) !== schedulingRelevant(node)) retryUnschedulable();
        },
      });
    },
    run() {
      running = true;
      for (const pod of pods.list()) enqueue(pod);
    },
    stop() {
      running = false;
      queue.shutdown();
      for (const key of [...unschedulable.keys()]) forget(key);
      void recorder.flush();
    },
    async idle() {
      await queue.idle();
      await recorder.flush();
    },
  };
}
