// The pure cores of the endpoint controllers: FindPort, endpoint conditions,
// slice packing and churn, placeholders, port maps, Endpoints subsets and
// truncation, mirroring, trigger times and the stale-cache tracker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createTriggerTimeTracker,
  endpointPortsFor,
  findPort,
  podToEndpoint,
  shouldPodBeInEndpoints,
  type EndpointSlice,
  type Endpoints,
  type Node,
  type Pod,
  type Service,
} from '../../src/controllers/endpointslice/pod-endpoints.js';
import { reconcileEndpointSlices, type ReconcileInput } from '../../src/controllers/endpointslice/reconciler.js';
import { mirrorEndpoints } from '../../src/controllers/endpointslice/mirroring.js';
import { createSliceTracker } from '../../src/controllers/endpointslice/tracker.js';
import { computeSubsets, desiredEndpoints, repackSubsets, truncateSubsets } from '../../src/controllers/endpoints-subsets.js';

function service(over: Partial<Service['spec']> = {}, meta: Partial<Service['metadata']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', creationTimestamp: '2024-01-01T00:00:00Z', labels: { team: 'a' }, ...meta },
    spec: {
      selector: { app: 'web' },
      clusterIP: '10.96.0.20',
      ipFamilies: ['IPv4'],
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      ...over,
    },
  };
}

let podSeq = 0;
function pod(name: string, opts: { ip?: string; ips?: string[]; ready?: boolean; node?: string; phase?: string; deleting?: boolean; ports?: { name: string; containerPort: number; protocol?: string }[]; hostname?: string; subdomain?: string } = {}): Pod {
  const ips = opts.ips ?? (opts.ip === undefined ? [`10.244.0.${++podSeq % 250}`] : opts.ip ? [opts.ip] : []);
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: { app: 'web' },
      ...(opts.deleting ? { deletionTimestamp: '2024-01-01T00:00:10Z' } : {}),
    },
    spec: {
      nodeName: opts.node ?? 'node-a',
      hostname: opts.hostname,
      subdomain: opts.subdomain,
      containers: [{ name: 'c', image: 'x', ports: opts.ports?.map((p) => ({ protocol: 'TCP', ...p })) }],
    },
    status: {
      phase: opts.phase ?? 'Running',
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2024-01-01T00:00:05Z' }],
    },
  };
}

const nodes: Record<string, Node> = {
  'node-a': { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-a' } } },
  'node-b': { metadata: { name: 'node-b' } },
};

function input(svc: Service, pods: Pod[], existing: EndpointSlice[] = [], over: Partial<ReconcileInput> = {}): ReconcileInput {
  return { service: svc, pods, node: (n) => nodes[n], existingSlices: existing, maxEndpointsPerSlice: 100, ...over };
}

/** What the server would hold after the plan: names for creates, a new resourceVersion for every write. */
let rv = 100;
let nameSeq = 0;
function applyPlan(existing: EndpointSlice[], plan: { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] }): EndpointSlice[] {
  const byName = new Map(existing.map((s) => [s.metadata.name!, s]));
  for (const d of plan.delete) byName.delete(d.metadata.name!);
  for (const u of plan.update) byName.set(u.metadata.name!, { ...u, metadata: { ...u.metadata, resourceVersion: String(++rv) } });
  for (const c of plan.create) {
    const name = c.metadata.generateName + `x${++nameSeq}`;
    byName.set(name, { ...c, metadata: { ...c.metadata, name, resourceVersion: String(++rv) } });
  }
  return JSON.parse(JSON.stringify([...byName.values()])) as EndpointSlice[];
}

const writes = (p: { create: unknown[]; update: unknown[]; delete: unknown[] }) => p.create.length + p.update.length + p.delete.length;

