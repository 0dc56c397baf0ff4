// The node's heartbeat Lease, as the kubelet's node lease controller
// (component-helpers/apimachinery/lease): a Lease named after the node in
// kube-node-lease, held by the node, lasting 40 s and renewed every quarter
// of that (10 s), owned by the Node so that it goes when the Node does.
// Renewing is a cheap write the node controller can watch instead of the
// whole Node status.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeObject } from '../api/object.js';
import { isConflict, isNotFound, resourceTypes, type Client } from '../client/client.js';
import { errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';
import { nodeLeaseNamespace } from '../api/node-lease.js';

const log = logger('agent');

/** NodeLeaseDurationSeconds, the kubelet's default. */
export const nodeLeaseDurationSeconds = 40;
/** The kubelet renews at a quarter of the duration (renewIntervalFraction 0.25). */
const renewFraction = 0.25;
/** maxUpdateRetries: conflicts tried again at once before waiting for the next round. */
const maxUpdateRetries = 5;

type LeaseObject = Lease & KubeObject;

export interface NodeLease {
  /** Resolves once the lease exists and was renewed (the first round). */
  ready: Promise<void>;
  stop(): void;
}

/** metav1.MicroTime in RFC3339 with microseconds, as the kubelet writes renewTime. */
export function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function startNodeLease(opts: { client: Client; nodeName: string; durationSeconds?: number; renewMs?: number }): NodeLease {
  const { client, nodeName } = opts;
  const durationSeconds = opts.durationSeconds ?? nodeLeaseDurationSeconds;
  const renewMs = opts.renewMs ?? durationSeconds * 1000 * renewFraction;
  const leases = client.resource<LeaseObject>(resourceTypes.leases);
  const nodes = client.resource(resourceTypes.nodes);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  /** setNodeOwnerFunc: the Node as controller-less owner, once the Node can be read. */
  async function withOwner(lease: LeaseObject): Promise<LeaseObject> {
    if (lease.metadata.ownerReferences?.length) return lease;
    try {
      const node = await nodes.get(undefined, nodeName);
      lease.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid! }];
    } catch (e) {
      log.warn('node lease: node not found to own it yet', { node: nodeName, error: errorMessage(e) });
    }
    return lease;
  }

  /** backoffEnsureLease + retryUpdateLease: create the lease if missing, else renew it (re-reading on conflict). */
  async function renew(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let lease: LeaseObject;
      try {
        lease = await leases.get(nodeLeaseNamespace, nodeName);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        const fresh: LeaseObject = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: nodeName, namespace: nodeLeaseNamespace },
          spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime() },
        };
        await leases.create(nodeLeaseNamespace, await withOwner(fresh));
        return;
      }
      lease.spec = { ...lease.spec, holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime() };
      try {
        await leases.update(await withOwner(lease));
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= maxUpdateRetries) throw e;
      }
    }
  }

  let firstRound: () => void;
  const ready = new Promise<void>((resolve) => (firstRound = resolve));
  async function loop() {
    if (stopped) return;
    try {
      await renew();
      firstRound();
    } catch (e) {
      log.warn('node lease not renewed', { node: nodeName, error: errorMessage(e) });
    }
    if (stopped) return;
    timer = setTimeout(() => void loop(), renewMs);
    timer.unref();
  }
  void loop();

  return {
    ready,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
