// The node agent's part that workload tests need, without running anything:
// a pod bound to a node becomes Running and Ready after a delay (as if its
// container started and passed readiness), and a pod being deleted gracefully
// is removed (as if its containers stopped). Optionally it binds unscheduled
// pods round-robin when no scheduler runs.
import { nowTimestamp } from '../../src/api/object.js';
import type { Pod } from '../../src/api/types.js';
import type { KubeObject } from '../../src/api/object.js';
import { isNotFound, resourceTypes, type Client } from '../../src/client/client.js';
import { createInformer } from '../../src/client/informer.js';
import { isPodReady as isReady } from '../../src/controllers/workloads/pods.js';

type PodObject = Pod & KubeObject;

export interface FakeKubelet {
  /** Pods marked Ready so far (names). */
  readyCount(): number;
  stop(): void;
}

export interface FakeKubeletOptions {
  /** Delay between a pod being bound and it turning Ready (ms). */
  readyAfterMs?: number;
  /** Bind unscheduled pods to these nodes in turn (only when no scheduler runs). */
  bindTo?: string[];
}


export async function startFakeKubelet(client: Client, opts: FakeKubeletOptions = {}): Promise<FakeKubelet> {
  const pods = client.resource<PodObject>(resourceTypes.pods);
  const informer = createInformer(pods);
  const timers = new Set<NodeJS.Timeout>();
  const pending = new Set<string>();
  let stopped = false;
  let ready = 0;
  let nextNode = 0;

  const later = (ms: number, fn: () => Promise<void>) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) void fn().catch(() => undefined);
    }, ms);
    timers.add(t);
  };

  async function markReady(name: string, namespace: string) {
    const pod = await pods.get(namespace, name);
    if (!pod.spec?.nodeName || pod.metadata.deletionTimestamp || isReady(pod)) return;
    const now = nowTimestamp();
    const n = Math.floor(Math.random() * 250) + 2;
    pod.status = {
      ...pod.status,
      phase: 'Running',
      hostIP: '172.18.0.2',
      podIP: `10.244.${n % 8}.${n}`,
      podIPs: [{ ip: `10.244.${n % 8}.${n}` }],
      startTime: pod.status?.startTime ?? now,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
      containerStatuses: (pod.spec.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    };
    await pods.updateStatus(pod);
    ready++;
  }

  function handle(pod: PodObject) {
    if (stopped) return;
    const id = `${pod.metadata.uid}`;
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp) {
      if (pending.has(`del/${id}`)) return;
      pending.add(`del/${id}`);
      later(10, async () => {
        try {
          await pods.delete(ns, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
        } catch (e) {
          if (!isNotFound(e)) pending.delete(`del/${id}`);
        }
      });
      return;
    }
    if (!pod.spec?.nodeName) {
      if (!opts.bindTo?.length || pending.has(`bind/${id}`)) return;
      pending.add(`bind/${id}`);
      const node = opts.bindTo[nextNode++ % opts.bindTo.length];
      later(0, async () => {
        const res = await client.transport.request('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, {
          body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
        });
        if (res.status >= 300) pending.delete(`bind/${id}`);
      });
      return;
    }
    if (isReady(pod) || pending.has(`ready/${id}`)) return;
    pending.add(`ready/${id}`);
    later(opts.readyAfterMs ?? 0, () => markReady(name, ns).catch(() => void pending.delete(`ready/${id}`)));
  }

  informer.on({ add: handle, update: (_o, p) => handle(p) });
  await informer.start();
  return {
    readyCount: () => ready,
    stop() {
      stopped = true;
      informer.stop();
      for (const t of timers) clearTimeout(t);
    },
  };
}
