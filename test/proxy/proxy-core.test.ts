// The proxy core against a real API server: the change tracker's snapshot
// follows Services, EndpointSlices and the Node; the healthz, metrics and
// per-service health-check servers answer on 127.0.0.1 with kube-proxy's
// bodies and metric names; KubeProxyConfiguration parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createClient, resourceTypes } from '../../src/client/client.js';
import { createTransport } from '../../src/client/transport.js';
import { createChangeTracker } from '../../src/proxy/change-tracker.js';
import { createProxyMetrics } from '../../src/proxy/metrics.js';
import {
  createMetricsServer,
  createProxyHealthServer,
  createServiceHealthServer,
  goTimeString,
  serviceHealthBody,
} from '../../src/proxy/health-server.js';
import { healthCheckNodePorts, localReadyEndpoints, type EndpointSlice, type Node, type Service } from '../../src/proxy/snapshot.js';
import { createBoundedFrequencyRunner } from '../../src/proxy/runner.js';
import { loadProxyConfig, ProxyConfigError } from '../../src/proxy/config.js';
import { formatGoDuration, parseGoDuration } from '../../src/util/go-duration.js';
import { startTestApiServer, waitFor } from '../helpers/apiserver.js';
import { slice } from './fixtures.js';

async function get(url: string): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A port nobody listens on right now (health-check node ports are fixed numbers, not 0); optionally within a range. */
async function freePort(range?: [number, number]): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const want = range ? range[0] + Math.floor(Math.random() * (range[1] - range[0] + 1)) : 0;
    const s = createServer();
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(want, '127.0.0.1', () => r(true));
    });
    if (!ok) {
      if (attempt > 50) throw new Error('no free port');
      continue;
    }
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
}

