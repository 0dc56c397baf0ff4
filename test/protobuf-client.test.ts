// kubesvc's client speaking protobuf, as kube-proxy's clientConnection asks
// by default: against a real `kubesvc apiserver` process, a client with
// contentType protobuf lists and watches Services and EndpointSlices in
// protobuf (the answers' Content-Type says so) and sees the same objects as
// a JSON client; a kind the server answers only in JSON is read as JSON, and
// a protobuf Status error keeps its message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptHeader, createClient, isNotFound, resourceTypes, type Client, type ResourceType } from '../src/client/client.js';
import { createInformer, type Informer } from '../src/client/informer.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { createTransport, type Transport } from '../src/client/transport.js';
import type { KubeObject } from '../src/api/object.js';
import { startCli, waitForOutput, type CliProcess } from './helpers/cli.js';
import { waitFor } from './helpers/apiserver.js';

const PB = 'application/vnd.kubernetes.protobuf';
const ns = 'default';

let api: CliProcess | undefined;
let dataDir = '';
let json: Client;
let pb: Client;
/** The Content-Type of every answer the protobuf client got (requests and watch streams). */
const answered: { path: string; type: string }[] = [];

/** The real transport, noting what each answer was encoded in. */
function noting(t: Transport): Transport {
  return {
    async request(method, path, opts) {
      const res = await t.request(method, path, opts);
      answered.push({ path, type: String(res.headers['content-type']) });
      return res;
    },
    stream(path, accept, handlers) {
      return t.stream(path, accept, { ...handlers, onStart: (type) => (answered.push({ path, type: String(type) }), handlers.onStart?.(type)) });
    },
    close: () => t.close(),
  };
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-pbclient-'));
  api = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
  await waitForOutput(api, /apiserver\] "ready"/, 30_000);
  const kubeconfig = loadKubeconfig(join(dataDir, 'kubeconfig'));
  json = createClient(createTransport(kubeconfig));
  pb = createClient(noting(createTransport(kubeconfig)), 'kubesvc', { contentType: PB });
});

after(async () => {
  json?.close();
  pb?.close();
  api?.child.kill('SIGINT');
  await api?.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

/** Null, {} and [] are the same to a Go client: nil and empty read alike, and protobuf carries neither. */
function withoutEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutEmpty);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const y = withoutEmpty(x);
    if (y === null || (typeof y === 'object' && Object.keys(y).length === 0)) continue;
    out[k] = y;
  }
  return out;
}

const byName = (items: KubeObject[]) => Object.fromEntries(items.map((o) => [o.metadata.name, withoutEmpty(o)]));

const service = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, labels: { app: name } }, spec });
const slice = (name: string, service: string, ready: boolean) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  // ready: false is a *bool: protobuf must keep it.
  endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready, serving: ready, terminating: false }, nodeName: 'node-1' }],
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

test("client-go's Accept: contentType then anything, or acceptContentTypes as given", () => {
  assert.equal(acceptHeader({}), 'application/json');
  assert.equal(acceptHeader({ contentType: PB }), `${PB}, */*`);
  assert.equal(acceptHeader({ contentType: PB, acceptContentTypes: `${PB},application/json` }), `${PB},application/json`);
});