test('FindPort: numbers as is, names per pod and protocol, restartable init containers only', () => {
  const p = pod('p', { ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] });
  assert.equal(findPort(p, { port: 80, targetPort: 9000 }), 9000);
  assert.equal(findPort(p, { port: 80, targetPort: 'http', protocol: 'TCP' }), 8080);
  assert.equal(findPort(p, { port: 80, targetPort: 'http', protocol: 'UDP' }), undefined);
  assert.equal(findPort(p, { port: 53, targetPort: 'dns', protocol: 'UDP' }), 53);
  assert.equal(findPort(p, { port: 80, targetPort: 'metrics' }), undefined);
  p.spec!.initContainers = [
    { name: 'init', image: 'x', ports: [{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }] },
    { name: 'sidecar', image: 'x', restartPolicy: 'Always', ports: [{ name: 'proxy', containerPort: 15001, protocol: 'TCP' }] },
  ];
  assert.equal(findPort(p, { port: 80, targetPort: 'metrics', protocol: 'TCP' }), undefined, 'plain init containers do not serve');
  assert.equal(findPort(p, { port: 80, targetPort: 'proxy', protocol: 'TCP' }), 15001, 'sidecars do');
  // The service port missing: the pod is left out of that port only.
  const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'admin', port: 81, targetPort: 'admin' }] });
  assert.deepEqual(endpointPortsFor(svc, p), [{ name: 'http', port: 8080, protocol: 'TCP' }]);
});

test('endpoint conditions: ready, serving, terminating, publishNotReadyAddresses; eligibility; hostname; zone', () => {
  const svc = service();
  const cond = (p: Pod, s = svc) => podToEndpoint(p, nodes[p.spec!.nodeName!], s, 'IPv4').conditions;
  assert.deepEqual(cond(pod('a')), { ready: true, serving: true, terminating: false });
  assert.deepEqual(cond(pod('b', { ready: false })), { ready: false, serving: false, terminating: false });
  assert.deepEqual(cond(pod('c', { deleting: true })), { ready: false, serving: true, terminating: true });
  const pub = service({ publishNotReadyAddresses: true });
  assert.deepEqual(cond(pod('d', { ready: false }), pub), { ready: true, serving: false, terminating: false });
  assert.deepEqual(cond(pod('e', { deleting: true, ready: false }), pub), { ready: true, serving: false, terminating: true });

  assert.equal(shouldPodBeInEndpoints(pod('f', { ip: '' }), true), false, 'no IP');
  assert.equal(shouldPodBeInEndpoints(pod('g', { phase: 'Failed' }), true), false, 'terminal');
  assert.equal(shouldPodBeInEndpoints(pod('h', { phase: 'Succeeded' }), true), false, 'terminal');
  assert.equal(shouldPodBeInEndpoints(pod('i', { deleting: true }), true), true, 'terminating kept in slices');
  assert.equal(shouldPodBeInEndpoints(pod('i', { deleting: true }), false), false, 'but not in Endpoints');

  const ep = podToEndpoint(pod('j', { ip: '10.244.1.7', hostname: 'j', subdomain: 'web' }), nodes['node-a'], svc, 'IPv4');
  assert.equal(ep.hostname, 'j');
  assert.equal(ep.zone, 'zone-a');
  assert.equal(ep.nodeName, 'node-a');
  assert.deepEqual(ep.addresses, ['10.244.1.7']);
  assert.deepEqual(ep.targetRef, { kind: 'Pod', namespace: 'default', name: 'j', uid: 'uid-j' });
  const other = podToEndpoint(pod('k', { hostname: 'k', subdomain: 'other', node: 'node-b' }), nodes['node-b'], svc, 'IPv4');
  assert.equal(other.hostname, undefined, 'subdomain must name the Service');
  assert.equal(other.zone, undefined, 'no zone label, no zone');
  // Families: only the slice's family, re-stringified canonically.
  const dual = pod('l', { ips: ['10.244.0.9', '2001:DB8:0:0::9'] });
  assert.deepEqual(podToEndpoint(dual, undefined, svc, 'IPv6').addresses, ['2001:db8::9']);
  assert.deepEqual(podToEndpoint(dual, undefined, svc, 'IPv4').addresses, ['10.244.0.9']);
});