test('change tracker: the snapshot follows Services, EndpointSlices and the node through the API', async () => {
  const t = await startTestApiServer();
  const client = createClient(createTransport(t.admin));
  const metrics = createProxyMetrics({ processMetrics: false });
  let changes = 0;
  const tracker = createChangeTracker({ client, nodeName: 'node-a', metrics, onChange: () => changes++ });
  try {
    const services = client.resource<Service>(resourceTypes.services);
    const slices = client.resource<EndpointSlice>(resourceTypes.endpointslices);
    const nodes = client.resource<Node>(resourceTypes.nodes);
    await nodes.create(undefined, { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } } } as Node);
    await services.create('default', {
      metadata: { name: 'web' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }], trafficDistribution: 'PreferClose' },
    } as Service);
    await tracker.start();
    assert.equal(tracker.hasSynced(), true);
    assert.ok(changes >= 1, 'start asks for the first sync');

    let snap = tracker.currentSnapshot();
    const web = snap.servicePorts.get('default/web:http/TCP');
    assert.ok(web, 'the service is in the snapshot');
    assert.match(web.info.clusterIP, /^10\.(9[6-9]|1[01][0-9])\./);
    assert.deepEqual(web.endpoints, []);
    assert.equal(snap.nodeZone, 'zone-1');

    // Endpoints arrive as a slice; the snapshot follows, with per-port matching and the local flag.
    await slices.create(
      'default',
      slice(
        'default',
        'web-abc',
        'web',
        [{ name: 'http', port: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }],
        [
          { ip: '10.244.0.5', node: 'node-a', zones: ['zone-1'] },
          { ip: '10.244.1.5', node: 'node-b', zones: ['zone-2'] },
        ],
      ),
    );
    snap = await waitFor('endpoints in the snapshot', () => {
      const s = tracker.currentSnapshot();
      return (s.servicePorts.get('default/web:http/TCP')?.endpoints.length ?? 0) === 2 && s;
    });
    const http = snap.servicePorts.get('default/web:http/TCP')!;
    assert.deepEqual(
      http.endpoints.map((e) => [e.endpoint, e.isLocal]),
      [
        ['10.244.0.5:8080', true],
        ['10.244.1.5:8080', false],
      ],
    );
    // PreferClose with hints for every endpoint: only this node's zone.
    assert.deepEqual(
      http.clusterEndpoints.map((e) => e.endpoint),
      ['10.244.0.5:8080'],
    );
    assert.deepEqual(
      snap.servicePorts.get('default/web:dns/UDP')!.endpoints.map((e) => e.endpoint),
      ['10.244.0.5:53', '10.244.1.5:53'],
    );

    // The node moves to zone-2: topology is recomputed from the Node object.
    await nodes.patch(undefined, 'node-a', { metadata: { labels: { 'topology.kubernetes.io/zone': 'zone-2' } } });
    await waitFor('zone change', () => tracker.currentSnapshot().nodeZone === 'zone-2');
    assert.deepEqual(
      tracker.currentSnapshot().servicePorts.get('default/web:http/TCP')!.clusterEndpoints.map((e) => e.endpoint),
      ['10.244.1.5:8080'],
    );

    // Services kube-proxy does not program never show up.
    await services.create('default', { metadata: { name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } } as Service);
    await services.create('default', { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } } as Service);
    await services.create('default', {
      metadata: { name: 'other', labels: { 'service.kubernetes.io/service-proxy-name': 'someone-else' } },
      spec: { ports: [{ port: 80 }] },
    } as Service);
    await services.create('default', { metadata: { name: 'marker' }, spec: { ports: [{ port: 81 }] } } as Service);
    snap = await waitFor('marker service', () => {
      const s = tracker.currentSnapshot();
      return s.services.has('default/marker') && s;
    });
    const keys = [...snap.services.keys()];
    for (const k of ['default/web', 'default/marker']) assert.ok(keys.includes(k), `${k} in ${keys}`);
    for (const k of ['default/headless', 'default/ext', 'default/other']) assert.ok(!keys.includes(k), `${k} not in ${keys}`);

    // Deleting the service takes its ports out.
    await services.delete('default', 'web');
    await waitFor('web removed', () => !tracker.currentSnapshot().services.has('default/web'));

    const text = await metrics.text();
    assert.match(text, /kubeproxy_sync_proxy_rules_service_changes_total \d+/);
    const svcChanges = Number(/kubeproxy_sync_proxy_rules_service_changes_total (\d+)/.exec(text)![1]);
    assert.ok(svcChanges >= 5, `service changes counted: ${svcChanges}`);
    assert.match(text, /kubeproxy_sync_proxy_rules_endpoint_changes_total [1-9]/);
    assert.match(text, /kubeproxy_sync_proxy_rules_service_changes_pending 0/);
  } finally {
    tracker.stop();
    client.close();
    await t.stop();
  }
});

