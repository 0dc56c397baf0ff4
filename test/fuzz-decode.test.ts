// Bad input never reaches the store: a seeded, time-bounded fuzz of every
// served kind through create, update, the patch types and apply. No answer
// may be a 5xx, and every object stored afterwards must decode as its kind
// again (read back and checked against the schema). FUZZ_SEED picks another
// run; bench/fuzz-decode.ts runs the same for as long as one asks. Then
// the readers meet whatever was stored: the controllers run against it, and
// the proxy's rules and the DNS index are built from it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTyped } from '../src/apiserver/openapi/typed-decode.js';
import { createClient } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { startControllers } from '../src/controllers/manager.js';
import { createDnsIndex } from '../src/dns/records.js';
import { renderFullRestore } from '../src/proxy/iptables/restore.js';
import { buildIptablesRules } from '../src/proxy/iptables/rules.js';
import { buildIpvsRules, renderIpvsadmRestore } from '../src/proxy/ipvs/rules.js';
import { renderFullTransaction } from '../src/proxy/nftables/render.js';
import { buildNftablesRules } from '../src/proxy/nftables/rules.js';
import { buildSnapshot } from '../src/proxy/snapshot.js';
import { startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';
import { fuzzKinds, fuzzOps, fuzzRequest, gvkOf, seededRandom } from './helpers/fuzz.js';

const seed = Number(process.env.FUZZ_SEED ?? 20261205);
const budgetMs = 15_000;

let t: TestApiServer;
before(async () => {
  t = await startTestApiServer();
});
after(() => t.stop());

test(`mutated bodies of every kind, every write path: no 5xx, nothing stored of the wrong type (seed ${seed})`, { timeout: 120_000 }, async () => {
  const rand = seededRandom(seed);
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  const wrongTyped: string[] = [];
  const deadline = Date.now() + budgetMs;
  let sent = 0;
  while (Date.now() < deadline) {
    const k = fuzzKinds[Math.floor(rand() * fuzzKinds.length)]!;
    const op = fuzzOps[Math.floor(rand() * fuzzOps.length)]!;
    const name = `fuzz-${Math.floor(rand() * 3)}`;
    const live = op === 'update' || op === 'json-patch' ? (await t.request('GET', `${k.collection}/${name}`)).json : undefined;
    const req = fuzzRequest(k, op, rand, name, live?.kind === k.kind ? live : undefined);
    const r = await t.request(req.method, req.path, req.body, { 'Content-Type': req.contentType });
    sent++;
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status >= 500) serverErrors.push(`${k.kind} ${op} → ${r.status}: ${r.text.slice(0, 300)}\n  body: ${req.body.slice(0, 300)}`);
    // An accepted write answers with what was stored: it must decode as its kind.
    if (r.status === 200 || r.status === 201) {
      const stored = decodeTyped(gvkOf(k), r.json);
      if (stored.error || stored.unknown.length) wrongTyped.push(`${k.kind} ${op}: ${stored.error ?? stored.unknown.join(', ')}`);
    }
  }
  const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
  console.log(`fuzz: ${sent} requests in ${budgetMs / 1000} s: ${summary}`);
  assert.ok(sent > 200, 'the fuzzer sent requests');
  assert.deepEqual(serverErrors.slice(0, 5), [], `${serverErrors.length} answers were 5xx`);
  assert.deepEqual(wrongTyped.slice(0, 5), [], `${wrongTyped.length} accepted writes stored a wrong type`);
  assert.ok((statuses.get(201) ?? 0) + (statuses.get(200) ?? 0) > 0, 'some writes were accepted');
  assert.ok((statuses.get(400) ?? 0) > 0, 'some bodies were refused as wrong-typed');

  let checked = 0;
  for (const k of fuzzKinds) {
    const list = await t.request('GET', k.collection);
    assert.equal(list.status, 200, `${k.kind} list: ${list.text.slice(0, 200)}`);
    for (const obj of list.json.items) {
      const decoded = decodeTyped(gvkOf(k), structuredClone(obj));
      assert.equal(decoded.error, undefined, `stored ${k.kind} ${obj.metadata?.name}: ${decoded.error}`);
      assert.deepEqual(decoded.unknown, [], `stored ${k.kind} ${obj.metadata?.name} has unknown fields`);
      checked++;
    }
  }
  assert.ok(checked > 0, 'objects were stored and read back');
  assert.equal((await t.request('GET', '/readyz')).status, 200, 'the server is alive');
  const metrics = (await t.request('GET', '/metrics')).text;
  assert.match(metrics, /^apiserver_request_total\{code="400",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="POST",version="v1"\} \d+$/m);
  assert.doesNotMatch(metrics, /^apiserver_request_total\{code="5/m, 'the server counted no 5xx');
});

test('the readers take whatever the fuzz stored: controllers run, proxy rules and DNS records are built', { timeout: 60_000 }, async () => {
  const list = async (path: string) => (await t.request('GET', path)).json.items;
  const services = await list('/api/v1/services');
  const slices = await list('/apis/discovery.k8s.io/v1/endpointslices');
  const pods = await list('/api/v1/pods');
  assert.ok(services.length && slices.length && pods.length, 'the fuzz left objects to read');

  const snapshot = buildSnapshot(services, slices, 'node-1');
  assert.ok(renderFullRestore(buildIptablesRules(snapshot, { clusterCIDRs: ['10.244.0.0/16'] })).includes('*nat'));
  assert.ok(renderFullTransaction(buildNftablesRules(snapshot, { clusterCIDRs: ['10.244.0.0/16'] })).includes('kube-proxy'));
  renderIpvsadmRestore(buildIpvsRules(snapshot, { scheduler: 'rr', nodePortIPs: ['172.18.0.2'], clusterCIDRs: ['10.244.0.0/16'] }));
  const dns = createDnsIndex({ zone: 'cluster.local' });
  for (const svc of services) dns.setService(svc);
  for (const slice of slices) dns.setEndpointSlice(slice);
  for (const pod of pods) dns.setPod(pod);
  for (const svc of services) dns.lookup(`${svc.metadata.name}.default.svc.cluster.local`);

  // The controllers list, watch and reconcile everything stored; an exception that escaped one would fail this test.
  const client = createClient(createTransport(t.admin), 'fuzz-readers');
  const controllers = await startControllers(client);
  try {
    await waitFor('the endpointslice controller to write for the fuzzed Services', async () => (await list('/apis/discovery.k8s.io/v1/endpointslices')).some((s: { metadata: { labels?: Record<string, string> } }) => s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io'), 20_000);
  } finally {
    await controllers.stop();
    client.close();
  }
  assert.equal((await t.request('GET', '/readyz')).status, 200);
});
