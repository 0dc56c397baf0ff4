// `kubesvc up`'s terminal is its progress lines and ready screen, nothing
// else, however busy the cluster gets: the components log to files in the
// data dir (klog's text lines, or JSON with --log-format json), and the
// system pods' logs are theirs (kubectl logs -n kube-system).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startUp } from '../helpers/up.js';
import { startCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/apiserver.js';
import { namespaceSkipReason } from '../helpers/root.js';

const progressLine = /^ {2}✓ .+ \(\d+ ms\)$/;
/** klog's header: severity, MMDD, hh:mm:ss.uuuuuu, the pid in 7 columns, the source, then the quoted message. */
const klogLine = /^[IWE]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} [ \d]{7} [\w.-]+\] "/;

/** Every line of up's output, checked against the only things it may say, in order. */
function assertOnlyProgressAndScreen(output: string): void {
  const lines = output.replace(/\n$/, '').split('\n');
  const up = lines.findIndex((l) => /^kubesvc is up \(\d+ ms\)$/.test(l));
  assert.ok(up > 0, `the ready screen:\n${output}`);
  for (const l of lines.slice(0, up)) assert.match(l, progressLine, `a line before the ready screen that is no progress line:\n${output}`);
  const end = lines.indexOf("Ctrl-C stops the cluster; 'kubesvc up' again brings every object back.");
  assert.ok(end > up, `the end of the ready screen:\n${output}`);
  // The screen: its rows are indented two spaces, with blank lines between its parts.
  for (const l of lines.slice(up + 1, end)) assert.ok(l === '' || l.startsWith('  '), `a line in the ready screen that is not the screen's: ${JSON.stringify(l)}\n${output}`);
  assert.deepEqual(lines.slice(end + 1), ['kubesvc: stopping'], `after the ready screen, only the stop:\n${output}`);
  assert.doesNotMatch(output, /^[IWE]\d{4} |^\{"ts"/m, 'no log line');
}

test('up: the terminal shows progress and the ready screen only, through a Deployment created and deleted; the components log to timestamped files', { skip: namespaceSkipReason() }, async () => {
  // -v 2: the scheduler's bindings and the garbage collector's deletions are logged too (klog's V(2)), to the files.
  const cluster = await startUp('output', ['-v', '2']);
  const { kubectl, dataDir, up } = cluster;
  const logs = join(dataDir, 'logs');
  const read = (file: string) => (existsSync(join(logs, file)) ? readFileSync(join(logs, file), 'utf8') : '');
  try {
    assert.match(up.output(), new RegExp(`^ {2}logs {9}${logs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\{apiserver,controllers,kubelet\\}\\.log; kube-proxy, coredns: kubectl logs -n kube-system$`, 'm'));
    await kubectl.ok(['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    await kubectl.ok(['delete', 'deployment', 'web', '--wait=true']);
    await waitFor('the Deployment\'s pods gone', async () => (await kubectl.ok(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim() === '', 60_000);
    // What happened is in the files, each component in its own.
    await waitFor('the garbage collector\'s V(2) deletions in controllers.log', () => /^I.* garbage-collector\] "deleting" resource="replicasets\.apps" object="default\/web-/m.test(read('controllers.log')), 30_000);
    assert.match(read('controllers.log'), /^I.* scheduler\] "bound" pod="default\/web-[^"]+" node="node-1"$/m);
    assert.match(read('kubelet.log'), /^I.* kubelet\] "container started" pod="default\/web-[^"]+" container="nginx"/m);
    assert.match(read('apiserver.log'), /^I.* apiserver\] "ready" url="https:\/\/127\.0\.0\.1:\d+"/m);
    for (const file of ['apiserver.log', 'controllers.log', 'kubelet.log']) {
      // A line is a klog line, or the continuation of a multi-line value (tab-indented, then " >").
      for (const line of read(file).split('\n').filter(Boolean)) assert.ok(klogLine.test(line) || /^\t| >$/.test(line), `${file}: ${JSON.stringify(line)}`);
    }
    // The system pods log as pods do: to their containers' logs, which kubectl reads.
    await waitFor('kube-proxy\'s log through kubectl logs', async () => /proxy\] "ready" node="node-1"/.test((await kubectl(['logs', '-n', 'kube-system', 'daemonset/kube-proxy'])).stdout), 30_000);
    await waitFor('coredns\' log through kubectl logs', async () => /dns\] "ready"/.test((await kubectl(['logs', '-n', 'kube-system', 'deployment/coredns'])).stdout), 30_000);
    up.child.kill('SIGINT');
    assert.equal(await up.exited, 0, up.output());
    // Stopping logs too (agents, networks): to the files, still.
    assert.match(read('kubelet.log'), /kubelet\] "agent stopped" node="node-1"/);
    assertOnlyProgressAndScreen(up.output());
  } finally {
    await cluster.stop();
  }
});

test('up --log-format json --nodes 0: component-base JSON lines in the files, the terminal as ever', async () => {
  const cluster = await startUp('output-json', ['--nodes', '0', '--log-format', 'json']);
  try {
    await waitFor('the controllers\' lines', () => existsSync(join(cluster.dataDir, 'logs', 'controllers.log')) && /"msg":"started"/.test(readFileSync(join(cluster.dataDir, 'logs', 'controllers.log'), 'utf8')), 10_000);
    const lines = readFileSync(join(cluster.dataDir, 'logs', 'apiserver.log'), 'utf8').trim().split('\n');
    const ready = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'ready');
    assert.ok(ready, lines.join('\n'));
    assert.deepEqual(Object.keys(ready).slice(0, 4), ['ts', 'caller', 'msg', 'v']);
    assert.equal(ready.caller, 'apiserver');
    assert.ok(typeof ready.ts === 'number' && Math.abs(ready.ts - Date.now()) < 300_000, `ts in epoch milliseconds: ${ready.ts}`);
    cluster.up.child.kill('SIGINT');
    assert.equal(await cluster.up.exited, 0, cluster.up.output());
    assertOnlyProgressAndScreen(cluster.up.output());
  } finally {
    await cluster.stop();
  }
});

test('up: a bad -v or --log-format is a clear error before anything starts', async () => {
  const badFormat = startCli(['up', '--data-dir', '/nonexistent/kubesvc-never', '--log-format', 'xml']);
  assert.equal(await badFormat.exited, 2);
  assert.equal(badFormat.output(), 'kubesvc: logging.format: Invalid value: "xml": Unsupported log format\n');
  const badV = startCli(['up', '--data-dir', '/nonexistent/kubesvc-never', '-v', 'lots']);
  assert.equal(await badV.exited, 2);
  assert.equal(badV.output(), 'kubesvc: invalid argument "lots" for "-v, --v" flag: strconv.ParseUint: parsing "lots": invalid syntax\n');
});
