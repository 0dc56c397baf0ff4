// `kubesvc proxy rules`: the rules a node programs, printed per mode from the
// cluster's services through the real API (no root, nothing applied).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlFor } from '../helpers/kubectl.js';
import { repoRoot, startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { run } from '../helpers/root.js';
import { servicePortPolicyClusterChain } from '../../src/proxy/iptables/chain-names.js';
import { fixtures } from '../helpers/fixtures.js';

let dataDir: string;
let api: CliProcess;

const rules = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'proxy', 'rules', '--data-dir', dataDir, ...args]);

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-rules-'));
  api = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
  await waitForOutput(api, /apiserver\] "ready"/, 30_000);
  const kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
  await kubectl.ok(['apply', '-f', join(fixtures, 'services.yaml')]);
  kubectl.cleanup();
});

after(async () => {
  api?.child.kill('SIGINT');
  await api?.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

test('iptables: iptables-restore input with upstream chain names', async () => {
  const r = await rules('--mode', 'iptables');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\*nat$/m);
  assert.match(r.stdout, /^:KUBE-SERVICES - \[0:0\]$/m);
  // No endpoints (no controllers here): the service port is rejected in the filter table.
  assert.match(r.stdout, /-A KUBE-SERVICES -m comment --comment "default\/service-clusterip has no endpoints" -m tcp -p tcp -d 10\.97\.1\.1 --dport 80 -j REJECT/);
  assert.ok(servicePortPolicyClusterChain('default/service-clusterip', 'tcp').startsWith('KUBE-SVC-'));
});

test('nftables: one nft transaction for table ip kube-proxy', async () => {
  const r = await rules('--mode', 'nftables');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^add table ip kube-proxy/m);
  assert.match(r.stdout, /no-endpoint-services/);
});

test('ipvs: the ipvsadm listing with the scheduler and persistence for affinity', async () => {
  const r = await rules('--mode', 'ipvs', '--ipvs-scheduler', 'wlc');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^TCP {2}10\.97\.1\.1:80 wlc$/m);
  assert.match(r.stdout, /^TCP {2}10\.\d+\.\d+\.\d+:8080 wlc persistent 600$/m);
  assert.match(r.stdout, /^ip addr add 10\.97\.1\.1\/32 dev kube-ipvs0$/m);
});

test('userspace rules cannot be printed ahead of time: a clear message, exit 2', async () => {
  const r = await rules('--mode', 'userspace');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /kubesvc: the userspace mode redirects to proxy sockets/);
});
