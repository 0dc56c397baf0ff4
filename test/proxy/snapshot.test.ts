// The proxy's pure core: which services and endpoints a node programs, how
// endpoints are sorted into Cluster / Local / topology sets (upstream
// CategorizeEndpoints), the diff between snapshots, and the incremental
// builder agreeing with a from-scratch build — also at 10,000 services.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildSnapshot,
  diffSnapshots,
  healthCheckNodePorts,
  localReadyEndpoints,
  servicePortKey,
  servicePortNameString,
  type EndpointSlice,
  type ProxySnapshot,
  type Service,
  type ServicePortEntry,
} from '../../src/proxy/snapshot.js';
import { createSnapshotBuilder } from '../../src/proxy/change-tracker.js';
import { slice, svc } from './fixtures.js';

const entry = (snap: ProxySnapshot, key: string): ServicePortEntry => {
  const e = snap.servicePorts.get(key);
  assert.ok(e, `no entry ${key}; have ${[...snap.servicePorts.keys()].join(', ')}`);
  return e;
};
const ips = (eps: { endpoint: string }[]) => eps.map((e) => e.endpoint);

test('service port names print as upstream ServicePortName.String()', () => {
  assert.equal(servicePortNameString({ namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'TCP' }), 'ns1/svc1:p80');
  assert.equal(servicePortNameString({ namespace: 'ns1', name: 'svc1', port: '', protocol: 'TCP' }), 'ns1/svc1');
  assert.equal(servicePortKey({ namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'UDP' }), 'ns1/svc1:p80/UDP');
});

test('skips headless, ExternalName, IP-less and other-proxy services, and slices it must not read', () => {
  const services = [
    svc('ns', 'normal', [{ name: 'http', port: 80 }]),
    svc('ns', 'headless', [{ name: 'http', port: 80 }], { clusterIP: 'None', clusterIPs: ['None'] }),
    svc('ns', 'extname', [{ name: 'http', port: 80 }], { type: 'ExternalName', externalName: 'example.com', clusterIP: undefined, clusterIPs: undefined }),
    svc('ns', 'noip', [{ name: 'http', port: 80 }], { clusterIP: '', clusterIPs: [] }),
    svc('ns', 'other-proxy', [{ name: 'http', port: 80 }], {}, { labels: { 'service.kubernetes.io/service-proxy-name': 'cilium' } }),
    svc('ns', 'v6only', [{ name: 'http', port: 80 }], { clusterIP: 'fd00::10', clusterIPs: ['fd00::10'] }),
  ];
  const slices = [
    slice('ns', 'normal-1', 'normal', [{ name: 'http', port: 8080 }], [{ ip: '10.244.0.1' }]),
    slice('ns', 'unlabelled', undefined, [{ name: 'http', port: 8080 }], [{ ip: '10.244.0.2' }]),
    slice('ns', 'normal-fqdn', 'normal', [{ name: 'http', port: 8080 }], [{ ip: 'a.example.com' }], { addressType: 'FQDN' }),
    slice('ns', 'normal-v6', 'normal', [{ name: 'http', port: 8080 }], [{ ip: 'fd00::1' }], { addressType: 'IPv6' }),
    slice('ns', 'normal-headless', 'normal', [{ name: 'http', port: 8080 }], [{ ip: '10.244.0.3' }], { labels: { 'service.kubernetes.io/headless': '' } }),
  ];
  const snap = buildSnapshot(services, slices, 'node-a');
  assert.deepEqual([...snap.services.keys()], ['ns/normal']);
  assert.deepEqual(ips(entry(snap, 'ns/normal:http/TCP').endpoints), ['10.244.0.1:8080']);

  // The IPv6 proxier sees the v6 service and the v6 slice instead.
  const v6 = buildSnapshot(services, slices, 'node-a', '', { ipFamily: 'IPv6' });
  assert.deepEqual([...v6.services.keys()].sort(), ['ns/v6only']);
  // A proxy with a serviceProxyName takes only its own services.
  const named = buildSnapshot(services, slices, 'node-a', '', { serviceProxyName: 'cilium' });
  assert.deepEqual([...named.services.keys()], ['ns/other-proxy']);
});

