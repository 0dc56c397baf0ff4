// A fresh machine and a crashed one, as `kubesvc up` meets them: with
// installing turned off it names exactly the command to run; after kill -9
// (of the whole process group, or of up alone under a parent that never
// reaps it, as a container's PID 1 may) `up` on the same data dir starts at once.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { namespaceSkipReason, run } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { kubectlFor } from '../helpers/kubectl.js';

const cli = [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts')];
const temp = (name: string) => mkdtempSync(join(tmpdir(), `kubesvc-${name}-`));

/** `up --nodes 0`'s screen would say nothing of tools: these start a node, with PATH holding only `bin`. */
async function screenWithPath(bin: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const dataDir = temp('noinstall');
  const up = startCli(['up', '--data-dir', dataDir, '--port', '0', ...args], { PATH: bin, ...env });
  try {
    await waitForOutput(up, /kubesvc is up/, 30_000);
    return up.output();
  } finally {
    up.child.kill('SIGINT');
    await up.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('up on a machine that lacks the nodes\' programs, installing turned off', { skip: namespaceSkipReason(['apt-get']), timeout: 90_000 }, () => {
  const bin = temp('bin');
  const withAptGet = join(bin, 'apt');
  mkdirSync(withAptGet);
  const aptGet = (process.env.PATH ?? '').split(':').map((d) => join(d, 'apt-get')).find((p) => existsSync(p));
  if (aptGet) symlinkSync(aptGet, join(withAptGet, 'apt-get'));
  after(() => rmSync(bin, { recursive: true, force: true }));

  const everything = 'apt-get install -y --no-install-recommends iproute2 util-linux procps runc attr iptables conntrack nftables curl dnsutils crun';

  test('--no-install: no nodes, and the exact apt-get command on the nodes line; nothing installed', async () => {
    const out = await screenWithPath(withAptGet, ['--no-install']);
    assert.match(out, /nodes {8}none — nodes need ip, setpriv, unshare, nsenter, sysctl, runc, setfattr, iptables-restore, conntrack \(proxy mode iptables\): install them with: (.*)$/m);
    assert.equal(/install them with: (.*)$/m.exec(out)![1], everything);
    assert.doesNotMatch(out, /installing/);
  });

  test('KUBESVC_NO_INSTALL=1 does the same; without a known package manager the Debian packages are named', async () => {
    assert.equal(/install them with: (.*)$/m.exec(await screenWithPath(withAptGet, [], { KUBESVC_NO_INSTALL: '1' }))?.[1], everything);
    const out = await screenWithPath(join(bin, 'none'), ['--proxy-mode', 'nftables', '--no-install']);
    assert.match(out, /nodes need ip, setpriv, unshare, nsenter, sysctl, runc, setfattr, nft, conntrack \(proxy mode nftables\): install the packages that have them \(Debian: iproute2 util-linux procps runc attr nftables conntrack iptables curl dnsutils crun\)$/m);
  });
});

describe('up right after a kill -9', { skip: namespaceSkipReason(['iptables-restore']), timeout: 180_000 }, () => {
  const dataDirs: string[] = [];
  after(async () => {
    for (const dir of dataDirs) {
      await run(cli[0]!, [...cli.slice(1), 'down', '--data-dir', dir], 60_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A second up on the data dir comes up with its node and serves kubectl; then it is stopped with Ctrl-C. */
  async function startsAgain(dataDir: string): Promise<void> {
    const again: CliProcess = startCli(['up', '--data-dir', dataDir, '--port', '0']);
    try {
      await waitForOutput(again, /kubesvc is up/, 60_000);
      assert.match(again.output(), /nodes {8}node-1 \(172\.18\.0\.2/);
      const kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
      await waitFor('node-1 Ready', async () => /node-1\s+Ready/.test(await kubectl.ok(['get', 'nodes'])), 30_000);
      kubectl.cleanup();
    } finally {
      again.child.kill('SIGINT');
      assert.equal(await again.exited, 0);
    }
  }

  test('the whole process group killed: up on the same data dir starts at once', async () => {
    const dataDir = temp('kill9');
    dataDirs.push(dataDir);
    const first = spawn(cli[0]!, [...cli.slice(1), 'up', '--data-dir', dataDir, '--port', '0', '--no-egress'], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    first.stdout.on('data', (d) => (out += d));
    first.stderr.on('data', (d) => (out += d));
    const exited = new Promise((r) => first.on('exit', r));
    await waitFor('the first up', () => out.includes('kubesvc is up'), 60_000);
    process.kill(-first.pid!, 'SIGKILL');
    await exited;
    await startsAgain(dataDir);
  });

  test('up killed while its parent never reaps it (a zombie still holding its pid): up on the same data dir starts', async () => {
    const dataDir = temp('zombie');
    dataDirs.push(dataDir);
    const log = join(dataDir, 'first-up.log');
    // sh starts up in the background, prints its pid, and becomes a sleep that never waits for it.
    const script = `"$0" "$@" > ${log} 2>&1 & echo $!; exec sleep 300`;
    const parent = spawn('sh', ['-c', script, ...cli, 'up', '--data-dir', dataDir, '--port', '0', '--no-egress'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let pidText = '';
      parent.stdout.on('data', (d) => (pidText += d));
      const upPid = await waitFor('the first up\'s pid', () => Number(pidText.trim()) || undefined, 10_000);
      await waitFor('the first up', () => readFileSync(log, 'utf8').includes('kubesvc is up'), 60_000);
      process.kill(upPid, 'SIGKILL');
      const state = () => readFileSync(`/proc/${upPid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
      await waitFor('the killed up to be a zombie', () => state() === 'Z', 10_000);
      await startsAgain(dataDir);
      assert.equal(state(), 'Z', 'the first up was a zombie all along');
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