test('250 pods pack into 3 slices of at most 100, with the upstream metadata; a resync writes nothing', () => {
  const svc = service();
  const pods = Array.from({ length: 250 }, (_, i) => pod(`p${String(i).padStart(3, '0')}`, { ip: `10.244.${Math.floor(i / 200)}.${(i % 200) + 1}` }));
  const plan = reconcileEndpointSlices(input(svc, pods, [], { triggerTime: '2024-01-01T00:00:05Z' }));
  assert.equal(plan.create.length, 3);
  assert.deepEqual(plan.create.map((s) => s.endpoints!.length).sort((a, b) => a - b), [50, 100, 100]);
  const s = plan.create[0];
  assert.equal(s.metadata.generateName, 'web-');
  assert.equal(s.addressType, 'IPv4');
  assert.deepEqual(s.metadata.labels, {
    team: 'a',
    'kubernetes.io/service-name': 'web',
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
  });
  assert.deepEqual(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  assert.equal(s.metadata.annotations!['endpoints.kubernetes.io/last-change-trigger-time'], '2024-01-01T00:00:05Z');
  assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);

  const stored = applyPlan([], plan);
  // Endpoint order inside slices and the order slices are listed in do not matter.
  for (const sl of stored) sl.endpoints!.reverse();
  stored.reverse();
  const again = reconcileEndpointSlices(input(svc, [...pods].reverse(), stored));
  assert.equal(writes(again), 0);
  // A headless Service's slices carry the headless label.
  const headless = reconcileEndpointSlices(input(service({ clusterIP: 'None' }), pods.slice(0, 1)));
  assert.equal(headless.create[0].metadata.labels!['service.kubernetes.io/headless'], '');
});

test('minimal churn: in-place updates, the fullest slice that fits gets new endpoints, deleted slices are reused', () => {
  const svc = service();
  const pods = Array.from({ length: 150 }, (_, i) => pod(`p${String(i).padStart(3, '0')}`, { ip: `10.244.1.${i + 1}` }));
  let stored = applyPlan([], reconcileEndpointSlices(input(svc, pods)));
  assert.deepEqual(stored.map((s) => s.endpoints!.length).sort((a, b) => a - b), [50, 100]);

  // A readiness flip updates only the slice holding that pod, in place.
  const flipped = pods.map((p) => (p.metadata.name === 'p010' ? pod('p010', { ip: '10.244.1.11', ready: false }) : p));
  const flip = reconcileEndpointSlices(input(svc, flipped, stored));
  assert.equal(flip.create.length + flip.delete.length, 0);
  assert.equal(flip.update.length, 1);
  const holder = stored.find((s) => s.endpoints!.some((e) => e.targetRef!.name === 'p010'))!;
  assert.equal(flip.update[0].metadata.name, holder.metadata.name);
  assert.equal(flip.update[0].metadata.resourceVersion, holder.metadata.resourceVersion, 'updates are conditional on what was read');
  assert.equal(flip.update[0].endpoints!.find((e) => e.targetRef!.name === 'p010')!.conditions!.ready, false);

  // 30 new pods fit in the 50-endpoint slice: no new slice, the full one untouched.
  const more = [...pods, ...Array.from({ length: 30 }, (_, i) => pod(`q${i}`, { ip: `10.244.2.${i + 1}` }))];
  const add = reconcileEndpointSlices(input(svc, more, stored));
  assert.equal(add.create.length, 0);
  assert.equal(add.update.length, 1);
  assert.equal(add.update[0].endpoints!.length, 80);
  stored = applyPlan(stored, add);

  // Removing one pod from the 80 and adding one: the same slice takes both changes.
  const swapped = more.filter((p) => p.metadata.name !== 'q0').concat(pod('r0', { ip: '10.244.3.1' }));
  const swap = reconcileEndpointSlices(input(svc, swapped, stored));
  assert.equal(swap.update.length, 1);
  assert.equal(swap.create.length + swap.delete.length, 0);
  assert.equal(swap.update[0].endpoints!.length, 80);

  // getSliceToFill: 5 new endpoints go to the unchanged slice closest to full.
  const closest = [
    { ...stored[0], metadata: { ...stored[0].metadata, name: 'a' }, endpoints: stored[0].endpoints!.slice(0, 95) },
    { ...stored[1], metadata: { ...stored[1].metadata, name: 'b' }, endpoints: stored[1].endpoints!.slice(0, 50) },
  ];
  const kept = pods.filter((p) => closest.some((s) => s.endpoints!.some((e) => e.targetRef!.name === p.metadata.name)));
  const five = Array.from({ length: 5 }, (_, i) => pod(`s${i}`, { ip: `10.244.4.${i + 1}` }));
  const fill = reconcileEndpointSlices(input(svc, [...kept, ...five], closest));
  assert.equal(fill.update.length, 1);
  assert.equal(fill.update[0].metadata.name, 'a');
  assert.equal(fill.update[0].endpoints!.length, 100);

  // All pods replaced at once: the emptied slices are rewritten rather than deleted and created.
  const fresh = Array.from({ length: 150 }, (_, i) => pod(`n${String(i).padStart(3, '0')}`, { ip: `10.245.0.${(i % 250) + 1}` }));
  const before = new Set(stored.map((s) => s.metadata.name));
  const replace = reconcileEndpointSlices(input(svc, fresh, stored));
  assert.equal(replace.delete.length, 0);
  assert.equal(replace.create.length, 0);
  assert.deepEqual(new Set(replace.update.map((s) => s.metadata.name)), before);
});

