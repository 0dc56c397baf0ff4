// Events as upstream's recorder writes them: core/v1 Events naming the object
// (with its uid, so `kubectl describe` finds them), repeated ones counted.
import type { KubeObject } from '../api/object.js';
import { nowTimestamp } from '../api/object.js';
import { isNotFound, resourceTypes, type Client } from './client.js';
import { logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

const log = logger('events');

/** hrtime is monotonic from an arbitrary origin; shift it to the Unix epoch once. */
const epochOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export interface EventRecorder {
  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Resolves when every event recorded so far has been written. */
  flush(): Promise<void>;
}

export function createEventRecorder(client: Client, component: string, host = ''): EventRecorder {
  const events = client.resource(resourceTypes.events);
  // Same object, reason and message within the series: bump the count instead of a new Event.
  const series = new Map<string, { name: string; namespace: string; count: number }>();
  let pending: Promise<unknown> = Promise.resolve();

  async function write(obj: KubeObject, type: string, reason: string, message: string) {
    const namespace = obj.metadata.namespace || 'default';
    const key = `${obj.metadata.uid}/${type}/${reason}/${message}`;
    const now = nowTimestamp();
    const seen = series.get(key);
    if (seen) {
      seen.count++;
      try {
        await events.patch(seen.namespace, seen.name, { count: seen.count, lastTimestamp: now }, 'merge');
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    // As upstream: <object>.<time in nanoseconds, hex>, so names sort in the order events happened.
    const name = `${obj.metadata.name}.${(process.hrtime.bigint() + epochOffsetNs).toString(16)}`;
    await events.create(namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        kind: obj.kind,
        apiVersion: obj.apiVersion,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component, host: host || undefined },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: component,
      reportingInstance: host,
    });
    series.set(key, { name, namespace, count: 1 });
  }

  return {
    event(obj, type, reason, message) {
      pending = pending
        .then(() => write(obj, type, reason, message))
        .catch((e) => log.warn('event not recorded', { reason, object: obj.metadata.name, error: errorMessage(e) }));
    },
    flush: () => pending.then(() => undefined),
  };
}
