// The client machinery against the real API server: typed calls, informers
// that relist after 410 and re-watch after the server restarts, the work queue.
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { componentUsers } from '../src/auth/user.js';
import { rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { createClient, isNotFound, resourceTypes, ApiError } from '../src/client/client.js';
import { createInformer } from '../src/client/informer.js';
import { createTransport } from '../src/client/transport.js';
import { createWorkQueue } from '../src/client/workqueue.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { startTestApiServer, waitFor } from './helpers/apiserver.js';

test('typed client: CRUD, Status errors, over TCP and over the unix socket', async () => {
  const t = await startTestApiServer();
  try {
    const tcp = createClient(createTransport(loadKubeconfig(t.server.kubeconfigPath)));
    const unix = createClient(createTransport(t.server.transportFor(componentUsers.admin)));
    const cms = tcp.resource(resourceTypes.configmaps);
    const created = await cms.create('default', { metadata: { name: 'c1' }, data: { a: '1' } } as never);
    assert.equal(created.metadata.name, 'c1');
    const viaSocket = await unix.resource(resourceTypes.configmaps).get('default', 'c1');
    assert.equal(viaSocket.metadata.uid, created.metadata.uid);
    const patched = await cms.patch('default', 'c1', { data: { b: '2' } });
    assert.deepEqual(patched.data, { a: '1', b: '2' });
    await assert.rejects(cms.get('default', 'nope'), (e) => isNotFound(e) && (e as ApiError).message === 'configmaps "nope" not found');
    await cms.delete('default', 'c1');
    await assert.rejects(cms.get('default', 'c1'), isNotFound);
    tcp.close();
    unix.close();
  } finally {
    await t.stop();
  }
});

test('informer: lists, follows changes, relists after 410, re-watches after a server restart', async () => {
  const t = await startTestApiServer();
  const dataDir = t.dataDir;
  const port = Number(new URL(t.server.url).port);
  const client = createClient(createTransport(t.admin));
  const inf = createInformer(client.resource(resourceTypes.configmaps), { namespace: 'default' });
  const seen: string[] = [];
  inf.on({ add: (o) => seen.push(`add ${o.metadata.name}`), delete: (o) => seen.push(`delete ${o.metadata.name}`) });
  inf.addIndex('byLabel', (o) => [o.metadata.labels?.tier ?? '']);
  const cms = client.resource(resourceTypes.configmaps);
  await cms.create('default', { metadata: { name: 'before', labels: { tier: 'a' } } } as never);
  await inf.start();
  assert.ok(inf.get('default/before'));
  await cms.create('default', { metadata: { name: 'after', labels: { tier: 'a' } } } as never);
  await waitFor('add event', () => inf.get('default/after'));
  assert.equal(inf.byIndex('byLabel', 'a').length, 2);

  // The server restarts on the same data dir and port: the informer re-watches and catches up.
  await t.server.close();
  const { runApiServer } = await import('../src/apiserver/apiserver.js');
  const again = await runApiServer({ dataDir, port, bind: '127.0.0.1', serviceClusterIPRange: '10.96.0.0/12', serviceNodePortRange: '30000-32767' });
  try {
    const client2 = createClient(createTransport(again.transportFor(componentUsers.admin, 'tcp')));
    await client2.resource(resourceTypes.configmaps).delete('default', 'before');
    await waitFor('delete seen after restart', () => seen.includes('delete before'), 15_000);
    // History compacted past the informer's resourceVersion: it must relist (410) and still converge.
    await client2.resource(resourceTypes.configmaps).create('default', { metadata: { name: 'late' } } as never);
    await again.registry.store.compact(await again.registry.store.currentRevision());
    await client2.resource(resourceTypes.configmaps).create('default', { metadata: { name: 'later' } } as never);
    await waitFor('objects after compaction', () => inf.get('default/later') && inf.get('default/late'), 15_000);
    client2.close();
  } finally {
    inf.stop();
    client.close();
    await again.close();
    t.kubectl.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("informer keep: 'resourceVersion': the cache holds versions only, and shows each object as its key and version", async () => {
  const t = await startTestApiServer();
  const client = createClient(createTransport(t.admin));
  const cms = client.resource(resourceTypes.configmaps);
  const inf = createInformer(client.resource(resourceTypes.configmaps), { namespace: 'default', keep: 'resourceVersion' });
  const updates: [string | undefined, string | undefined, unknown][] = [];
  inf.on({ update: (old, o) => updates.push([old.metadata.resourceVersion, o.metadata.resourceVersion, (o as { data?: unknown }).data]) });
  try {
    const created = await cms.create('default', { metadata: { name: 'c1' }, data: { a: '1' } } as never);
    await inf.start();
    assert.deepEqual(inf.get('default/c1'), { metadata: { namespace: 'default', name: 'c1', resourceVersion: created.metadata.resourceVersion } });
    assert.deepEqual(inf.list(), [inf.get('default/c1')]);
    const patched = await cms.patch('default', 'c1', { data: { b: '2' } });
    // Handlers still get the whole new object; the old one is what was kept.
    await waitFor('update event', () => updates.length === 1);
    assert.deepEqual(updates[0], [created.metadata.resourceVersion, patched.metadata.resourceVersion, { a: '1', b: '2' }]);
    assert.equal(inf.get('default/c1')?.metadata.resourceVersion, patched.metadata.resourceVersion);
  } finally {
    inf.stop();
    client.close();
    await t.stop();
  }
});

test('work queue: one reconcile per key at a time, deduplicated, retried with backoff', async () => {
  const calls: string[] = [];
  let failOnce = true;
  let inFlight = 0;
  let maxInFlightSameKey = 0;
  const q = createWorkQueue(
    async (key) => {
      calls.push(key);
      if (key === 'a') {
        inFlight++;
        maxInFlightSameKey = Math.max(maxInFlightSameKey, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
      }
      if (key === 'flaky' && failOnce) {
        failOnce = false;
        throw new Error('transient');
      }
    },
    { concurrency: 4, baseDelayMs: 5 },
  );
  q.add('a');
  q.add('a');
  q.add('a');
  q.add('b');
  q.add('flaky');
  await new Promise((r) => setTimeout(r, 5));
  q.add('a'); // while 'a' is processing: processed once more afterwards
  await q.idle();
  assert.equal(maxInFlightSameKey, 1);
  assert.equal(calls.filter((k) => k === 'a').length, 2);
  assert.equal(calls.filter((k) => k === 'b').length, 1);
  assert.equal(calls.filter((k) => k === 'flaky').length, 2);
  q.shutdown();
});

test('a connection not made within 3 s is given up, so that its caller retries on a new one', async () => {
  // A listener that never accepts, its queue of one full: the kernel drops further SYNs, as for a connection whose
  // first SYN left un-translated before the node's proxy programmed the Service.
  const listener = spawn('python3', ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)']);
  const fillers: ReturnType<typeof connect>[] = [];
  try {
    const [line] = (await once(createInterface({ input: listener.stdout! }), 'line')) as [string];
    const port = Number(line);
    for (let i = 0; i < 2; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => undefined));
    await once(fillers[0]!, 'connect');
    const transport = createTransport({ server: `http://127.0.0.1:${port}` });
    const started = performance.now();
    await assert.rejects(transport.request('GET', '/api'), new RegExp(`^Error: connecting to 127\\.0\\.0\\.1:${port} timed out after 3000 ms$`));
    assert.ok(performance.now() - started < 10_000);
    transport.close();
  } finally {
    for (const f of fillers) f.destroy();
    listener.kill();
  }
});
