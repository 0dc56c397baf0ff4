// kube-proxy's Prometheus metrics (pkg/proxy/metrics/metrics.go): the same
// names, help strings, types and buckets, in a registry of the proxy's own so
// several proxies (one per node in the all-in-one process) do not collide.
import { Counter, Gauge, Histogram, Registry, exponentialBuckets, linearBuckets, registerProcessMetrics } from '../util/metrics.js';
import type { ChangeMetrics } from './change-tracker.js';

/** ExponentialBuckets(0.001, 2, 15): 1 ms … 16.384 s. */
const syncBuckets = exponentialBuckets(0.001, 2, 15);

/** MergeBuckets(LinearBuckets(0.25, 0.25, 2), LinearBuckets(1, 1, 59), LinearBuckets(60, 5, 12), LinearBuckets(120, 30, 7)). */
const networkProgrammingBuckets = [
  ...linearBuckets(0.25, 0.25, 2),
  ...linearBuckets(1, 1, 59),
  ...linearBuckets(60, 5, 12),
  ...linearBuckets(120, 30, 7),
];

export interface ProxyMetrics extends ChangeMetrics {
  registry: Registry;
  syncProxyRulesLatency: Histogram;
  syncFullProxyRulesLatency: Histogram;
  syncPartialProxyRulesLatency: Histogram;
  syncProxyRulesLastTimestamp: Gauge;
  syncProxyRulesLastQueuedTimestamp: Gauge;
  networkProgrammingLatency: Histogram;
  endpointChangesPending: Gauge;
  endpointChangesTotal: Counter;
  serviceChangesPending: Gauge;
  serviceChangesTotal: Counter;
  iptablesRestoreFailuresTotal: Counter;
  iptablesPartialRestoreFailuresTotal: Counter;
  nftablesSyncFailuresTotal: Counter;
  syncProxyRulesNoLocalEndpointsTotal: Gauge<'traffic_policy'>;
  /** Rules in each iptables table after the last sync (iptables mode). */
  iptablesRulesTotal: Gauge<'table'>;
  /** Elements and chains in the nftables table after the last sync (nftables mode). */
  nftablesElementsTotal: Gauge<'set'>;
  proxyHealthzTotal: Counter<'code'>;
  proxyLivezTotal: Counter<'code'>;
  /** Prometheus text exposition of everything in the registry. */
  text(): Promise<string>;
  /** A sync was requested (kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds). */
  queued(now?: number): void;
  /**
   * Records one successful sync: its duration (both the overall and the full /
   * partial histogram), the last-sync timestamp and, for each trigger time of
   * the changes it applied, the network programming latency.
   */
  observeSync(s: { full: boolean; durationSeconds: number; triggerTimes?: number[]; now?: number }): void;
}

export interface ProxyMetricsOptions {
  registry?: Registry;
  /** process_* metrics (kube-proxy exposes Go's); default true. */
  processMetrics?: boolean;
}

export function createProxyMetrics(opts: ProxyMetricsOptions = {}): ProxyMetrics {
  const registry = opts.registry ?? new Registry();
  const registers = [registry];
  if (opts.processMetrics ?? true) registerProcessMetrics(registry);

  const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
  const counter = (name: string, help: string) => new Counter({ name, help, registers });

  const m = {
    registry,
    syncProxyRulesLatency: histogram('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds', syncBuckets),
    syncFullProxyRulesLatency: histogram('kubeproxy_sync_full_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for full resyncs', syncBuckets),
    syncPartialProxyRulesLatency: histogram(
      'kubeproxy_sync_partial_proxy_rules_duration_seconds',
      'SyncProxyRules latency in seconds for partial resyncs',
      syncBuckets,
    ),
    syncProxyRulesLastTimestamp: gauge('kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'The last time proxy rules were successfully synced'),
    syncProxyRulesLastQueuedTimestamp: gauge('kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', 'The last time a sync of proxy rules was queued'),
    networkProgrammingLatency: histogram('kubeproxy_network_programming_duration_seconds', 'In Cluster Network Programming Latency in seconds', networkProgrammingBuckets),
    endpointChangesPending: gauge('kubeproxy_sync_proxy_rules_endpoint_changes_pending', 'Pending proxy rules Endpoint changes'),
    endpointChangesTotal: counter('kubeproxy_sync_proxy_rules_endpoint_changes_total', 'Cumulative proxy rules Endpoint changes'),
    serviceChangesPending: gauge('kubeproxy_sync_proxy_rules_service_changes_pending', 'Pending proxy rules Service changes'),
    serviceChangesTotal: counter('kubeproxy_sync_proxy_rules_service_changes_total', 'Cumulative proxy rules Service changes'),
    iptablesRestoreFailuresTotal: counter('kubeproxy_sync_proxy_rules_iptables_restore_failures_total', 'Cumulative proxy iptables restore failures'),
    iptablesPartialRestoreFailuresTotal: counter(
      'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total',
      'Cumulative proxy iptables partial restore failures',
    ),
    nftablesSyncFailuresTotal: counter('kubeproxy_sync_proxy_rules_nftables_sync_failures_total', 'Cumulative proxy nftables sync failures'),
    syncProxyRulesNoLocalEndpointsTotal: new Gauge({
      name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
      help: 'Number of services with a Local traffic policy and no endpoints',
      labelNames: ['traffic_policy'] as const,
      registers,
    }),
    iptablesRulesTotal: new Gauge({ name: 'kubeproxy_sync_proxy_rules_iptables_total', help: 'Total number of iptables rules owned by kube-proxy', labelNames: ['table'] as const, registers }),
    nftablesElementsTotal: new Gauge({ name: 'kubeproxy_sync_proxy_rules_nftables_elements_total', help: 'Total number of nftables elements owned by kube-proxy', labelNames: ['set'] as const, registers }),
    proxyHealthzTotal: new Counter({ name: 'kubeproxy_proxy_healthz_total', help: 'Cumulative proxy healthz HTTP status', labelNames: ['code'] as const, registers }),
    proxyLivezTotal: new Counter({ name: 'kubeproxy_proxy_livez_total', help: 'Cumulative proxy livez HTTP status', labelNames: ['code'] as const, registers }),
  };
  return {
    ...m,
    text: () => registry.metrics(),
    queued(now = Date.now()) {
      m.syncProxyRulesLastQueuedTimestamp.set(now / 1000);
    },
    observeSync({ full, durationSeconds, triggerTimes = [], now = Date.now() }) {
      m.syncProxyRulesLatency.observe(durationSeconds);
      (full ? m.syncFullProxyRulesLatency : m.syncPartialProxyRulesLatency).observe(durationSeconds);
      m.syncProxyRulesLastTimestamp.set(now / 1000);
      for (const t of triggerTimes) m.networkProgrammingLatency.observe(Math.max(0, (now - t) / 1000));
    },
  };
}
