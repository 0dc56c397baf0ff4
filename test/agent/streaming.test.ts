// kubectl logs and kubectl exec end to end: the real kubectl, the real API
// server proxying pods/log and pods/exec to the node agent's socket, the
// agent's streaming server over a fake runtime view whose "container" is a
// sleep in its own network, mount and UTS namespaces (needs root).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { WebSocket } from 'ws';
import { join } from 'node:path';
import type { ContainerRuntimeView } from '../../src/agent/contracts.js';
import { agentSocketPath } from '../../src/util/data-dir.js';
import { startAgentServer, type AgentServer } from '../../src/agent/server.js';
import { startTestApiServer, waitFor, type TestApiServer } from '../helpers/apiserver.js';
import { namespaceSkipReason } from '../helpers/root.js';

describe('kubectl logs and exec through the node agent', { skip: namespaceSkipReason(['nsenter', 'unshare', 'script', 'kubectl']) }, () => {
  let t: TestApiServer;
  let agent: AgentServer;
  let target: ChildProcess;
  let pid: number;
  let dir: string;
  const logFiles = new Map<string, string>();
  const previousFiles = new Map<string, string>();
  const pods: Record<string, string[]> = { p: ['c'], multi: ['a', 'b'], waiting: ['c'] };
  let running = true;

  const runtime: ContainerRuntimeView = {
    logFile: (ns, pod, c, previous) => (ns === 'default' ? (previous ? previousFiles : logFiles).get(`${pod}/${c}`) : undefined),
    containerPid: (ns, pod, c) => (ns === 'default' && running && pods[pod]?.includes(c) && pod !== 'waiting' ? pid : undefined),
    containerNames: (ns, pod) => (ns === 'default' ? pods[pod] : undefined),
  };

  async function createPod(name: string, containers: string[], node?: string) {
    const created = await t.request('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name },
      spec: { containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
    });
    assert.equal(created.status, 201, created.text);
    if (!node) return;
    const bound = await t.request('POST', `/api/v1/namespaces/default/pods/${name}/binding`, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name },
      target: { kind: 'Node', name: node },
    });
    assert.equal(bound.status, 201, bound.text);
  }

  before(async () => {
    t = await startTestApiServer();
    dir = mkdtempSync(join(tmpdir(), 'kubesvc-stream-'));
    // The container: its own network (only lo), mount and UTS namespaces.
    target = spawn('unshare', ['--net', '--mount', '--uts', 'sleep', '1000'], { stdio: 'ignore' });
    pid = target.pid!;
    await waitFor('the target to be in its own namespaces', () => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' && readlinkSync(`/proc/${pid}/ns/net`) !== readlinkSync('/proc/self/ns/net');
      } catch {
        return false;
      }
    });
    const log = join(dir, 'p-c-1.log');
    writeFileSync(log, 'first line\nsecond line\nthird line\n');
    logFiles.set('p/c', log);
    writeFileSync(join(dir, 'multi-a-1.log'), 'a now\n');
    logFiles.set('multi/a', join(dir, 'multi-a-1.log'));
    writeFileSync(join(dir, 'multi-a-0.log'), 'a before the restart\n');
    previousFiles.set('multi/a', join(dir, 'multi-a-0.log'));
    writeFileSync(join(dir, 'multi-b-1.log'), 'b now\n');
    logFiles.set('multi/b', join(dir, 'multi-b-1.log'));

    await createPod('p', ['c'], 'n1');
    await createPod('multi', ['a', 'b'], 'n1');
    await createPod('waiting', ['c'], 'n1');
    await createPod('unbound', ['c']);
    await createPod('elsewhere', ['c'], 'n2');
    agent = await startAgentServer({ socketPath: agentSocketPath(t.dataDir, 'n1'), runtime });
  });

  after(async () => {
    await agent?.close();
    await t?.stop();
    if (target?.exitCode === null) target.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('kubectl logs prints the log file, with --tail, --limit-bytes and --timestamps', async () => {
    assert.equal(await t.kubectl.ok(['logs', 'p']), 'first line\nsecond line\nthird line\n');
    assert.equal(await t.kubectl.ok(['logs', 'p', '--tail=2']), 'second line\nthird line\n');
    assert.equal(await t.kubectl.ok(['logs', 'p', '--tail=0']), '');
    assert.equal(await t.kubectl.ok(['logs', 'p', '--limit-bytes=8']), 'first li');
    const stamped = await t.kubectl.ok(['logs', 'p', '--timestamps', '--tail=1']);
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z third line\n$/);
    // The file was written just now: a cut-off an hour back keeps it, one in the future drops it.
    assert.equal(await t.kubectl.ok(['logs', 'p', '--since=1h', '--tail=1']), 'third line\n');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal(await t.kubectl.ok(['logs', 'p', `--since-time=${future}`]), '');
  });

  test('kubectl logs -f streams appended lines and ends when the run ends', async () => {
    const child = spawn('kubectl', ['--kubeconfig', t.server.kubeconfigPath, '--cache-dir', join(dir, 'kubectl-cache'), 'logs', '-f', 'p', '--tail=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor('the existing tail', () => out === 'third line\n');
      appendFileSync(logFiles.get('p/c')!, 'appended later\n');
      await waitFor('the appended line', () => out === 'third line\nappended later\n', 5000);
      appendFileSync(logFiles.get('p/c')!, 'partial');
      appendFileSync(logFiles.get('p/c')!, ' line\n');
      await waitFor('the line written in two parts', () => out.endsWith('appended later\npartial line\n'), 5000);
      // The container restarts: a new log file for the new run ends the stream.
      const next = join(dir, 'p-c-2.log');
      writeFileSync(next, 'second run\n');
      logFiles.set('p/c', next);
      assert.equal(await exited, 0, err);
    } finally {
      child.kill();
    }
    assert.equal(await t.kubectl.ok(['logs', 'p']), 'second run\n');
  });

  test('kubectl logs -f stops when kubectl goes away', async () => {
    const child = spawn('kubectl', ['--kubeconfig', t.server.kubeconfigPath, '--cache-dir', join(dir, 'kubectl-cache'), 'logs', '-f', 'p'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await waitFor('the log', () => out.includes('second run'));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    // The server is still fine, and later writes are served to the next reader.
    appendFileSync(logFiles.get('p/c')!, 'after\n');
    assert.equal(await t.kubectl.ok(['logs', 'p']), 'second run\nafter\n');
  });

  test('kubectl logs -f ends when the container stops', async () => {
    const child = spawn('kubectl', ['--kubeconfig', t.server.kubeconfigPath, '--cache-dir', join(dir, 'kubectl-cache'), 'logs', '-f', 'p'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor('the log', () => out.includes('after'));
      appendFileSync(logFiles.get('p/c')!, 'last words\n');
      running = false;
      assert.equal(await exited, 0);
      assert.equal(out, 'second run\nafter\nlast words\n');
    } finally {
      running = true;
      child.kill();
    }
  });

  test('kubectl logs --previous, -c and waiting containers fail as the kubelet words it', async () => {
    let r = await t.kubectl(['logs', 'p', '--previous']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(BadRequest\): previous terminated container "c" in pod "p" not found/);
    assert.equal(await t.kubectl.ok(['logs', 'multi', '-c', 'a', '--previous']), 'a before the restart\n');
    assert.equal(await t.kubectl.ok(['logs', 'multi', '-c', 'b']), 'b now\n');
    r = await t.kubectl(['logs', 'p', '-c', 'nope']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /container nope is not valid for pod p/); // kubectl checks first; the server words it the same
    const wrong = await t.request('GET', '/api/v1/namespaces/default/pods/p/log?container=nope');
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.message, 'container nope is not valid for pod p');
    r = await t.kubectl(['logs', 'waiting']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(BadRequest\): container "c" in pod "waiting" is waiting to start: ContainerCreating/);
    // Without a container name, a pod of several containers needs one (kubectl itself defaults it).
    const raw = await t.request('GET', '/api/v1/namespaces/default/pods/multi/log');
    assert.equal(raw.status, 400);
    assert.equal(raw.json.message, 'a container name must be specified for pod multi, choose one of: [a b]');
    // A pod not yet on a node has no log; a node without an agent is unavailable.
    assert.equal(await t.kubectl.ok(['logs', 'unbound']), '');
    r = await t.kubectl(['logs', 'elsewhere']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(ServiceUnavailable\): the node agent for node "n2" is not reachable, so log is not available for pod elsewhere/);
  });

  test('kubectl exec runs in the container with stdout, stderr and the exit code', async () => {
    const r = await t.kubectl(['exec', 'p', '--', 'sh', '-c', 'echo hi; echo err >&2; exit 3']);
    assert.equal(r.stdout, 'hi\n');
    assert.match(r.stderr, /^err\n/);
    assert.match(r.stderr, /command terminated with exit code 3/);
    assert.equal(r.code, 3);
    assert.equal(await t.kubectl.ok(['exec', 'p', '--', 'true']), '');
  });

  test('kubectl exec -i passes stdin through and ends it', async () => {
    const input = 'hello\nworld\n' + 'x'.repeat(200_000) + '\n';
    const out = await t.kubectl.ok(['exec', '-i', 'p', '--', 'cat'], { input });
    assert.equal(out.length, input.length);
    assert.equal(out, input);
    assert.equal(await t.kubectl.ok(['exec', '-i', 'p', '--', 'wc', '-l'], { input: 'a\nb\nc\n' }), '3\n');
  });

  test('kubectl cp copies into and out of the container (tar over exec)', async () => {
    writeFileSync(join(dir, 'to-copy.txt'), 'copied content\n');
    await t.kubectl.ok(['cp', join(dir, 'to-copy.txt'), `p:${dir}/copied-in.txt`]);
    assert.equal(readFileSync(join(dir, 'copied-in.txt'), 'utf8'), 'copied content\n');
    await t.kubectl.ok(['cp', `p:${dir}/copied-in.txt`, join(dir, 'copied-out.txt')]);
    assert.equal(readFileSync(join(dir, 'copied-out.txt'), 'utf8'), 'copied content\n');
  });

  test('kubectl exec enters the container network, mount and UTS namespaces', async () => {
    const ns = await t.kubectl.ok(['exec', 'p', '--', 'readlink', '/proc/self/ns/net']);
    assert.equal(ns.trim(), readlinkSync(`/proc/${pid}/ns/net`));
    assert.notEqual(ns.trim(), readlinkSync('/proc/self/ns/net'));
    const dev = await t.kubectl.ok(['exec', 'p', '--', 'cat', '/proc/net/dev']);
    const ifaces = dev.split('\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim());
    assert.deepEqual(ifaces, ['lo']);
    assert.equal(await t.kubectl.ok(['exec', 'p', '--', 'pwd']), '/\n');
    assert.equal((await t.kubectl.ok(['exec', 'p', '--', 'readlink', '/proc/self/ns/mnt'])).trim(), readlinkSync(`/proc/${pid}/ns/mnt`));
  });

  test('kubectl exec errors: unknown command, container, pod without node or agent, plain HTTP', async () => {
    let r = await t.kubectl(['exec', 'p', '--', 'no-such-command-here']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Internal error occurred: error executing command in container: failed to exec in container: exec: "no-such-command-here": executable file not found in \$PATH/);
    r = await t.kubectl(['exec', 'p', '-c', 'nope', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /container nope is not valid for pod p/);
    r = await t.kubectl(['exec', 'unbound', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pod unbound does not have a host assigned/);
    r = await t.kubectl(['exec', 'elsewhere', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the node agent for node "n2" is not reachable, so exec is not available for pod elsewhere/);
    r = await t.kubectl(['exec', 'waiting', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /container not found \("c"\)/);
    const plain = await t.request('POST', '/api/v1/namespaces/default/pods/p/exec?command=true&stdout=true');
    assert.equal(plain.status, 400);
    assert.equal(plain.json.message, 'Upgrade request required');
    const missing = await t.kubectl(['exec', 'gone', '--', 'true']);
    assert.match(missing.stderr, /pods "gone" not found/);
  });

  /** A raw remote command session through the API server: the frames received, by channel. */
  function session(query: string, protocol: string, script: (ws: WebSocket, out: Record<number, string>) => Promise<void> | void) {
    return new Promise<{ protocol: string; out: Record<number, string>; closeCode: number }>((resolve, reject) => {
      const ws = new WebSocket(`wss://${t.server.http.address}/api/v1/namespaces/default/pods/p/exec?${query}`, [protocol], { ca: t.admin.ca, cert: t.admin.cert, key: t.admin.key });
      const out: Record<number, string> = {};
      ws.on('message', (data: Buffer) => {
        out[data[0]] = (out[data[0]] ?? '') + data.subarray(1).toString();
      });
      ws.on('open', () => void Promise.resolve(script(ws, out)).catch(reject));
      ws.on('close', (closeCode) => resolve({ protocol: ws.protocol, out, closeCode }));
      ws.on('error', reject);
    });
  }

  test('the v4 protocol: Status on the error channel, resize while running', async () => {
    const ok = await session('command=echo&command=v4&stdout=true', 'v4.channel.k8s.io', () => undefined);
    assert.equal(ok.protocol, 'v4.channel.k8s.io');
    assert.equal(ok.out[1], 'v4\n');
    assert.deepEqual(JSON.parse(ok.out[3]), { metadata: {}, status: 'Success' });
    assert.equal(ok.closeCode, 1000);
    const failed = await session('command=sh&command=-c&command=exit%2042&stdout=true&stderr=true', 'v4.channel.k8s.io', () => undefined);
    assert.deepEqual(JSON.parse(failed.out[3]), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 42], exit code 42',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '42' }] },
    });
    // A terminal: the first size before the command starts, a later one while it runs; end of stdin ends it.
    const resize = (ws: WebSocket, Width: number, Height: number) => ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width, Height }))]));
    const sized = await session(
      `command=sh&command=-c&command=${encodeURIComponent('stty size; while read x; do stty size; done; exit 7')}&stdin=true&stdout=true&tty=true`,
      'v5.channel.k8s.io',
      async (ws, out) => {
        resize(ws, 80, 24);
        await waitFor('the first size', () => out[1]?.includes('24 80\r\n'));
        resize(ws, 120, 50);
        await waitFor('the new size', () => {
          ws.send(Buffer.from([0, 0x0d]));
          return out[1]?.includes('50 120\r\n');
        });
        ws.send(Buffer.from([255, 0]));
      },
    );
    assert.ok(sized.out[1].startsWith('24 80\r\n'), sized.out[1]);
    assert.ok(sized.out[1].includes('50 120\r\n'), sized.out[1]);
    assert.equal(JSON.parse(sized.out[3]).details.causes[0].message, '7');
  });

  test('kubectl exec -it gets a terminal of the size kubectl reports', async () => {
    // kubectl only asks for a TTY when its own stdin is one: give it one with script(1).
    const cmd = `kubectl --kubeconfig ${t.server.kubeconfigPath} --cache-dir ${join(dir, 'kubectl-cache')} exec -it p -- sh -c 'tty; stty size; exit 5'`;
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qefc', `stty rows 33 cols 101; ${cmd}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
      setTimeout(() => child.kill(), 15_000).unref();
    });
    assert.match(r.out, /\/dev\/pts\/\d+\r\n/);
    assert.match(r.out, /33 101\r\n/);
    assert.match(r.out, /command terminated with exit code 5/);
    assert.equal(r.code, 5);
  });
});
