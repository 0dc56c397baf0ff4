// A `kubesvc up` cluster as something to trust: its system components run
// with their own identities and only their roles, a Secret reaches a pod as
// env and as a volume that follows its updates, and no Secret value lies in
// the database in clear.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kubectl } from '../helpers/kubectl.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { namespaceSkipReason } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';

const secretValue = 'correct-horse-battery-staple';

describe('a cluster to trust', { skip: namespaceSkipReason(['iptables-restore']), timeout: 180_000 }, () => {
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  let dataDir: string;

  before(async () => {
    cluster = await startUp('trust', ['--nodes', '1', '--sync-frequency', '2s']);
    ({ dataDir, kubectl } = cluster);
    await kubectl.ok(['rollout', 'status', '-n', 'kube-system', 'daemonset/kube-proxy', '--timeout=60s']);
    await kubectl.ok(['rollout', 'status', '-n', 'kube-system', 'deployment/coredns', '--timeout=60s']);
  });
  after(() => cluster?.stop());

  /** Who the API server takes a token for (TokenReview, as the admin). */
  async function whoseToken(token: string): Promise<string> {
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } };
    const out = JSON.parse(await kubectl.ok(['create', '--raw', '/apis/authentication.k8s.io/v1/tokenreviews', '-f', '-'], { input: JSON.stringify(review) }));
    assert.equal(out.status.authenticated, true, JSON.stringify(out.status));
    return out.status.user.username;
  }

  test('kube-proxy and coredns run as their ServiceAccounts, with only their roles', async () => {
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    for (const [label, account] of [
      ['k8s-app=kube-proxy', 'kube-proxy'],
      ['k8s-app=kube-dns', 'coredns'],
    ]) {
      const pod = (await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-l', label, '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
      const token = (await kubectl.ok(['exec', '-n', 'kube-system', pod, '--', 'cat', `${sa}/token`])).trim();
      assert.equal(await whoseToken(token), `system:serviceaccount:kube-system:${account}`);
      const logs = await kubectl.ok(['logs', '-n', 'kube-system', pod]);
      assert.doesNotMatch(logs, /forbidden|Unauthorized/i, `${account} was refused something:\n${logs}`);
    }
    // kube-proxy's kubeconfig names its token file and the control plane address, as kubeadm's.
    const proxyPod = (await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const kubeconfig = await kubectl.ok(['exec', '-n', 'kube-system', proxyPod, '--', 'cat', '/var/lib/kube-proxy/kubeconfig.conf']);
    assert.match(kubeconfig, /tokenFile: \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token/);
    assert.match(kubeconfig, /server: https:\/\/172\.18\.0\.1:6443/);

    const can = async (account: string, ...args: string[]) => (await kubectl(['auth', 'can-i', ...args, `--as=system:serviceaccount:kube-system:${account}`])).stdout.trim();
    assert.equal(await can('kube-proxy', 'list', 'endpointslices.discovery.k8s.io'), 'yes');
    assert.equal(await can('kube-proxy', 'watch', 'services'), 'yes');
    assert.equal(await can('kube-proxy', 'list', 'secrets', '-A'), 'no');
    assert.equal(await can('kube-proxy', 'create', 'pods'), 'no');
    assert.equal(await can('coredns', 'list', 'endpointslices.discovery.k8s.io'), 'yes');
    assert.equal(await can('coredns', 'list', 'secrets', '-A'), 'no');
    assert.equal(await can('coredns', 'delete', 'services'), 'no');
    // The controllers write as their own accounts (--use-service-account-credentials).
    assert.equal(await can('deployment-controller', 'create', 'replicasets.apps'), 'yes');
    assert.equal(await can('deployment-controller', 'get', 'secrets'), 'no');
  });

  test('a Secret as env (secretKeyRef, envFrom) and as a volume that follows its updates; the database holds no value in clear', async () => {
    await kubectl.ok(['create', 'secret', 'generic', 'app-credentials', `--from-literal=password=${secretValue}`, '--from-literal=user=admin']);
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: uses-secret}
spec:
  containers:
  - name: app
    image: busybox
    command: [sleep, "3600"]
    env:
    - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: app-credentials, key: password}}}
    envFrom:
    - {secretRef: {name: app-credentials}, prefix: CRED_}
    volumeMounts:
    - {name: creds, mountPath: /etc/creds, readOnly: true}
  volumes:
  - name: creds
    secret: {secretName: app-credentials, items: [{key: password, path: db/password, mode: 0400}]}
`;
    await kubectl.ok(['apply', '-f', '-'], { input: pod });
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/uses-secret', '--timeout=60s']);
    const env = await kubectl.ok(['exec', 'uses-secret', '--', 'env']);
    assert.match(env, new RegExp(`^DB_PASSWORD=${secretValue}$`, 'm'));
    assert.match(env, /^CRED_user=admin$/m);
    assert.equal(await kubectl.ok(['exec', 'uses-secret', '--', 'cat', '/etc/creds/db/password']), secretValue);
    assert.match(await kubectl.ok(['exec', 'uses-secret', '--', 'stat', '-L', '-c', '%a', '/etc/creds/db/password']), /^400$/m);

    // An update reaches the running container's volume (the kubelet's sync; --sync-frequency 2s here).
    await kubectl.ok(['patch', 'secret', 'app-credentials', '-p', JSON.stringify({ stringData: { password: 'rotated-value' } })]);
    await waitFor('the rotated password in the volume', async () => (await kubectl(['exec', 'uses-secret', '--', 'cat', '/etc/creds/db/password'])).stdout === 'rotated-value', 30_000);

    // Encrypted at rest: neither value, nor its base64, is anywhere in the database files.
    const files = readdirSync(dataDir).filter((f) => f.startsWith('state.db'));
    assert.ok(files.length > 0);
    let encrypted = 0;
    for (const f of files) {
      const bytes = readFileSync(join(dataDir, f));
      for (const needle of [secretValue, 'rotated-value', Buffer.from(secretValue).toString('base64'), Buffer.from('rotated-value').toString('base64')]) {
        assert.equal(bytes.includes(needle), false, `${f} holds ${needle}`);
      }
      if (bytes.includes('k8s:enc:aesgcm:v1:')) encrypted++;
    }
    assert.ok(encrypted > 0, 'the Secrets are there, encrypted');
  });
});
