// Egress (README "Egress"), against a stand-in outside the test makes, never
// the machine's network: namespace <gw> plays the host namespace (up is told
// so with the test-only KUBESVC_EGRESS_GATEWAY_NETNS) and routes through its
// up0 (203.0.113.1/24, TEST-NET-3) to namespace <out>, where an HTTP server
// on 203.0.113.10 says who called and a DNS server on 203.0.113.53 answers
// example.test (the stand-in's resolv.conf: KUBESVC_EGRESS_RESOLV_CONF).
// A pod curls the outside and is seen as the gateway's address (masqueraded
// all the way), and resolves example.test through the cluster DNS; with
// --no-egress the same curl fails and the name is REFUSED. The host
// namespace gets nothing: no link, no table.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaceSkipReason, run } from '../helpers/root.js';
import { repoRoot } from '../helpers/cli.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { clusterIdFor } from '../../src/agent/cluster-id.js';
import { egressHostVethName, egressTableName } from '../../src/agent/egress.js';

const skip = namespaceSkipReason(['kubectl', 'nft', 'curl', 'dig']);
const gw = `kset-${process.pid}-gw`;
const out = `kset-${process.pid}-out`;

async function sh(netns: string | undefined, ...args: string[]): Promise<string> {
  const r = await run('ip', netns ? ['-n', netns, ...args] : args);
  if (r.code !== 0) throw new Error(`ip ${netns ? `-n ${netns} ` : ''}${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function hostHasNothingOf(clusterId: string): Promise<void> {
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
  assert.doesNotMatch(links, new RegExp(egressHostVethName(clusterId)), 'no egress link in the host namespace');
  assert.doesNotMatch((await run('nft', ['list', 'tables'])).stdout, /kubesvc-egress/, 'no egress table in the host namespace');
  assert.doesNotMatch((await run('ip', ['route', 'show'])).stdout, /10\.244\.|10\.96\.|172\.18\.|169\.254\.222\./, 'no cluster route in the host namespace');
}

/** A client pod with the host's tools (curl, dig), Running and Ready, and the cluster DNS ready. */
async function clientPod(c: UpCluster): Promise<void> {
  await c.kubectl.ok(['run', 'client', '--image=busybox', '--command', '--', 'sleep', '3600']);
  await c.kubectl.ok(['wait', '--for=condition=Ready', 'pod/client', '--timeout=60s']);
  await c.kubectl.ok(['wait', '-n', 'kube-system', '--for=condition=Ready', 'pod', '-l', 'k8s-app=kube-dns', '--timeout=60s']);
}

describe('egress through a stand-in outside', { skip, timeout: 240_000 }, () => {
  let servers: ChildProcess | undefined;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubesvc-egress-'));
    await sh(undefined, 'netns', 'add', gw);
    await sh(undefined, 'netns', 'add', out);
    await sh(gw, 'link', 'set', 'lo', 'up');
    await sh(out, 'link', 'set', 'lo', 'up');
    await sh(gw, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', out);
    await sh(gw, 'addr', 'add', '203.0.113.1/24', 'dev', 'up0');
    await sh(gw, 'link', 'set', 'up0', 'up');
    await sh(gw, 'route', 'add', 'default', 'via', '203.0.113.10', 'dev', 'up0');
    await sh(out, 'addr', 'add', '203.0.113.10/24', 'dev', 'eth0');
    await sh(out, 'addr', 'add', '203.0.113.53/24', 'dev', 'eth0');
    await sh(out, 'link', 'set', 'eth0', 'up');
    servers = spawn('ip', ['netns', 'exec', out, process.execPath, '--import', 'tsx', join(repoRoot, 'test/helpers/outside-servers.ts'), '203.0.113.10', '203.0.113.53', 'example.test', '203.0.113.10'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let said = '';
      servers!.stdout!.on('data', (d) => {
        said += d;
        if (said.includes('ready')) resolve();
      });
      servers!.on('exit', (code) => reject(new Error(`the outside's servers exited (${code})`)));
    });
    const resolvConf = join(dir, 'resolv.conf');
    writeFileSync(resolvConf, 'nameserver 203.0.113.53\n');
    env = { KUBESVC_EGRESS_GATEWAY_NETNS: gw, KUBESVC_EGRESS_RESOLV_CONF: resolvConf };
  });

  after(async () => {
    servers?.kill('SIGKILL');
    await run('ip', ['netns', 'delete', out]);
    await run('ip', ['netns', 'delete', gw]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('on: a pod reaches the outside as the gateway, and names outside the cluster resolve through the cluster DNS', async () => {
    const c = await startUp('egress', ['--egress', 'auto'], { env });
    const clusterId = clusterIdFor(c.dataDir);
    try {
      assert.match(c.up.output(), new RegExp(`egress +on: pods reach the outside through the stand-in namespace ${gw}'s up0`));
      assert.match((await run('ip', ['netns', 'exec', gw, 'nft', 'list', 'tables'])).stdout, new RegExp(`table ip ${egressTableName(clusterId)}`));
      await hostHasNothingOf(clusterId);
      await clientPod(c);
      const got = await c.kubectl(['exec', 'client', '--', 'curl', '-s', '-m', '5', 'http://203.0.113.10/']);
      assert.equal(got.stdout, 'hello from outside; you are 203.0.113.1\n', got.stderr);
      const dig = await c.kubectl.ok(['exec', 'client', '--', 'dig', '+short', '+time=3', '+tries=2', 'example.test']);
      assert.equal(dig.trim(), '203.0.113.10');
      // The pod's resolver is the cluster DNS, which forwarded the name (it is no cluster name).
      assert.match(await c.kubectl.ok(['exec', 'client', '--', 'cat', '/etc/resolv.conf']), /nameserver 10\.96\.0\.10/);
    } finally {
      await c.stop();
    }
    // Stopped: the stand-in gateway is as the test made it.
    assert.doesNotMatch((await run('ip', ['netns', 'exec', gw, 'nft', 'list', 'tables'])).stdout, /kubesvc-egress/);
    assert.doesNotMatch((await run('ip', ['-n', gw, '-o', 'link', 'show'])).stdout, new RegExp(egressHostVethName(clusterId)));
    assert.equal((await run('ip', ['netns', 'exec', gw, 'cat', '/proc/sys/net/ipv4/conf/up0/forwarding'])).stdout.trim(), '0', 'forwarding put back');
    await hostHasNothingOf(clusterId);
  });

  test('--no-egress: the same curl fails and the name is REFUSED', async () => {
    const c = await startUp('egress-off', ['--no-egress'], { env });
    try {
      assert.match(c.up.output(), /egress +off \(--no-egress\)/);
      assert.doesNotMatch((await run('ip', ['netns', 'exec', gw, 'nft', 'list', 'tables'])).stdout, /kubesvc-egress/);
      await clientPod(c);
      const got = await c.kubectl(['exec', 'client', '--', 'curl', '-s', '-m', '3', 'http://203.0.113.10/']);
      assert.notEqual(got.code, 0);
      assert.equal(got.stdout, '');
      const dig = await c.kubectl.ok(['exec', 'client', '--', 'dig', '+time=3', '+tries=1', 'example.test']);
      assert.match(dig, /status: REFUSED/);
    } finally {
      await c.stop();
    }
  });
});