test('healthCheckNodePort end to end: LoadBalancer with externalTrafficPolicy Local, local endpoints, the health-check server', async () => {
  const t = await startTestApiServer();
  const client = createClient(createTransport(t.admin));
  const healthz = createProxyHealthServer({ bindAddress: '127.0.0.1:0', healthTimeoutMs: 60_000 });
  const svcHealth = createServiceHealthServer({ bindAddresses: ['127.0.0.1'], isProxyHealthy: () => healthz.isHealthy(), nodeName: 'node-a' });
  const tracker = createChangeTracker({ client, nodeName: 'node-a', onChange: () => healthz.queuedUpdate() });
  try {
    const services = client.resource<Service>(resourceTypes.services);
    // Requested explicitly: our registry validates before it allocates, so an unset one is rejected today
    // (upstream allocates first); a free port keeps the test from colliding with anything on 127.0.0.1.
    const requested = await freePort([30000, 32767]);
    const created = await services.create('default', {
      metadata: { name: 'lb' },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: requested, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    } as Service);
    const hcPort = created.spec!.healthCheckNodePort!;
    assert.equal(hcPort, requested);
    await tracker.start();
    // What a proxier's sync does with the snapshot.
    const sync = async () => {
      const snap = tracker.currentSnapshot();
      await svcHealth.syncServices(healthCheckNodePorts(snap));
      svcHealth.syncEndpoints(localReadyEndpoints(snap));
      healthz.updated();
    };
    await sync();
    assert.deepEqual([...svcHealth.services()], [['default/lb', hcPort]]);
    let res = await get(`http://127.0.0.1:${hcPort}/healthz`);
    assert.equal(res.status, 503);
    assert.equal(res.text, serviceHealthBody('default', 'lb', 0, true));
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');

    // Two ready endpoints on this node (one IP serving two ports counts once), one remote, one terminating here.
    await client.resource<EndpointSlice>(resourceTypes.endpointslices).create(
      'default',
      slice(
        'default',
        'lb-1',
        'lb',
        [{ name: 'http', port: 8080 }],
        [
          { ip: '10.244.0.5', node: 'node-a' },
          { ip: '10.244.0.6', node: 'node-a' },
          { ip: '10.244.1.5', node: 'node-b' },
          { ip: '10.244.0.7', node: 'node-a', ready: false, serving: true, terminating: true },
        ],
      ),
    );
    await waitFor('local endpoints', () => tracker.currentSnapshot().services.get('default/lb')?.localReadyEndpoints === 2);
    await sync();
    res = await get(`http://127.0.0.1:${hcPort}/any/path`);
    assert.equal(res.status, 200);
    assert.equal(res.text, '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "lb"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}');
    assert.deepEqual(JSON.parse(res.text), { service: { namespace: 'default', name: 'lb' }, localEndpoints: 2, serviceProxyHealthy: true });

    // externalTrafficPolicy back to Cluster: the health check goes away and its port closes.
    await services.patch('default', 'lb', { spec: { externalTrafficPolicy: 'Cluster' } });
    await waitFor('health check dropped', () => tracker.currentSnapshot().services.get('default/lb')?.healthCheckNodePort === 0);
    await sync();
    assert.deepEqual([...svcHealth.services()], []);
    await assert.rejects(fetch(`http://127.0.0.1:${hcPort}/healthz`));
  } finally {
    tracker.stop();
    await svcHealth.close();
    await healthz.close();
    client.close();
    await t.stop();
  }
});

test('service health server: 503 with no local endpoints or a stale proxy; ports move and close', async () => {
  let proxyHealthy = true;
  const s = createServiceHealthServer({ bindAddresses: ['127.0.0.1'], isProxyHealthy: () => proxyHealthy });
  const [p1, p2] = [await freePort(), await freePort()];
  try {
    await s.syncServices(new Map([['ns1/a', p1]]));
    s.syncEndpoints(new Map([['ns1/a', 3]]));
    let res = await get(`http://127.0.0.1:${p1}/`);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { service: { namespace: 'ns1', name: 'a' }, localEndpoints: 3, serviceProxyHealthy: true });
    proxyHealthy = false;
    res = await get(`http://127.0.0.1:${p1}/`);
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(res.text).serviceProxyHealthy, false);
    proxyHealthy = true;
    // A service missing from syncEndpoints has 0.
    s.syncEndpoints(new Map());
    assert.equal((await get(`http://127.0.0.1:${p1}/`)).status, 503);
    // The port changes: the old one closes, the new one opens.
    await s.syncServices(new Map([['ns1/a', p2]]));
    await assert.rejects(fetch(`http://127.0.0.1:${p1}/`));
    assert.equal((await get(`http://127.0.0.1:${p2}/`)).status, 503);
    // A port taken by someone else is reported and retried later, not fatal.
    const blocker = createServer();
    const p3 = await freePort();
    await new Promise<void>((r) => blocker.listen(p3, '127.0.0.1', r));
    await s.syncServices(new Map([['ns1/a', p2], ['ns2/b', p3]]));
    assert.deepEqual([...s.services()], [['ns1/a', p2]]);
    await new Promise<void>((r) => blocker.close(() => r()));
    await s.syncServices(new Map([['ns1/a', p2], ['ns2/b', p3]]));
    assert.deepEqual([...s.services()].sort(), [['ns1/a', p2], ['ns2/b', p3]]);
  } finally {
    await s.close();
  }
});

