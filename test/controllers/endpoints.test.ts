// The Endpoints, EndpointSlice and mirroring controllers against the real API
// server over HTTP, checked through the API and the real kubectl. There is no
// node agent here: the test creates pods and sets their status itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resourceTypes } from '../../src/client/client.js';
import type { EndpointSlice, Endpoints, Pod, Service } from '../../src/controllers/endpointslice/pod-endpoints.js';
import { waitFor } from '../helpers/apiserver.js';
import { addNode, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { fixtures } from '../helpers/fixtures.js';

const ns = 'default';

describe('endpoint controllers', () => {
  let c: TestCluster;
  const services = () => c.client.resource<Service>(resourceTypes.services);
  const pods = () => c.client.resource<Pod>(resourceTypes.pods);
  const endpoints = () => c.client.resource<Endpoints>(resourceTypes.endpoints);
  const slices = () => c.client.resource<EndpointSlice>(resourceTypes.endpointslices);

  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  async function createPod(
    name: string,
    labels: Record<string, string>,
    opts: { ip: string; ready?: boolean; node?: string; ports?: { name: string; containerPort: number }[]; hostname?: string; subdomain?: string },
  ): Promise<Pod> {
    const created = await pods().create(ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: {
        nodeName: opts.node ?? 'node-1',
        hostname: opts.hostname,
        subdomain: opts.subdomain,
        containers: [{ name: 'app', image: 'registry.k8s.io/e2e-test-images/agnhost:2.47', ports: opts.ports }],
      },
    });
    created.status = {
      ...created.status,
      phase: 'Running',
      podIP: opts.ip,
      podIPs: [{ ip: opts.ip }],
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: now() }],
    };
    return pods().updateStatus(created);
  }

  async function setReady(name: string, ready: boolean) {
    const p = await pods().get(ns, name);
    p.status!.conditions = [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now() }];
    await pods().updateStatus(p);
  }

  async function createService(name: string, spec: Service['spec'], labels?: Record<string, string>) {
    return services().create(ns, { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec });
  }

  const slicesOf = async (svc: string) => (await slices().list(ns, { labelSelector: `kubernetes.io/service-name=${svc}` })).items;
  const endpointsOf = async (svc: string) => endpoints().get(ns, svc);
  const addresses = (ep: Endpoints, field: 'addresses' | 'notReadyAddresses' = 'addresses') => (ep.subsets ?? []).flatMap((s) => (s[field] ?? []).map((a) => a.ip)).sort();
  const sliceEndpoint = (list: EndpointSlice[], ip: string) => list.flatMap((s) => s.endpoints ?? []).find((e) => e.addresses?.includes(ip));

  before(async () => {
    c = await startTestCluster({ only: ['endpoints', 'endpointslice', 'endpointslice-mirroring'] });
    await addNode(c.client, 'node-1', { 'topology.kubernetes.io/zone': 'zone-a' });
    await addNode(c.client, 'node-2');
  });
  after(async () => {
    await c?.stop();
  });

  test('a selector change moves endpoints; slices carry the upstream labels, owner and zone', async () => {
    await createPod('blue-1', { app: 'blue' }, { ip: '10.244.1.10' });
    await createPod('green-1', { app: 'green' }, { ip: '10.244.1.20', node: 'node-2' });
    const svc = await createService('colors', { selector: { app: 'blue' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }, { tier: 'front' });
    await waitFor('blue in Endpoints', async () => addresses(await endpointsOf('colors')).join() === '10.244.1.10');
    const ep = await endpointsOf('colors');
    assert.deepEqual(ep.metadata.labels, { tier: 'front' });
    assert.match(ep.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.deepEqual(ep.subsets![0].addresses![0], {
      ip: '10.244.1.10',
      nodeName: 'node-1',
      targetRef: { kind: 'Pod', namespace: ns, name: 'blue-1', uid: (await pods().get(ns, 'blue-1')).metadata.uid },
    });
    assert.deepEqual(ep.subsets![0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);

    const list = await waitFor('blue slice', async () => {
      const l = await slicesOf('colors');
      return sliceEndpoint(l, '10.244.1.10') ? l : undefined;
    });
    assert.equal(list.length, 1);
    const s = list[0];
    assert.match(s.metadata.name!, /^colors-[a-z0-9]{5}$/);
    assert.equal(s.metadata.generateName, 'colors-');
    assert.deepEqual(s.metadata.labels, { tier: 'front', 'kubernetes.io/service-name': 'colors', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    assert.deepEqual(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'colors', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(s.addressType, 'IPv4');
    assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(s.endpoints![0].zone, 'zone-a');
    assert.deepEqual(s.endpoints![0].conditions, { ready: true, serving: true, terminating: false });

    await services().patch(ns, 'colors', { spec: { selector: { app: 'green' } } });
    await waitFor('green in Endpoints', async () => addresses(await endpointsOf('colors')).join() === '10.244.1.20');
    await waitFor('green in slices', async () => {
      const l = await slicesOf('colors');
      return l.length === 1 && sliceEndpoint(l, '10.244.1.20') && !sliceEndpoint(l, '10.244.1.10');
    });
    assert.equal((await slicesOf('colors'))[0].metadata.name, s.metadata.name, 'the slice is updated in place');
    assert.equal(sliceEndpoint(await slicesOf('colors'), '10.244.1.20')!.zone, undefined, 'node-2 has no zone');
  });

  test('readiness flips move an address between addresses and notReadyAddresses and flip slice conditions; terminating pods', async () => {
    await createService('flip', { selector: { app: 'flip' }, ports: [{ port: 80, targetPort: 8080 }] });
    await createPod('flip-1', { app: 'flip' }, { ip: '10.244.2.10' });
    await createPod('flip-2', { app: 'flip' }, { ip: '10.244.2.11' });
    await waitFor('both ready', async () => addresses(await endpointsOf('flip')).join() === '10.244.2.10,10.244.2.11');

    await setReady('flip-1', false);
    await waitFor('flip-1 not ready in Endpoints', async () => {
      const ep = await endpointsOf('flip');
      return addresses(ep).join() === '10.244.2.11' && addresses(ep, 'notReadyAddresses').join() === '10.244.2.10';
    });
    await waitFor('flip-1 not ready in slice', async () => {
      const e = sliceEndpoint(await slicesOf('flip'), '10.244.2.10');
      return e && e.conditions?.ready === false && e.conditions.serving === false && e.conditions.terminating === false;
    });

    await setReady('flip-1', true);
    await waitFor('flip-1 ready again', async () => addresses(await endpointsOf('flip')).join() === '10.244.2.10,10.244.2.11');
    await waitFor('flip-1 ready in slice', async () => sliceEndpoint(await slicesOf('flip'), '10.244.2.10')?.conditions?.ready === true);

    // Bound to a node, the pod is deleted gracefully: terminating, kept in slices only.
    await pods().delete(ns, 'flip-2');
    await waitFor('terminating out of Endpoints', async () => {
      const ep = await endpointsOf('flip');
      return addresses(ep).join() === '10.244.2.10' && addresses(ep, 'notReadyAddresses').length === 0;
    });
    await waitFor('terminating in slice', async () => {
      const e = sliceEndpoint(await slicesOf('flip'), '10.244.2.11');
      return e && e.conditions?.ready === false && e.conditions.serving === true && e.conditions.terminating === true;
    });
  });

  test('named targetPort resolves per pod; a pod without the port is left out of it', async () => {
    await createService('named', { selector: { app: 'named' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] });
    await createPod('named-1', { app: 'named' }, { ip: '10.244.3.1', ports: [{ name: 'http', containerPort: 8080 }] });
    await createPod('named-2', { app: 'named' }, { ip: '10.244.3.2', ports: [{ name: 'http', containerPort: 9090 }] });
    await createPod('named-3', { app: 'named' }, { ip: '10.244.3.3', ports: [{ name: 'metrics', containerPort: 9100 }] });
    const ep = await waitFor('two subsets', async () => {
      const e = await endpointsOf('named');
      return e.subsets?.length === 2 ? e : undefined;
    });
    const byPort = Object.fromEntries(ep.subsets!.map((s) => [s.ports![0].port, addresses({ subsets: [s] } as Endpoints)]));
    assert.deepEqual(byPort, { 8080: ['10.244.3.1'], 9090: ['10.244.3.2'] });
    const list = await waitFor('slices per port map', async () => {
      const l = await slicesOf('named');
      return l.length === 3 ? l : undefined;
    });
    const slicePorts = Object.fromEntries(list.map((s) => [s.ports?.map((p) => p.port).join() ?? '', s.endpoints!.map((e) => e.addresses![0])]));
    assert.deepEqual(slicePorts, { 8080: ['10.244.3.1'], 9090: ['10.244.3.2'], '': ['10.244.3.3'] });
  });

  test('publishNotReadyAddresses publishes not-ready pods as ready', async () => {
    await createService('pub', { selector: { app: 'pub' }, clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ port: 80 }] });
    await createPod('pub-1', { app: 'pub' }, { ip: '10.244.4.1', ready: false, hostname: 'pub-1', subdomain: 'pub' });
    const ep = await waitFor('published', async () => {
      const e = await endpointsOf('pub');
      return addresses(e).join() === '10.244.4.1' ? e : undefined;
    });
    assert.equal(ep.subsets![0].addresses![0].hostname, 'pub-1');
    assert.equal(ep.metadata.labels?.['service.kubernetes.io/headless'], '');
    await waitFor('slice ready, not serving', async () => {
      const l = await slicesOf('pub');
      const e = sliceEndpoint(l, '10.244.4.1');
      return e?.conditions?.ready === true && e.conditions.serving === false && e.hostname === 'pub-1' && l[0].metadata.labels?.['service.kubernetes.io/headless'] === '';
    });
  });

  test('250 pods make 3 slices of at most 100; deleting the Service removes slices and Endpoints', async () => {
    await createService('many', { selector: { app: 'many' }, ports: [{ port: 80, targetPort: 8080 }] });
    const names = Array.from({ length: 250 }, (_, i) => i);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((n) => createPod(`many-${n}`, { app: 'many' }, { ip: `10.245.${Math.floor(n / 200)}.${(n % 200) + 1}`, node: n % 2 ? 'node-1' : 'node-2' })));
    }
    const list = await waitFor(
      '250 endpoints',
      async () => {
        const l = await slicesOf('many');
        return l.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0) === 250 ? l : undefined;
      },
      20_000,
    );
    assert.equal(list.length, 3);
    assert.ok(list.every((s) => s.endpoints!.length <= 100));
    assert.equal(addresses(await endpointsOf('many')).length, 250);

    await services().delete(ns, 'many');
    await waitFor('slices gone', async () => (await slicesOf('many')).length === 0, 15_000);
    await assert.rejects(endpointsOf('many'), /not found/);
  });

  test('a selector-less Service with hand-made Endpoints is mirrored into a slice', async () => {
    await c.kubectl.ok(['apply', '-f', join(fixtures, 'selectorless.yaml')]);
    const list = await waitFor('mirrored slice', async () => {
      const l = await slicesOf('external-db');
      return l.length === 1 && sliceEndpoint(l, '1.2.3.4') ? l : undefined;
    });
    const s = list[0];
    assert.equal(s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
    assert.deepEqual(s.ports, [{ name: '', port: 9376, protocol: 'TCP' }]);
    assert.deepEqual(s.endpoints, [{ addresses: ['1.2.3.4'], conditions: { ready: true } }]);
    assert.equal(s.metadata.ownerReferences?.[0].kind, 'Endpoints');
    assert.equal(s.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
    // The Endpoints controller leaves the user's Endpoints alone.
    await c.controllers.idle();
    assert.equal(addresses(await endpointsOf('external-db')).join(), '1.2.3.4');
    // Not-ready addresses are mirrored not ready.
    const ep = await endpointsOf('external-db');
    ep.subsets![0].notReadyAddresses = [{ ip: '1.2.3.5' }];
    await endpoints().update(ep);
    await waitFor('not-ready mirrored', async () => sliceEndpoint(await slicesOf('external-db'), '1.2.3.5')?.conditions?.ready === false);
    // Skipped with the skip-mirror label: the mirrored slice goes.
    await c.kubectl.ok(['label', 'endpoints', 'external-db', 'endpointslice.kubernetes.io/skip-mirror=true']);
    await waitFor('mirror removed', async () => (await slicesOf('external-db')).length === 0);
    await c.kubectl.ok(['label', 'endpoints', 'external-db', 'endpointslice.kubernetes.io/skip-mirror-']);
    await waitFor('mirrored again', async () => (await slicesOf('external-db')).length === 1);
    // The Service gains a selector: the mirror goes, the EndpointSlice controller takes over.
    await services().patch(ns, 'external-db', { spec: { selector: { app: 'external-db' } } });
    await waitFor('managed placeholder replaces the mirror', async () => {
      const l = await slicesOf('external-db');
      return l.length === 1 && l[0].metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io' && !l[0].endpoints?.length;
    });
  });

  test('mirroring keeps at most 1000 addresses per subset, with a TooManyAddressesToMirror event; deleting the Endpoints removes the mirror', async () => {
    await createService('big-ext', { ports: [{ port: 80 }] });
    const ips = Array.from({ length: 1005 }, (_, i) => ({ ip: `192.0.${2 + Math.floor(i / 250)}.${(i % 250) + 1}` }));
    await endpoints().create(ns, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'big-ext' }, subsets: [{ addresses: ips, ports: [{ port: 80 }] }] });
    await waitFor('1000 mirrored', async () => (await slicesOf('big-ext'))[0]?.endpoints?.length === 1000);
    const event = await waitFor('warning event', async () =>
      (await c.client.resource(resourceTypes.events).list(ns)).items.find(
        (e) => (e as { reason?: string }).reason === 'TooManyAddressesToMirror' && (e as { involvedObject?: { name?: string } }).involvedObject?.name === 'big-ext',
      ),
    );
    assert.equal((event as { type?: string }).type, 'Warning');
    assert.equal((event as { message?: string }).message, 'A max of 1000 addresses can be mirrored to EndpointSlices per Endpoints subset. 5 addresses were skipped');
    await endpoints().delete(ns, 'big-ext');
    await waitFor('mirror deleted with its Endpoints', async () => (await slicesOf('big-ext')).length === 0);
  });

  test('kubectl describe svc and kubectl get endpoints,endpointslices show the pods', async () => {
    await createService('shown', { selector: { app: 'shown' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    await createPod('shown-1', { app: 'shown' }, { ip: '10.244.6.1' });
    await createPod('shown-2', { app: 'shown' }, { ip: '10.244.6.2' });
    await waitFor('slice with both', async () => {
      const l = await slicesOf('shown');
      return sliceEndpoint(l, '10.244.6.1') && sliceEndpoint(l, '10.244.6.2');
    });
    await waitFor('Endpoints with both', async () => addresses(await endpointsOf('shown')).length === 2);
    const describe = await c.kubectl.ok(['describe', 'svc', 'shown']);
    assert.match(describe, /^Endpoints:\s+10\.244\.6\.1:8080,10\.244\.6\.2:8080$/m);
    const table = await c.kubectl.ok(['get', 'endpoints,endpointslices', '-l', 'kubernetes.io/service-name=shown']);
    assert.match(table, /NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE/);
    assert.match(table, /endpointslice\.discovery\.k8s\.io\/shown-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.244\.6\.1,10\.244\.6\.2\s+\d+s/);
    const ep = await c.kubectl.ok(['get', 'endpoints', 'shown']);
    assert.match(ep, /^NAME\s+ENDPOINTS\s+AGE$/m);
    assert.match(ep, /^shown\s+10\.244\.6\.1:8080,10\.244\.6\.2:8080\s+\d+s$/m);
  });

  test('a restart of the controllers converges without duplicate slices or writes; a deleted slice comes back', async () => {
    await c.controllers.idle();
    const snapshot = async () =>
      (await slices().list(ns)).items
        .map((s) => `${s.metadata.labels?.['kubernetes.io/service-name']}/${s.metadata.name}@${s.metadata.resourceVersion}`)
        .sort();
    const before = await snapshot();
    const epBefore = (await endpoints().list(ns)).items.map((e) => `${e.metadata.name}@${e.metadata.resourceVersion}`).sort();
    await c.restartControllers();
    await c.controllers.idle();
    assert.deepEqual(await snapshot(), before, 'same slices, none rewritten');
    assert.deepEqual((await endpoints().list(ns)).items.map((e) => `${e.metadata.name}@${e.metadata.resourceVersion}`).sort(), epBefore);

    // Changes while restarting are picked up: a pod flips during the restart.
    const restarting = c.restartControllers();
    await setReady('shown-1', false);
    await restarting;
    await waitFor('flip seen after restart', async () => sliceEndpoint(await slicesOf('shown'), '10.244.6.1')?.conditions?.ready === false);
    const shown = await slicesOf('shown');
    assert.equal(shown.length, 1, 'no duplicate slice');

    // Someone deletes a managed slice: it is recreated.
    await slices().delete(ns, shown[0].metadata.name!);
    await waitFor('slice recreated', async () => {
      const l = await slicesOf('shown');
      return l.length === 1 && l[0].metadata.name !== shown[0].metadata.name && sliceEndpoint(l, '10.244.6.2');
    });
  });
});
