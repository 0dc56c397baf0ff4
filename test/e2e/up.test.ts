// `kubesvc up` as a new user meets it: one command, a screen that says what
// runs and how to reach it, Ctrl-C stops it cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlFor } from '../helpers/kubectl.js';
import { startCli, waitForOutput } from '../helpers/cli.js';
import { namespaceSkipReason, run } from '../helpers/root.js';
import { clusterIdFor } from '../../src/agent/cluster-id.js';

test('kubesvc up prints the kubeconfig to export and serves kubectl; SIGINT stops it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-up-'));
  const up = startCli(['up', '--data-dir', dataDir, '--port', '0']);
  try {
    const [, kubeconfig] = await waitForOutput(up, /export KUBECONFIG=(\S+)/);
    assert.equal(kubeconfig, join(dataDir, 'kubeconfig'));
    assert.match(up.output(), /kubesvc is up \(\d+ ms\)/);
    // The host already has what nodes need (the tests' machine is set up): nothing is installed again.
    assert.doesNotMatch(up.output(), /installing|not installed/);
    const kubectl = kubectlFor(kubeconfig);
    const ns = await kubectl.ok(['get', 'namespaces']);
    for (const name of ['default', 'kube-system', 'kube-public']) assert.match(ns, new RegExp(`^${name}\\s+Active`, 'm'));
    kubectl.cleanup();
    up.child.kill('SIGINT');
    assert.equal(await up.exited, 0);
    assert.ok(!existsSync(join(dataDir, 'apiserver.sock')), 'the socket is removed on stop');
  } finally {
    up.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('Ctrl-C while up is starting: the start finishes, then everything it made is gone', { skip: namespaceSkipReason() }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-up-int-'));
  const up = startCli(['up', '--data-dir', dataDir, '--port', '0']);
  try {
    await waitForOutput(up, /✓ API server/);
    up.child.kill('SIGINT');
    assert.equal(await up.exited, 0, up.output());
    assert.match(up.output(), /kubesvc: stopping/);
    assert.doesNotMatch(up.output(), /kubesvc is up/);
    const prefix = `ksvc-${clusterIdFor(dataDir)}-`;
    assert.deepEqual((await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(prefix)), []);
    const left = (await run('pgrep', ['-af', dataDir])).stdout.trim();
    assert.equal(left, '', 'no process of the cluster is left');
  } finally {
    up.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('clear CLI errors: unknown command, bad flag, port in use', async () => {
  const unknown = startCli(['frobnicate']);
  assert.equal(await unknown.exited, 2);
  assert.match(unknown.output(), /kubesvc: unknown command "frobnicate"/);
  const badFlag = startCli(['apiserver', '--data-dir', tmpdir(), '--port', 'many']);
  assert.equal(await badFlag.exited, 2);
  assert.match(badFlag.output(), /--port must be a port number/);
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-port-'));
  const otherDir = mkdtempSync(join(tmpdir(), 'kubesvc-port2-'));
  const first = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
  try {
    const [, port] = await waitForOutput(first, /url="https:\/\/127\.0\.0\.1:(\d+)"/);
    const second = startCli(['apiserver', '--data-dir', otherDir, '--port', port]);
    assert.equal(await second.exited, 1);
    assert.match(second.output(), /kubesvc: the address is already in use/);
    assert.doesNotMatch(second.output(), /at .*\.ts:\d+/, 'no stack trace');
    const sameDir = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
    assert.equal(await sameDir.exited, 1);
    assert.match(sameDir.output(), /the data dir .* is in use by another kubesvc \(pid \d+\)/);
  } finally {
    first.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(otherDir, { recursive: true, force: true });
  }
});
