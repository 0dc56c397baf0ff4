// What the DNS informers keep (objects.ts): the minimal objects give the
// record index exactly the records the whole objects give, and drop what it
// never reads (managedFields, annotations, status, targetRefs); once the
// index has an object, the informer keeps its metadata only, which is all a
// delete (as a relist gives it) needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Pod, Service, Stored } from '../../src/api/types.js';
import { minimalEndpointSlice, minimalPod, minimalService } from '../../src/dns/objects.js';
import { createDnsIndex } from '../../src/dns/records.js';

const managedFields = [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }];
const meta = (name: string, extra: object = {}) => ({ namespace: 'ns1', name, uid: 'u', resourceVersion: '7', creationTimestamp: '2024-01-01T00:00:00Z', managedFields, annotations: { note: 'x'.repeat(100) }, ...extra });

const services: Stored<Service>[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: meta('web'), spec: { type: 'ClusterIP', clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00::5'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: 'web' } }, status: { loadBalancer: {} } },
  { apiVersion: 'v1', kind: 'Service', metadata: meta('db'), spec: { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: meta('ext'), spec: { type: 'ExternalName', externalName: 'example.com' } },
];
const slices: Stored<EndpointSlice>[] = [
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: meta('db-abc', { labels: { 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } }),
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.0.7'], hostname: 'db-0', conditions: { ready: true, serving: true }, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns1', name: 'db-0' } },
      { addresses: ['10.244.0.8'], conditions: { ready: false }, targetRef: { kind: 'Pod', namespace: 'ns1', name: 'db-1' } },
      { addresses: ['10.244.0.9'] },
    ],
    ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }],
  },
];
const pods: Stored<Pod>[] = [{ apiVersion: 'v1', kind: 'Pod', metadata: meta('db-0'), spec: { containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Running', podIP: '10.244.0.7', podIPs: [{ ip: '10.244.0.7' }], hostIP: '172.18.0.2' } }];

test('an index fed minimal objects answers every name as one fed the whole objects', () => {
  const whole = createDnsIndex({ zone: 'cluster.local', now: () => 0 });
  const minimal = createDnsIndex({ zone: 'cluster.local', now: () => 0 });
  for (const s of services) {
    whole.setService(s);
    minimal.setService(minimalService(s));
  }
  for (const s of slices) {
    whole.setEndpointSlice(s);
    minimal.setEndpointSlice(minimalEndpointSlice(s));
  }
  for (const p of pods) {
    whole.setPod(p);
    minimal.setPod(minimalPod(p));
  }
  const names = [
    'web.ns1.svc.cluster.local',
    '_http._tcp.web.ns1.svc.cluster.local',
    'db.ns1.svc.cluster.local',
    '_sql._tcp.db.ns1.svc.cluster.local',
    'db-0.db.ns1.svc.cluster.local',
    '10-244-0-8.db.ns1.svc.cluster.local',
    '10-244-0-9.db.ns1.svc.cluster.local',
    'ext.ns1.svc.cluster.local',
    '10-244-0-7.ns1.pod.cluster.local',
    'ns1.svc.cluster.local',
  ];
  for (const n of names) {
    assert.ok(whole.lookup(n), n);
    assert.deepEqual(minimal.lookup(n), whole.lookup(n), n);
  }
  for (const ip of ['10.96.0.5', 'fd00::5', '10.244.0.7', '10.244.0.8']) assert.deepEqual(minimal.lookupPtr(ip), whole.lookupPtr(ip), ip);
});

test('minimal objects keep the informer\'s key and version and nothing the index does not read', () => {
  const svc = minimalService(services[0]);
  assert.deepEqual(svc.metadata, { namespace: 'ns1', name: 'web', resourceVersion: '7' });
  assert.equal(JSON.stringify(svc).includes('managedFields'), false);
  assert.equal((svc as Service).status, undefined);
  const slice = minimalEndpointSlice(slices[0]);
  assert.deepEqual(slice.metadata.labels, { 'kubernetes.io/service-name': 'db' });
  assert.equal(JSON.stringify(slice).includes('targetRef'), false);
  assert.equal(JSON.stringify(slice).includes('nodeName'), false);
  const pod = minimalPod(pods[0]);
  assert.deepEqual(pod.status, { phase: 'Running', podIP: '10.244.0.7', podIPs: [{ ip: '10.244.0.7' }] });
  assert.equal((pod as Pod).spec, undefined);
});

test('deletes given only what the informer kept (metadata) take every record out, after any change of mode', () => {
  const index = createDnsIndex({ zone: 'cluster.local', now: () => 0 });
  const empty = createDnsIndex({ zone: 'cluster.local', now: () => 0 });
  for (const s of services) index.setService(minimalService(s));
  for (const s of slices) index.setEndpointSlice(minimalEndpointSlice(s));
  for (const p of pods) index.setPod(minimalPod(p));
  // web turns headless and publishes not-ready endpoints, db gets a cluster IP: their slices' records are made again.
  index.setService(minimalService({ ...services[0], spec: { ...services[0].spec, clusterIP: 'None', clusterIPs: ['None'], publishNotReadyAddresses: true } }));
  index.setService(minimalService({ ...services[1], spec: { ...services[1].spec, clusterIP: '10.96.0.6', clusterIPs: ['10.96.0.6'], publishNotReadyAddresses: false } }));
  assert.deepEqual(index.lookup('db.ns1.svc.cluster.local')?.ipv4, ['10.96.0.6']);
  assert.equal(index.lookup('10-244-0-8.db.ns1.svc.cluster.local'), undefined);
  assert.deepEqual(index.lookup('db-0.db.ns1.svc.cluster.local')?.srv, [{ port: 5432, target: 'db-0.db.ns1.svc.cluster.local' }]);
  // An object dropped at a relist reaches the index as what the informer kept of it (keep: 'resourceVersion').
  const asKept = <T extends { metadata: { namespace?: string; name?: string; resourceVersion?: string } }>(o: T) => ({ metadata: { namespace: o.metadata.namespace, name: o.metadata.name, resourceVersion: o.metadata.resourceVersion } }) as T;
  for (const s of slices) index.deleteEndpointSlice(asKept(s));
  for (const s of services) index.deleteService(asKept(s));
  for (const p of pods) index.deletePod(asKept(p));
  for (const n of ['web.ns1.svc.cluster.local', 'db.ns1.svc.cluster.local', 'db-0.db.ns1.svc.cluster.local', '_sql._tcp.db.ns1.svc.cluster.local', '_tcp.db.ns1.svc.cluster.local', 'ext.ns1.svc.cluster.local', 'ns1.svc.cluster.local', '10-244-0-7.ns1.pod.cluster.local']) {
    assert.equal(index.lookup(n), undefined, n);
  }
  for (const ip of ['10.96.0.5', '10.96.0.6', 'fd00::5', '10.244.0.7']) assert.deepEqual(index.lookupPtr(ip), [], ip);
  for (const n of ['svc.cluster.local', 'pod.cluster.local', 'dns-version.cluster.local']) assert.deepEqual(index.lookup(n), empty.lookup(n), n);
});