test('proxy healthz: /healthz and /livez bodies and status as kube-proxy', async () => {
  let now = Date.parse('2024-05-01T10:00:00.123Z');
  const h = createProxyHealthServer({ bindAddress: '127.0.0.1:0', healthTimeoutMs: 60_000, now: () => now });
  const { port } = await h.listen();
  const base = `http://127.0.0.1:${port}`;
  try {
    // Starting up (never synced): healthy.
    let res = await get(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.text, /^\{"lastUpdated": "2024-05-01 10:00:00\.123 \+0000 UTC m=\+\d+\.\d{9}","currentTime": "2024-05-01 10:00:00\.123 \+0000 UTC m=\+\d+\.\d{9}", "nodeEligible": true\}$/);

    h.updated();
    const syncedAt = now;
    h.queuedUpdate();
    now += 59_999;
    assert.equal((await get(`${base}/healthz`)).status, 200, 'a pending update not yet late');
    now += 1;
    res = await get(`${base}/healthz`);
    assert.equal(res.status, 503, 'a queued update older than the timeout (2 × syncPeriod)');
    // Unhealthy: lastUpdated is the real last sync.
    assert.ok(res.text.startsWith(`{"lastUpdated": "${goTimeString(syncedAt).split(' m=')[0]} m=+`), res.text);
    assert.equal((await get(`${base}/livez`)).status, 503);
    h.updated();
    assert.equal((await get(`${base}/healthz`)).status, 200);

    // A node marked for deletion by the autoscaler fails /healthz but stays live.
    h.syncNode({ metadata: { name: 'node-a' }, spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] } } as Node);
    res = await get(`${base}/healthz`);
    assert.equal(res.status, 503);
    assert.match(res.text, /, "nodeEligible": false\}$/);
    res = await get(`${base}/livez`);
    assert.equal(res.status, 200);
    assert.match(res.text, /^\{"lastUpdated": "[^"]+","currentTime": "[^"]+"\}$/);
    h.syncNode({ metadata: { name: 'node-a' } } as Node);
    assert.equal((await get(`${base}/healthz`)).status, 200);
    assert.equal((await get(`${base}/nope`)).status, 404);
  } finally {
    await h.close();
  }
  assert.equal(goTimeString(undefined), '0001-01-01 00:00:00 +0000 UTC');
});