test('placeholder: one empty slice when nothing is selected, kept on resync, reused when pods appear', () => {
  const svc = service();
  const plan = reconcileEndpointSlices(input(svc, [pod('x', { ip: '' })]));
  assert.equal(plan.create.length, 1);
  assert.deepEqual(plan.create[0].endpoints, []);
  assert.deepEqual(plan.create[0].ports, []);
  const stored = applyPlan([], plan);
  assert.equal(writes(reconcileEndpointSlices(input(svc, [], stored))), 0, 'the placeholder is not churned');
  const withPods = reconcileEndpointSlices(input(svc, [pod('a', { ip: '10.244.0.1' })], stored));
  assert.equal(withPods.create.length, 0);
  assert.equal(withPods.delete.length, 0);
  assert.equal(withPods.update.length, 1);
  assert.equal(withPods.update[0].metadata.name, stored[0].metadata.name);
  assert.deepEqual(withPods.update[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  // And back to none: the slice becomes the placeholder again.
  const back = reconcileEndpointSlices(input(svc, [], applyPlan(stored, withPods)));
  assert.equal(back.update.length, 1);
  assert.deepEqual(back.update[0].endpoints, []);
  assert.equal(back.create.length + back.delete.length, 0);
});

test('port maps: pods resolving a named port differently get separate slices; dual stack gets one set per family', () => {
  const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
  const a = pod('a', { ip: '10.244.0.1', ports: [{ name: 'http', containerPort: 8080 }] });
  const b = pod('b', { ip: '10.244.0.2', ports: [{ name: 'http', containerPort: 9090 }] });
  const c = pod('c', { ip: '10.244.0.3', ports: [{ name: 'web', containerPort: 80 }] });
  const plan = reconcileEndpointSlices(input(svc, [a, b, c]));
  const byPort = new Map(plan.create.map((s) => [JSON.stringify(s.ports), s.endpoints!.map((e) => e.targetRef!.name)]));
  assert.deepEqual(byPort.get(JSON.stringify([{ name: 'http', port: 8080, protocol: 'TCP' }])), ['a']);
  assert.deepEqual(byPort.get(JSON.stringify([{ name: 'http', port: 9090, protocol: 'TCP' }])), ['b']);
  assert.deepEqual(byPort.get('[]'), ['c'], 'a pod without the port is in a portless slice');

  const dual = service({ ipFamilies: ['IPv4', 'IPv6'] });
  const dp = [pod('d', { ips: ['10.244.0.4', 'fd00::4'] })];
  const dplan = reconcileEndpointSlices(input(dual, dp));
  assert.deepEqual(dplan.create.map((s) => [s.addressType, s.endpoints![0].addresses![0]]).sort(), [
    ['IPv4', '10.244.0.4'],
    ['IPv6', 'fd00::4'],
  ]);
  // Back to single stack: the IPv6 slice goes.
  const stored = applyPlan([], dplan);
  const single = reconcileEndpointSlices(input(service(), dp, stored));
  assert.deepEqual(single.delete.map((s) => s.addressType), ['IPv6']);
  assert.equal(single.create.length + single.update.length, 0);
});

test('slices of an older Service with the same name are replaced, not reused; Service label changes are followed', () => {
  const svc = service();
  const stored = applyPlan([], reconcileEndpointSlices(input(svc, [pod('a', { ip: '10.244.0.1' })])));
  const reborn = service({}, { uid: 'svc-uid-2' });
  const plan = reconcileEndpointSlices(input(reborn, [pod('a', { ip: '10.244.0.1' })], stored));
  assert.equal(plan.delete.length, 1);
  assert.equal(plan.create.length, 1);
  assert.equal(plan.create[0].metadata.ownerReferences![0].uid, 'svc-uid-2');

  const relabelled = service({}, { labels: { team: 'b' } });
  const lp = reconcileEndpointSlices(input(relabelled, [pod('a', { ip: '10.244.0.1' })], stored));
  assert.equal(lp.update.length, 1);
  assert.equal(lp.update[0].metadata.labels!.team, 'b');
  // Pods on a node nobody knows are left out (and come back when the node appears).
  const lost = reconcileEndpointSlices(input(svc, [pod('z', { ip: '10.244.0.9', node: 'gone' })]));
  assert.deepEqual(lost.podsOnMissingNodes, ['z']);
  assert.deepEqual(lost.create[0].endpoints, []);
});

test('trafficDistribution PreferClose gives ready endpoints a hint for their zone; removing it removes hints', () => {
  const svc = service({ trafficDistribution: 'PreferClose' });
  const plan = reconcileEndpointSlices(input(svc, [pod('a', { ip: '10.244.0.1' }), pod('b', { ip: '10.244.0.2', node: 'node-b' })]));
  const eps = new Map(plan.create[0].endpoints!.map((e) => [e.targetRef!.name, e]));
  assert.deepEqual(eps.get('a')!.hints, { forZones: [{ name: 'zone-a' }] });
  assert.equal(eps.get('b')!.hints, undefined, 'no zone, no hint');
  const stored = applyPlan([], plan);
  assert.equal(writes(reconcileEndpointSlices(input(svc, [pod('a', { ip: '10.244.0.1' }), pod('b', { ip: '10.244.0.2', node: 'node-b' })], stored))), 0);
  const off = reconcileEndpointSlices(input(service(), [pod('a', { ip: '10.244.0.1' }), pod('b', { ip: '10.244.0.2', node: 'node-b' })], stored));
  assert.equal(off.update.length, 1);
  assert.ok(off.update[0].endpoints!.every((e) => e.hints === undefined));
});

test('Endpoints: ready/notReady, publishNotReadyAddresses, named ports per pod, repacking, truncation', () => {
  const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
  const a = pod('a', { ip: '10.244.0.2', ports: [{ name: 'http', containerPort: 8080 }] });
  const b = pod('b', { ip: '10.244.0.1', ready: false, ports: [{ name: 'http', containerPort: 8080 }] });
  const c = pod('c', { ip: '10.244.0.3', ports: [{ name: 'http', containerPort: 9090 }] });
  const d = pod('d', { ip: '10.244.0.4' });
  const t = pod('t', { ip: '10.244.0.5', deleting: true, ports: [{ name: 'http', containerPort: 8080 }] });
  const { subsets } = computeSubsets(svc, [a, b, c, d, t]);
  assert.deepEqual(subsets, [
    {
      addresses: [{ ip: '10.244.0.2', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
      notReadyAddresses: [{ ip: '10.244.0.1', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
    {
      addresses: [{ ip: '10.244.0.3', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } }],
      ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
    },
  ]);
  const pub = computeSubsets(service({ ...svc.spec, publishNotReadyAddresses: true }), [a, b, t]).subsets;
  assert.deepEqual(pub[0].addresses!.map((x) => x.ip), ['10.244.0.1', '10.244.0.2', '10.244.0.5']);
  assert.equal(pub[0].notReadyAddresses, undefined);

  // Two ports offered by the same addresses share a subset; not-ready on one port wins.
  const repacked = repackSubsets([
    { addresses: [{ ip: '1.1.1.1' }], ports: [{ name: 'a', port: 1 }] },
    { addresses: [{ ip: '1.1.1.1' }], ports: [{ name: 'b', port: 2 }] },
    { notReadyAddresses: [{ ip: '2.2.2.2' }], ports: [{ name: 'a', port: 1 }] },
    { addresses: [{ ip: '2.2.2.2' }], ports: [{ name: 'b', port: 2 }] },
  ]);
  assert.deepEqual(repacked, [
    { addresses: [{ ip: '1.1.1.1' }], notReadyAddresses: [{ ip: '2.2.2.2' }], ports: [{ name: 'a', port: 1 }] },
    { addresses: [{ ip: '1.1.1.1' }, { ip: '2.2.2.2' }], ports: [{ name: 'b', port: 2 }] },
  ]);
  assert.deepEqual(
    repackSubsets([
      { addresses: [{ ip: '1.1.1.1' }], ports: [{ name: 'b', port: 2 }] },
      { addresses: [{ ip: '1.1.1.1' }], ports: [{ name: 'a', port: 1 }] },
    ]),
    [{ addresses: [{ ip: '1.1.1.1' }], ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }] }],
  );

  // 1200 ready addresses: cut to 1000 and annotated; back under: annotation removed.
  const many = Array.from({ length: 1200 }, (_, i) => pod(`m${i}`, { ip: `10.${Math.floor(i / 250)}.0.${(i % 250) + 1}` }));
  const over = desiredEndpoints(service(), many, undefined, undefined)!;
  assert.equal(over.subsets![0].addresses!.length, 1000);
  assert.equal(over.metadata.annotations!['endpoints.kubernetes.io/over-capacity'], 'truncated');
  assert.equal(desiredEndpoints(service(), many, { ...over, metadata: { ...over.metadata, resourceVersion: '5' } }, undefined), undefined, 'no rewrite at capacity');
  const under = desiredEndpoints(service(), many.slice(0, 10), { ...over, metadata: { ...over.metadata, resourceVersion: '5' } }, undefined)!;
  assert.equal(under.metadata.annotations?.['endpoints.kubernetes.io/over-capacity'], undefined);
  // Ready addresses are kept first when cutting.
  const mixed = [{ addresses: Array.from({ length: 900 }, (_, i) => ({ ip: `r${i}` })), notReadyAddresses: Array.from({ length: 300 }, (_, i) => ({ ip: `n${i}` })) }];
  assert.equal(truncateSubsets(mixed), true);
  assert.equal(mixed[0].addresses.length, 900);
  assert.equal(mixed[0].notReadyAddresses.length, 100);

  // Labels follow the Service (+headless); the trigger time alone never causes a write.
  const e1 = desiredEndpoints(service({ clusterIP: 'None' }), [a], undefined, '2024-01-01T00:00:00Z')!;
  assert.deepEqual(e1.metadata.labels, { team: 'a', 'service.kubernetes.io/headless': '' });
  assert.equal(desiredEndpoints(service({ clusterIP: 'None' }), [a], { ...e1, metadata: { ...e1.metadata, resourceVersion: '1' } }, '2030-01-01T00:00:00Z'), undefined);
});

test('mirroring: per subset and family, ready and not ready, max per subset, invalid IPs, same IP on other ports', () => {
  const ep: Endpoints = {
    metadata: {
      name: 'ext',
      namespace: 'default',
      uid: 'ep-uid',
      labels: { l: '1' },
      annotations: { a: '1', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'endpoints.kubernetes.io/last-change-trigger-time': 'x' },
    },
    subsets: [
      { addresses: [{ ip: '1.2.3.4' }, { ip: 'fd00::1' }, { ip: 'not-an-ip' }], notReadyAddresses: [{ ip: '1.2.3.5' }], ports: [{ port: 9376, protocol: 'TCP' }] },
      { addresses: [{ ip: '1.2.3.4' }], ports: [{ name: 'other', port: 9000, protocol: 'TCP' }] },
    ],
  };
  const plan = mirrorEndpoints(ep, []);
  assert.equal(plan.invalidAddresses, 1);
  assert.equal(plan.create.length, 3);
  const v4 = plan.create.find((s) => s.addressType === 'IPv4' && s.ports![0].port === 9376)!;
  assert.deepEqual(v4.endpoints, [
    { addresses: ['1.2.3.4'], conditions: { ready: true } },
    { addresses: ['1.2.3.5'], conditions: { ready: false } },
  ]);
  assert.deepEqual(v4.metadata.labels, { l: '1', 'kubernetes.io/service-name': 'ext', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
  assert.deepEqual(v4.metadata.annotations, { a: '1' });
  assert.equal(v4.metadata.ownerReferences![0].kind, 'Endpoints');
  assert.ok(plan.create.some((s) => s.addressType === 'IPv6'));
  assert.ok(plan.create.some((s) => s.ports![0].port === 9000 && s.endpoints![0].addresses![0] === '1.2.3.4'));
  // Resync: nothing to do.
  const stored = applyPlan([], plan);
  const again = mirrorEndpoints(ep, stored);
  assert.equal(writes(again), 0);
  // Too many addresses in one subset: only the first max are mirrored.
  const big: Endpoints = { metadata: { name: 'big', namespace: 'default', uid: 'u' }, subsets: [{ addresses: Array.from({ length: 12 }, (_, i) => ({ ip: `10.0.0.${i + 1}` })), ports: [{ port: 80 }] }] };
  const capped = mirrorEndpoints(big, [], 10);
  assert.equal(capped.create[0].endpoints!.length, 10);
  assert.equal(capped.addressesSkipped, 2);
  // An emptied Endpoints removes the mirrored slices.
  const empty = mirrorEndpoints({ ...ep, subsets: [] }, stored);
  assert.equal(empty.delete.length, 3);
});

test('trigger time: the Service creation first, then the earliest Ready transition not yet seen', () => {
  const tt = createTriggerTimeTracker();
  const svc = service();
  const p = pod('a');
  assert.equal(tt.compute('default/web', svc, [p]), '2024-01-01T00:00:00Z');
  assert.equal(tt.compute('default/web', svc, [p]), undefined, 'nothing changed since');
  p.status!.conditions![0].lastTransitionTime = '2024-01-01T00:01:00Z';
  const q = pod('b');
  q.status!.conditions![0].lastTransitionTime = '2024-01-01T00:00:30Z';
  assert.equal(tt.compute('default/web', svc, [p, q]), '2024-01-01T00:00:30Z');
});

test('slice tracker: stale until the cache shows our writes; our echoes are not news, others changes are', () => {
  const t = createSliceTracker();
  const s = (name: string, rv: string) => ({ metadata: { name, resourceVersion: rv } }) as EndpointSlice;
  t.written('ns/web', s('web-1', '10'));
  assert.equal(t.stale('ns/web', []), true, 'create not seen yet');
  assert.equal(t.stale('ns/web', [s('web-1', '9')]), true, 'older version cached');
  assert.equal(t.observe('ns/web', s('web-1', '10'), false), false, 'echo of our write');
  assert.equal(t.stale('ns/web', [s('web-1', '10')]), false);
  assert.equal(t.observe('ns/web', s('web-1', '11'), false), true, 'someone else wrote');
  t.deleted('ns/web', s('web-1', '11'));
  assert.equal(t.stale('ns/web', [s('web-1', '11')]), true, 'delete not seen yet');
  assert.equal(t.observe('ns/web', s('web-1', '11'), true), false);
  assert.equal(t.stale('ns/web', []), false);
  assert.equal(t.observe('ns/web', s('web-2', '12'), true), true, 'unexpected deletion');
});
