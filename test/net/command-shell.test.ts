import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CommandError } from '../../src/net/ip.js';
import { shellRun } from '../../src/net/command-shell.js';

// First in this file: the shell starts with its first command.
test("a job directory left by an agent killed with its shell is removed when the next shell starts", async () => {
  const gone = spawnSync('true').pid!;
  const orphan = join(tmpdir(), `kubesvc-sh-${gone}-test`);
  mkdirSync(orphan, { recursive: true });
  await shellRun(['true']);
  assert.equal(existsSync(orphan), false);
});

test('a command through the shell: its output, its input, its arguments as given', async () => {
  assert.deepEqual(await shellRun(['printf', '%s|', "it's", 'a $HOME `x`', '']), { stdout: "it's|a $HOME `x`||", stderr: '' });
  assert.equal((await shellRun(['cat'], { input: 'line 1\nline 2\n' })).stdout, 'line 1\nline 2\n');
});

test('a failure is a CommandError with the exit code and what the command said', async () => {
  const e = await shellRun(['sh', '-c', 'echo out; echo oops >&2; exit 3']).catch((x: unknown) => x);
  assert.ok(e instanceof CommandError);
  assert.equal(e.exitCode, 3);
  assert.equal(e.stderr, 'oops\n');
  assert.match(e.message, /^sh -c .*: exit code 3: oops$/);
  const missing = await shellRun(['kubesvc-no-such-command']).catch((x: unknown) => x);
  assert.ok(missing instanceof CommandError);
  assert.match(missing.detail, /^cannot run: .*not found/);
});

test('commands run at the same time', async () => {
  const t0 = performance.now();
  const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => shellRun(['sh', '-c', `sleep 0.3; echo ${i}`])));
  assert.deepEqual(outs.map((o) => o.stdout), ['0\n', '1\n', '2\n', '3\n', '4\n', '5\n', '6\n', '7\n']);
  assert.ok(performance.now() - t0 < 2000, 'eight 0.3 s commands took as long as one after the other');
});

test('a command past its timeout is killed and fails', async () => {
  const e = await shellRun(['sleep', '30'], { timeoutMs: 200 }).catch((x: unknown) => x);
  assert.ok(e instanceof CommandError);
  assert.match(e.detail, /^timed out after 200 ms/);
});
