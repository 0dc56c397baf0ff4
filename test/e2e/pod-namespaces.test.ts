// The pod spec's process and IPC namespace options on `kubesvc up --nodes 1`,
// with built-in busybox pods (the node's own programs), as upstream documents
// them ("Share Process Namespace between Containers in a Pod"):
// shareProcessNamespace gives the pod one PID namespace whose PID 1 is the
// pause process, where one container sees the other's processes and reaches
// its files through /proc/<pid>/root; without it each container sees its own
// processes only; a hostPID pod sees the host's processes (its PID 1 is the
// host's init); a hostIPC pod shares the host's /dev/shm and System V IPC
// objects. Deleted, the pods leave no pause process and no mount.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import type { Kubectl } from '../helpers/kubectl.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { namespaceSkipReason, run, toolSkipReason } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { mountTable } from '../../src/agent/oci/mount.js';
import { PAUSE_ARGS } from '../../src/agent/oci/spec.js';

const skip = namespaceSkipReason(['iptables-restore', 'kubectl', 'ipcmk', 'ipcs', 'ipcrm', 'ps']) || toolSkipReason(['crun']);

/** A pod of busybox containers, each `sleep <seconds>` (unique numbers tell the processes apart), with `spec` merged in. */
function sleepers(name: string, sleeps: Record<string, number>, spec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...spec,
      containers: Object.entries(sleeps).map(([c, seconds]) => ({
        name: c,
        image: 'busybox',
        command: ['sh', '-c', `echo "from ${c}" > /tmp/${c}-file; exec sleep ${seconds}`],
      })),
    },
  });
}