test('endpoints match service ports by port name and protocol, deduplicated across slices', () => {
  const s = svc('ns', 'web', [
    { name: 'http', port: 80, targetPort: 'web' },
    { name: 'dns', port: 53, protocol: 'UDP' },
    { name: 'metrics', port: 9090 },
  ]);
  const slices = [
    slice('ns', 'web-a', 'web', [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns', port: 5354, protocol: 'TCP' }], [
      { ip: '10.244.1.2', node: 'node-b' },
      { ip: '10.244.0.5', node: 'node-a' },
    ]),
    // The same endpoint again in a second slice (a move in progress): one copy, the local one preferred.
    slice('ns', 'web-b', 'web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.2', node: 'node-b' }, { ip: '10.244.2.9', node: 'node-c' }]),
    // A port the service does not have, and a port with no number: ignored.
    slice('ns', 'web-c', 'web', [{ name: 'other', port: 1234 }, { name: 'metrics', port: 0 }], [{ ip: '10.244.3.3' }]),
  ];
  const snap = buildSnapshot([s], slices, 'node-a');
  assert.deepEqual(ips(entry(snap, 'ns/web:http/TCP').endpoints), ['10.244.0.5:8080', '10.244.1.2:8080', '10.244.2.9:8080']);
  assert.deepEqual(ips(entry(snap, 'ns/web:dns/UDP').endpoints), ['10.244.0.5:5353', '10.244.1.2:5353']);
  assert.deepEqual(entry(snap, 'ns/web:metrics/TCP').endpoints, []);
  assert.equal(entry(snap, 'ns/web:metrics/TCP').hasEndpoints, false);
  const local = entry(snap, 'ns/web:http/TCP').endpoints.find((e) => e.ip === '10.244.0.5')!;
  assert.equal(local.isLocal, true);
  assert.equal(local.nodeName, 'node-a');
  assert.equal(entry(snap, 'ns/web:http/TCP').info.targetPort, 'web');
  assert.equal(snap.services.get('ns/web')!.localReadyEndpoints, 1);

  // An unnamed single port matches the slice port named "".
  const unnamed = buildSnapshot([svc('ns', 'u', [{ port: 80 }])], [slice('ns', 'u-1', 'u', [{ port: 8080 }], [{ ip: '10.244.0.7' }])], 'node-a');
  assert.deepEqual(ips(entry(unnamed, 'ns/u/TCP').endpoints), ['10.244.0.7:8080']);
});

