// Choosing the proxy's load-balancing algorithm the kube-proxy way: a
// KubeProxyConfiguration given to `kubesvc up --proxy-config` selects the IPVS
// "sh" (source hashing) scheduler on every node, so each client address
// sticks to one backend; a bad configuration is refused before anything starts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kubectl } from '../helpers/kubectl.js';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { namespaceSkipReason, onNode } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { fixtures } from '../helpers/fixtures.js';

const skipReason = () => namespaceSkipReason(['iptables-restore']);

test('up --proxy-config refuses a bad configuration with kube-proxy\'s message and starts nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-badproxy-'));
  try {
    const file = join(dir, 'kube-proxy.yaml');
    writeFileSync(file, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: userspace\nipvs:\n  scheduler: fastest\n');
    const up = startCli(['up', '--data-dir', join(dir, 'data'), '--port', '0', '--proxy-config', file]);
    assert.equal(await up.exited, 2);
    assert.match(up.output(), /--proxy-config .*kube-proxy\.yaml: .*scheduler/);
    assert.doesNotMatch(up.output(), /at .*\.ts:\d+/);
    assert.equal(existsSync(join(dir, 'data', 'state.db')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('ipvs scheduler "sh" chosen through up --proxy-config', { skip: skipReason(), timeout: 180_000 }, () => {
  let dataDir: string;
  let cluster: UpCluster | undefined;
  let up: CliProcess;
  let kubectl: Kubectl;
  let pods: string[];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-sched-'));
    const config = join(dataDir, 'kube-proxy.yaml');
    writeFileSync(config, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: userspace\nipvs:\n  scheduler: sh\n');
    cluster = await startUp('sched', ['--proxy-config', config], { dataDir });
    ({ up, kubectl } = cluster);
    assert.match(up.output(), /proxy {8}DaemonSet kube-system\/kube-proxy, userspace mode \(set in --proxy-config/);
    await kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml')]);
    await kubectl.ok(['rollout', 'status', 'deployment/service-env', '--timeout=60s']);
    pods = (await kubectl.ok(['get', 'pods', '-l', 'app=service-env', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
    await waitFor('the proxy serving the ClusterIP', async () => pods.includes((await onNode(dataDir, ['curl', '-s', '-m', '3', 'http://10.97.1.1/'])).stdout), 20_000);
  });

  after(() => cluster?.stop());

  test('the node proxy runs the configured scheduler (/configz)', async () => {
    const configz = JSON.parse((await onNode(dataDir, ['curl', '-s', 'http://127.0.0.1:10249/configz'])).stdout);
    assert.equal(configz['kubeproxy.config.k8s.io'].ipvs.scheduler, 'sh');
  });

  test('one client address always lands on one backend; each pod is hashed on its own', async () => {
    const fromNode = await onNode(dataDir, ['sh', '-c', 'for i in $(seq 10); do curl -s -m 3 http://10.97.1.1/; echo; done']);
    assert.equal(new Set(fromNode.stdout.trim().split('\n')).size, 1, fromNode.stdout);
    for (const pod of pods) {
      const out = await kubectl.ok(['exec', pod, '--', 'sh', '-c', 'for i in 1 2 3 4 5 6; do curl -s -m 3 http://10.97.1.1/; echo; done']);
      const answers = new Set(out.trim().split('\n'));
      assert.equal(answers.size, 1, `${pod}: ${out}`);
      assert.ok(pods.includes([...answers][0]));
    }
  });
});
