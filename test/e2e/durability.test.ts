// An acknowledged write survives kill -9; a restart with the same data dir
// brings everything back and allocations hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlFor } from '../helpers/kubectl.js';
import { startCli, waitForOutput } from '../helpers/cli.js';
import { fixtures } from '../helpers/fixtures.js';

test('kill -9 and restart: objects and allocations survive', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-durable-'));
  const kubeconfig = join(dataDir, 'kubeconfig');
  const first = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
  try {
    await waitForOutput(first, /apiserver\] "ready"/);
    const kubectl = kubectlFor(kubeconfig);
    await kubectl.ok(['apply', '-f', join(fixtures, 'services.yaml')]);
    await kubectl.ok(['create', 'service', 'nodeport', 'np', '--tcp=80:8080']);
    const before = JSON.parse(await kubectl.ok(['get', 'svc', '-o', 'json']));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
    try {
      await waitForOutput(second, /apiserver\] "ready"/);
      const after = JSON.parse(await kubectl.ok(['get', 'svc', '-o', 'json']));
      const summary = (list: any) =>
        list.items.map((s: any) => [s.metadata.name, s.metadata.uid, s.spec.clusterIP, (s.spec.ports ?? []).map((p: any) => p.nodePort ?? 0)]);
      assert.deepEqual(summary(after), summary(before));
      // Allocations were rebuilt: asking for a taken IP or node port is refused.
      const np = before.items.find((s: any) => s.metadata.name === 'np');
      const r = await kubectl(['create', 'service', 'nodeport', 'dup', '--tcp=81:8080', `--node-port=${np.spec.ports[0].nodePort}`]);
      assert.match(r.stderr, /provided port is already allocated/);
      const ip = await kubectl(['create', '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'dup-ip' }, spec: { clusterIP: '10.97.1.1', ports: [{ port: 80 }] } }),
      });
      assert.match(ip.stderr, /failed to allocate IP 10\.97\.1\.1: provided IP is already allocated/);
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      second.child.kill('SIGKILL');
    }
    kubectl.cleanup();
  } finally {
    first.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
