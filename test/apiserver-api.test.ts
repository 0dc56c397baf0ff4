// The API contract beyond kubectl's everyday paths: watch semantics, errors,
// dry runs, concurrency, selectors — over real HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { request } from 'node:https';
import { lineSplitter } from '../src/util/line-splitter.js';
import { startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';

interface WatchStream {
  events: any[];
  close(): void;
  status: Promise<number>;
}

function openWatch(t: TestApiServer, path: string, headers: Record<string, string> = {}): WatchStream {
  const events: any[] = [];
  const { hostname, port } = new URL(t.server.url);
  let resolveStatus: (n: number) => void = () => {};
  const status = new Promise<number>((r) => (resolveStatus = r));
  const req = request({ host: hostname, port, path, headers, ca: t.admin.ca, cert: t.admin.cert, key: t.admin.key }, (res) => {
    resolveStatus(res.statusCode ?? 0);
    res.setEncoding('utf8');
    const lines = lineSplitter((line) => events.push(JSON.parse(line)));
    res.on('data', (d: string) => {
      lines.push(d);
      if (res.statusCode !== 200 && lines.rest().trim()) {
        try {
          events.push(JSON.parse(lines.rest()));
          lines.clear();
        } catch {
          /* partial */
        }
      }
    });
  });
  req.on('error', () => {});
  req.end();
  return { events, close: () => req.destroy(), status };
}

const svc = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, labels: { app: name } },
  spec: { ports: [{ port: 80 }], ...extra },
});

