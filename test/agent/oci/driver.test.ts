// The runtime driver (crun.ts) around a running container: state and list,
// exec with and without a terminal, signals, logs written straight to a
// file, and the clean-up of what a crashed agent left running.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onPath } from '../../../src/host/tools.js';
import { repoRoot } from '../../helpers/cli.js';
import { describeRuntimes, waitFor, type OciTestEnv } from './helpers.js';


function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() })));
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describeRuntimes((kind) => `the ${kind} driver`, (ctx, kind) => {
  let env: OciTestEnv;
  beforeEach(() => {
    env = ctx();
  });

  /** Starts a long-running container whose output goes to a log file; waits until it runs. */
  async function start(name: string, script: string) {
    const { id, bundle } = await env.bundle(name, ['sh', '-c', script]);
    const log = join(bundle, 'container.log');
    const fd = openSync(log, 'a');
    const c = env.runtime.run({ id, bundle, stdout: fd, stderr: fd });
    closeSync(fd);
    await waitFor(`${id} running`, async () => (await env.runtime.state(id))?.status === 'running' && c.pid());
    return { id, c, log };
  }

  test('state, list, exec, SIGTERM: a running container and its end', async () => {
    const { id, c, log } = await start('term', 'trap "echo bye; exit 42" TERM; echo started; while :; do sleep 1000 & wait; done');
    const state = await env.runtime.state(id);
    assert.equal(state?.pid, c.pid());
    assert.equal(await c.started, c.pid(), 'started resolves with the pid the runtime wrote');
    assert.ok(existsSync(`/proc/${c.pid()}`));
    assert.ok((await env.runtime.list()).some((s) => s.id === id && s.status === 'running'));

    const ran = await output(env.runtime.exec({ id, argv: ['sh', '-c', 'echo $HOSTNAME; pwd; exit 5'], cwd: '/tmp' }));
    assert.deepEqual(ran, { code: 5, stdout: 'pod-one\n/tmp\n', stderr: '' });
    const missing = await output(env.runtime.exec({ id, argv: ['no-such-command'] }));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no-such-command/);

    await waitFor('the first output in the log', () => readFileSync(log, 'utf8').includes('started'));
    await env.runtime.kill(id, 'SIGTERM');
    assert.deepEqual(await c.exited, { exitCode: 42, oomKilled: false, reason: 'Error' });
    assert.equal(readFileSync(log, 'utf8'), 'started\nbye\n');
    assert.equal(await env.runtime.state(id), undefined);
    assert.ok(!(await env.runtime.list()).some((s) => s.id === id));
  });

  test('exec with a terminal, under script(1)', { skip: onPath('script') ? false : 'needs script (bsdutils)' }, async () => {
    const { id, c } = await start('tty', 'sleep 1000');
    const argv = env.runtime.execArgv({ id, argv: ['sh', '-c', 'tty; exit 3'], tty: true });
    const ran = await output(spawn('script', ['-q', '-e', '-c', argv.map(quote).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] }));
    assert.equal(ran.code, 3, ran.stderr);
    assert.match(ran.stdout, /\/dev\/pts\/\d+/);
    await env.runtime.kill(id, 'SIGKILL');
    assert.equal((await c.exited).exitCode, 137);
  });

  test('SIGKILL ends it with 137', async () => {
    const { id, c } = await start('kill', 'sleep 1000');
    await env.runtime.kill(id, 'SIGKILL', true);
    assert.deepEqual(await c.exited, { exitCode: 137, signal: 'SIGKILL', oomKilled: false, reason: 'Error' });
  });

  test('after an agent crash, cleanup deletes what it left running', async () => {
    const { id, bundle } = await env.bundle('orphan', ['sleep', '1000']);
    // An "agent" of its own that starts the container, then dies without a word.
    const script = `
      import { openRuntime } from ${JSON.stringify(join(repoRoot, 'src/agent/oci/crun.ts'))};
      const rt = await openRuntime({ root: ${JSON.stringify(join(env.dataDir, 'runtime'))}, runtime: ${JSON.stringify(kind)} });
      const c = rt.run({ id: ${JSON.stringify(id)}, bundle: ${JSON.stringify(bundle)}, stdout: 'ignore', stderr: 'ignore' });
      const tick = setInterval(() => { if (c.pid()) { clearInterval(tick); console.log(c.pid()); } }, 10);`;
    const agent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => agent.stdout!.once('data', (b: Buffer) => resolve(Number(b.toString().trim()))));
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('close', r));
    assert.ok(existsSync(`/proc/${pid}`), 'the container outlives its agent');
    assert.ok((await env.runtime.list()).some((s) => s.id === id));

    const parent = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    assert.ok((await env.runtime.cleanup()).includes(id));
    // The runtime process the agent left ends once its container does.
    await waitFor('the orphaned runtime process to end', () => !existsSync(`/proc/${parent}`));
    assert.ok(!existsSync(`/proc/${pid}`));
    assert.deepEqual(await env.runtime.list(), []);
  });

  test('a failed start leaves nothing listed', async () => {
    const { id, bundle } = await env.bundle('bad', ['/missing']);
    const c = env.runtime.run({ id, bundle, stdout: 'ignore', stderr: 'ignore' });
    assert.equal(await c.started, undefined, 'never started');
    assert.equal((await c.exited).reason, 'StartError');
    const r = await env.runToEnd('bad', ['/missing']);
    assert.equal(r.exit.reason, 'StartError');
    assert.deepEqual((await env.runtime.list()).filter((s) => s.id.includes('-bad-')), []);
  });
});
