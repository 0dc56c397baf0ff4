// One shared informer per resource type, as client-go's SharedInformerFactory:
// every controller reads the same caches and the server sees one watch per type.
import type { KubeObject } from '../api/object.js';
import type { Client, ResourceType } from './client.js';
import { createInformer, type Informer } from './informer.js';

export interface InformerFactory {
  client: Client;
  informer<T extends KubeObject = KubeObject>(type: ResourceType): Informer<T>;
  /** Starts every informer asked for so far and waits until all have listed once. */
  start(): Promise<void>;
  stop(): void;
}

export function createInformerFactory(client: Client, opts: { resyncMs?: number } = {}): InformerFactory {
  const informers = new Map<string, Informer<KubeObject>>();
  const started = new Set<string>();
  return {
    client,
    informer<T extends KubeObject>(type: ResourceType): Informer<T> {
      const key = `${type.group}/${type.resource}`;
      let inf = informers.get(key);
      if (!inf) {
        inf = createInformer(client.resource(type), { resyncMs: opts.resyncMs });
        informers.set(key, inf);
      }
      return inf as unknown as Informer<T>;
    },
    async start() {
      const pending: Promise<void>[] = [];
      for (const [key, inf] of informers) {
        if (started.has(key)) continue;
        started.add(key);
        pending.push(inf.start());
      }
      await Promise.all(pending);
    },
    stop() {
      for (const inf of informers.values()) inf.stop();
    },
  };
}