test('service port info: affinity, VIP-mode LB IPs, health check port, source ranges, external IPs', () => {
  const lb = svc(
    'ns',
    'lb',
    [{ name: 'http', port: 80, nodePort: 30080 }],
    {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: {} },
      loadBalancerSourceRanges: [' 192.168.0.0/16 ', '2001:db8::/32'],
      externalIPs: ['80.11.12.10', '2001:db8::10'],
    },
    {},
    { loadBalancer: { ingress: [{ ip: '1.2.3.4', ipMode: 'VIP' }, { ip: '1.2.3.5', ipMode: 'Proxy' }, { ip: '1.2.3.6' }, { hostname: 'lb.example.com' }] } },
  );
  const cip = svc('ns', 'cip', [{ name: 'http', port: 80 }], { externalTrafficPolicy: 'Local', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
  const snap = buildSnapshot([lb, cip], [], 'node-a');
  const info = entry(snap, 'ns/lb:http/TCP').info;
  assert.deepEqual(info.sessionAffinity, { type: 'ClientIP', timeoutSeconds: 10800 });
  assert.deepEqual(info.loadBalancerIPs, ['1.2.3.4', '1.2.3.6']);
  assert.deepEqual(info.loadBalancerSourceRanges, ['192.168.0.0/16']);
  assert.deepEqual(info.externalIPs, ['80.11.12.10']);
  assert.equal(info.nodePort, 30080);
  assert.equal(info.healthCheckNodePort, 32000);
  assert.equal(info.externalPolicyLocal, true);
  assert.equal(info.usesLocalEndpoints, true);
  assert.equal(info.usesClusterEndpoints, true);
  assert.deepEqual([...healthCheckNodePorts(snap)], [['ns/lb', 32000]]);
  const c = entry(snap, 'ns/cip:http/TCP').info;
  // externalTrafficPolicy means nothing for a ClusterIP service without external IPs.
  assert.equal(c.externalPolicyLocal, false);
  assert.equal(c.healthCheckNodePort, 0);
  assert.deepEqual(c.sessionAffinity, { type: 'ClientIP', timeoutSeconds: 60 });
});

test('categorize: ready first, then serving-terminating; never terminating-not-serving', () => {
  const s = svc('ns', 's', [{ name: 'p', port: 80 }]);
  const build = (eps: Parameters<typeof slice>[4]) => entry(buildSnapshot([s], [slice('ns', 's-1', 's', [{ name: 'p', port: 8080 }], eps)], 'node-a'), 'ns/s:p/TCP');

  let e = build([{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false, serving: true, terminating: true }, { ip: '10.0.0.3', ready: false, serving: false }]);
  assert.deepEqual(ips(e.clusterEndpoints), ['10.0.0.1:8080']);
  assert.equal(e.allReachableEndpoints, e.clusterEndpoints);
  assert.equal(e.hasEndpoints, true);
  assert.deepEqual(e.localEndpoints, []);

  e = build([{ ip: '10.0.0.2', ready: false, serving: true, terminating: true }, { ip: '10.0.0.3', ready: false, serving: false, terminating: true }]);
  assert.deepEqual(ips(e.clusterEndpoints), ['10.0.0.2:8080']);
  assert.equal(e.hasEndpoints, true);

  e = build([{ ip: '10.0.0.3', ready: false, serving: false, terminating: true }, { ip: '10.0.0.4', ready: false, serving: false }]);
  assert.deepEqual(e.clusterEndpoints, []);
  assert.equal(e.hasEndpoints, false);
});

test('categorize: Local traffic policies use only this node’s endpoints', () => {
  const eps = [
    { ip: '10.0.0.1', node: 'node-a' },
    { ip: '10.0.0.2', node: 'node-b' },
    { ip: '10.0.0.3', node: 'node-a', ready: false, serving: true, terminating: true },
  ];
  const sl = (name: string) => slice('ns', `${name}-1`, name, [{ name: 'p', port: 8080 }], eps);
  const itp = svc('ns', 'itp', [{ name: 'p', port: 80 }], { internalTrafficPolicy: 'Local' });
  const etp = svc('ns', 'etp', [{ name: 'p', port: 80, nodePort: 30001 }], { type: 'NodePort', externalTrafficPolicy: 'Local' });
  const snapA = buildSnapshot([itp, etp], [sl('itp'), sl('etp')], 'node-a');

  // internalTrafficPolicy Local on a ClusterIP service: no Cluster set at all.
  let e = entry(snapA, 'ns/itp:p/TCP');
  assert.equal(e.info.usesClusterEndpoints, false);
  assert.deepEqual(e.clusterEndpoints, []);
  assert.deepEqual(ips(e.localEndpoints), ['10.0.0.1:8080']);
  assert.equal(e.allReachableEndpoints, e.localEndpoints);

  // externalTrafficPolicy Local on a NodePort: Cluster set for short-circuiting, Local set for external traffic.
  e = entry(snapA, 'ns/etp:p/TCP');
  assert.deepEqual(ips(e.clusterEndpoints), ['10.0.0.1:8080', '10.0.0.2:8080']);
  assert.deepEqual(ips(e.localEndpoints), ['10.0.0.1:8080']);
  assert.equal(e.allReachableEndpoints, e.clusterEndpoints);

  // On node-c nothing is local, but the service still has endpoints in the cluster (drop, not reject).
  const snapC = buildSnapshot([itp], [sl('itp')], 'node-c');
  e = entry(snapC, 'ns/itp:p/TCP');
  assert.deepEqual(e.localEndpoints, []);
  assert.equal(e.hasEndpoints, true);

  // Local falls back to serving-terminating local endpoints on its own; the union then merges both lists.
  const noLocalReady = [{ ip: '10.0.0.2', node: 'node-b' }, { ip: '10.0.0.3', node: 'node-a', ready: false, serving: true, terminating: true }];
  const snapF = buildSnapshot([etp], [slice('ns', 'etp-1', 'etp', [{ name: 'p', port: 8080 }], noLocalReady)], 'node-a');
  e = entry(snapF, 'ns/etp:p/TCP');
  assert.deepEqual(ips(e.clusterEndpoints), ['10.0.0.2:8080']);
  assert.deepEqual(ips(e.localEndpoints), ['10.0.0.3:8080']);
  assert.deepEqual(ips(e.allReachableEndpoints), ['10.0.0.2:8080', '10.0.0.3:8080']);
  // Terminating endpoints do not count for the health check.
  assert.deepEqual([...localReadyEndpoints(snapF)], []);
});

test('categorize: topology hints when every ready endpoint has them and the service asks', () => {
  const eps = (missing = false) => [
    { ip: '10.0.0.1', zone: 'zone-a', zones: ['zone-a'] },
    { ip: '10.0.0.2', zone: 'zone-b', zones: ['zone-b'] },
    { ip: '10.0.0.3', zone: 'zone-a', zones: missing ? undefined : ['zone-a'] },
    { ip: '10.0.0.4', zone: 'zone-b', ready: false, serving: false }, // not ready: its missing hint does not matter
  ];
  const build = (spec: Record<string, unknown>, meta: Record<string, unknown>, zone: string, missing = false) =>
    entry(buildSnapshot([svc('ns', 's', [{ name: 'p', port: 80 }], spec, meta)], [slice('ns', 's-1', 's', [{ name: 'p', port: 8080 }], eps(missing))], 'node-a', zone), 'ns/s:p/TCP');

  let e = build({ trafficDistribution: 'PreferClose' }, {}, 'zone-a');
  assert.equal(e.topologyMode, 'PreferSameZone');
  assert.deepEqual(ips(e.clusterEndpoints), ['10.0.0.1:8080', '10.0.0.3:8080']);
  assert.equal(e.endpoints.length, 4);

  e = build({}, { annotations: { 'service.kubernetes.io/topology-mode': 'Auto' } }, 'zone-b');
  assert.deepEqual(ips(e.clusterEndpoints), ['10.0.0.2:8080']);

  // Any of: a ready endpoint without hints, a zone nobody hinted for, no zone label, the service not asking.
  for (const [spec, meta, zone, missing] of [
    [{ trafficDistribution: 'PreferClose' }, {}, 'zone-a', true],
    [{ trafficDistribution: 'PreferClose' }, {}, 'zone-z', false],
    [{ trafficDistribution: 'PreferClose' }, {}, '', false],
    [{}, {}, 'zone-a', false],
    [{}, { annotations: { 'service.kubernetes.io/topology-aware-hints': 'Disabled' } }, 'zone-a', false],
  ] as const) {
    e = build(spec, meta, zone, missing);
    assert.equal(e.topologyMode, '', JSON.stringify({ spec, meta, zone, missing }));
    assert.deepEqual(ips(e.clusterEndpoints), ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
  }

  // PreferSameNode: node hints win over zone hints when every ready endpoint has one.
  const nodeEps = [
    { ip: '10.0.0.1', node: 'node-a', zones: ['zone-a'], nodes: ['node-a'] },
    { ip: '10.0.0.2', node: 'node-b', zones: ['zone-a'], nodes: ['node-b'] },
  ];
  const sameNode = buildSnapshot(
    [svc('ns', 'n', [{ name: 'p', port: 80 }], { trafficDistribution: 'PreferSameNode' })],
    [slice('ns', 'n-1', 'n', [{ name: 'p', port: 8080 }], nodeEps)],
    'node-a',
    'zone-a',
  );
  e = entry(sameNode, 'ns/n:p/TCP');
  assert.equal(e.topologyMode, 'PreferSameNode');
  assert.deepEqual(ips(e.clusterEndpoints), ['10.0.0.1:8080']);
});

test('diffSnapshots: added, removed, changed ports, removed endpoints and newly reachable ports', () => {
  const a = svc('ns', 'a', [{ name: 'dns', port: 53, protocol: 'UDP' }]);
  const b = svc('ns', 'b', [{ name: 'http', port: 80 }]);
  const c = svc('ns', 'c', [{ name: 'http', port: 80 }]);
  const old = buildSnapshot([a, b], [slice('ns', 'a-1', 'a', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }])], 'n');
  const next = buildSnapshot(
    [a, c],
    [slice('ns', 'a-1', 'a', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ ip: '10.0.0.2' }]), slice('ns', 'c-1', 'c', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.9' }])],
    'n',
  );
  const d = diffSnapshots(old, next);
  assert.deepEqual(d.added.map(servicePortNameString), ['ns/c:http']);
  assert.deepEqual(d.removed.map(servicePortNameString), ['ns/b:http']);
  assert.deepEqual(d.changed.map(servicePortNameString), ['ns/a:dns']);
  assert.deepEqual(d.changedServices, ['ns/a', 'ns/b', 'ns/c']);
  assert.deepEqual(
    d.removedEndpoints.map((r) => `${servicePortNameString(r.servicePort)}/${r.servicePort.protocol} ${r.endpoint.endpoint}`),
    ['ns/a:dns/UDP 10.0.0.1:53'],
  );
  assert.deepEqual(d.becameReachable.map(servicePortNameString), ['ns/c:http']);

  const same = diffSnapshots(next, buildSnapshot([a, c], [...[slice('ns', 'a-1', 'a', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ ip: '10.0.0.2' }])], slice('ns', 'c-1', 'c', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.9' }])], 'n'));
  assert.deepEqual(same, { added: [], removed: [], changed: [], changedServices: [], removedEndpoints: [], becameReachable: [] });
  // Everything is "added" against nothing.
  assert.equal(diffSnapshots(undefined, next).added.length, 2);
});

/** Same content, independent of map order. */
function canonical(snap: ProxySnapshot): string {
  return JSON.stringify([...snap.servicePorts.entries()].sort(([x], [y]) => (x < y ? -1 : 1)));
}

test('the incremental builder agrees with a full build through adds, updates, moves and deletes', () => {
  const b = createSnapshotBuilder({ nodeName: 'node-a' });
  const services = new Map<string, Service>();
  const slices = new Map<string, EndpointSlice>();
  const check = (what: string) => {
    const inc = b.snapshot();
    const full = buildSnapshot(services.values(), slices.values(), 'node-a', inc.nodeZone);
    assert.equal(canonical(inc), canonical(full), what);
  };
  const putSvc = (s: Service) => (services.set(`${s.metadata.namespace}/${s.metadata.name}`, s), b.setService(s));
  const putSlice = (s: EndpointSlice) => (slices.set(`${s.metadata.namespace}/${s.metadata.name}`, s), b.setSlice(s));
  const delSlice = (s: EndpointSlice) => (slices.delete(`${s.metadata.namespace}/${s.metadata.name}`), b.deleteSlice(s));

  putSvc(svc('ns', 'x', [{ name: 'p', port: 80 }], { trafficDistribution: 'PreferClose' }));
  putSvc(svc('ns', 'y', [{ name: 'p', port: 80 }], { internalTrafficPolicy: 'Local' }));
  const x1 = slice('ns', 'x-1', 'x', [{ name: 'p', port: 8080 }], [{ ip: '10.0.0.1', node: 'node-a', zones: ['z1'] }, { ip: '10.0.0.2', node: 'node-b', zones: ['z2'] }]);
  putSlice(x1);
  check('initial');
  const before = b.snapshot();
  assert.equal(b.snapshot(), before, 'no change: the same snapshot object');

  // A slice of y appears: only y is rebuilt, x's entries are shared by reference.
  putSlice(slice('ns', 'y-1', 'y', [{ name: 'p', port: 8080 }], [{ ip: '10.0.0.3', node: 'node-a' }]));
  check('slice added');
  const afterAdd = b.snapshot();
  assert.equal(afterAdd.servicePorts.get('ns/x:p/TCP'), before.servicePorts.get('ns/x:p/TCP'));
  assert.deepEqual(diffSnapshots(before, afterAdd).changed.map(servicePortNameString), ['ns/y:p']);
  assert.deepEqual(diffSnapshots(before, afterAdd), diffSnapshots(before, { ...afterAdd, rebuiltFrom: undefined }));

  // An update that changes nothing kube-proxy reads is no change.
  assert.equal(b.setSlice({ ...x1, metadata: { ...x1.metadata, resourceVersion: '99' } }), false);
  // The node's zone changes: topology is re-evaluated everywhere.
  assert.equal(b.setNodeZone('z1'), true);
  const zoned = b.snapshot();
  assert.deepEqual(ips(zoned.servicePorts.get('ns/x:p/TCP')!.clusterEndpoints), ['10.0.0.1:8080']);
  // The slice's label moves it to service y.
  const moved = slice('ns', 'x-1', 'y', [{ name: 'p', port: 8080 }], [{ ip: '10.0.0.4', node: 'node-a' }]);
  putSlice(moved);
  const full = () => buildSnapshot(services.values(), slices.values(), 'node-a', 'z1');
  assert.equal(canonical(b.snapshot()), canonical(full()), 'slice moved');
  delSlice(moved);
  b.deleteService(services.get('ns/x')!);
  services.delete('ns/x');
  assert.equal(canonical(b.snapshot()), canonical(full()), 'deleted');
  assert.deepEqual([...b.snapshot().services.keys()], ['ns/y']);
});

test('10,000 services × 10 endpoints: one change rebuilds one service', (t) => {
  const N = 10_000;
  const b = createSnapshotBuilder({ nodeName: 'node-0' });
  const mkSlice = (i: number, gen = 0) =>
    slice(
      `ns${i % 50}`,
      `svc-${i}-abcde`,
      `svc-${i}`,
      [{ name: 'http', port: 8080 }],
      Array.from({ length: 10 }, (_, j) => ({ ip: `10.${(i >> 8) & 255}.${i & 255}.${j + 1 + gen}`, node: `node-${j % 3}` })),
    );
  let start = performance.now();
  for (let i = 0; i < N; i++) {
    b.setService(svc(`ns${i % 50}`, `svc-${i}`, [{ name: 'http', port: 80 }], { clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`, clusterIPs: undefined }));
    b.setSlice(mkSlice(i));
  }
  const initial = b.snapshot();
  const initialMs = performance.now() - start;
  assert.equal(initial.servicePorts.size, N);

  // One endpoint of one service changes.
  start = performance.now();
  b.setSlice(mkSlice(1234, 1));
  const next = b.snapshot();
  const oneChangeMs = performance.now() - start;
  start = performance.now();
  const d = diffSnapshots(initial, next);
  const diffMs = performance.now() - start;

  assert.deepEqual(d.changedServices, ['ns34/svc-1234']);
  // The fast path (only the rebuilt services) and the full comparison agree.
  assert.deepEqual(d, diffSnapshots(initial, { ...next, rebuiltFrom: undefined }));
  assert.equal(d.removedEndpoints.length, 1);
  let shared = 0;
  for (const [k, e] of next.servicePorts) if (initial.servicePorts.get(k) === e) shared++;
  assert.equal(shared, N - 1, 'every other entry is the previous object');
  // Nothing changed: the snapshot is returned as is.
  start = performance.now();
  assert.equal(b.snapshot(), next);
  const idleMs = performance.now() - start;
  t.diagnostic(
    `10k services x 10 endpoints: initial build ${initialMs.toFixed(0)} ms; one change: snapshot ${oneChangeMs.toFixed(2)} ms, diff ${diffMs.toFixed(2)} ms; no change ${idleMs.toFixed(3)} ms`,
  );
});
