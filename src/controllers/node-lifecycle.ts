// The node lifecycle controller (pkg/controller/nodelifecycle), the parts
// Service networking depends on:
//
// - monitorNodeHealth: a node whose agent stopped posting heartbeats for
//   longer than the grace period gets its conditions set to Unknown
//   ("Kubelet stopped posting node status."), a NodeNotReady event, and every
//   pod on it marked Ready=False (MarkPodsNotReady), so endpoints stop
//   routing to them.
// - doNoScheduleTaintingPass: node conditions (and spec.unschedulable) are
//   mirrored as NoSchedule taints: not-ready, unreachable, memory/disk/pid
//   pressure, network-unavailable, unschedulable; they go when the condition does.
//
// Not done: the NoExecute taints of taint-based eviction and the eviction
// itself (pods on a dead node stay, Ready=False, until someone deletes them).
//
// Heartbeats are judged as upstream does: by the local time at which the
// controller saw the node's Ready lastHeartbeatTime or its Lease's renewTime
// (kube-node-lease, the kubelet's cheap heartbeat) change, not by the
// agent's clock.
import { nowTimestamp } from '../api/object.js';
import { isConflict, isNotFound, resourceTypes } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';
import { createEventRecorder } from '../client/events.js';
import type { PodObject as Pod, NodeObject as Node } from '../api/types.js';
import { nodeLeaseNamespace } from '../api/node-lease.js';
import type { KubeObject } from '../api/object.js';

type Lease = KubeObject & { spec?: { renewTime?: string } };

/** The API types with the metadata every stored object has. */

type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];
type NodeCondition = NonNullable<NonNullable<Node['status']>['conditions']>[number];

const noScheduleTaintByCondition: Record<string, Record<string, string>> = {
  Ready: { False: 'node.kubernetes.io/not-ready', Unknown: 'node.kubernetes.io/unreachable' },
  MemoryPressure: { True: 'node.kubernetes.io/memory-pressure' },
  DiskPressure: { True: 'node.kubernetes.io/disk-pressure' },
  NetworkUnavailable: { True: 'node.kubernetes.io/network-unavailable' },
  PIDPressure: { True: 'node.kubernetes.io/pid-pressure' },
};
const unschedulableTaintKey = 'node.kubernetes.io/unschedulable';
const controllerTaintKeys = new Set([unschedulableTaintKey, ...Object.values(noScheduleTaintByCondition).flatMap((m) => Object.values(m))]);

/** The conditions the controller turns Unknown when heartbeats stop (NetworkUnavailable is the network's, not the agent's). */
const agentConditions = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export function readyCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

/**
 * tryUpdateNodeHealth's "grace period passed" branch: the node's conditions
 * as they should be, or undefined when nothing changes. A missing Ready
 * condition is added as never updated; the other conditions are changed only
 * where the agent posted them.
 */
export function staleNodeConditions(node: Node, now: string): NodeCondition[] | undefined {
  const conditions = (node.status?.conditions ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of agentConditions) {
    const c = conditions.find((x) => x.type === type);
    if (!c) {
      if (type !== 'Ready') continue;
      conditions.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata.creationTimestamp,
        lastTransitionTime: now,
      });
      changed = true;
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = now;
      changed = true;
    }
  }
  return changed ? conditions : undefined;
}

/** doNoScheduleTaintingPass: the node's taints with the controller-owned NoSchedule ones made to match its state; undefined when they already do. */
export function desiredTaints(node: Node, now: string): Taint[] | undefined {
  const want: string[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = noScheduleTaintByCondition[c.type]?.[c.status];
    if (key) want.push(key);
  }
  if (node.spec?.unschedulable) want.push(unschedulableTaintKey);
  const current = node.spec?.taints ?? [];
  const owned = (t: Taint) => t.effect === 'NoSchedule' && controllerTaintKeys.has(t.key);
  const have = new Set(current.filter(owned).map((t) => t.key));
  const toAdd = want.filter((k) => !have.has(k));
  const toRemove = [...have].filter((k) => !want.includes(k));
  if (!toAdd.length && !toRemove.length) return undefined;
  return [...current.filter((t) => !(owned(t) && toRemove.includes(t.key))), ...toAdd.map((key) => ({ key, effect: 'NoSchedule', timeAdded: now }))];
}

/** MarkPodsNotReady for one pod: its status with Ready=False, or undefined when there is no Ready condition or it is already False. */
export function podNotReadyStatus(pod: Pod, now: string): Pod['status'] | undefined {
  const conditions = pod.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'False') return undefined;
  return { ...pod.status, conditions: conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: now } : c)) };
}

