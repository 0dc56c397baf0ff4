// `kubesvc proxy`: the per-node service proxy, run inside the node's network
// namespace (as kube-proxy runs on its node), against any API server.
// Today: the userspace mode; iptables, nftables and ipvs modes come next.
import { readFileSync } from 'node:fs';
import { loadProxyConfig, ProxyConfigError } from '../proxy/config.js';
import { createChangeTracker } from '../proxy/change-tracker.js';
import { createMetricsServer, createProxyHealthServer } from '../proxy/health-server.js';
import { isSchedulerName } from '../proxy/lb/index.js';
import { createProxyMetrics } from '../proxy/metrics.js';
import { createBoundedFrequencyRunner } from '../proxy/runner.js';
import { createUserspaceProxier } from '../proxy/userspace/proxier.js';
import { logger } from '../util/log.js';
import { untilSignal } from './apiserver.js';
import { parseFlags, UsageError } from './args.js';
import { clientFor } from './controllers.js';

const log = logger('proxy');

export const proxyUsage = `Usage: kubesvc proxy (--kubeconfig FILE | --data-dir DIR) --hostname-override NODE
                     [--proxy-mode userspace] [--config kube-proxy.yaml] [--ipvs-scheduler rr]
                     [--iptables-min-sync-period 1s] [--iptables-sync-period 30s]
                     [--healthz-bind-address 0.0.0.0:10256] [--metrics-bind-address 127.0.0.1:10249]

Runs the service proxy in the current network namespace (a node's: kubesvc up starts
one per node). Flags and the KubeProxyConfiguration file are kube-proxy's.`;

export async function proxyCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    'hostname-override': { type: 'string' },
    'proxy-mode': { type: 'string' },
    'ipvs-scheduler': { type: 'string' },
    'iptables-min-sync-period': { type: 'string' },
    'iptables-sync-period': { type: 'string' },
    'healthz-bind-address': { type: 'string' },
    'metrics-bind-address': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(proxyUsage);
    return;
  }
  let config;
  try {
    const { kubeconfig: _k, 'data-dir': _d, config: file, help: _h, ...flags } = values;
    config = loadProxyConfig(file ? readFileSync(file, 'utf8') : undefined, { 'proxy-mode': 'userspace', ...flags });
  } catch (e) {
    if (e instanceof ProxyConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (config.mode !== 'userspace') {
    throw new UsageError(`proxy mode "${config.mode}" is not implemented yet; kubesvc proxy runs the userspace mode today`);
  }
  const nodeName = config.hostnameOverride;
  if (!nodeName) throw new UsageError('--hostname-override (the node name) is required');
  const scheduler = config.ipvsScheduler || 'rr';
  if (!isSchedulerName(scheduler)) throw new UsageError(`unknown scheduler "${scheduler}"`);

  const client = clientFor(values);
  const metrics = createProxyMetrics();
  const health = createProxyHealthServer({ bindAddress: config.healthzBindAddress, healthTimeoutMs: 2 * config.syncPeriodMs, metrics });
  const metricsServer = createMetricsServer({ bindAddress: config.metricsBindAddress, metrics, mode: config.mode, config: config.configuration });
  const proxier = createUserspaceProxier({ scheduler });
  // eslint-disable-next-line prefer-const
  let tracker: ReturnType<typeof createChangeTracker>;
  const runner = createBoundedFrequencyRunner(
    'sync-runner',
    async () => {
      const started = performance.now();
      const triggers = tracker.takeTriggerTimes();
      await proxier.sync(tracker.currentSnapshot());
      metrics.observeSync({ full: true, durationSeconds: (performance.now() - started) / 1000, triggerTimes: triggers });
      health.updated();
    },
    config.minSyncPeriodMs,
    config.syncPeriodMs,
    2,
    { retryOnErrorMs: 1000, onError: (e) => log.warn('sync failed; retrying', { error: e instanceof Error ? e.message : String(e) }) },
  );
  tracker = createChangeTracker({
    client,
    nodeName,
    metrics,
    onChange: () => {
      health.queuedUpdate();
      runner.run();
    },
    onNode: (n) => health.syncNode(n),
  });
  await Promise.all([health.listen(), metricsServer.listen()]);
  await tracker.start();
  runner.run();
  log.info('ready', { node: nodeName, mode: config.mode, scheduler });
  await untilSignal();
  tracker.stop();
  await runner.stop();
  await proxier.stop();
  await Promise.all([health.close(), metricsServer.close()]);
  client.close();
}
