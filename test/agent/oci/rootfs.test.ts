// Root file systems (rootfs.ts): image layers as an overlay on the host, and
// the host view of the built-in images - the host's programs, nothing the
// container writes reaching the host, the data dir out of sight - and the
// pause container that gives a pod one PID namespace.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMountpoint } from '../../../src/agent/oci/mount.js';
import { mountImageRootfs, prepareHostView, unmountRootfs } from '../../../src/agent/oci/rootfs.js';
import { pauseSpec } from '../../../src/agent/oci/spec.js';
import { describeRuntimes, waitFor, type OciTestEnv } from './helpers.js';


/** The states (R, S, Z, ...) of a process's children. */
function childStates(pid: number): string[] {
  const kids = readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
  return kids.map((k) => {
    try {
      return readFileSync(`/proc/${k}/stat`, 'utf8').split(') ')[1]![0]!;
    } catch {
      return 'gone';
    }
  });
}

describeRuntimes((kind) => `root file systems under ${kind}`, (ctx) => {
  let env: OciTestEnv;
  beforeEach(() => {
    env = ctx();
  });

  test('image layers: the top one wins, writes go to the upper, unmount leaves nothing mounted', async () => {
    const dir = join(env.dataDir, 'layers');
    const layers = Array.from({ length: 40 }, (_, i) => join(dir, `sha256-${'0'.repeat(60)}${String(i).padStart(4, '0')}`, 'fs'));
    layers.forEach((l, i) => {
      mkdirSync(l, { recursive: true });
      writeFileSync(join(l, 'which'), `layer ${i}\n`);
      writeFileSync(join(l, `only-${i}`), '');
    });
    const rootfs = join(dir, 'c', 'rootfs');
    // 40 long layer paths are more than a page of mount options.
    await mountImageRootfs({ rootfs, lowers: layers, upper: join(dir, 'c', 'upper'), work: join(dir, 'c', 'work') });
    try {
      assert.equal(readFileSync(join(rootfs, 'which'), 'utf8'), 'layer 0\n');
      assert.ok(existsSync(join(rootfs, 'only-39')));
      writeFileSync(join(rootfs, 'new'), 'x');
      assert.ok(existsSync(join(dir, 'c', 'upper', 'new')) && !existsSync(join(layers[0]!, 'new')));
    } finally {
      await unmountRootfs(rootfs);
    }
    assert.ok(!isMountpoint(rootfs));
  });

  test('the host view runs the host’s /bin/sh and cannot change host files', async () => {
    const marker = `kubesvc-oci-${randomBytes(4).toString('hex')}`;
    const script = `cat /etc/os-release | head -1; echo a > /etc/${marker}; echo b > /usr/${marker}; echo c > /root/${marker}; cat /etc/${marker} /usr/${marker} /root/${marker}`;
    const r = await env.runToEnd('host-sh', ['/bin/sh', '-c', script], { hostView: {} });
    assert.equal(r.exit.reason, 'Completed', r.stderr);
    assert.equal(r.stdout, `${readFileSync('/etc/os-release', 'utf8').split('\n')[0]}\na\nb\nc\n`);
    for (const p of [`/etc/${marker}`, `/usr/${marker}`, `/root/${marker}`]) assert.ok(!existsSync(p), p);
    const ro = await env.runToEnd('host-ro', ['/bin/sh', '-c', `echo a > /etc/${marker}`], { hostView: { readonly: true }, securityContext: { readOnlyRootFilesystem: true } });
    assert.equal(ro.exit.exitCode, 2);
    assert.match(ro.stderr, /Read-only file system/);
  });

  test('the data dir is out of sight, privileged or not; so are the host’s password hashes', async () => {
    const script = `ls -A ${env.repo}; cat ${env.dataDir}/secret; ls ${env.dataDir}; cat /etc/shadow; echo end`;
    // Whiteouts made one by one, or as links to one shared whiteout inode (the agent's way).
    const shared = join(env.dataDir, 'whiteout');
    for (const [privileged, whiteout] of [[false, undefined], [true, undefined], [false, shared], [true, shared]] as const) {
      const r = await env.runToEnd('hidden', ['/bin/sh', '-c', script], {
        hostView: { expose: ['/usr', '/etc', env.repo], hide: [env.dataDir], whiteout },
        securityContext: { privileged },
      });
      assert.equal(r.stdout, 'README.md\nend\n', `privileged: ${privileged}, whiteout: ${whiteout}: ${r.stderr}`);
      assert.equal(r.stderr.match(/No such file or directory/g)?.length, 3, r.stderr);
    }
    const st = statSync(shared);
    assert.ok(st.isCharacterDevice() && st.rdev === 0, 'the shared whiteout is a 0/0 character device');
  });

  test('a pod with one PID namespace: the pause process is PID 1 and reaps', async () => {
    const dir = join(env.dataDir, 'pods', 'p1', 'pause');
    const view = await prepareHostView({ dir, expose: ['/usr'], readonly: true });
    const spec = pauseSpec({
      rootfs: view.rootfs,
      rootMounts: view.mounts,
      hostname: 'pod-one',
      cgroupsPath: `${env.cgroupParent}/pause`,
      namespaces: { network: env.netnsPath, ipc: env.pod.ipc, uts: env.pod.uts },
    });
    const bundle = join(dir, 'bundle');
    mkdirSync(bundle, { recursive: true });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const id = env.id('pause');
    const pause = env.runtime.run({ id, bundle, stdout: 'ignore', stderr: 'ignore' });
    const pid = await waitFor('the pause process', () => pause.pid());
    try {
      const shared = { namespaces: { network: env.netnsPath, ipc: env.pod.ipc, uts: env.pod.uts, pid: `/proc/${pid}/ns/pid` } };
      const r = await env.runToEnd('sees-pause', ['sh', '-c', 'ps -o pid,comm; true'], shared);
      assert.match(r.stdout, /^\s*1 sh$/m, r.stdout);
      assert.match(r.stdout, /sleep/);
      // The container ends with a child left behind: it is killed, and the pause process reaps it.
      await env.runToEnd('orphans', ['sh', '-c', 'sleep 1000 & echo started'], shared);
      await waitFor('the pause process left with its own sleep only', () => childStates(pid).join() === 'S');
    } finally {
      await env.runtime.kill(id, 'SIGTERM');
    }
    assert.deepEqual(await pause.exited, { exitCode: 0, oomKilled: false, reason: 'Completed' });
  });
});