/** The host's processes in the PID namespace `ns` (a /proc/<pid>/ns/pid link's text). */
function processesIn(ns: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`) === ns;
    } catch {
      return false;
    }
  });
}

describe('pod PID and IPC namespaces', { skip, timeout: 240_000 }, () => {
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  const tag = randomBytes(4).toString('hex');
  const base = 3000 + Math.floor(Math.random() * 600);
  const sleeps = { shareA: base + 1, shareB: base + 2, aloneA: base + 3, aloneB: base + 4 };
  const shm = `kubesvc-hostipc-${tag}`;
  let shmid: string | undefined;
  const pods = ['share', 'alone', 'hostpid', 'hostipc'];
  const uids: Record<string, string> = {};
  /** Runs a shell script in a pod's container; never throws (the exit code says how it went). */
  const sh = (pod: string, container: string, script: string) => kubectl(['exec', pod, '-c', container, '--', 'sh', '-c', script]);

  before(async () => {
    cluster = await startUp('pod-namespaces', ['--nodes', '1']);
    ({ kubectl } = cluster);
    const manifests = [
      sleepers('share', { a: sleeps.shareA, b: sleeps.shareB }, { shareProcessNamespace: true }),
      sleepers('alone', { a: sleeps.aloneA, b: sleeps.aloneB }),
      sleepers('hostpid', { main: base + 5 }, { hostPID: true }),
      sleepers('hostipc', { main: base + 6 }, { hostIPC: true }),
    ];
    for (const m of manifests) await kubectl.ok(['apply', '-f', '-'], { input: m });
    await kubectl.ok(['wait', '--for=condition=Ready', ...pods.map((p) => `pod/${p}`), '--timeout=90s']);
    for (const p of pods) uids[p] = await kubectl.ok(['get', 'pod', p, '-o', 'jsonpath={.metadata.uid}']);
  });
  after(async () => {
    rmSync(`/dev/shm/${shm}`, { force: true });
    if (shmid) await run('ipcrm', ['-m', shmid]);
    await cluster?.stop();
  });

  test('the API keeps the fields', async () => {
    assert.equal(await kubectl.ok(['get', 'pod', 'share', '-o', 'jsonpath={.spec.shareProcessNamespace}']), 'true');
    assert.equal(await kubectl.ok(['get', 'pod', 'hostpid', '-o', 'jsonpath={.spec.hostPID}']), 'true');
    assert.equal(await kubectl.ok(['get', 'pod', 'hostipc', '-o', 'jsonpath={.spec.hostIPC}']), 'true');
  });

  test('shareProcessNamespace: PID 1 is the pause process, and a container sees the other’s processes and files', async () => {
    const ps = await sh('share', 'b', 'ps ax -o pid=,args=');
    assert.equal(ps.code, 0, ps.stderr);
    const lines = ps.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    assert.equal(lines[0], `1 ${PAUSE_ARGS.join(' ')}`, ps.stdout);
    const a = lines.find((l) => l.endsWith(`sleep ${sleeps.shareA}`));
    assert.ok(a, `container a's process in\n${ps.stdout}`);
    assert.ok(lines.some((l) => l.endsWith(`sleep ${sleeps.shareB}`)), ps.stdout);
    // Its file system through /proc/<pid>/root, as the upstream task page shows with nginx's config.
    const file = await sh('share', 'b', `cat /proc/${a.split(' ')[0]}/root/tmp/a-file`);
    assert.equal(file.stdout, 'from a\n', file.stderr);
    // Signals reach across too: b stops a's process, the pod's a restarts.
    assert.equal((await sh('share', 'b', `kill ${a.split(' ')[0]}`)).code, 0);
    await waitFor('container a restarted', async () => (await kubectl.ok(['get', 'pod', 'share', '-o', 'jsonpath={.status.containerStatuses[?(@.name=="a")].restartCount}'])) === '1', 30_000);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/share', '--timeout=30s']);
    const again = await sh('share', 'a', 'tr "\\0" " " < /proc/1/cmdline');
    assert.equal(again.stdout.trim(), PAUSE_ARGS.join(' '), 'the restarted container joins the same namespace');
  });

  test('without it each container sees its own processes only', async () => {
    const ps = await sh('alone', 'b', 'ps ax -o pid=,args=');
    assert.equal(ps.code, 0, ps.stderr);
    const lines = ps.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    assert.equal(lines[0], `1 sleep ${sleeps.aloneB}`, ps.stdout);
    assert.doesNotMatch(ps.stdout, new RegExp(`sleep ${sleeps.aloneA}|trap`));
  });

  test('hostPID: the host’s processes, PID 1 is the host’s init', async () => {
    const r = await sh('hostpid', 'main', 'cat /proc/1/comm; echo $$');
    const [comm, own] = r.stdout.split('\n');
    assert.equal(comm, readFileSync('/proc/1/comm', 'utf8').trim(), r.stderr);
    assert.notEqual(own, '1');
    const self = await sh('hostpid', 'main', 'readlink /proc/self/ns/pid');
    assert.equal(self.stdout.trim(), readlinkSync('/proc/self/ns/pid'));
  });

  test('hostIPC: a file in the pod’s /dev/shm is the host’s, and so are System V objects', async () => {
    const w = await sh('hostipc', 'main', `echo from the pod > /dev/shm/${shm}`);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(readFileSync(`/dev/shm/${shm}`, 'utf8'), 'from the pod\n');
    rmSync(`/dev/shm/${shm}`);
    const made = await run('ipcmk', ['-M', '4096']);
    shmid = /(\d+)/.exec(made.stdout)?.[1];
    assert.ok(shmid, made.stdout + made.stderr);
    assert.match((await sh('hostipc', 'main', 'ipcs -m')).stdout, new RegExp(`\\b${shmid}\\b`));
    assert.doesNotMatch((await sh('alone', 'a', 'ipcs -m')).stdout, new RegExp(`\\b${shmid}\\b`), 'other pods have their own');
    assert.equal((await sh('hostipc', 'main', 'readlink /proc/self/ns/ipc')).stdout.trim(), readlinkSync('/proc/self/ns/ipc'));
  });

  test('a pause process that dies takes the pod’s containers with it; they restart around a new one', async () => {
    const before = (await sh('share', 'b', 'readlink /proc/self/ns/pid')).stdout.trim();
    const [pause] = processesIn(before).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `${PAUSE_ARGS.join('\0')}\0`);
    assert.ok(pause, `the pause process of ${before}`);
    const restarts = async () => (await kubectl.ok(['get', 'pod', 'share', '-o', 'jsonpath={.status.containerStatuses[*].restartCount}'])).split(' ').map(Number);
    const counts = await restarts();
    process.kill(pause, 'SIGKILL');
    await waitFor('both containers restarted', async () => (await restarts()).every((n, i) => n > counts[i]!), 60_000);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/share', '--timeout=60s']);
    const after = (await sh('share', 'b', 'readlink /proc/self/ns/pid')).stdout.trim();
    assert.equal((await sh('share', 'a', 'readlink /proc/self/ns/pid')).stdout.trim(), after, 'shared again');
    assert.equal((await sh('share', 'a', 'tr "\\0" " " < /proc/1/cmdline')).stdout.trim(), PAUSE_ARGS.join(' '));
    // A new PID namespace around a new pause process (the kernel may give the new namespace the old one's freed inode number).
    const [newPause] = processesIn(after).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `${PAUSE_ARGS.join('\0')}\0`);
    assert.ok(newPause && newPause !== pause, `a new pause process (was ${pause}, now ${newPause})`);
  });

  test('deleted, the pods leave no pause process and no mount', async () => {
    const ns = (await sh('share', 'b', 'readlink /proc/self/ns/pid')).stdout.trim();
    const pause = processesIn(ns).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `${PAUSE_ARGS.join('\0')}\0`);
    assert.equal(pause.length, 1, `one pause process in ${ns}`);
    const podMounts = () => mountTable().map((m) => m.mountpoint).filter((p) => Object.values(uids).some((uid) => p.includes(uid)));
    assert.ok(podMounts().length > 0, 'the pods have their namespaces pinned');
    await kubectl.ok(['delete', 'pod', ...pods, '--wait=true', '--timeout=60s']);
    await waitFor('the shared PID namespace gone', () => processesIn(ns).length === 0, 20_000);
    assert.ok(!existsSync(`/proc/${pause[0]}`) || readFileSync(`/proc/${pause[0]}/cmdline`, 'utf8') !== `${PAUSE_ARGS.join('\0')}\0`);
    await waitFor('no mounts of the pods', () => podMounts().length === 0, 20_000);
  });
});
