// The admin kubeconfig `up` writes works unchanged with the client libraries
// people point at clusters: @kubernetes/client-node and the Python client
// (Debian's python3-kubernetes), both verifying the server against the CA in
// it and authenticating with its client certificate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';
import { missingPackageReason } from './helpers/root.js';

const run = promisify(execFile);
let t: TestApiServer;

before(async () => {
  t = await startTestApiServer();
  await t.kubectl.ok(['create', 'configmap', 'hello', '--from-literal=greeting=hi']);
});
after(() => t.stop());

test('@kubernetes/client-node reads the kubeconfig and lists over TLS with the client certificate', async () => {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(t.server.kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const list = await core.listNamespacedConfigMap({ namespace: 'default' });
  assert.ok(list.items.some((cm) => cm.metadata?.name === 'hello' && cm.data?.greeting === 'hi'));
  const review = await kc.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  assert.equal(review.status?.userInfo?.username, 'kubernetes-admin');
});

test("@kubernetes/client-node's informer lists, then sees add, update and delete events through its watch", async () => {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(t.server.kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const seen: string[] = [];
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
  const note = (what: string) => (cm: { metadata?: { name?: string }; data?: Record<string, string> }) => {
    if (cm.metadata?.name?.startsWith('informed')) seen.push(`${what} ${cm.metadata.name} ${cm.data?.v ?? ''}`.trim());
  };
  informer.on('add', note('add'));
  informer.on('update', note('update'));
  informer.on('delete', note('delete'));
  await informer.start();
  try {
    await t.kubectl.ok(['create', 'configmap', 'informed', '--from-literal=v=1']);
    await t.kubectl.ok(['patch', 'configmap', 'informed', '-p', '{"data":{"v":"2"}}']);
    await t.kubectl.ok(['delete', 'configmap', 'informed']);
    await waitFor('the three events', () => seen.length >= 3, 10_000);
    assert.deepEqual(seen, ['add informed 1', 'update informed 2', 'delete informed 2']);
    assert.ok(informer.list('default').some((cm) => cm.metadata?.name === 'hello'), 'the cache holds what the list found');
  } finally {
    await informer.stop();
  }
});

test('the Python client reads the kubeconfig and lists over TLS with the client certificate', async (ctx) => {
  // Debian's python3, not whatever python3 comes first on PATH: the package installs its module there.
  const python = '/usr/bin/python3';
  const hasModule = existsSync(python) && (await run(python, ['-c', 'import kubernetes']).then(() => true, () => false));
  if (!hasModule) return ctx.skip(missingPackageReason('the Python kubernetes client', 'python3-kubernetes'));
  const script = [
    'import sys',
    'from kubernetes import client, config',
    'config.load_kube_config(config_file=sys.argv[1])',
    "items = client.CoreV1Api().list_namespaced_config_map('default').items",
    "print(','.join(sorted(i.metadata.name for i in items)))",
  ].join('\n');
  const { stdout } = await run(python, ['-c', script, t.server.kubeconfigPath]);
  assert.match(stdout.trim(), /(^|,)hello(,|$)/);
});
