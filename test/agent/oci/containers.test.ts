// Real containers from the specs of spec.ts, run by crun (and runc when it
// is installed) over a busybox image: exit codes and output, what a
// container cannot see or do, the pod's namespaces, memory limits.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../helpers/root.js';
import { describeRuntimes, type OciTestEnv } from './helpers.js';


describeRuntimes((kind) => `containers under ${kind}`, (ctx) => {
  let env: OciTestEnv;
  beforeEach(() => {
    env = ctx();
  });

  test('the exit code and output are the container process’s', async () => {
    const failed = await env.runToEnd('exit', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(failed.exit, { exitCode: 3, oomKilled: false, reason: 'Error' });
    assert.equal(failed.stdout, 'out\n');
    assert.equal(failed.stderr, 'err\n');
    const ok = await env.runToEnd('ok', ['true']);
    assert.deepEqual(ok.exit, { exitCode: 0, oomKilled: false, reason: 'Completed' });
  });

  test('a command that does not exist is a StartError with the runtime’s message', async () => {
    const r = await env.runToEnd('nosuch', ['/no/such/program']);
    assert.equal(r.exit.reason, 'StartError');
    assert.equal(r.exit.exitCode, 128);
    assert.match(r.exit.message ?? '', /no\/such\/program/);
  });

  test('writes stay in the container: /etc and /root of the host are untouched', async () => {
    const marker = `kubesvc-oci-marker-${randomBytes(4).toString('hex')}`;
    const r = await env.runToEnd('writes', ['sh', '-c', `echo x > /etc/${marker} && echo y > /root/${marker} && cat /etc/${marker} /root/${marker}`]);
    assert.equal(r.stdout, 'x\ny\n', r.stderr);
    assert.ok(!existsSync(`/etc/${marker}`) && !existsSync(`/root/${marker}`));
    assert.ok(!existsSync(join(env.dataDir, 'images/busybox/etc', marker)), 'the image layer is untouched too');
  });

  test('the container sees its own processes only', async () => {
    const r = await env.runToEnd('ps', ['sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " "; echo; ps -o pid,comm; true']);
    const pids = r.stdout.split('\n')[0]!.trim().split(' ').map(Number);
    assert.equal(pids[0], 1, r.stdout);
    assert.ok(pids.every((p) => p < 20), `only the container's pids: ${pids}`);
    const ps = r.stdout.split('\n').slice(1).filter((l) => /^\s*\d+/.test(l));
    assert.ok(ps.length <= 4 && ps.some((l) => /^\s*1\s+sh$/.test(l)), r.stdout);
  });

  test('without CAP_SYS_ADMIN and CAP_NET_ADMIN: no mounts, no link changes', async () => {
    assert.equal((await run('ip', ['-n', env.netns, 'link', 'set', 'lo', 'up'])).code, 0);
    const r = await env.runToEnd('caps', ['sh', '-c', 'mount -t tmpfs none /mnt; echo mount=$?; ip link set lo down; echo ip=$?']);
    assert.match(r.stdout, /mount=[1-9]/);
    assert.match(r.stdout, /ip=[1-9]/);
    assert.match(r.stderr, /(permission denied|not permitted)/i);
  });

  test('privileged containers can mount', async () => {
    const r = await env.runToEnd('privileged', ['sh', '-c', 'mount -t tmpfs none /mnt && echo mounted && umount /mnt'], { securityContext: { privileged: true } });
    assert.equal(r.stdout, 'mounted\n', r.stderr);
  });

  test('runAsUser 1000 runs as uid 1000 with its passwd group', async () => {
    const r = await env.runToEnd('uid', ['sh', '-c', 'id -u; id -g; id -G; grep ^Cap[EP] /proc/self/status'], { runAsUser: 1000 });
    const [uid, gid, groups] = r.stdout.split('\n');
    assert.equal(uid, '1000');
    assert.equal(gid, '1000');
    assert.deepEqual(groups!.split(' ').sort(), ['1000', '2000']);
    assert.match(r.stdout, /CapPrm:\s+0+\n/, 'a non-root user keeps no capabilities');
  });

  test('readOnlyRootFilesystem makes / unwritable', async () => {
    const r = await env.runToEnd('ro', ['sh', '-c', 'touch /x; echo root=$?; touch /tmp/x; echo tmp=$?'], { securityContext: { readOnlyRootFilesystem: true } });
    assert.match(r.stdout, /root=[1-9]/);
    assert.match(r.stdout, /tmp=[1-9]/);
    assert.match(r.stderr, /read-only file system/i);
  });

  test('the network namespace given is joined', async () => {
    const added = await run('ip', ['-n', env.netns, 'addr', 'add', '192.0.2.77/32', 'dev', 'lo']);
    assert.equal(added.code, 0, added.stderr);
    const r = await env.runToEnd('netns', ['ip', 'addr', 'show', 'dev', 'lo']);
    assert.match(r.stdout, /inet 192\.0\.2\.77\/32/, r.stderr);
  });

  test('the pod’s containers share hostname, IPC and UTS namespaces and /dev/shm', async () => {
    const namespaces = 'hostname; for n in ipc uts net; do readlink /proc/self/ns/$n; done';
    const a = await env.runToEnd('pod-a', ['sh', '-c', `${namespaces}; echo shared > /dev/shm/note`]);
    const b = await env.runToEnd('pod-b', ['sh', '-c', `${namespaces}; cat /dev/shm/note`]);
    assert.equal(a.stdout.split('\n')[0], 'pod-one');
    assert.deepEqual(a.stdout.split('\n').slice(0, 4), b.stdout.split('\n').slice(0, 4));
    assert.match(b.stdout, /shared\n$/);
    const host = await run('readlink', ['/proc/self/ns/ipc']);
    assert.notEqual(host.stdout.trim(), a.stdout.split('\n')[1]);
  });

  test('a container over its memory limit is OOMKilled with 137', async () => {
    const r = await env.runToEnd('oom', ['sh', '-c', 'head -c 64m /dev/zero | tail > /dev/null'], { resources: { limits: { memory: '16Mi' } } });
    assert.deepEqual(r.exit, { exitCode: 137, signal: 'SIGKILL', oomKilled: true, reason: 'OOMKilled' }, r.stderr);
    const fine = await env.runToEnd('no-oom', ['sh', '-c', 'head -c 1m /dev/zero | tail > /dev/null'], { resources: { limits: { memory: '16Mi' } } });
    assert.deepEqual(fine.exit, { exitCode: 0, oomKilled: false, reason: 'Completed' });
  });

  test('seccomp RuntimeDefault refuses what the default capabilities do not cover', async () => {
    // unshare(2) fails even where a capability check would not come first (a user namespace needs none).
    for (const compatArchitectures of [true, false]) {
      const r = await env.runToEnd('seccomp', ['sh', '-c', 'unshare -U true; echo unshare=$?'], { runAsUser: 1000, seccomp: { compatArchitectures } });
      assert.match(r.stdout, /unshare=[1-9]/, r.stderr);
    }
    const open = await env.runToEnd('unconfined', ['sh', '-c', 'unshare -U true; echo unshare=$?'], { runAsUser: 1000, securityContext: { seccompProfile: { type: 'Unconfined' }, allowPrivilegeEscalation: true } });
    assert.match(open.stdout, /unshare=0/, open.stderr);
  });
});