test('lists and watches of Services and EndpointSlices in protobuf equal the JSON ones', async () => {
  const svc = json.resource(resourceTypes.services);
  const slices = json.resource(resourceTypes.endpointslices);
  await svc.create(ns, service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], sessionAffinity: 'ClientIP' }) as never);
  await svc.create(ns, service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432, targetPort: 'pg', protocol: 'TCP' }] }) as never);
  await svc.create(ns, service('np', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }], externalTrafficPolicy: 'Local' }) as never);
  await slices.create(ns, slice('web-abc', 'web', true) as never);
  await slices.create(ns, slice('db-abc', 'db', false) as never);

  for (const type of [resourceTypes.services, resourceTypes.endpointslices]) {
    const fromJson = await json.resource(type).list(ns);
    answered.length = 0;
    const fromPb = await pb.resource(type).list(ns);
    assert.deepEqual(answered.map((a) => a.type), [PB], `the list of ${type.resource} is answered in protobuf`);
    assert.equal(fromPb.resourceVersion, fromJson.resourceVersion);
    assert.ok(fromPb.items.length >= 2);
    assert.deepEqual(byName(fromPb.items), byName(fromJson.items), `${type.resource}: the same objects`);
  }
  // An empty list is no items field at all in protobuf: still a list of none.
  const none = await pb.resource(resourceTypes.endpointslices).list(ns, { labelSelector: 'kubernetes.io/service-name=nothing' });
  assert.deepEqual(none.items, []);
  assert.ok(none.resourceVersion);
  const pbSlice = (await pb.resource(resourceTypes.endpointslices).get(ns, 'db-abc')) as unknown as ReturnType<typeof slice>;
  assert.deepEqual(pbSlice.endpoints[0]!.conditions, { ready: false, serving: false, terminating: false });

  // Informers (list, then watch from the list's version) on both clients follow the same changes.
  answered.length = 0;
  const informers: Informer<KubeObject>[] = [];
  const pair = async (type: ResourceType) => {
    const a = createInformer(json.resource(type), { namespace: ns });
    const b = createInformer(pb.resource(type), { namespace: ns });
    informers.push(a, b);
    await Promise.all([a.start(), b.start()]);
    return [a, b] as const;
  };
  try {
    const [jsonSvc, pbSvc] = await pair(resourceTypes.services);
    const [jsonSlices, pbSlices] = await pair(resourceTypes.endpointslices);
    await waitFor('both watches open', () => answered.filter((a) => a.path.includes('watch=true')).length === 2 || undefined);
    assert.deepEqual(
      answered.filter((a) => a.path.includes('watch=true')).map((a) => a.type),
      [`${PB};stream=watch`, `${PB};stream=watch`],
      'watches stream protobuf frames',
    );

    await svc.create(ns, service('late', { ports: [{ port: 53, protocol: 'UDP', name: 'dns' }] }) as never);
    await svc.patch(ns, 'web', { metadata: { annotations: { note: 'changed' } }, spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } });
    await svc.delete(ns, 'np');
    await slices.create(ns, slice('late-1', 'late', true) as never);
    await slices.patch(ns, 'db-abc', { endpoints: [{ addresses: ['10.244.0.6'], conditions: { ready: true } }] });
    await slices.delete(ns, 'web-abc');

    const same = (a: Informer<KubeObject>, b: Informer<KubeObject>, expect: (names: string[]) => boolean) => () => {
      const x = byName(a.list());
      const y = byName(b.list());
      return expect(Object.keys(y)) && isDeepStrictEqual(x, y) ? y : undefined;
    };
    await waitFor('the protobuf informer of Services sees what the JSON one sees', same(jsonSvc, pbSvc, (n) => n.includes('late') && !n.includes('np')));
    await waitFor('the protobuf informer of EndpointSlices sees what the JSON one sees', same(jsonSlices, pbSlices, (n) => n.includes('late-1') && !n.includes('web-abc')));
    const web = pbSvc.get(`${ns}/web`) as unknown as { metadata: { annotations: Record<string, string> }; spec: { sessionAffinityConfig: unknown } };
    assert.equal(web.metadata.annotations.note, 'changed');
    assert.deepEqual(web.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 60 } });
  } finally {
    for (const i of informers) i.stop();
  }
});

test('a kind answered only in JSON is read as JSON; a protobuf Status error keeps its message', async () => {
  const crds: ResourceType = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
  answered.length = 0;
  const list = await pb.resource(crds).list();
  assert.deepEqual(list.items, []);
  assert.match(answered[0]!.type, /^application\/json/);

  answered.length = 0;
  const missing = await pb.resource(resourceTypes.services).get(ns, 'nope').catch((e: unknown) => e);
  assert.ok(isNotFound(missing), String(missing));
  assert.equal((missing as Error).message, 'services "nope" not found');
  assert.equal(answered[0]!.type, PB);
});
