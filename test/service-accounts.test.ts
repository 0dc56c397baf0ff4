// What in-cluster clients read, without nodes: the ServiceAccount admission's
// token volume (pure, and through the API server with the real kubectl), the
// ServiceAccounts it checks and the controller keeping "default", and the
// root CA publisher's kube-root-ca.crt in every namespace. (The token's
// claims: test/serviceaccount-tokens.test.ts and test/auth.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../src/api/types.js';
import { createClient, resourceTypes, type Client } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { startControllers, type RunningControllers } from '../src/controllers/manager.js';
import { admitServiceAccount, serviceAccountMountPath } from '../src/registry/pods/service-account.js';
import { startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';

const podOf = (spec: Pod['spec']): Pod => ({ metadata: { name: 'p', namespace: 'ns1' }, spec });

describe('ServiceAccount admission', () => {
  test('every container and init container mounts kube-api-access-<suffix>: token, CA, namespace', () => {
    const pod = podOf({ initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'a', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', emptyDir: {} }] });
    admitServiceAccount(pod, {}, 'x2b4z');
    assert.equal(pod.spec!.serviceAccountName, 'default');
    assert.equal(pod.spec!.serviceAccount, 'default');
    const mount = { name: 'kube-api-access-x2b4z', readOnly: true, mountPath: serviceAccountMountPath };
    assert.deepEqual(pod.spec!.initContainers![0]!.volumeMounts, [mount]);
    assert.deepEqual(pod.spec!.containers[0]!.volumeMounts, [{ name: 'data', mountPath: '/data' }, mount]);
    assert.deepEqual(pod.spec!.volumes![1], {
      name: 'kube-api-access-x2b4z',
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    });
  });

  test('automountServiceAccountToken: false, a mount of its own at the path, an existing token volume', () => {
    const byAccount = podOf({ containers: [{ name: 'a', image: 'nginx' }] });
    admitServiceAccount(byAccount, { automountServiceAccountToken: false }, 'eeeee');
    assert.equal(byAccount.spec!.volumes, undefined, "the account's false applies");
    const podWins = podOf({ automountServiceAccountToken: true, containers: [{ name: 'a', image: 'nginx' }] });
    admitServiceAccount(podWins, { automountServiceAccountToken: false }, 'fffff');
    assert.equal(podWins.spec!.volumes!.length, 1, "the pod's true wins over the account's false");

    const off = podOf({ serviceAccountName: 'builder', automountServiceAccountToken: false, containers: [{ name: 'a', image: 'nginx' }] });
    admitServiceAccount(off, {}, 'aaaaa');
    assert.equal(off.spec!.serviceAccountName, 'builder');
    assert.equal(off.spec!.volumes, undefined);
    assert.equal(off.spec!.containers[0]!.volumeMounts, undefined);

    const own = podOf({ containers: [{ name: 'a', image: 'nginx', volumeMounts: [{ name: 'mine', mountPath: serviceAccountMountPath }] }], volumes: [{ name: 'mine', emptyDir: {} }] });
    admitServiceAccount(own, {}, 'bbbbb');
    assert.deepEqual(own.spec!.volumes, [{ name: 'mine', emptyDir: {} }], 'no container needs the token volume');

    const again = podOf({ containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'nginx' }] });
    admitServiceAccount(again, {}, 'ccccc');
    again.spec!.containers[1]!.volumeMounts = [];
    admitServiceAccount(again, {}, 'ddddd');
    assert.equal(again.spec!.volumes!.length, 1);
    assert.equal(again.spec!.containers[1]!.volumeMounts![0]!.name, 'kube-api-access-ccccc');
  });
});

describe('through the API server: admission on create, kube-root-ca.crt in every namespace', () => {
  let api: TestApiServer;
  let client: Client;
  let controllers: RunningControllers;
  const ca = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';

  before(async () => {
    api = await startTestApiServer({ serviceAccountTokens: true });
    client = createClient(createTransport(api.admin), 'kubesvc-test');
    controllers = await startControllers(client, { only: ['serviceaccount', 'root-ca-cert-publisher'], options: { rootCA: ca } });
  });
  after(async () => {
    await controllers.stop();
    client.close();
    await api.stop();
  });

  test('kubectl run gets the token volume and serviceAccountName default', async () => {
    await waitFor('the default ServiceAccount', async () => (await api.kubectl(['get', 'sa', 'default'])).code === 0);
    await api.kubectl.ok(['run', 'p1', '--image=nginx']);
    const pod = JSON.parse(await api.kubectl.ok(['get', 'pod', 'p1', '-o', 'json']));
    assert.equal(pod.spec.serviceAccountName, 'default');
    assert.match(pod.spec.volumes[0].name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: pod.spec.volumes[0].name, readOnly: true, mountPath: serviceAccountMountPath }]);
  });

  test('ServiceAccounts: default in every namespace (made again if deleted), kubectl create sa, a missing account refuses the pod', async () => {
    assert.match(await api.kubectl.ok(['get', 'sa', '-n', 'kube-system']), /^NAME\s+SECRETS\s+AGE\ndefault\s+0\s+\S+$/m);
    await api.kubectl.ok(['delete', 'sa', 'default']);
    await waitFor('default made again', async () => (await api.kubectl(['get', 'sa', 'default'])).code === 0);
    const refused = await api.kubectl(['run', 'p2', '--image=nginx', '--overrides={"spec":{"serviceAccountName":"builder"}}']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /pods "p2" is forbidden: error looking up service account default\/builder: serviceaccount "builder" not found/);
    assert.match(await api.kubectl.ok(['create', 'serviceaccount', 'builder']), /serviceaccount\/builder created/);
    await api.kubectl.ok(['patch', 'sa', 'builder', '-p', '{"automountServiceAccountToken":false}']);
    await api.kubectl.ok(['run', 'p2', '--image=nginx', '--overrides={"spec":{"serviceAccountName":"builder"}}']);
    const pod = JSON.parse(await api.kubectl.ok(['get', 'pod', 'p2', '-o', 'json']));
    assert.equal(pod.spec.serviceAccountName, 'builder');
    assert.equal(pod.spec.volumes, undefined, 'the account says no token');
  });

  test('every namespace, new ones too, gets kube-root-ca.crt; edits and deletion are undone', async () => {
    const configMaps = client.resource(resourceTypes.configmaps);
    const caOf = async (ns: string) => ((await configMaps.get(ns, 'kube-root-ca.crt').catch(() => undefined)) as { data?: Record<string, string> } | undefined)?.data?.['ca.crt'];
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) await waitFor(`kube-root-ca.crt in ${ns}`, async () => (await caOf(ns)) === ca);
    await api.kubectl.ok(['create', 'namespace', 'shop']);
    await waitFor('kube-root-ca.crt in a new namespace', async () => (await caOf('shop')) === ca);
    const cm = JSON.parse(await api.kubectl.ok(['get', 'cm', 'kube-root-ca.crt', '-n', 'shop', '-o', 'json']));
    assert.match(cm.metadata.annotations['kubernetes.io/description'], /^Contains a CA bundle that can be used to verify the kube-apiserver/);
    await api.kubectl.ok(['patch', 'cm', 'kube-root-ca.crt', '-n', 'shop', '--type=merge', '-p', '{"data":{"ca.crt":"tampered"}}']);
    await waitFor('an edit undone', async () => (await caOf('shop')) === ca);
    await api.kubectl.ok(['delete', 'cm', 'kube-root-ca.crt', '-n', 'shop']);
    await waitFor('a deletion undone', async () => (await caOf('shop')) === ca);
    // A namespace being deleted is left alone, so its deletion completes.
    await api.kubectl.ok(['delete', 'namespace', 'shop', '--wait=false']);
    await waitFor('the namespace gone', async () => (await api.kubectl(['get', 'namespace', 'shop'])).code !== 0, 15_000);
  });
});
