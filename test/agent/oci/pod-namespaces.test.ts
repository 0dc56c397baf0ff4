// The pod spec's process and IPC namespace options in a container's
// config.json (no root needed): shareProcessNamespace, hostPID and hostIPC
// as the kubelet maps them to namespace modes, and what the spec then joins
// and mounts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HOST_SHM } from '../../../src/agent/oci/sandbox.js';
import { pauseSpec, podNamespaceModes } from '../../../src/agent/oci/spec.js';
import { ContainerSpecError } from '../../../src/agent/oci/spec-error.js';
import { baseSpecInput, specWith } from './spec-input.js';

const base = baseSpecInput;
const spec = specWith;

describe('podNamespaceModes', () => {
  test('a pod of its own: a PID namespace per container, one IPC namespace for the pod', () => {
    assert.deepEqual(podNamespaceModes(undefined), { pid: 'container', ipc: 'pod' });
    assert.deepEqual(podNamespaceModes({}), { pid: 'container', ipc: 'pod' });
    assert.deepEqual(podNamespaceModes({ shareProcessNamespace: false, hostPID: false, hostIPC: false }), { pid: 'container', ipc: 'pod' });
  });

  test('shareProcessNamespace: one PID namespace for the pod', () => {
    assert.deepEqual(podNamespaceModes({ shareProcessNamespace: true }), { pid: 'pod', ipc: 'pod' });
  });

  test("hostPID and hostIPC: the node's; hostPID wins over shareProcessNamespace", () => {
    assert.deepEqual(podNamespaceModes({ hostPID: true }), { pid: 'node', ipc: 'pod' });
    assert.deepEqual(podNamespaceModes({ hostIPC: true }), { pid: 'container', ipc: 'node' });
    assert.deepEqual(podNamespaceModes({ hostPID: true, shareProcessNamespace: true, hostIPC: true }), { pid: 'node', ipc: 'node' });
  });
});

describe('the PID and IPC namespaces in the spec', () => {
  const ofType = (s: ReturnType<typeof spec>, type: string) => s.linux.namespaces.filter((n) => n.type === type);

  test("shareProcessNamespace: the pod's pinned PID namespace is joined by path", () => {
    assert.deepEqual(ofType(spec({ namespaces: { ...base.namespaces, pid: '/pods/p/pause-1/pid' } }), 'pid'), [{ type: 'pid', path: '/pods/p/pause-1/pid' }]);
  });

  test("hostPID: no PID namespace of its own; /proc stays masked", () => {
    const s = spec({ namespaces: { ...base.namespaces, pid: 'host' } });
    assert.deepEqual(ofType(s, 'pid'), []);
    assert.ok(ofType(s, 'mount').length === 1 && ofType(s, 'cgroup').length === 1);
    assert.ok(s.linux.maskedPaths?.includes('/proc/kcore'));
    assert.equal(s.mounts.find((m) => m.destination === '/proc')?.type, 'proc');
  });

  test("hostIPC: no IPC namespace of its own and the host's /dev/shm bound, not a tmpfs", () => {
    const s = spec({ namespaces: { ...base.namespaces, ipc: 'host' }, shm: HOST_SHM });
    assert.deepEqual(ofType(s, 'ipc'), []);
    const shm = s.mounts.filter((m) => m.destination === '/dev/shm');
    assert.deepEqual(shm, [{ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate', 'rw'] }]);
  });

  test('hostIPC refuses IPC sysctls, which would change the host', () => {
    const podSecurityContext = { sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }] };
    assert.throws(() => spec({ namespaces: { ...base.namespaces, ipc: 'host' }, podSecurityContext }), ContainerSpecError);
    assert.deepEqual(spec({ podSecurityContext }).linux.sysctl, { 'kernel.shm_rmid_forced': '1' });
  });

  test("pauseSpec: a new PID namespace whatever it is given, the pod's others, the infrastructure OOM score", () => {
    const s = pauseSpec({ rootfs: 'rootfs', hostname: 'p', cgroupsPath: '/k/pause', host: base.host, oomScoreAdj: -998, namespaces: { network: '/n', ipc: 'host', uts: '/u' } });
    assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['pid', 'network', 'uts', 'mount', 'cgroup']);
    assert.deepEqual(ofType(s, 'pid'), [{ type: 'pid' }]);
    assert.equal(s.process.oomScoreAdj, -998);
    assert.deepEqual(s.process.capabilities.bounding, []);
  });
});
