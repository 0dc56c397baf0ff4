// A StatefulSet behind a headless Service on a real `kubesvc up` cluster:
// real pods (agnhost netexec, built in), the cluster DNS answering each pod's
// stable name, and the real kubectl driving scale and rollouts. A pod watch
// (the project's client against the cluster's API server) records the order
// in which pods came, became Ready and went.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/object.js';
import type { Pod } from '../../src/api/types.js';
import { createClient, resourceTypes, type Client } from '../../src/client/client.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { createTransport } from '../../src/client/transport.js';
import type { Kubectl } from '../helpers/kubectl.js';
import { waitFor } from '../helpers/apiserver.js';
import { namespaceSkipReason, onNode } from '../helpers/root.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { isPodReady as isReady } from '../../src/controllers/workloads/pods.js';

type PodObject = Pod & KubeObject;

const manifest = `
apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels: {app: nginx}
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{name: web, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels: {app: nginx}
  template:
    metadata:
      labels: {app: nginx}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: registry.k8s.io/e2e-test-images/agnhost:2.39
        args: [netexec, --http-port=80]
        ports: [{name: web, containerPort: 80}]
        readinessProbe:
          httpGet: {path: /hostname, port: 80}
          periodSeconds: 1
`;


describe('a StatefulSet behind a headless Service under kubesvc up', { skip: namespaceSkipReason(['dig', 'curl']), timeout: 300_000 }, () => {
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  let dataDir: string;
  let client: Client;
  /** Everything the pod watch saw, in order: `added web-0`, `ready web-0`, `deleting web-2`, `deleted web-2`. */
  const seen: string[] = [];
  let watch: { close(): void } | undefined;
  const at = (entry: string) => seen.indexOf(entry);
  const dig = async (name: string) => (await onNode(dataDir, ['dig', '@10.96.0.10', '+short', name])).stdout.trim().split('\n').filter(Boolean).sort();
  const podIP = async (name: string) => kubectl.ok(['get', 'pod', name, '-o', 'jsonpath={.status.podIP}']);
  const podNames = async () => (await kubectl.ok(['get', 'pods', '-l', 'app=nginx', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter(Boolean).sort();

  before(async () => {
    cluster = await startUp('statefulset');
    ({ dataDir, kubectl } = cluster);
    client = createClient(createTransport(loadKubeconfig(join(dataDir, 'kubeconfig'))), 'statefulset-e2e');
    const ready = new Set<string>();
    const deleting = new Set<string>();
    watch = client.resource<PodObject>(resourceTypes.pods).watch(
      'default',
      { labelSelector: 'app=nginx' },
      (e) => {
        const uid = e.object.metadata?.uid ?? '';
        const name = e.object.metadata?.name;
        if (e.type === 'ADDED') seen.push(`added ${name}`);
        if (e.type === 'DELETED') return void seen.push(`deleted ${name}`);
        if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
        if (e.object.metadata.deletionTimestamp && !deleting.has(uid)) {
          deleting.add(uid);
          seen.push(`deleting ${name}`);
        }
        if (isReady(e.object) && !ready.has(uid)) {
          ready.add(uid);
          seen.push(`ready ${name}`);
        }
      },
      () => undefined,
    );
  });

  after(async () => {
    watch?.close();
    client?.close();
    await cluster?.stop();
  });

  test('kubectl apply: web-0, web-1, web-2 start in order, each once the one before is Ready', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: manifest });
    assert.match(await kubectl.ok(['rollout', 'status', 'sts/web', '--timeout=120s']), /partitioned roll out complete: 3 new pods have been updated/);
    assert.ok(at('ready web-0') >= 0 && at('ready web-0') < at('added web-1'), `web-1 after web-0 is Ready: ${seen.join(', ')}`);
    assert.ok(at('ready web-1') >= 0 && at('ready web-1') < at('added web-2'), `web-2 after web-1 is Ready: ${seen.join(', ')}`);
    assert.match(await kubectl.ok(['get', 'sts', 'web']), /^NAME\s+READY\s+AGE\nweb\s+3\/3\s+\S+\n$/);
  });

  test('the cluster DNS answers web-0.nginx.default.svc.cluster.local with web-0\'s IP, and each pod knows its own name', async () => {
    const ips = await Promise.all(['web-0', 'web-1', 'web-2'].map(podIP));
    for (const ip of ips) assert.match(ip, /^10\.244\.\d+\.\d+$/);
    await waitFor('web-0 in the cluster DNS', async () => (await dig('web-0.nginx.default.svc.cluster.local')).join() === ips[0], 30_000);
    assert.deepEqual(await dig('web-2.nginx.default.svc.cluster.local'), [ips[2]]);
    assert.deepEqual(await dig('nginx.default.svc.cluster.local'), [...ips].sort());
    assert.equal((await onNode(dataDir, ['curl', '-s', '-m', '5', `http://${ips[1]}/hostname`])).stdout, 'web-1');
  });

  test('an env change rolls the pods from the highest ordinal down; rollout history and undo', async () => {
    const from = seen.length;
    await kubectl.ok(['set', 'env', 'sts/web', 'GREETING=hello']);
    assert.match(await kubectl.ok(['rollout', 'status', 'sts/web', '--timeout=120s']), /partitioned roll out complete: 3 new pods have been updated/);
    const rolled = seen.slice(from);
    assert.deepEqual(rolled.filter((e) => e.startsWith('deleting ')), ['deleting web-2', 'deleting web-1', 'deleting web-0']);
    assert.ok(rolled.indexOf('ready web-2') < rolled.indexOf('deleting web-1'), `web-1 goes after the new web-2 is Ready: ${rolled.join(', ')}`);
    assert.equal(await kubectl.ok(['get', 'pod', 'web-0', '-o', 'jsonpath={.spec.containers[0].env[0].value}']), 'hello');

    assert.match(await kubectl.ok(['rollout', 'history', 'sts/web']), /^statefulset\.apps\/web \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    assert.match(await kubectl.ok(['rollout', 'history', 'sts/web', '--revision=2']), /GREETING:\s+hello/);
    assert.equal(await kubectl.ok(['rollout', 'undo', 'sts/web']), 'statefulset.apps/web rolled back\n');
    await waitFor('the undo observed', async () => (await kubectl.ok(['get', 'sts', 'web', '-o', 'jsonpath={.status.observedGeneration}'])) === '3', 30_000);
    assert.match(await kubectl.ok(['rollout', 'status', 'sts/web', '--timeout=120s']), /partitioned roll out complete: 3 new pods have been updated/);
    await waitFor('every pod without the env again', async () => (await kubectl.ok(['get', 'pods', '-l', 'app=nginx', '-o', 'jsonpath={.items[*].spec.containers[0].env}'])).trim() === '', 60_000);
    assert.match(await kubectl.ok(['rollout', 'history', 'sts/web']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
  });

  test('the kube-proxy DaemonSet keeps a revision history too, which its pods are labelled with', async () => {
    const revision = await kubectl.ok(['get', 'controllerrevisions', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy', '-o', 'jsonpath={.items[0].metadata.labels.controller-revision-hash}']);
    assert.match(revision, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.match(await kubectl.ok(['get', 'controllerrevisions', '-n', 'kube-system']), new RegExp(`^kube-proxy-${revision}\\s+daemonset\\.apps/kube-proxy\\s+1\\s`, 'm'));
    assert.equal(await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy', '-o', 'jsonpath={.items[0].metadata.labels.controller-revision-hash}']), revision);
    assert.match(await kubectl.ok(['rollout', 'history', 'ds/kube-proxy', '-n', 'kube-system']), /^daemonset\.apps\/kube-proxy \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n/);
  });

  test('scaling down to 1 removes web-2, then web-1', async () => {
    const from = seen.length;
    assert.equal(await kubectl.ok(['scale', 'sts', 'web', '--replicas=1']), 'statefulset.apps/web scaled\n');
    await waitFor('only web-0 left', async () => (await podNames()).join() === 'web-0', 60_000);
    const scaled = seen.slice(from);
    assert.ok(scaled.indexOf('deleted web-2') >= 0 && scaled.indexOf('deleted web-2') < scaled.indexOf('deleting web-1'), `web-1 goes after web-2 is gone: ${scaled.join(', ')}`);
    await waitFor('the DNS forgets web-2', async () => (await dig('web-2.nginx.default.svc.cluster.local')).length === 0, 30_000);
    assert.match(await kubectl.ok(['get', 'sts', 'web']), /^web\s+1\/1\s/m);
    assert.match(await kubectl.ok(['describe', 'sts', 'web']), /Normal\s+SuccessfulDelete\s+.*statefulset-controller\s+delete Pod web-1 in StatefulSet web successful/);
  });
});
