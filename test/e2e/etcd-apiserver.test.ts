// `kubesvc apiserver --etcd-servers`: objects land in etcd under upstream's
// keys, a watch resumes from a resourceVersion, a compacted one is 410
// Expired, /readyz reports etcd, and an etcd that does not answer is one
// clear line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { etcdSkipReason, startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { toolSkipReason } from '../helpers/root.js';

const skip = etcdSkipReason() || toolSkipReason(['kubectl']);

/** GET path from the API server as system:anonymous (the health endpoints are public). */
function anonymousGet(dataDir: string, url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(`${url}${path}`, { ca: readFileSync(join(dataDir, 'pki/ca.crt')) }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('the API server on etcd', { skip }, () => {
  let etcd: TestEtcd;
  let dataDir: string;
  let server: CliProcess | undefined;
  let kubectl: Kubectl;
  let url = '';

  before(async () => {
    etcd = await startEtcd();
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-etcd-api-'));
  });
  after(async () => {
    server?.child.kill('SIGKILL');
    if (server) await server.exited;
    kubectl?.cleanup();
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('an etcd that does not answer stops the start with one line naming it', async () => {
    const dead = startCli(['apiserver', '--data-dir', join(dataDir, 'dead'), '--port', '0', '--etcd-servers', 'http://127.0.0.1:1,http://127.0.0.1:2']);
    assert.equal(await dead.exited, 1);
    assert.match(
      dead.output(),
      /^kubesvc: etcd \(--etcd-servers http:\/\/127\.0\.0\.1:1,http:\/\/127\.0\.0\.1:2\) does not answer: cannot reach etcd: http:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED 127\.0\.0\.1:1\); http:\/\/127\.0\.0\.1:2 \(connect ECONNREFUSED 127\.0\.0\.1:2\)$/m,
    );
    assert.doesNotMatch(dead.output(), /^\s+at /m, 'no stack trace');
    const usage = startCli(['apiserver', '--data-dir', join(dataDir, 'dead'), '--etcd-certfile', '/nonexistent.crt']);
    assert.equal(await usage.exited, 2);
    assert.match(usage.output(), /kubesvc: --etcd-certfile needs --etcd-servers/);
  });

  test('kubectl creates a Service and a Deployment; etcdctl finds them under upstream keys, as JSON', async () => {
    server = startCli(['apiserver', '--data-dir', dataDir, '--port', '0', '--etcd-servers', etcd.url]);
    url = (await waitForOutput(server, /apiserver\] "ready" url="(https:\/\/[^"]+)"/, 60_000))[1]!;
    kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
    await kubectl.ok(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
    await kubectl.ok(['create', 'deployment', 'web', '--image=registry.k8s.io/pause:3.10']);
    const services = await etcd.etcdctl(['get', '--prefix', '--keys-only', '/registry/services/specs/']);
    assert.deepEqual(services.stdout.split('\n').filter(Boolean), ['/registry/services/specs/default/kubernetes', '/registry/services/specs/default/web']);
    const deployments = await etcd.etcdctl(['get', '--prefix', '--keys-only', '/registry/deployments/']);
    assert.deepEqual(deployments.stdout.split('\n').filter(Boolean), ['/registry/deployments/default/web']);
    const namespaces = await etcd.etcdctl(['get', '--prefix', '--keys-only', '/registry/namespaces/']);
    assert.ok(namespaces.stdout.includes('/registry/namespaces/kube-system'), namespaces.stdout);
    const stored = JSON.parse((await etcd.etcdctl(['get', '/registry/services/specs/default/web', '--print-value-only'])).stdout);
    assert.deepEqual([stored.kind, stored.metadata.name, stored.spec.ports[0].targetPort], ['Service', 'web', 8080]);
    // The resourceVersion is etcd's revision of the key.
    const fields = JSON.parse((await etcd.etcdctl(['get', '/registry/services/specs/default/web', '-w', 'json'])).stdout);
    const rv = JSON.parse(await kubectl.ok(['get', 'svc', 'web', '-o', 'json'])).metadata.resourceVersion;
    assert.equal(rv, String(fields.kvs[0].mod_revision));
  });

  test('a watch resumes from a resourceVersion; a compacted one is 410 Expired', async () => {
    const rv = JSON.parse(await kubectl.ok(['get', 'svc', 'web', '-o', 'json'])).metadata.resourceVersion;
    await kubectl.ok(['label', 'svc', 'web', 'tier=front']);
    await kubectl.ok(['create', 'service', 'clusterip', 'api', '--tcp=81:8081']);
    const events = (await kubectl.ok(['get', '--raw', `/api/v1/namespaces/default/services?watch=true&resourceVersion=${rv}&timeoutSeconds=1`]))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      events.map((e) => [e.type, e.object.metadata.name, e.object.metadata.labels?.tier]),
      [
        ['MODIFIED', 'web', 'front'],
        ['ADDED', 'api', undefined],
      ],
    );
    assert.ok(Number(events[0].object.metadata.resourceVersion) > Number(rv));
    // Compact etcd to its current revision: the history from rv is gone.
    const current = JSON.parse((await etcd.etcdctl(['endpoint', 'status', '-w', 'json'])).stdout)[0].Status.header.revision;
    assert.equal((await etcd.etcdctl(['compact', String(current)])).code, 0);
    const expired = await kubectl(['get', '--raw', `/api/v1/namespaces/default/services?watch=true&resourceVersion=${rv}&timeoutSeconds=1`]);
    assert.notEqual(expired.code, 0);
    assert.match(expired.stderr, new RegExp(`Error from server \\(Expired\\): too old resource version: ${rv} \\(${current}\\)`));
    // A watch from the compaction point on is served.
    await kubectl.ok(['get', '--raw', `/api/v1/namespaces/default/services?watch=true&resourceVersion=${current}&timeoutSeconds=1`]);
  });

  test('/readyz and /livez report etcd as upstream: [+]etcd ok, then [-]etcd failed: reason withheld', async () => {
    const ok = await anonymousGet(dataDir, url, '/readyz?verbose');
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^\[\+\]ping ok\n\[\+\]log ok\n\[\+\]etcd ok\n\[\+\]etcd-readiness ok\n.*readyz check passed\n$/s);
    assert.deepEqual(await anonymousGet(dataDir, url, '/livez'), { status: 200, body: 'ok' });
    await etcd.stop();
    const failed = await anonymousGet(dataDir, url, '/readyz');
    assert.equal(failed.status, 500);
    assert.match(failed.body, /\[-\]etcd failed: reason withheld\n\[-\]etcd-readiness failed: reason withheld\n.*readyz check failed\n$/s);
    const livez = await anonymousGet(dataDir, url, '/livez');
    assert.equal(livez.status, 500);
    assert.match(livez.body, /\[-\]etcd failed: reason withheld\n/);
    // The one check by name says why (it is not public: the admin asks).
    const one = await kubectl(['get', '--raw', '/readyz/etcd']);
    assert.match(one.stderr, /internal server error: cannot reach etcd: http:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED/);
    assert.deepEqual(await anonymousGet(dataDir, url, '/readyz?exclude=etcd&exclude=etcd-readiness'), { status: 200, body: 'ok' });
  });
});