describe('API server contract', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer({ bookmarkIntervalMs: 100 });
  });
  after(async () => {
    await t.stop();
  });

  test('health, readiness and version, on TCP and on the unix socket', async () => {
    for (const p of ['/healthz', '/livez', '/readyz']) assert.equal((await t.request('GET', p)).text, 'ok');
    const v = (await t.request('GET', '/version')).json;
    assert.equal(v.major, '1');
    assert.equal(v.minor, '32');
    // The socket speaks TLS too and authenticates as TCP does: the admin's certificate works, no credentials are anonymous.
    const overSocket = (creds: { cert?: unknown; key?: unknown }) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        request({ socketPath: t.server.socketPath, host: 'localhost', path: '/api/v1/namespaces/default/services/kubernetes', ca: t.admin.ca, ...creds } as never, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    assert.equal(JSON.parse((await overSocket({ cert: t.admin.cert, key: t.admin.key })).body).spec.clusterIP, '10.96.0.1');
    assert.equal((await overSocket({})).status, 403);
    assert.equal(statSync(t.server.socketPath).mode & 0o777, 0o600, 'the socket is its owner\'s alone');
  });

  test('dual-stack asks on a single-stack cluster are refused as upstream', async () => {
    const r = await t.request('POST', '/api/v1/namespaces/default/services', svc('v6', { ipFamilies: ['IPv6'] }));
    assert.equal(r.status, 422);
    assert.match(r.json.message, /spec\.ipFamilies\[0\]: Invalid value: "IPv6": not configured on this cluster/);
    const req = await t.request('POST', '/api/v1/namespaces/default/services', svc('dual', { ipFamilyPolicy: 'RequireDualStack' }));
    assert.equal(req.status, 422);
    assert.match(req.json.message, /this cluster is not configured for dual-stack services/);
    const prefer = await t.request('POST', '/api/v1/namespaces/default/services', svc('prefer', { ipFamilyPolicy: 'PreferDualStack' }));
    assert.equal(prefer.status, 201);
    assert.deepEqual(prefer.json.spec.ipFamilies, ['IPv4']);
  });

  test('a LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort allocated before validation', async () => {
    const r = await t.request('POST', '/api/v1/namespaces/default/services', svc('lb-local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    assert.equal(r.status, 201, r.text);
    assert.ok(r.json.spec.healthCheckNodePort >= 30000 && r.json.spec.healthCheckNodePort <= 32767);
    assert.notEqual(r.json.spec.healthCheckNodePort, r.json.spec.ports[0].nodePort);
    const toCluster = await t.request('PATCH', '/api/v1/namespaces/default/services/lb-local', { spec: { externalTrafficPolicy: 'Cluster' } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(toCluster.status, 200, toCluster.text);
    assert.equal(toCluster.json.spec.healthCheckNodePort, undefined);
  });

  test('watch: synthetic ADDED from 0, only later changes from N, selectors filter, bookmarks', async () => {
    await t.request('POST', '/api/v1/namespaces/default/services', svc('w-a'));
    const list = (await t.request('GET', '/api/v1/namespaces/default/services')).json;
    const fromZero = openWatch(t, '/api/v1/namespaces/default/services?watch=true&resourceVersion=0&labelSelector=app%3Dw-a');
    const fromNow = openWatch(t, `/api/v1/namespaces/default/services?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
    const bookmarks = openWatch(t, `/api/v1/namespaces/default/services?watch=true&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`);
    try {
      await waitFor('synthetic ADDED', () => fromZero.events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'w-a'));
      await t.request('POST', '/api/v1/namespaces/default/services', svc('w-b'));
      await t.request('PATCH', '/api/v1/namespaces/default/services/w-a', { metadata: { labels: { extra: 'x' } } }, { 'Content-Type': 'application/merge-patch+json' });
      await waitFor('MODIFIED for w-a', () => fromZero.events.some((e) => e.type === 'MODIFIED'));
      await waitFor('ADDED for w-b', () => fromNow.events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'w-b'));
      assert.ok(!fromNow.events.some((e) => e.object.metadata.name === 'kubernetes'), 'a watch from N replays nothing older');
      assert.ok(!fromZero.events.some((e) => e.object.metadata.name === 'w-b'), 'label selector filters events');
      await waitFor('BOOKMARK', () => bookmarks.events.some((e) => e.type === 'BOOKMARK' && e.object.metadata.resourceVersion));
      // Relabelling out of the selection is seen as DELETED by the filtered watch.
      await t.request('PATCH', '/api/v1/namespaces/default/services/w-a', { metadata: { labels: { app: 'other' } } }, { 'Content-Type': 'application/merge-patch+json' });
      await waitFor('DELETED on leaving the selection', () => fromZero.events.some((e) => e.type === 'DELETED'));
    } finally {
      fromZero.close();
      fromNow.close();
      bookmarks.close();
    }
  });

  test('watch from a compacted resourceVersion is 410 Expired', async () => {
    const rv = Number((await t.request('GET', '/api/v1/namespaces/default/services')).json.metadata.resourceVersion);
    await t.server.registry.store.compact(rv);
    const w = openWatch(t, '/api/v1/namespaces/default/services?watch=true&resourceVersion=1');
    try {
      assert.equal(await w.status, 410);
      await waitFor('Status body', () => w.events.length > 0);
      assert.equal(w.events[0].reason, 'Expired');
    } finally {
      w.close();
    }
  });

  test('watch events are Tables when a Table is asked for', async () => {
    const w = openWatch(t, '/api/v1/namespaces/default/services?watch=true&fieldSelector=metadata.name%3Dkubernetes', {
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    try {
      await waitFor('Table event', () => w.events[0]);
      assert.equal(w.events[0].object.kind, 'Table');
      assert.equal(w.events[0].object.rows[0].cells[0], 'kubernetes');
      assert.equal(w.events[0].object.rows[0].object.kind, 'PartialObjectMetadata');
    } finally {
      w.close();
    }
  });

  test('errors are Statuses and store nothing', async () => {
    const malformed = await t.request('POST', '/api/v1/namespaces/default/services', '{"kind": "Service",');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.kind, 'Status');
    assert.equal(malformed.json.reason, 'BadRequest');
    const wrongKind = await t.request('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } });
    assert.equal(wrongKind.status, 400);
    const wrongVersion = await t.request('POST', '/api/v1/namespaces/default/services', { apiVersion: 'apps/v1', kind: 'Service', metadata: { name: 'x' } });
    assert.equal(wrongVersion.status, 400);
    assert.match(wrongVersion.json.message, /the API version in the data \(apps\/v1\) does not match the expected API version \(v1\)/);
    const huge = await t.request('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'huge' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } });
    assert.equal(huge.status, 413);
    assert.equal(huge.json.reason, 'RequestEntityTooLarge');
    const unknown = await t.request('GET', '/api/v1/namespaces/default/widgets');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.reason, 'NotFound');
    const missing = await t.request('GET', '/api/v1/namespaces/default/services/nope');
    assert.equal(missing.json.message, 'services "nope" not found');
    const missingDeploy = await t.request('GET', '/apis/apps/v1/namespaces/default/deployments/nope');
    assert.equal(missingDeploy.json.message, 'deployments.apps "nope" not found');
    const noNamespace = await t.request('POST', '/api/v1/namespaces/ghost/services', svc('x'));
    assert.equal(noNamespace.status, 404);
    assert.equal(noNamespace.json.message, 'namespaces "ghost" not found');
    const names = (await t.request('GET', '/api/v1/services')).json.items.map((s: any) => s.metadata.name);
    assert.ok(!names.includes('x'));
    assert.equal((await t.request('GET', '/api/v1/namespaces/default/configmaps/huge')).status, 404);
  });

  test('update with a stale resourceVersion is 409 Conflict; a no-op keeps the resourceVersion', async () => {
    const created = (await t.request('POST', '/api/v1/namespaces/default/services', svc('cas'))).json;
    const first = { ...created, metadata: { ...created.metadata, labels: { v: '1' } } };
    const ok = await t.request('PUT', '/api/v1/namespaces/default/services/cas', first);
    assert.equal(ok.status, 200);
    const stale = await t.request('PUT', '/api/v1/namespaces/default/services/cas', { ...first, metadata: { ...first.metadata, labels: { v: '2' } } });
    assert.equal(stale.status, 409);
    assert.equal(stale.json.reason, 'Conflict');
    assert.match(stale.json.message, /the object has been modified; please apply your changes to the latest version and try again/);
    const noop = await t.request('PATCH', '/api/v1/namespaces/default/services/cas', { metadata: { labels: { v: '1' } } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(noop.json.metadata.resourceVersion, ok.json.metadata.resourceVersion);
  });

  test('dryRun=All validates and allocates nothing, stores nothing', async () => {
    const dry = await t.request('POST', '/api/v1/namespaces/default/services?dryRun=All', svc('dry', { type: 'NodePort', ports: [{ port: 80, nodePort: 31111 }] }));
    assert.equal(dry.status, 201);
    assert.equal(dry.json.spec.ports[0].nodePort, 31111);
    assert.equal((await t.request('GET', '/api/v1/namespaces/default/services/dry')).status, 404);
    const real = await t.request('POST', '/api/v1/namespaces/default/services', svc('wet', { type: 'NodePort', ports: [{ port: 80, nodePort: 31111 }] }));
    assert.equal(real.status, 201, 'the dry run left the node port free');
  });

  test('concurrent creates asking for the same IP or node port: exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.request('POST', '/api/v1/namespaces/default/services', svc(`race-${i}`, { type: 'NodePort', clusterIP: '10.96.5.5', ports: [{ port: 80, nodePort: 31500 + (i % 2) }] })),
      ),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1);
    for (const r of results.filter((r) => r.status !== 201)) assert.equal(r.status, 422);
    // The losers leaked nothing: the other requested node port is free.
    const later = await t.request('POST', '/api/v1/namespaces/default/services', svc('race-later', { type: 'NodePort', ports: [{ port: 80, nodePort: 31501 }] }));
    if (results.find((r) => r.status === 201)!.json.spec.ports[0].nodePort === 31501) assert.equal(later.status, 422);
    else assert.equal(later.status, 201);
  });

  test('generateName, uid, creationTimestamp, generation', async () => {
    const r = await t.request('POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { generateName: 'gen-' },
      spec: { selector: { matchLabels: { app: 'g' } }, template: { metadata: { labels: { app: 'g' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.metadata.name, /^gen-[a-z0-9]{5}$/);
    assert.match(r.json.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(r.json.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(r.json.metadata.generation, 1);
    assert.equal(r.json.spec.replicas, 1);
    assert.equal(r.json.spec.strategy.rollingUpdate.maxSurge, '25%');
    const name = r.json.metadata.name;
    const scaled = await t.request('PATCH', `/apis/apps/v1/namespaces/default/deployments/${name}`, { spec: { replicas: 4 } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(scaled.json.metadata.generation, 2);
    const labelled = await t.request('PATCH', `/apis/apps/v1/namespaces/default/deployments/${name}`, { metadata: { labels: { a: 'b' } } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(labelled.json.metadata.generation, 2, 'metadata changes do not bump generation');
    const scale = await t.request('GET', `/apis/apps/v1/namespaces/default/deployments/${name}/scale`);
    assert.equal(scale.json.kind, 'Scale');
    assert.equal(scale.json.spec.replicas, 4);
    assert.equal(scale.json.status.selector, 'app=g');
  });

  test('label selectors (all operators), field selectors and deletecollection', async () => {
    for (const [name, labels] of [
      ['sel-1', { tier: 'web', env: 'prod' }],
      ['sel-2', { tier: 'db', env: 'prod' }],
      ['sel-3', { tier: 'web' }],
    ] as const) {
      await t.request('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name, labels } });
    }
    const names = async (q: string) =>
      (await t.request('GET', `/api/v1/namespaces/default/configmaps?${q}`)).json.items.map((i: any) => i.metadata.name).sort().join(',');
    assert.equal(await names('labelSelector=' + encodeURIComponent('tier=web')), 'sel-1,sel-3');
    assert.equal(await names('labelSelector=' + encodeURIComponent('tier!=web,env')), 'sel-2');
    assert.equal(await names('labelSelector=' + encodeURIComponent('tier in (web,db),!env')), 'sel-3');
    assert.equal(await names('labelSelector=' + encodeURIComponent('tier notin (web),env==prod')), 'sel-2');
    assert.equal(await names('fieldSelector=' + encodeURIComponent('metadata.name=sel-2')), 'sel-2');
    assert.equal(await names('fieldSelector=' + encodeURIComponent('metadata.name!=sel-2') + '&labelSelector=tier'), 'sel-1,sel-3');
    const bad = await t.request('GET', '/api/v1/namespaces/default/configmaps?labelSelector=' + encodeURIComponent('a in (b'));
    assert.equal(bad.status, 400);
    const del = await t.request('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dweb');
    assert.equal(del.status, 200);
    assert.equal(await names('labelSelector=tier'), 'sel-2');
  });

  test('events are found by involvedObject fields', async () => {
    await t.request('POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'ev1' },
      involvedObject: { kind: 'Service', name: 'cas', namespace: 'default', uid: 'u-1' },
      reason: 'Type',
      message: 'ClusterIP -> NodePort',
      type: 'Normal',
    });
    const q = encodeURIComponent('involvedObject.name=cas,involvedObject.namespace=default,involvedObject.kind=Service,involvedObject.uid=u-1');
    const r = await t.request('GET', `/api/v1/namespaces/default/events?fieldSelector=${q}`);
    assert.equal(r.json.items.length, 1);
  });

  test('pods: binding sets the node once; status writes keep the spec', async () => {
    const pod = await t.request('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'p1' },
      spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] },
    });
    assert.equal(pod.status, 201, pod.text);
    assert.equal(pod.json.status.phase, 'Pending');
    assert.equal(pod.json.spec.containers[0].ports[0].protocol, 'TCP');
    const bind = await t.request('POST', '/api/v1/namespaces/default/pods/p1/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'node-1' } });
    assert.equal(bind.status, 201, bind.text);
    const again = await t.request('POST', '/api/v1/namespaces/default/pods/p1/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'node-2' } });
    assert.equal(again.status, 409);
    const bound = (await t.request('GET', '/api/v1/namespaces/default/pods/p1')).json;
    assert.equal(bound.spec.nodeName, 'node-1');
    const st = await t.request('PUT', '/api/v1/namespaces/default/pods/p1/status', { ...bound, spec: { ...bound.spec, nodeName: 'elsewhere' }, status: { phase: 'Running', podIP: '10.244.0.5' } });
    assert.equal(st.status, 200, st.text);
    assert.equal(st.json.status.phase, 'Running');
    assert.equal(st.json.spec.nodeName, 'node-1');
    const running = await t.request('GET', '/api/v1/pods?fieldSelector=' + encodeURIComponent('status.phase=Running,spec.nodeName=node-1'));
    assert.equal(running.json.items.length, 1);
  });
});
