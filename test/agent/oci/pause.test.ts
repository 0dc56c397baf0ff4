// A pod's shared PID namespace and the host's PID and IPC namespaces with
// real containers (sandbox.ts startPause, createPodNamespaces with hostIPC),
// under crun and runc: containers joining the pinned namespace of the pause
// container see each other and each other's files through /proc/<pid>/root,
// with the pause process as PID 1; a dead pause container's namespace takes
// no new container; stop() leaves no process, mount or directory. hostPID
// containers see the host's processes, hostIPC ones its System V objects
// and /dev/shm.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { oomScoreFloor } from '../../../src/agent/oci-launcher.js';
import { mountsUnder } from '../../../src/agent/oci/mount.js';
import { createPodNamespaces, removePodNamespaces, startPause, HOST_SHM, type PauseContainer } from '../../../src/agent/oci/sandbox.js';
import { PAUSE_ARGS } from '../../../src/agent/oci/spec.js';
import { run } from '../../helpers/root.js';
import { describeRuntimes, waitFor, type OciTestEnv } from './helpers.js';

// The kubelet's for pod infrastructure, where this process may lower scores.
const pauseOomScore = Math.max(-998, oomScoreFloor());
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describeRuntimes((kind) => `pod PID and IPC namespaces under ${kind}`, (ctx) => {
  let env: OciTestEnv;
  beforeEach(() => {
    env = ctx();
  });

  async function pause(name: string): Promise<PauseContainer> {
    const id = env.id(name);
    return startPause({
      runtime: env.runtime,
      id,
      dir: join(env.dataDir, 'pods', 'p1', 'sandbox', `pause-${id}`),
      hostname: 'pod-one',
      namespaces: { network: env.netnsPath, ipc: env.pod.ipc, uts: env.pod.uts },
      cgroupsPath: `${env.cgroupParent}/${id}`,
      hide: [env.dataDir],
      oomScoreAdj: pauseOomScore,
    });
  }

  test('shareProcessNamespace: PID 1 is the pause process; containers see each other’s processes and files', async () => {
    const p = await pause('pause');
    try {
      assert.ok(p.alive());
      // The pid is known once the runtime wrote it: the runtime's init may still be about to exec the command.
      await waitFor('the pause command', () => readFileSync(`/proc/${p.pid}/cmdline`, 'utf8') === `${PAUSE_ARGS.join('\0')}\0`);
      assert.equal(readFileSync(`/proc/${p.pid}/oom_score_adj`, 'utf8').trim(), String(pauseOomScore));
      const shared = { namespaces: { network: env.netnsPath, ipc: env.pod.ipc, uts: env.pod.uts, pid: p.pidNamespace } };
      const { id, bundle } = await env.bundle('a', ['sh', '-c', 'echo from-a > /tmp/a-file; exec sleep 1001'], shared);
      const a = env.runtime.run({ id, bundle, stdout: 'ignore', stderr: 'ignore' });
      try {
        const aPid = await waitFor('container a', () => a.pid());
        await waitFor('a to exec its sleep', () => readFileSync(`/proc/${aPid}/cmdline`, 'utf8') === 'sleep\x001001\0');
        const script = 'tr "\\0" " " < /proc/1/cmdline; echo; for p in /proc/[0-9]*; do [ "$(tr "\\0" " " < $p/cmdline)" = "sleep 1001 " ] && cat $p/root/tmp/a-file; done; echo $$';
        const b = await env.runToEnd('b', ['sh', '-c', script], shared);
        const [pid1, file, own] = b.stdout.split('\n');
        assert.equal(pid1, `${PAUSE_ARGS.join(' ')} `, b.stderr);
        assert.equal(file, 'from-a', b.stderr);
        assert.notEqual(own, '1', 'the container’s first process is not PID 1');
      } finally {
        await env.runtime.kill(id, 'SIGKILL', true).catch(() => undefined);
        await a.exited;
      }
      // Containers without it keep their own namespace: PID 1 is their own process.
      const own = await env.runToEnd('own', ['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; true']);
      assert.equal(own.stdout, 'sh -c tr "\\0" " " < /proc/1/cmdline; true ');
    } finally {
      await p.stop();
    }
    assert.ok(!alive(p.pid), 'the pause process is gone');
    assert.deepEqual(mountsUnder(join(env.dataDir, 'pods', 'p1', 'sandbox')).filter((m) => m.includes('pause-')), []);
    assert.ok(!existsSync(join(p.pidNamespace, '..')), 'its directory is removed');
    assert.equal(await env.runtime.state(p.id), undefined);
  });

  test('a pause container that ended: its namespace takes no container, the kernel ended the rest', async () => {
    const p = await pause('dies');
    try {
      const shared = { namespaces: { network: env.netnsPath, ipc: env.pod.ipc, uts: env.pod.uts, pid: p.pidNamespace } };
      const { id, bundle } = await env.bundle('victim', ['sleep', '1002'], shared);
      const victim = env.runtime.run({ id, bundle, stdout: 'ignore', stderr: 'ignore' });
      await waitFor('the victim', () => victim.pid());
      process.kill(p.pid, 'SIGKILL');
      await waitFor('the pause container to be seen ended', () => !p.alive());
      assert.equal((await victim.exited).exitCode, 137, 'killed with the namespace');
      const late = await env.runToEnd('late', ['true'], shared);
      assert.equal(late.exit.reason, 'StartError', JSON.stringify(late.exit));
    } finally {
      await p.stop();
    }
    assert.deepEqual(mountsUnder(join(env.dataDir, 'pods', 'p1', 'sandbox')).filter((m) => m.includes('pause-')), []);
  });

  test('a pause container that cannot start leaves nothing', async () => {
    const bad = startPause({
      runtime: env.runtime,
      id: env.id('bad'),
      dir: join(env.dataDir, 'pods', 'p1', 'sandbox', 'pause-bad'),
      hostname: 'pod-one',
      namespaces: { network: '/var/run/netns/kubesvc-no-such-netns', ipc: env.pod.ipc, uts: env.pod.uts },
      cgroupsPath: `${env.cgroupParent}/bad`,
    });
    await assert.rejects(bad, /pause container did not start/);
    assert.ok(!existsSync(join(env.dataDir, 'pods', 'p1', 'sandbox', 'pause-bad')));
  });

  test('hostPID: the host’s processes, its PID 1 too', async () => {
    const r = await env.runToEnd('hostpid', ['sh', '-c', 'cat /proc/1/comm; echo $$'], { namespaces: { network: env.netnsPath, ipc: env.pod.ipc, uts: env.pod.uts, pid: 'host' } });
    const [comm, own] = r.stdout.split('\n');
    assert.equal(comm, readFileSync('/proc/1/comm', 'utf8').trim(), r.stderr);
    assert.notEqual(own, '1');
  });

  test('hostIPC: no namespace or tmpfs of the pod’s; the host’s System V objects and /dev/shm', async () => {
    const dir = join(env.dataDir, 'pods', 'p2', 'sandbox');
    const ns = await createPodNamespaces({ dir, hostname: 'pod-two', hostIPC: true });
    const marker = `kubesvc-hostipc-${randomBytes(4).toString('hex')}`;
    let shmid: string | undefined;
    try {
      assert.deepEqual(ns, { ipc: 'host', uts: join(dir, 'uts'), shm: HOST_SHM });
      assert.ok(!existsSync(join(dir, 'ipc')) && !existsSync(join(dir, 'shm')));
      assert.deepEqual(mountsUnder(dir), [join(dir, 'uts')]);
      const made = await run('ipcmk', ['-M', '4096']);
      shmid = /(\d+)/.exec(made.stdout)?.[1];
      assert.ok(shmid, made.stdout + made.stderr);
      writeFileSync(join(HOST_SHM, `${marker}-host`), 'from the host\n');
      const r = await env.runToEnd('hostipc', ['sh', '-c', `hostname; cat /dev/shm/${marker}-host; echo from the pod > /dev/shm/${marker}-pod; awk '{print $2}' /proc/sysvipc/shm`], {
        namespaces: { network: env.netnsPath, ipc: ns.ipc, uts: ns.uts },
        shm: ns.shm,
      });
      const [hostname, seen, ...ids] = r.stdout.trim().split('\n');
      assert.equal(hostname, 'pod-two', r.stderr);
      assert.equal(seen, 'from the host');
      assert.ok(ids.includes(shmid), `shmid ${shmid} in ${ids.join(' ')}`);
      assert.equal(readFileSync(join(HOST_SHM, `${marker}-pod`), 'utf8'), 'from the pod\n');
    } finally {
      if (shmid) await run('ipcrm', ['-m', shmid]);
      rmSync(join(HOST_SHM, `${marker}-host`), { force: true });
      rmSync(join(HOST_SHM, `${marker}-pod`), { force: true });
      await removePodNamespaces(dir);
    }
    assert.ok(existsSync(HOST_SHM) && !existsSync(dir));
  });
});
