// The shipped artifact: what `npm start` runs is the esbuild bundle in dist/
// (scripts/bundle.mjs), not the sources the other tests run through tsx. A
// cluster from dist/kubesvc.js runs its system pods and a Service's backends
// from dist/images.js, and answers through the proxy and the cluster DNS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { repoRoot } from '../helpers/cli.js';
import { namespaceSkipReason, run } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';

const built = join(repoRoot, 'dist/kubesvc.js');
const skip = !existsSync(built) ? 'dist/kubesvc.js is missing: npm run build (npm test builds first)' : namespaceSkipReason(['iptables-restore', 'dig']);

describe('the built kubesvc (dist/, as npm start runs it)', { skip, timeout: 120_000 }, () => {
  let dataDir: string;
  let up: ChildProcess;
  let output = '';
  let kubectl: Kubectl;
  const exec = (args: string[]) => run(process.execPath, [built, 'exec', '--data-dir', dataDir, '--', ...args]);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-built-'));
    // The node flags of the shebang, as npx kubesvc runs it.
    const flags = readFileSync(built, 'utf8').split('\n', 1)[0]!.split(/\s+/).filter((w) => w.startsWith('--'));
    up = spawn(process.execPath, [...flags, built, 'up', '--data-dir', dataDir, '--port', '0', '--no-egress'], { stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout!.on('data', (d) => (output += d));
    up.stderr!.on('data', (d) => (output += d));
    await waitFor('the ready screen', () => output.includes('kubesvc is up') || up.exitCode !== null, 30_000);
    assert.match(output, /kubesvc is up/, output);
    kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
  });
  after(async () => {
    up.kill('SIGINT');
    await new Promise((r) => (up.exitCode === null ? up.once('exit', r) : r(undefined)));
    kubectl?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('system pods and a Deployment run from dist/images.js; its Service answers by ClusterIP and by name', async () => {
    await kubectl.ok(['rollout', 'status', '-n', 'kube-system', 'daemonset/kube-proxy', '--timeout=60s']);
    await kubectl.ok(['rollout', 'status', '-n', 'kube-system', 'deployment/coredns', '--timeout=60s']);
    await kubectl.ok(['create', 'deployment', 'hostnames', '--image=registry.k8s.io/serve_hostname', '--replicas=2']);
    await kubectl.ok(['expose', 'deployment', 'hostnames', '--port=80', '--target-port=9376']);
    await kubectl.ok(['rollout', 'status', 'deployment/hostnames', '--timeout=60s']);
    const pods = (await kubectl.ok(['get', 'pods', '-l', 'app=hostnames', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
    const ip = await kubectl.ok(['get', 'svc', 'hostnames', '-o', 'jsonpath={.spec.clusterIP}']);
    await waitFor('both pods answering through the ClusterIP', async () => {
      const r = await exec(['sh', '-c', `for i in $(seq 12); do curl -s -m 2 http://${ip}/; echo; done`]);
      return [...new Set(r.stdout.trim().split('\n'))].sort().join() === pods.join();
    }, 30_000);
    assert.equal((await exec(['dig', '@10.96.0.10', '+short', 'hostnames.default.svc.cluster.local'])).stdout.trim(), ip);
    const cmdlines = (await run('ps', ['-eo', 'args'])).stdout;
    assert.match(cmdlines, /dist\/images\.js kube-proxy /);
    assert.match(cmdlines, /dist\/images\.js coredns /);
    // What npm start shows: progress lines and the ready screen, never a component's log line, however busy.
    assert.doesNotMatch(output, /^[IWE]\d{4} |^\{"ts"/m, output);
    for (const line of output.slice(0, output.indexOf('kubesvc is up')).split('\n').filter(Boolean)) assert.match(line, /^ {2}✓ .+ \(\d+ ms\)$/, output);
  });
});