test('metrics server: kube-proxy metric names, buckets and process metrics on /metrics; a runner-driven sync records them', async () => {
  const metrics = createProxyMetrics();
  const server = createMetricsServer({ bindAddress: '127.0.0.1:0', metrics, mode: 'iptables', config: { mode: 'iptables' } });
  const { port } = await server.listen();
  const base = `http://127.0.0.1:${port}`;
  try {
    // A sync driven by the runner, recording as a proxier does.
    let synced!: () => void;
    const done = new Promise<void>((r) => (synced = r));
    const runner = createBoundedFrequencyRunner(
      'sync-runner',
      () => {
        metrics.observeSync({ full: true, durationSeconds: 0.0042, triggerTimes: [Date.now() - 1500] });
        synced();
      },
      1000,
      30_000,
      2,
    );
    metrics.queued();
    runner.run();
    await done;
    await runner.stop();
    metrics.observeSync({ full: false, durationSeconds: 0.0005 });
    metrics.iptablesRestoreFailuresTotal.inc();

    const res = await get(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = res.text;
    for (const [name, type] of [
      ['kubeproxy_sync_proxy_rules_duration_seconds', 'histogram'],
      ['kubeproxy_sync_full_proxy_rules_duration_seconds', 'histogram'],
      ['kubeproxy_sync_partial_proxy_rules_duration_seconds', 'histogram'],
      ['kubeproxy_network_programming_duration_seconds', 'histogram'],
      ['kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'gauge'],
      ['kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', 'gauge'],
      ['kubeproxy_sync_proxy_rules_endpoint_changes_pending', 'gauge'],
      ['kubeproxy_sync_proxy_rules_endpoint_changes_total', 'counter'],
      ['kubeproxy_sync_proxy_rules_service_changes_pending', 'gauge'],
      ['kubeproxy_sync_proxy_rules_service_changes_total', 'counter'],
      ['kubeproxy_sync_proxy_rules_iptables_restore_failures_total', 'counter'],
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['process_start_time_seconds', 'gauge'],
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
    }
    assert.match(text, /^# HELP kubeproxy_sync_proxy_rules_duration_seconds SyncProxyRules latency in seconds$/m);
    // ExponentialBuckets(0.001, 2, 15): 0.001 … 16.384.
    assert.match(text, /^kubeproxy_sync_proxy_rules_duration_seconds_bucket\{le="0\.001"\} 1$/m);
    assert.match(text, /^kubeproxy_sync_proxy_rules_duration_seconds_bucket\{le="0\.008"\} 2$/m);
    assert.match(text, /^kubeproxy_sync_proxy_rules_duration_seconds_bucket\{le="16\.384"\} 2$/m);
    assert.match(text, /^kubeproxy_sync_full_proxy_rules_duration_seconds_count 1$/m);
    assert.match(text, /^kubeproxy_sync_partial_proxy_rules_duration_seconds_count 1$/m);
    // Network programming latency of the 1.5 s old change: in the (1, 2] bucket.
    assert.match(text, /^kubeproxy_network_programming_duration_seconds_bucket\{le="1"\} 0$/m);
    assert.match(text, /^kubeproxy_network_programming_duration_seconds_bucket\{le="2"\} 1$/m);
    assert.match(text, /^kubeproxy_network_programming_duration_seconds_bucket\{le="300"\} 1$/m);
    assert.match(text, /^kubeproxy_sync_proxy_rules_iptables_restore_failures_total 1$/m);
    const last = Number(/^kubeproxy_sync_proxy_rules_last_timestamp_seconds (\S+)$/m.exec(text)![1]);
    assert.ok(Math.abs(last - Date.now() / 1000) < 60, `last sync timestamp ${last}`);

    assert.equal((await get(`${base}/healthz`)).text, 'ok');
    assert.equal((await get(`${base}/proxyMode`)).text, 'iptables');
    assert.deepEqual(JSON.parse((await get(`${base}/configz`)).text), { 'kubeproxy.config.k8s.io': { mode: 'iptables' } });
  } finally {
    await server.close();
  }
});

test('config: KubeProxyConfiguration YAML, defaults, flag overrides and errors', () => {
  // No file: kube-proxy's defaults.
  let c = loadProxyConfig(undefined, {});
  assert.equal(c.mode, 'iptables');
  assert.equal(c.syncPeriodMs, 30_000);
  assert.equal(c.minSyncPeriodMs, 1000);
  assert.equal(c.healthzBindAddress, '0.0.0.0:10256');
  assert.equal(c.metricsBindAddress, '127.0.0.1:10249');
  assert.deepEqual(c.nodePortAddresses, []);

  const yaml = `
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
clusterCIDR: 10.244.0.0/16
ipvs:
  scheduler: wrr
  syncPeriod: 1m30s
  minSyncPeriod: 100ms
iptables:
  syncPeriod: 10s
nodePortAddresses: [172.18.0.0/16]
healthzBindAddress: 127.0.0.1
metricsBindAddress: 0.0.0.0:9999
`;
  c = loadProxyConfig(yaml, {});
  assert.equal(c.mode, 'ipvs');
  assert.equal(c.ipvsScheduler, 'wrr');
  assert.equal(c.syncPeriodMs, 90_000, 'ipvs mode reads ipvs.syncPeriod');
  assert.equal(c.minSyncPeriodMs, 100);
  assert.deepEqual(c.clusterCIDRs, ['10.244.0.0/16']);
  assert.deepEqual(c.nodePortAddresses, ['172.18.0.0/16']);
  assert.equal(c.healthzBindAddress, '127.0.0.1:10256', 'port appended when missing');
  assert.equal(c.metricsBindAddress, '0.0.0.0:9999');
  assert.equal((c.configuration.ipvs as Record<string, unknown>).syncPeriod, '1m30s');

  // Flags win over the file.
  c = loadProxyConfig(yaml, { 'proxy-mode': 'iptables', 'iptables-min-sync-period': '250ms', 'cluster-cidr': '10.0.0.0/8,fd00::/48', 'nodeport-addresses': '127.0.0.0/8,172.18.0.0/16' });
  assert.equal(c.mode, 'iptables');
  assert.equal(c.syncPeriodMs, 10_000);
  assert.equal(c.minSyncPeriodMs, 250);
  assert.deepEqual(c.clusterCIDRs, ['10.0.0.0/8', 'fd00::/48']);
  assert.deepEqual(c.nodePortAddresses, ['127.0.0.0/8', '172.18.0.0/16']);
  assert.equal(loadProxyConfig(yaml, { 'ipvs-scheduler': 'sh' }).ipvsScheduler, 'sh');
  assert.equal(loadProxyConfig(undefined, { 'proxy-mode': 'nftables', 'iptables-sync-period': '45s' }).syncPeriodMs, 45_000);

  const fails = (text: string | undefined, flags: Record<string, string>, ...expected: (string | RegExp)[]) => {
    assert.throws(
      () => loadProxyConfig(text, flags),
      (e: unknown) => {
        assert.ok(e instanceof ProxyConfigError, String(e));
        for (const x of expected) assert.ok(e.errors.some((m) => (typeof x === 'string' ? m === x : x.test(m))), `${x} not in ${JSON.stringify(e.errors)}`);
        return true;
      },
    );
  };
  const head = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';
  fails(`${head}mode: foo\n`, {}, 'KubeProxyConfiguration.mode: Unsupported value: "foo": supported values: "iptables", "ipvs", "nftables", "nftables-maps", "userspace"');
  fails(undefined, { 'proxy-mode': 'foo' }, /Unsupported value: "foo"/);
  fails(`${head}ipvs:\n  schedular: rr\n`, {}, 'strict decoding error: unknown field "ipvs.schedular"');
  fails(`${head}syncPeriod: 30s\n`, {}, /^strict decoding error: unknown field "syncPeriod" \(in v1alpha1 it is iptables\.syncPeriod/);
  fails(`${head}iptables:\n  minSyncPeriod: 1x\n`, {}, 'iptables.minSyncPeriod: time: unknown unit "x" in duration "1x"');
  fails(`${head}iptables:\n  syncPeriod: 30\n`, {}, /^iptables\.syncPeriod: expected a duration string/);
  fails(undefined, { 'iptables-sync-period': 'soon' }, 'invalid argument "soon" for "--iptables-sync-period" flag: time: invalid duration "soon"');
  fails(undefined, { 'iptables-sync-period': '1s', 'iptables-min-sync-period': '2s' }, /iptables\.syncPeriod: Invalid value: "1s": must be greater than or equal to KubeProxyConfiguration\.iptables\.minSyncPeriod/);
  fails(`${head}ipvs:\n  scheduler: fastest\n`, {}, /^KubeProxyConfiguration\.ipvs\.scheduler: Unsupported value: "fastest"/);
  fails(`${head}clusterCIDR: 10.0.0.0/33\n`, {}, /clusterCIDR: Invalid value: "10\.0\.0\.0\/33": must be a valid CIDR block/);
  fails(`${head}nodePortAddresses: [nope]\n`, {}, 'KubeProxyConfiguration.nodePortAddresses[0]: Invalid value: "nope": must be a valid CIDR');
  fails(`${head}healthzBindAddress: "localhost:10256"\n`, {}, /healthzBindAddress: Invalid value: "localhost:10256": must be IP:port/);
  fails('apiVersion: kubeproxy.config.k8s.io/v1beta9\nkind: KubeProxyConfiguration\n', {}, 'no kind "KubeProxyConfiguration" is registered for version "kubeproxy.config.k8s.io/v1beta9"');
  fails(`${head}mode: [`, {}, /^failed to parse config: /);
  fails(undefined, { 'no-such-flag': 'x' }, 'unknown flag: --no-such-flag');

  // Go durations both ways.
  assert.deepEqual(['1s', '30s', '100ms', '1m30s', '1.5h', '0', '300us', '2h45m'].map(parseGoDuration), [1000, 30_000, 100, 90_000, 5_400_000, 0, 0.3, 9_900_000]);
  assert.throws(() => parseGoDuration('1'), /time: missing unit in duration "1"/);
  assert.deepEqual([1000, 30_000, 100, 90_000, 0, 3_600_000].map(formatGoDuration), ['1s', '30s', '100ms', '1m30s', '0s', '1h0m0s']);
});
