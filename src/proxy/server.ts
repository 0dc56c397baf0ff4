// One running service proxy, as kube-proxy's ProxyServer: the change tracker
// feeding the bounded-frequency sync loop, a mode's proxier applying each
// snapshot, the node health server, the metrics server and the per-service
// healthCheckNodePort servers. Modes plug in as a Proxier.
import type { Client } from '../client/client.js';
import { logger } from '../util/log.js';
import { createChangeTracker, type ChangeTracker } from './change-tracker.js';
import type { ProxyConfig, ProxyMode } from './config.js';
import { createMetricsServer, createProxyHealthServer, createServiceHealthServer, type Listening } from './health-server.js';
import { createProxyMetrics, type ProxyMetrics } from './metrics.js';
import { hostIP, localAddresses, nodePortIPs, nodePrimaryIPs } from './node-addresses.js';
import { createBoundedFrequencyRunner } from './runner.js';
import { healthCheckNodePorts, localReadyEndpoints, type Node, type NodeAddresses, type ProxySnapshot } from './snapshot.js';
import { errorMessage } from '../util/errors.js';

const log = logger('proxy');

/** A proxy mode's backend: makes the node's dataplane match a snapshot. */
export interface Proxier {
  /** Applies the snapshot; says whether that was a full sync (else partial), for the metrics. */
  sync(snapshot: ProxySnapshot): Promise<{ full: boolean } | void>;
  /** Removes everything the mode installed. */
  stop(): Promise<void>;
  /** A read-only debug document under /debug/ on the metrics listener, or undefined (404). */
  debug?(path: string, query: URLSearchParams): unknown;
}

/** What a mode gets from the server when it is created; all else comes with each snapshot. */
export interface ProxierContext {
  metrics: ProxyMetrics;
}

export interface ProxyServerOptions {
  client: Client;
  config: ProxyConfig;
  /** The mode being run (served at /proxyMode). */
  mode: ProxyMode;
  nodeName: string;
  createProxier(ctx: ProxierContext): Proxier;
}

export interface ProxyServer {
  tracker: ChangeTracker;
  metrics: ProxyMetrics;
  healthz: Listening;
  metricsAddress: Listening;
  stop(): Promise<void>;
}

export async function startProxyServer(opts: ProxyServerOptions): Promise<ProxyServer> {
  const { config, nodeName } = opts;
  const metrics = createProxyMetrics();
  const health = createProxyHealthServer({ bindAddress: config.healthzBindAddress, healthTimeoutMs: 2 * config.syncPeriodMs, metrics });
  const metricsServer = createMetricsServer({ bindAddress: config.metricsBindAddress, metrics, mode: opts.mode, config: config.configuration, debug: (path, query) => proxier.debug?.(path, query) });
  /** The node's addresses as of now: its Node object (when seen) and this namespace's interfaces. */
  const addresses = (node: Node | undefined): NodeAddresses => {
    const local = localAddresses();
    const primary = nodePrimaryIPs(node);
    return { nodePortIPs: nodePortIPs(config.nodePortAddresses, local, primary), hostIP: hostIP(local, primary) };
  };
  let lastNode: NodeAddresses | undefined;
  const serviceHealth = createServiceHealthServer({ bindAddresses: () => lastNode?.nodePortIPs ?? ['0.0.0.0'], isProxyHealthy: () => health.isHealthy(), nodeName });
  const proxier = opts.createProxier({ metrics });
  const runner = createBoundedFrequencyRunner(
    'sync-runner',
    async () => {
      const started = performance.now();
      const snapshot = withNodeAddresses(tracker.currentSnapshot(), (lastNode = addresses(tracker.node())));
      // Taken after the snapshot: building it checks out the trigger times of the changes it folds in.
      const triggers = tracker.takeTriggerTimes();
      const result = await proxier.sync(snapshot);
      await serviceHealth.syncServices(healthCheckNodePorts(snapshot));
      serviceHealth.syncEndpoints(localReadyEndpoints(snapshot));
      metrics.observeSync({ full: result?.full ?? true, durationSeconds: (performance.now() - started) / 1000, triggerTimes: triggers });
      health.updated();
    },
    config.minSyncPeriodMs,
    config.syncPeriodMs,
    2,
    { retryOnErrorMs: 1000, onError: (e) => log.warn('sync failed; retrying', { error: errorMessage(e) }) },
  );
  const tracker = createChangeTracker({
    client: opts.client,
    nodeName,
    serviceProxyName: config.serviceProxyName || undefined,
    metrics,
    onChange: () => {
      health.queuedUpdate();
      runner.run();
    },
    onNode: (n) => health.syncNode(n),
  });
  const [healthz, metricsAddress] = await Promise.all([health.listen(), metricsServer.listen()]);
  await tracker.start();
  runner.run();
  return {
    tracker,
    metrics,
    healthz,
    metricsAddress,
    async stop() {
      tracker.stop();
      await runner.stop();
      await proxier.stop();
      await Promise.all([health.close(), metricsServer.close(), serviceHealth.close()]);
    },
  };
}

const copies = new WeakMap<ProxySnapshot, ProxySnapshot>();

/**
 * The tracker's snapshot with the node's addresses. The copy stands in for
 * the tracker's snapshot everywhere after, so an incremental snapshot built
 * on it still names its base (diffSnapshots then compares only the services
 * rebuilt); the same snapshot and addresses give the same copy.
 */
function withNodeAddresses(built: ProxySnapshot, node: NodeAddresses): ProxySnapshot {
  const previous = copies.get(built);
  if (previous && JSON.stringify(previous.node) === JSON.stringify(node)) return previous;
  const base = built.rebuiltFrom && copies.get(built.rebuiltFrom.base.deref()!);
  const copy: ProxySnapshot = { ...built, node, rebuiltFrom: built.rebuiltFrom && base ? { base: new WeakRef(base), services: built.rebuiltFrom.services } : built.rebuiltFrom };
  copies.set(built, copy);
  return copy;
}
