// Chunked lists (limit and continue) as the real kubectl and raw clients use
// them: every chunk of one list read at the first chunk's revision, tokens
// followed to the end yielding each object once, selectors, all-namespaces
// lists and Tables; bad and expired tokens answered as kube-apiserver
// answers them. Also: query booleans read by upstream's rule (the Python
// client's watch=True), and the API server's request, storage and
// long-running metrics on /metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:https';
import { promisify } from 'node:util';
import { startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';
import { missingPackageReason } from './helpers/root.js';

const run = promisify(execFile);
const configmaps = '/api/v1/namespaces/chunks/configmaps';
const table = { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
const tooOld =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, ' +
  'or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an ' +
  'inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** The names kubectl printed with -o name, sorted. */
const names = (out: string) => out.trim().split('\n').filter(Boolean).sort();

describe('chunked lists', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
    for (const ns of ['chunks', 'chunks-other']) await t.kubectl.ok(['create', 'namespace', ns]);
    for (let i = 0; i < 7; i++) await t.kubectl.ok(['-n', 'chunks', 'create', 'configmap', `cm-${i}`, `--from-literal=i=${i}`]);
    for (let i = 0; i < 3; i++) await t.kubectl.ok(['-n', 'chunks-other', 'create', 'configmap', `other-${i}`]);
    for (let i = 0; i < 5; i++) {
      await t.kubectl.ok(['-n', 'chunks', 'create', 'service', 'clusterip', `svc-${i}`, '--tcp=80:8080']);
      await t.kubectl.ok(['-n', 'chunks', 'label', 'service', `svc-${i}`, `tier=${i % 2 ? 'web' : 'db'}`]);
    }
  });
  after(() => t.stop());

  test('kubectl --chunk-size lists everything: one namespace, all namespaces, with a selector', async () => {
    const cms = Array.from({ length: 7 }, (_, i) => `configmap/cm-${i}`);
    assert.deepEqual(names(await t.kubectl.ok(['-n', 'chunks', 'get', 'configmaps', '--chunk-size=2', '-o', 'name'])), cms);
    // In storage key order, as etcd returns them: /registry/configmaps/chunks-other/… sorts before /registry/configmaps/chunks/….
    const everywhere = await t.kubectl.ok(['get', 'configmaps', '-A', '--chunk-size=2', '--no-headers']);
    assert.deepEqual(everywhere.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join('/')), [
      ...Array.from({ length: 3 }, (_, i) => `chunks-other/other-${i}`),
      ...Array.from({ length: 7 }, (_, i) => `chunks/cm-${i}`),
      // kubeadm's cluster-info, which the API server publishes for joining nodes.
      'kube-public/cluster-info',
    ]);
    // Three of five match: chunks fill up past the ones the selector drops.
    assert.deepEqual(names(await t.kubectl.ok(['-n', 'chunks', 'get', 'services', '-l', 'tier=db', '--chunk-size=2', '-o', 'name'])), [
      'service/svc-0',
      'service/svc-2',
      'service/svc-4',
    ]);
    // kubectl's chunks are Tables; the default chunk (500) holds them all.
    assert.equal(names(await t.kubectl.ok(['-n', 'chunks', 'get', 'services', '--no-headers'])).length, 5);
  });

  test('?limit= answers a chunk with continue and remainingItemCount; the tokens lead through every object once', async () => {
    const first = await t.request('GET', `${configmaps}?limit=2`);
    assert.equal(first.status, 200);
    assert.deepEqual(first.json.items.map((i: any) => i.metadata.name), ['cm-0', 'cm-1']);
    assert.equal(first.json.metadata.remainingItemCount, 5);
    assert.equal(typeof first.json.metadata.continue, 'string');
    const seen: string[] = [];
    let page = first.json;
    for (;;) {
      seen.push(...page.items.map((i: any) => i.metadata.name));
      assert.equal(page.metadata.resourceVersion, first.json.metadata.resourceVersion, 'every chunk at the first one\'s revision');
      if (!page.metadata.continue) break;
      page = (await t.request('GET', `${configmaps}?limit=2&continue=${encodeURIComponent(page.metadata.continue)}`)).json;
    }
    assert.deepEqual(seen, ['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5', 'cm-6']);
    // The last chunk says nothing more is left.
    assert.equal(page.metadata.remainingItemCount, undefined);
    // A Table chunk carries the same ListMeta; with a selector there is no remaining count (it would not be exact).
    const tableChunk = (await t.request('GET', `${configmaps}?limit=3`, undefined, table)).json;
    assert.deepEqual([tableChunk.kind, tableChunk.rows.length, tableChunk.metadata.remainingItemCount], ['Table', 3, 4]);
    assert.ok(tableChunk.metadata.continue);
    const selected = (await t.request('GET', '/api/v1/namespaces/chunks/services?limit=2&labelSelector=tier%3Dweb')).json;
    assert.deepEqual([selected.items.map((i: any) => i.metadata.name), selected.metadata.remainingItemCount], [['svc-1', 'svc-3'], undefined]);
    // resourceVersion=0 is served whole, as the watch cache serves it.
    assert.equal((await t.request('GET', `${configmaps}?limit=2&resourceVersion=0`)).json.items.length, 7);
  });

  test('a chunk goes on at the first chunk\'s revision: later writes do not show up', async () => {
    const first = (await t.request('GET', `${configmaps}?limit=3`)).json;
    await t.kubectl.ok(['-n', 'chunks', 'create', 'configmap', 'cm-3a']);
    await t.kubectl.ok(['-n', 'chunks', 'delete', 'configmap', 'cm-5']);
    try {
      const rest = (await t.request('GET', `${configmaps}?continue=${encodeURIComponent(first.metadata.continue)}`)).json;
      assert.deepEqual(rest.items.map((i: any) => i.metadata.name), ['cm-3', 'cm-4', 'cm-5', 'cm-6']);
      assert.equal(rest.metadata.resourceVersion, first.metadata.resourceVersion);
    } finally {
      await t.kubectl.ok(['-n', 'chunks', 'delete', 'configmap', 'cm-3a']);
      await t.kubectl.ok(['-n', 'chunks', 'create', 'configmap', 'cm-5', '--from-literal=i=5']);
    }
  });

  test('bad tokens and parameters are refused with upstream\'s codes and messages', async () => {
    const garbage = await t.request('GET', `${configmaps}?limit=2&continue=garbage`);
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.reason, 'BadRequest');
    assert.equal(garbage.json.message, "invalid continue token: continue key is not valid: invalid character '\\u0081' looking for beginning of value");
    const token = (await t.request('GET', `${configmaps}?limit=2`)).json.metadata.continue;
    const withVersion = await t.request('GET', `${configmaps}?limit=2&resourceVersion=5&continue=${encodeURIComponent(token)}`);
    assert.deepEqual([withVersion.status, withVersion.json.message], [400, 'specifying resource version is not allowed when using continue']);
    const badVersion = await t.request('GET', `${configmaps}?limit=2&resourceVersion=v1`);
    assert.deepEqual(
      [badVersion.status, badVersion.json.message],
      [400, 'invalid resource version: resourceVersion: Invalid value: "v1": strconv.ParseUint: parsing "v1": invalid syntax'],
    );
    // A revision the store has not reached: upstream's "too large resource version", a Timeout to retry.
    const future = await t.request('GET', `${configmaps}?limit=2&resourceVersion=99999999`);
    assert.equal(future.status, 504);
    assert.match(future.json.message, /^Timeout: Too large resource version: 99999999, current: \d+$/);
    assert.equal(future.json.details.causes[0].reason, 'ResourceVersionTooLarge');
    const limit = await t.request('GET', `${configmaps}?limit=two`);
    assert.deepEqual([limit.status, limit.json.message], [400, 'strconv.ParseInt: parsing "two": invalid syntax']);
    // kubectl shows the server's message.
    const viaKubectl = await t.kubectl(['get', '--raw', `${configmaps}?continue=garbage`]);
    assert.notEqual(viaKubectl.code, 0);
    assert.match(viaKubectl.stderr, /invalid continue token/);
  });

  test('a token whose revision was compacted is 410 Expired, with a token that goes on at the latest revision', async () => {
    const first = (await t.request('GET', `${configmaps}?limit=4`)).json;
    await t.kubectl.ok(['-n', 'chunks', 'create', 'configmap', 'cm-9']);
    try {
      await t.server.registry.store.compact(await t.server.registry.store.currentRevision());
      const expired = await t.request('GET', `${configmaps}?limit=4&continue=${encodeURIComponent(first.metadata.continue)}`);
      assert.equal(expired.status, 410);
      assert.deepEqual([expired.json.reason, expired.json.message], ['Expired', tooOld]);
      const restart = JSON.parse(Buffer.from(expired.json.metadata.continue, 'base64url').toString());
      assert.deepEqual(restart, { v: 'meta.k8s.io/v1', rv: -1, start: 'cm-3\u0000' });
      // Going on with it: the rest as it is now, the new object included.
      const rest = (await t.request('GET', `${configmaps}?continue=${encodeURIComponent(expired.json.metadata.continue)}`)).json;
      assert.deepEqual(rest.items.map((i: any) => i.metadata.name), ['cm-4', 'cm-5', 'cm-6', 'cm-9']);
      // A limited list at an exact resourceVersion compaction removed.
      const old = await t.request('GET', `${configmaps}?limit=2&resourceVersion=${first.metadata.resourceVersion}`);
      assert.deepEqual([old.status, old.json.message], [410, 'The resourceVersion for the provided list is too old.']);
    } finally {
      await t.kubectl.ok(['-n', 'chunks', 'delete', 'configmap', 'cm-9']);
    }
  });

  test('watch=True watches and a limit on a watch is ignored', async () => {
    const watched = await t.request('GET', `${configmaps}?watch=True&limit=1&timeoutSeconds=1`);
    assert.equal(watched.status, 200);
    const events = watched.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata.name}`),
      Array.from({ length: 7 }, (_, i) => `ADDED cm-${i}`),
    );
    const listed = await t.request('GET', `${configmaps}?watch=false&limit=1`);
    assert.equal(listed.json.kind, 'ConfigMapList');
  });

  test('the Python client\'s watch (watch=True) gets events', async (ctx) => {
    // Debian's python3 with its python3-kubernetes, as test/client-libraries.test.ts runs it.
    const python = '/usr/bin/python3';
    const hasModule = existsSync(python) && (await run(python, ['-c', 'import kubernetes']).then(() => true, () => false));
    if (!hasModule) return ctx.skip(missingPackageReason('the Python kubernetes client', 'python3-kubernetes'));
    const script = [
      'import sys',
      'from kubernetes import client, config, watch',
      'config.load_kube_config(config_file=sys.argv[1])',
      'w = watch.Watch()',
      'seen = []',
      "for ev in w.stream(client.CoreV1Api().list_namespaced_config_map, 'chunks', timeout_seconds=20):",
      "    seen.append(ev['type'] + ' ' + ev['object'].metadata.name)",
      '    if len(seen) == 7:',
      '        w.stop()',
      '        break',
      "print('\\n'.join(seen))",
    ].join('\n');
    const { stdout } = await run(python, ['-c', script, t.server.kubeconfigPath], { timeout: 30_000 });
    assert.deepEqual(stdout.trim().split('\n'), Array.from({ length: 7 }, (_, i) => `ADDED cm-${i}`));
  });

  test('/metrics shows request counts and durations, stored objects and open watches', async () => {
    const metrics = async () => (await t.kubectl(['get', '--raw', '/metrics'])).stdout;
    const text = await metrics();
    assert.match(text, /^apiserver_request_total\{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="namespace",subresource="",verb="LIST",version="v1"\} \d+$/m);
    assert.match(text, /^# TYPE apiserver_request_duration_seconds histogram$/m);
    assert.match(text, /^apiserver_request_duration_seconds_bucket\{le="0.005",component="apiserver",dry_run="",group="",resource="configmaps",scope="namespace",subresource="",verb="LIST",version="v1"\} \d+$/m);
    assert.match(text, /^apiserver_request_duration_seconds_bucket\{le="\+Inf",.*verb="POST",version="v1"\} \d+$/m);
    // 7 in chunks, 3 in chunks-other.
    // The test's ten and kube-public/cluster-info.
    assert.match(text, /^apiserver_storage_objects\{resource="configmaps"\} 11$/m);
    assert.match(text, /^apiserver_storage_objects\{resource="deployments\.apps"\} 0$/m);
    const { hostname, port } = new URL(t.server.url);
    const watch = request({ host: hostname, port, path: `${configmaps}?watch=1`, ca: t.admin.ca, cert: t.admin.cert, key: t.admin.key });
    watch.on('error', () => {});
    watch.end();
    const open = /^apiserver_longrunning_requests\{component="apiserver",group="",resource="configmaps",scope="namespace",subresource="",verb="WATCH",version="v1"\} (\d+)$/m;
    try {
      await waitFor('the watch counted as long-running', async () => open.exec(await metrics())?.[1] === '1');
    } finally {
      watch.destroy();
    }
    await waitFor('the closed watch no longer counted', async () => open.exec(await metrics())?.[1] === '0');
    // The watch the client ended counts as a request too.
    await waitFor('the ended watch counted', async () => /^apiserver_request_total\{code="200",.*resource="configmaps",.*verb="WATCH",version="v1"\} \d+$/m.test(await metrics()));
  });
});
