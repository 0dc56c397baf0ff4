// What every controller is: informers that enqueue keys, a work queue, and an
// idempotent reconcile(key) that computes desired state from the caches.
import type { Client } from '../client/client.js';
import type { InformerFactory } from '../client/informer-factory.js';
import { createWorkQueue, type WorkQueue } from '../client/workqueue.js';
import { logger, type Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

export interface ControllerContext {
  /** Shared informers (read with the controller manager's own identity). */
  factory: InformerFactory;
  /** The controller's own client for writes: its service account's credentials, as --use-service-account-credentials. */
  client: Client;
  /** Records Events (kubectl describe shows them). */
  events: import('../client/events.js').EventRecorder;
  options: ControllerOptions;
}

export interface ControllerOptions {
  /** EndpointSlice controller: --max-endpoints-per-slice (default 100). */
  maxEndpointsPerSlice: number;
  /** LoadBalancer IP pool (CIDR or from-to range); empty disables the LB controller. */
  loadBalancerIPRange: string;
  /** Node lifecycle: a node whose heartbeat is older than this is NotReady (default 40 s, as node-monitor-grace-period). */
  nodeMonitorGracePeriodMs: number;
  /** The cluster CA (PEM) the root CA publisher puts in every namespace's kube-root-ca.crt (--root-ca-file). */
  rootCA?: string;
  /** The CA csrsigning signs with (--cluster-signing-cert-file/-key-file, --cluster-signing-duration). */
  clusterSigning?: import('./certificates/types.js').SigningCA;
}

export const defaultControllerOptions: ControllerOptions = {
  maxEndpointsPerSlice: 100,
  loadBalancerIPRange: '172.18.255.1-172.18.255.250',
  nodeMonitorGracePeriodMs: 40_000,
};

export interface Controller {
  name: string;
  /** Register informers and handlers; called before the factory starts. */
  setup(): void;
  /** Begin processing (the caches have synced). */
  run(): void;
  stop(): void;
  /** Resolves when the queue is empty and nothing is in flight (tests, benchmarks). */
  idle(): Promise<void>;
}

/**
 * The common shape: a named queue whose failures are logged and retried with
 * backoff. `workers` reconcile keys concurrently (never the same key twice at once).
 */
export function queueFor(name: string, reconcile: (key: string) => Promise<void>, workers = 2): { queue: WorkQueue; log: Logger } {
  const log = logger(name);
  const queue = createWorkQueue(reconcile, {
    concurrency: workers,
    onError: (key, err) => log.warn('reconcile failed; will retry', { key, error: errorMessage(err) }),
  });
  return { queue, log };
}
