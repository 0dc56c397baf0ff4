// A cluster's life on the machine: Ctrl-C leaves nothing behind; `up` again
// with the same data dir brings every object back and starts the pods again;
// after a kill -9, `kubesvc down` removes what the crash left (and refuses to
// touch a cluster that still runs).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterIdFor } from '../../src/agent/cluster-id.js';
import { clusterNetnsPrefix, RUN_DIR } from '../../src/agent/network.js';
import { listNetns } from '../../src/net/ip.js';
import { kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { repoRoot, startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { answersFrom, namespaceSkipReason, run } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { fixtures } from '../helpers/fixtures.js';

/** Processes whose command line names the data dir (kube-proxy and coredns pods carry it). */
function processesOf(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dataDir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const kubesvc = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], 60_000);

describe('stop, start again, crash and down', { skip: namespaceSkipReason(['iptables-restore']), timeout: 300_000 }, () => {
  let dataDir: string;
  let kubectl: Kubectl;
  let up: CliProcess | undefined;
  let servicesBefore: string[][] = [];
  const summary = (list: { items: { metadata: { name: string; uid: string }; spec: { clusterIP: string } }[] }) => list.items.map((s) => [s.metadata.name, s.metadata.uid, s.spec.clusterIP]);
  const clusterNamespaces = () => listNetns(clusterNetnsPrefix(clusterIdFor(dataDir)));
  const start = async () => {
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--nodes', '2']);
    await waitForOutput(up, /kubesvc is up/, 30_000);
  };
  const serving = async () => {
    await kubectl.ok(['rollout', 'status', 'deployment/service-env', '--timeout=90s']);
    const pods = (await kubectl.ok(['get', 'pods', '-l', 'app=service-env', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
    await waitFor('the ClusterIP answering from every pod', async () => (await answersFrom(dataDir, 'http://10.97.1.1/', { n: 15 })).join() === pods.join(), 30_000);
    return pods;
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-restart-'));
    kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
  });
  after(async () => {
    up?.child.kill('SIGKILL');
    await up?.exited;
    await kubesvc(['down', '--data-dir', dataDir]);
    kubectl.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('Ctrl-C stops everything and leaves no namespace, process or marker behind', async () => {
    await start();
    await kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml')]);
    await serving();
    servicesBefore = summary(JSON.parse(await kubectl.ok(['get', 'svc', '-o', 'json'])));
    assert.ok((await clusterNamespaces()).length >= 3, 'the cluster net, two nodes, pods');
    up!.child.kill('SIGINT');
    assert.equal(await up!.exited, 0);
    assert.deepEqual(await clusterNamespaces(), []);
    assert.deepEqual(processesOf(dataDir), []);
    assert.equal(existsSync(join(RUN_DIR, `${clusterIdFor(dataDir)}.pid`)), false);
  });

  test('up again with the data dir: every object is back and the pods run again', async () => {
    await start();
    const services = summary(JSON.parse(await kubectl.ok(['get', 'svc', '-o', 'json'])));
    assert.ok(services.some(([name]) => name === 'service-clusterip'));
    assert.deepEqual(services, servicesBefore);
    const pods = await serving();
    assert.equal(pods.length, 3);
    assert.match(await kubectl.ok(['get', 'endpoints', 'kubernetes']), /172\.18\.0\.1:6443/);
  });

  test('down refuses a running cluster, then removes what a kill -9 left behind', async () => {
    const refused = await kubesvc(['down', '--data-dir', dataDir]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /a cluster is running from .* \(pid \d+\); stop it with Ctrl-C/);
    assert.ok((await clusterNamespaces()).length >= 3, 'nothing was removed');

    up!.child.kill('SIGKILL');
    await up!.exited;
    up = undefined;
    assert.ok((await clusterNamespaces()).length >= 3, 'a crash leaves the namespaces');
    const down = await kubesvc(['down', '--data-dir', dataDir]);
    assert.equal(down.code, 0, down.stderr);
    // Every pod is a container of the OCI runtime, left running by the crash: down deletes them too.
    assert.match(down.stdout, /^kubesvc: node node-1: removed \d+ container\(s\)/m);
    assert.match(down.stdout, /^kubesvc: removed \d+ namespace\(s\): /m);
    assert.deepEqual(await clusterNamespaces(), []);
    await waitFor('no process of the cluster', () => processesOf(dataDir).length === 0, 10_000);
    assert.equal(existsSync(join(dataDir, 'apiserver.sock')), false);
    assert.equal(existsSync(join(dataDir, 'nodes/node-1/agent.sock')), false);
    const again = await kubesvc(['down', '--data-dir', dataDir]);
    assert.equal(again.stdout.trim(), 'kubesvc: nothing to clean up');
  });
});
