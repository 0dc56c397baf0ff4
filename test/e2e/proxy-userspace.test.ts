// Services carrying real traffic through the userspace proxy under
// `kubesvc up`: ClusterIP from the node and from a pod, NodePort on the node
// IP, LoadBalancer IP, multi-port, ClientIP affinity; rules live only in the
// node namespace and leave with it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { namespaceSkipReason, onNode as execOnNode, run } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';

const fixtures = join(import.meta.dirname, '../../../shared/fixtures');

function skipReason(): string | false {
  const base = namespaceSkipReason();
  if (base) return base;
  if (!['/usr/sbin/iptables-restore', '/sbin/iptables-restore', '/usr/bin/iptables-restore'].some((p) => existsSync(p))) return 'needs iptables (Debian package iptables)';
  return false;
}


describe('userspace proxy under kubesvc up', { skip: skipReason(), timeout: 180_000 }, () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;
  const onNode = (args: string[]) => execOnNode(dataDir, args);
  const curlFromNode = async (url: string) => (await onNode(['curl', '-s', '-m', '3', url])).stdout.trim();
  let podNames: string[];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-proxy-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0']);
    await waitForOutput(up, /kubesvc is up/, 30_000);
    kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
    await kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml')]);
    await kubectl.ok(['rollout', 'status', 'deployment/service-env', '--timeout=60s']);
    podNames = (await kubectl.ok(['get', 'pods', '-l', 'app=service-env', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
    await waitFor('the proxy serving the ClusterIP', async () => podNames.includes(await curlFromNode('http://10.97.1.1/')), 20_000);
  });

  after(async () => {
    up?.child.kill('SIGINT');
    await up?.exited;
    kubectl?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Distinct answers over n requests, made in one `kubesvc exec` (each exec starts a process). */
  const seen = async (url: string, n = 12) => {
    const out = await onNode(['sh', '-c', `for i in $(seq ${n}); do curl -s -m 3 ${url}; echo; done`]);
    return [...new Set(out.stdout.trim().split('\n'))].sort();
  };

  test('ClusterIP from the node reaches every backend', async () => {
    assert.deepEqual(await seen('http://10.97.1.1/'), podNames);
  });

  test('NodePort on the node IP (named targetPort) and the LoadBalancer IP reach every backend', async () => {
    assert.deepEqual(await seen('http://172.18.0.2:30002/'), podNames);
    const lbIP = await kubectl.ok(['get', 'svc', 'service-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
    assert.match(lbIP, /^172\.18\.255\.\d+$/);
    assert.deepEqual(await seen(`http://${lbIP}/`), podNames);
  });

  test('multi-port service: the second port routes to the pods too', async () => {
    const ip = await kubectl.ok(['get', 'svc', 'service-multiport', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.deepEqual(await seen(`http://${ip}:8443/`), podNames);
  });

  test('ClientIP affinity keeps the node on one backend', async () => {
    const ip = await kubectl.ok(['get', 'svc', 'service-affinity', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal((await seen(`http://${ip}:8080/`, 10)).length, 1);
  });

  test('ClusterIP from inside a pod', async () => {
    const out = await kubectl.ok(['exec', podNames[0], '--', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9; do curl -s -m 3 http://10.97.1.1/; echo; done']);
    assert.deepEqual([...new Set(out.trim().split('\n'))].sort(), podNames);
  });

  test('the rules live in the node namespace only', async () => {
    const node = await onNode(['iptables-save', '-t', 'nat']);
    assert.match(node.stdout, /-A KUBE-PORTALS-CONTAINER -d 10\.97\.1\.1\/32 -p tcp -m comment --comment "default\/service-clusterip" -m tcp --dport 80 -j REDIRECT/);
    const host = await run('iptables-save', ['-t', 'nat']);
    assert.doesNotMatch(host.stdout, /KUBE-/);
  });
});
