// What Service tutorials walk through, with the real kubectl, curl and dig,
// on a 1-node and a 3-node `kubesvc up` (default proxy mode): a 3-replica
// Deployment behind a fixed ClusterIP whose requests reach all three pods, a
// headless Service resolving to the pod IPs, NodePorts (fixed and allocated)
// on every node's IP, an ExternalName CNAME, `kubectl expose` of node-hello
// answered on NodeIP:NodePort, a selector-less Service with hand-made
// Endpoints, service env vars in a pod created afterwards, session affinity,
// `kubectl describe svc` as upstream prints it, and pods reaching the API
// through the `kubernetes` Service over TLS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Kubectl } from '../helpers/kubectl.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { answersFrom, namespaceSkipReason, onNode } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { fixtures } from '../helpers/fixtures.js';

const skipReason = () => namespaceSkipReason(['dig', 'iptables-restore']);

for (const nodeCount of [1, 3]) {
  describe(`Service walkthrough on ${nodeCount} node${nodeCount > 1 ? 's' : ''}`, { skip: skipReason(), timeout: 240_000 }, () => {
    let dataDir: string;
    let cluster: UpCluster | undefined;
    let kubectl: Kubectl;
    let pods: string[];
    const nodeIPs = Array.from({ length: nodeCount }, (_, i) => `172.18.0.${i + 2}`);
    const seen = (url: string, n = 30) => answersFrom(dataDir, url, { n });
    const dig = async (...args: string[]) => (await onNode(dataDir, ['dig', '@10.96.0.10', '+short', ...args])).stdout.trim().split('\n').filter(Boolean).sort();

    before(async () => {
      cluster = await startUp(`walk${nodeCount}`, ['--nodes', String(nodeCount)]);
      ({ dataDir, kubectl } = cluster);
      await kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml')]);
      await kubectl.ok(['rollout', 'status', 'deployment/service-env', '--timeout=90s']);
      await kubectl.ok(['rollout', 'status', '-n', 'kube-system', 'deployment/coredns', '--timeout=60s']);
      await kubectl.ok(['rollout', 'status', '-n', 'kube-system', 'daemonset/kube-proxy', '--timeout=60s']);
      pods = (await kubectl.ok(['get', 'pods', '-l', 'app=service-env', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
      await waitFor('the ClusterIP answering', async () => (await seen('http://10.97.1.1/', 3)).every((p) => pods.includes(p)), 30_000);
    });

    after(() => cluster?.stop());

    test('nodes and system pods are listed as on a kubeadm cluster', async () => {
      const nodes = await kubectl.ok(['get', 'nodes', '-o', 'wide']);
      for (const ip of nodeIPs) assert.match(nodes, new RegExp(`\\sReady\\s.*\\s${ip.replace(/\./g, '\\.')}\\s`));
      const system = await kubectl.ok(['get', 'pods', '-n', 'kube-system']);
      assert.equal((system.match(/^kube-proxy-\S+\s+1\/1\s+Running/gm) ?? []).length, nodeCount);
      assert.match(system, /^coredns-\S+\s+1\/1\s+Running/m);
    });

    test('the fixed ClusterIP rotates over all three pods; the headless name resolves to their IPs', async () => {
      assert.deepEqual(await seen('http://10.97.1.1/'), pods);
      const ips = (await kubectl.ok(['get', 'pods', '-l', 'app=service-env', '-o', 'jsonpath={.items[*].status.podIP}'])).split(' ').sort();
      assert.deepEqual(await dig('service-headless.default.svc.cluster.local'), ips);
    });

    test('NodePorts, fixed (30002) and allocated, answer on every node IP', async () => {
      const allocated = await kubectl.ok(['get', 'svc', 'service-lb', '-o', 'jsonpath={.spec.ports[0].nodePort}']);
      for (const ip of nodeIPs) {
        assert.deepEqual(await seen(`http://${ip}:30002/`, 20), pods);
        assert.ok(pods.includes((await onNode(dataDir, ['curl', '-s', '-m', '3', `http://${ip}:${allocated}/`])).stdout));
      }
    });

    test('ExternalName is a CNAME; session affinity keeps one backend', async () => {
      assert.deepEqual(await dig('service-externalname.default.svc.cluster.local'), ['www.example.com.']);
      const ip = await kubectl.ok(['get', 'svc', 'service-affinity', '-o', 'jsonpath={.spec.clusterIP}']);
      assert.equal((await seen(`http://${ip}:8080/`, 10)).length, 1);
    });

    test('kubectl expose deployment hello-world --type=NodePort: NodeIP:NodePort prints "Hello Kubernetes!"', async () => {
      await kubectl.ok(['create', 'deployment', 'hello-world', '--image=gcr.io/google-samples/node-hello:1.0', '--port=8080']);
      await kubectl.ok(['rollout', 'status', 'deployment/hello-world', '--timeout=60s']);
      await kubectl.ok(['expose', 'deployment', 'hello-world', '--type=NodePort', '--name=example-service']);
      const port = await kubectl.ok(['get', 'svc', 'example-service', '-o', 'jsonpath={.spec.ports[0].nodePort}']);
      await waitFor('Hello Kubernetes!', async () => (await onNode(dataDir, ['curl', '-s', '-m', '3', `http://${nodeIPs[nodeCount - 1]}:${port}/`])).stdout === 'Hello Kubernetes!', 20_000);
    });

    test('a selector-less Service with hand-made Endpoints reaches the address they name', async () => {
      const target = await kubectl.ok(['get', 'pod', pods[0], '-o', 'jsonpath={.status.podIP}']);
      const manifest = `apiVersion: v1\nkind: Service\nmetadata: {name: by-hand}\nspec:\n  clusterIP: 10.97.5.5\n  ports: [{port: 80, targetPort: 80}]\n---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: by-hand}\nsubsets:\n- addresses: [{ip: ${target}}]\n  ports: [{port: 80}]\n`;
      await kubectl.ok(['apply', '-f', '-'], { input: manifest });
      await waitFor('the mirrored EndpointSlice served', async () => (await onNode(dataDir, ['curl', '-s', '-m', '2', 'http://10.97.5.5/'])).stdout === pods[0], 20_000);
    });

    test('a pod created after a Service sees its env vars', async () => {
      await kubectl.ok(['run', 'envcheck', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
      await kubectl.ok(['wait', '--for=condition=Ready', 'pod/envcheck', '--timeout=60s']);
      const env = await kubectl.ok(['exec', 'envcheck', '--', 'env']);
      assert.match(env, /^SERVICE_CLUSTERIP_SERVICE_HOST=10\.97\.1\.1$/m);
      assert.match(env, /^SERVICE_CLUSTERIP_PORT=tcp:\/\/10\.97\.1\.1:80$/m);
      assert.match(env, /^KUBERNETES_SERVICE_HOST=10\.96\.0\.1$/m);
    });

    test('pods on every node reach the API through the kubernetes Service: https://kubernetes.default.svc with the mounted CA and token, kubectl in-cluster, Forbidden until a RoleBinding grants it', async () => {
      assert.match(await kubectl.ok(['get', 'endpoints', 'kubernetes']), /^kubernetes\s+172\.18\.0\.1:6443\s/m);
      const nodesOfPods = new Set((await kubectl.ok(['get', 'pods', '-l', 'app=service-env', '-o', 'jsonpath={.items[*].spec.nodeName}'])).split(' '));
      assert.equal(nodesOfPods.size, nodeCount, 'the three pods are spread over the nodes');
      const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
      // The pod's ServiceAccount (default) may do nothing beyond discovery until bound, as upstream.
      const denied = await kubectl(['exec', pods[0]!, '--', 'env', 'HOME=/nonexistent', 'kubectl', 'get', 'pods']);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"/);
      // As a user would: let the namespace's default account read (ClusterRole view).
      await kubectl.ok(['create', 'rolebinding', 'default-view', '--clusterrole=view', '--serviceaccount=default:default']);
      assert.match(await kubectl.ok(['exec', pods[0]!, '--', 'env', 'HOME=/nonexistent', 'kubectl', 'get', 'pods', '-o', 'name']), new RegExp(`^pod/${pods[0]}$`, 'm'));
      for (const pod of pods) {
        // The cluster CA as the pod has it (the data dir's pki/ca.crt is the host's, out of the pod's sight).
        const version = await kubectl.ok(['exec', pod, '--', 'curl', '-sS', '-m', '5', '--cacert', `${sa}/ca.crt`, 'https://kubernetes.default.svc/version']);
        assert.equal(JSON.parse(version).minor, '32', `${pod}: ${version}`);
        // The mounted service account: CA, token, namespace — as client-go's InClusterConfig reads them.
        const listed = await kubectl.ok(['exec', pod, '--', 'sh', '-c', `curl -sS -m 5 --cacert ${sa}/ca.crt -H "Authorization: Bearer $(cat ${sa}/token)" https://kubernetes.default.svc/api/v1/namespaces/$(cat ${sa}/namespace)/pods/${pod}`]);
        assert.equal(JSON.parse(listed).metadata.name, pod);
        // kubectl in the pod with no kubeconfig: the in-cluster configuration.
        assert.equal((await kubectl.ok(['exec', pod, '--', 'env', 'HOME=/nonexistent', 'kubectl', 'get', 'svc', 'kubernetes', '-o', 'name'])).trim(), 'service/kubernetes');
      }
    });

    test('kubectl describe svc reads as upstream prints it', async () => {
      const d = await kubectl.ok(['describe', 'svc', 'service-nodeport']);
      for (const line of [
        /^Name:\s+service-nodeport$/m,
        /^Namespace:\s+default$/m,
        /^Selector:\s+app=service-env$/m,
        /^Type:\s+NodePort$/m,
        /^IP Family Policy:\s+SingleStack$/m,
        /^IP Families:\s+IPv4$/m,
        /^Port:\s+<unset>\s+80\/TCP$/m,
        /^TargetPort:\s+http\/TCP$/m,
        /^NodePort:\s+<unset>\s+30002\/TCP$/m,
        /^Endpoints:\s+10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80$/m,
        /^Session Affinity:\s+None$/m,
        /^External Traffic Policy:\s+Cluster$/m,
      ]) assert.match(d, line);
    });
  });
}