export function createNodeLifecycleController(ctx: ControllerContext): Controller {
  const client = ctx.client;
  const nodesClient = client.resource<Node>(resourceTypes.nodes);
  const podsClient = client.resource<Pod>(resourceTypes.pods);
  const recorder = createEventRecorder(client, 'node-controller');
  const grace = ctx.options.nodeMonitorGracePeriodMs;
  // upstream --node-monitor-period is 5 s against a 40 s grace: check several times per grace period.
  const monitorPeriod = Math.max(100, Math.min(5_000, Math.floor(grace / 5)));
  let nodes: Informer<Node>;
  let pods: Informer<Pod>;
  let leases: Informer<Lease>;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  // Per node: the last lastHeartbeatTime seen and the local time it was first seen.
  const probes = new Map<string, { heartbeat?: string; at: number }>();

  const { queue, log } = queueFor('node-lifecycle', reconcile, 2);

  function observe(node: Node) {
    const name = node.metadata.name!;
    const heartbeat = readyCondition(node)?.lastHeartbeatTime;
    const seen = probes.get(name);
    const now = Date.now();
    if (!seen) {
      // First sight (or a restart): trust the heartbeat's own time, to its one-second precision, but never the future.
      const t = heartbeat ? Date.parse(heartbeat) : NaN;
      probes.set(name, { heartbeat, at: Number.isFinite(t) ? Math.min(now, t + 1_000) : now });
    } else if (seen.heartbeat !== heartbeat) {
      probes.set(name, { heartbeat, at: now });
    }
  }

  // Per node: the Lease renewTime last seen (upstream's nodeHealth.lease).
  const renewals = new Map<string, string>();

  /** A node's Lease renewed (or first seen): a heartbeat, as upstream's tryUpdateNodeHealth counts it. */
  function observeLease(lease: Lease) {
    const name = lease.metadata.name!;
    const renewTime = lease.spec?.renewTime;
    if (lease.metadata.namespace !== nodeLeaseNamespace || !renewTime) return;
    const seen = renewals.get(name);
    if (seen !== undefined && Date.parse(renewTime) <= Date.parse(seen)) return;
    renewals.set(name, renewTime);
    const probe = probes.get(name);
    if (probe) probe.at = Date.now();
  }

  const isStale = (name: string) => Date.now() - (probes.get(name)?.at ?? Date.now()) > grace;

  async function markPodsNotReady(node: Node) {
    const name = node.metadata.name!;
    const errors: unknown[] = [];
    for (const cached of pods.byIndex('node-lifecycle/node', name)) {
      let pod = cached;
      let status = podNotReadyStatus(pod, nowTimestamp());
      if (!status) continue;
      try {
        try {
          await podsClient.updateStatus({ ...pod, status });
        } catch (e) {
          if (!isConflict(e)) throw e;
          // The agent wrote in between: once more from the server's copy.
          pod = await podsClient.get(pod.metadata.namespace, pod.metadata.name!);
          status = podNotReadyStatus(pod, nowTimestamp());
          if (!status || pod.spec?.nodeName !== name) continue;
          await podsClient.updateStatus({ ...pod, status });
        }
      } catch (e) {
        if (!isNotFound(e)) errors.push(e);
        continue;
      }
      log.info('marked pod not ready', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, node: name });
      recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    }
    if (errors.length) throw errors[0];
  }

  async function reconcile(name: string): Promise<void> {
    let node = nodes.get(name);
    if (!node) {
      probes.delete(name);
      return;
    }
    observe(node);
    if (isStale(name)) {
      const conditions = staleNodeConditions(node, nowTimestamp());
      if (conditions) {
        const wasReady = readyCondition(node)?.status === 'True';
        try {
          node = await nodesClient.updateStatus({ ...node, status: { ...node.status, conditions } });
        } catch (e) {
          if (isNotFound(e)) return;
          throw e;
        }
        log.info('node stopped posting status', { node: name });
        if (wasReady) recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
    }
    const taints = desiredTaints(node, nowTimestamp());
    if (taints) {
      try {
        node = await nodesClient.update({ ...node, spec: { ...node.spec, taints: taints.length ? taints : undefined } });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
    }
    if (readyCondition(node)?.status !== 'True') await markPodsNotReady(node);
  }

  const enqueueNode = (name: string | undefined) => {
    if (running && name) queue.add(name);
  };

  return {
    name: 'node-lifecycle',
    setup() {
      nodes = ctx.factory.informer<Node>(resourceTypes.nodes);
      pods = ctx.factory.informer<Pod>(resourceTypes.pods);
      pods.addIndex('node-lifecycle/node', (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
      nodes.on({
        add(node) {
          observe(node);
          enqueueNode(node.metadata.name);
        },
        update(_old, node) {
          observe(node);
          enqueueNode(node.metadata.name);
        },
        delete(node) {
          probes.delete(node.metadata.name!);
          renewals.delete(node.metadata.name!);
        },
      });
      leases = ctx.factory.informer<Lease>(resourceTypes.leases);
      const onLease = (lease: Lease) => {
        observeLease(lease);
        // A renewal may bring an Unknown node back: look at it.
        if (lease.metadata.namespace === nodeLeaseNamespace) enqueueNode(lease.metadata.name);
      };
      leases.on({ add: onLease, update: (_old, lease) => onLease(lease) });
      // A pod that becomes Ready on a node that is not is marked again (upstream processPod).
      const onPod = (pod: Pod) => {
        const nodeName = pod.spec?.nodeName;
        if (!nodeName) return;
        const node = nodes.get(nodeName);
        if (node && readyCondition(node)?.status !== 'True' && podNotReadyStatus(pod, '')) enqueueNode(nodeName);
      };
      pods.on({ add: onPod, update: (_old, pod) => onPod(pod) });
    },
    run() {
      running = true;
      for (const node of nodes.list()) enqueueNode(node.metadata.name);
      timer = setInterval(() => {
        for (const node of nodes.list()) {
          const name = node.metadata.name!;
          if (isStale(name) && staleNodeConditions(node, '')) enqueueNode(name);
        }
      }, monitorPeriod);
      timer.unref();
    },
    stop() {
      running = false;
      if (timer) clearInterval(timer);
      queue.shutdown();
      void recorder.flush();
    },
    async idle() {
      await queue.idle();
      await recorder.flush();
    },
  };
}
