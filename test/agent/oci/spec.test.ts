// The config.json a container gets (no root needed): capabilities,
// privileges, namespaces, mounts, resources, seccomp, sysctls, the user.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from '../../../src/api/types.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, effectiveCapabilities } from '../../../src/agent/oci/capabilities.js';
import { containerCgroupsPath } from '../../../src/agent/oci/cgroups.js';
import { containerResources, milliCPUToQuota, milliCPUToShares, oomScoreAdj } from '../../../src/agent/oci/resources.js';
import { runtimeDefaultProfile } from '../../../src/agent/oci/seccomp.js';
import { effectiveSecurityContext } from '../../../src/agent/oci/security.js';
import { pauseSpec } from '../../../src/agent/oci/spec.js';
import { ContainerSpecError } from '../../../src/agent/oci/spec-error.js';
import { normalizeSysctlName } from '../../../src/agent/oci/sysctls.js';
import { resolveUser, runAsNonRootError } from '../../../src/agent/oci/user.js';
import { baseSpecInput, specWith } from './spec-input.js';

const base = baseSpecInput;
const spec = specWith;

describe('containerSpec', () => {
  test('defaults: containerd default capabilities, no new privileges, masked /proc, RuntimeDefault seccomp', () => {
    const s = spec();
    assert.deepEqual(s.process.capabilities.bounding, ALL_CAPABILITIES.filter((c) => DEFAULT_CAPABILITIES.includes(c)));
    assert.deepEqual(s.process.capabilities.effective, s.process.capabilities.bounding);
    assert.equal(s.process.terminal, false);
    assert.equal(s.process.noNewPrivileges, true);
    assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 524288 }]);
    assert.deepEqual(spec({ host: { ...base.host, nofileHard: 20000 } }).process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 }]);
    assert.ok(s.linux.maskedPaths?.includes('/proc/kcore'));
    assert.ok(s.linux.readonlyPaths?.includes('/proc/sys'));
    assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.deepEqual(s.linux.resources.devices, [{ allow: false, access: 'rwm' }]);
    assert.equal(s.root.readonly, false);
    assert.equal(s.hostname, undefined, 'the pod UTS namespace is joined, its hostname set already');
  });

  test('namespaces: the pod network, IPC and UTS by path; new pid, mount and cgroup', () => {
    assert.deepEqual(spec().linux.namespaces, [
      { type: 'pid' },
      { type: 'network', path: '/var/run/netns/pod' },
      { type: 'ipc', path: '/pods/p/ipc' },
      { type: 'uts', path: '/pods/p/uts' },
      { type: 'mount' },
      { type: 'cgroup' },
    ]);
    const shared = spec({ namespaces: { ...base.namespaces, pid: '/proc/42/ns/pid' } }).linux.namespaces;
    assert.deepEqual(shared[0], { type: 'pid', path: '/proc/42/ns/pid' });
    const host = spec({ namespaces: { ...base.namespaces, pid: 'host', ipc: 'host' } }).linux.namespaces.map((n) => n.type);
    assert.deepEqual(host, ['network', 'uts', 'mount', 'cgroup']);
    const ownUts = spec({ namespaces: { ...base.namespaces, uts: undefined } });
    assert.equal(ownUts.hostname, 'web-0');
  });

  test('capabilities: add and drop, ALL first', () => {
    const caps = (add?: string[], drop?: string[]) => spec({ securityContext: { capabilities: { add, drop } } }).process.capabilities.bounding;
    assert.ok(caps(['NET_ADMIN']).includes('CAP_NET_ADMIN'));
    assert.ok(!caps(undefined, ['chown']).includes('CAP_CHOWN'));
    assert.deepEqual(caps(['NET_BIND_SERVICE'], ['ALL']), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(caps(['ALL'], ['SYS_ADMIN']), ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'));
    assert.deepEqual(effectiveCapabilities({ add: ['CAP_SYS_TIME'] }), [...DEFAULT_CAPABILITIES, 'CAP_SYS_TIME'].sort((a, b) => ALL_CAPABILITIES.indexOf(a) - ALL_CAPABILITIES.indexOf(b)));
  });

  test('allowPrivilegeEscalation true lifts no_new_privs', () => {
    assert.equal(spec({ securityContext: { allowPrivilegeEscalation: true } }).process.noNewPrivileges, false);
    assert.equal(spec({ securityContext: { allowPrivilegeEscalation: false } }).process.noNewPrivileges, true);
  });

  test('privileged: every capability and device, no seccomp or masks, writable sysfs and cgroups', () => {
    const devices = [{ path: '/dev/sda', type: 'b' as const, major: 8, minor: 0 }];
    const s = spec({ securityContext: { privileged: true }, host: { ...base.host, devices } });
    assert.deepEqual(s.process.capabilities.bounding, [...ALL_CAPABILITIES]);
    assert.equal(s.process.noNewPrivileges, false);
    assert.equal(s.linux.seccomp, undefined);
    assert.equal(s.linux.maskedPaths, undefined);
    assert.equal(s.linux.readonlyPaths, undefined);
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    assert.deepEqual(s.linux.devices, devices);
    assert.ok(!s.linux.namespaces.some((n) => n.type === 'cgroup'));
    const sys = s.mounts.filter((m) => m.destination === '/sys' || m.destination === '/sys/fs/cgroup');
    assert.ok(sys.length === 2 && sys.every((m) => m.options?.includes('rw') && !m.options.includes('ro')));
    assert.ok(spec().mounts.filter((m) => m.destination.startsWith('/sys')).every((m) => m.options?.includes('ro')));
  });

  test('seccomp: Unconfined and procMount Unmasked', () => {
    assert.equal(spec({ securityContext: { seccompProfile: { type: 'Unconfined' } } }).linux.seccomp, undefined);
    assert.equal(spec({ seccomp: { defaultProfile: 'Unconfined' } }).linux.seccomp, undefined);
    assert.ok(spec({ seccomp: { defaultProfile: 'Unconfined' }, securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }).linux.seccomp);
    assert.equal(spec({ securityContext: { procMount: 'Unmasked' } }).linux.maskedPaths, undefined);
    assert.throws(() => spec({ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: '../x.json' } }, seccomp: { localhostRoot: '/var/lib/kubelet/seccomp' } }), ContainerSpecError);
  });

  test('Localhost seccomp profiles are read from the profile root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubesvc-seccomp-'));
    try {
      const profile = { defaultAction: 'SCMP_ACT_LOG', architectures: [], syscalls: [] };
      writeFileSync(join(dir, 'log.json'), JSON.stringify(profile));
      const s = spec({ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'log.json' } }, seccomp: { localhostRoot: dir } });
      assert.deepEqual(s.linux.seccomp, profile);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mounts: kernel file systems, then binds by depth; the pod /dev/shm replaces the own one', () => {
    const s = spec({
      binds: [
        { source: '/pods/p/volumes/html', destination: '/usr/share/nginx/html', readOnly: true },
        { source: '/pods/p/hosts', destination: '/etc/hosts' },
      ],
      rootMounts: [{ destination: '/usr', type: 'overlay', source: 'overlay', options: ['lowerdir=/usr'] }],
      shm: '/pods/p/shm',
    });
    assert.deepEqual(
      s.mounts.map((m) => m.destination),
      ['/proc', '/dev', '/dev/pts', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/usr', '/etc/hosts', '/dev/shm', '/usr/share/nginx/html'],
    );
    const html = s.mounts.find((m) => m.destination === '/usr/share/nginx/html')!;
    assert.deepEqual(html, { destination: '/usr/share/nginx/html', type: 'bind', source: '/pods/p/volumes/html', options: ['rbind', 'rprivate', 'ro'] });
    assert.equal(spec({ binds: [{ source: '/x', destination: '/dev' }] }).mounts.filter((m) => m.destination.startsWith('/dev')).length, 1);
    const shared = spec({ binds: [{ source: '/x', destination: '/data', propagation: 'Bidirectional' }] });
    assert.equal(shared.linux.rootfsPropagation, 'rshared');
  });

  test('process: environment with PATH and HOSTNAME first, later names replace earlier in place', () => {
    const s = spec({ env: ['A=1', 'PATH=/custom', 'B=2', 'A=3'], cwd: '/work' });
    assert.deepEqual(s.process.env, ['PATH=/custom', 'HOSTNAME=web-0', 'A=3', 'B=2']);
    assert.equal(s.process.cwd, '/work');
    assert.equal(spec().process.cwd, '/');
  });

  test('readOnlyRootFilesystem and the OOM score', () => {
    const s = spec({ securityContext: { readOnlyRootFilesystem: true }, oomScoreAdj: -997 });
    assert.equal(s.root.readonly, true);
    assert.equal(s.process.oomScoreAdj, -997);
  });

  test('sysctls: namespaced ones only', () => {
    const s = spec({ podSecurityContext: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' }, { name: 'kernel/shm_rmid_forced', value: '1' }] } });
    assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ip_local_port_range': '1024 65000', 'kernel.shm_rmid_forced': '1' });
    assert.throws(() => spec({ podSecurityContext: { sysctls: [{ name: 'vm.swappiness', value: '1' }] } }), /not namespaced/);
    assert.throws(() => spec({ hostNetwork: true, podSecurityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1' }] } }), /host net/);
    assert.throws(() => spec({ namespaces: { ...base.namespaces, ipc: 'host' }, podSecurityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }), /host ipc/);
    assert.equal(normalizeSysctlName('net/ipv4/conf/eth0.100/forwarding'), 'net.ipv4.conf.eth0/100.forwarding');
    assert.equal(normalizeSysctlName('net.ipv4.tcp_syncookies'), 'net.ipv4.tcp_syncookies');
  });

  test('pauseSpec: PID 1 of a new PID namespace, no capabilities, read-only root', () => {
    const s = pauseSpec({ rootfs: 'rootfs', hostname: 'p', cgroupsPath: '/k/pause', host: base.host, namespaces: { network: '/n', ipc: '/i', uts: '/u' } });
    assert.deepEqual(s.linux.namespaces[0], { type: 'pid' });
    assert.deepEqual(s.process.capabilities.bounding, []);
    assert.equal(s.root.readonly, true);
    assert.equal(s.process.args[0], '/bin/sh');
  });
});

describe('resources as the kubelet converts them', () => {
  const res = (requests?: Record<string, string>, limits?: Record<string, string>) => containerResources({ requests, limits }, { swapLimit: true });

  test('CPU shares from the request (2 at least), quota from the limit over 100 ms', () => {
    assert.deepEqual(res({ cpu: '250m' }, { cpu: '500m' }).cpu, { shares: 256, period: 100000, quota: 50000 });
    assert.deepEqual(res().cpu, { shares: 2, period: 100000 });
    assert.deepEqual(res(undefined, { cpu: '2' }).cpu, { shares: 2048, period: 100000, quota: 200000 });
    assert.equal(milliCPUToShares(1), 2);
    assert.equal(milliCPUToShares(100), 102);
    assert.equal(milliCPUToQuota(5), 1000, 'at least 1 ms');
    assert.equal(res({ cpu: '0.1' }).cpu?.shares, 102);
  });

  test('memory limit in bytes, swap held to it', () => {
    assert.deepEqual(res(undefined, { memory: '16Mi' }).memory, { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 });
    assert.deepEqual(containerResources({ limits: { memory: '1G' } }).memory, { limit: 1e9 });
    assert.equal(res({ memory: '64Mi' }).memory, undefined);
  });

  test('OOM score adjustment by QoS class', () => {
    const pod = (resources: Container['resources'], priorityClassName?: string): Pod => ({ spec: { priorityClassName, containers: [{ name: 'c', resources }] } }) as Pod;
    const guaranteed = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } };
    const burstable = { requests: { memory: '1Gi' } };
    const cap = 8 * 1024 ** 3;
    assert.equal(oomScoreAdj(pod(guaranteed), { name: 'c', resources: guaranteed }, cap), -997);
    assert.equal(oomScoreAdj(pod(undefined), { name: 'c' }, cap), 1000);
    assert.equal(oomScoreAdj(pod(burstable), { name: 'c', resources: burstable }, cap), 875);
    assert.equal(oomScoreAdj(pod(undefined, 'system-node-critical'), { name: 'c' }, cap), -997);
    const huge = { requests: { memory: '16Gi' } };
    assert.equal(oomScoreAdj(pod(huge), { name: 'c', resources: huge }, cap), 3);
  });

  test('the kubelet cgroupfs layout', () => {
    assert.equal(containerCgroupsPath({ parent: '/kubesvc/k1', qosClass: 'Burstable', podUID: 'u1', containerId: 'c' }), '/kubesvc/k1/kubepods/burstable/podu1/c');
    assert.equal(containerCgroupsPath({ parent: '/kubesvc/k1/', qosClass: 'Guaranteed', podUID: 'u1' }), '/kubesvc/k1/kubepods/podu1');
  });
});

describe('RuntimeDefault seccomp', () => {
  const names = (p: ReturnType<typeof runtimeDefaultProfile>) => new Set(p.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));

  test('common syscalls allowed, namespace and kernel-changing ones refused', () => {
    const allowed = names(runtimeDefaultProfile(DEFAULT_CAPABILITIES, 'x64'));
    for (const s of ['read', 'openat', 'execve', 'futex', 'arch_prctl', 'epoll_wait', 'ptrace']) assert.ok(allowed.has(s), s);
    for (const s of ['mount', 'unshare', 'setns', 'reboot', 'init_module', 'bpf', 'keyctl', 'add_key', 'kexec_load', 'clock_settime', 'open_by_handle_at']) {
      assert.ok(!allowed.has(s), s);
    }
  });

  test('capabilities bring their syscalls; without SYS_ADMIN clone has no namespace flags and clone3 is ENOSYS', () => {
    const admin = runtimeDefaultProfile([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_SYS_TIME'], 'x64');
    assert.ok(names(admin).has('mount') && names(admin).has('clone3') && names(admin).has('clock_settime'));
    assert.ok(!admin.syscalls.some((r) => r.names.includes('clone') && r.args));
    const plain = runtimeDefaultProfile(DEFAULT_CAPABILITIES, 'x64');
    const clone = plain.syscalls.find((r) => r.names.includes('clone'))!;
    assert.deepEqual(clone.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
    assert.deepEqual(plain.syscalls.find((r) => r.names.includes('clone3')), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
    assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(runtimeDefaultProfile(DEFAULT_CAPABILITIES, 'arm64', false).architectures, ['SCMP_ARCH_AARCH64']);
    assert.equal(runtimeDefaultProfile([], 's390x').syscalls.find((r) => r.names.includes('clone'))!.args![0]!.index, 1);
  });

  test('socket for every family but AF_ALG and AF_VSOCK', () => {
    const rules = runtimeDefaultProfile([], 'x64').syscalls.filter((r) => r.names.includes('socket'));
    const allows = (family: number) =>
      rules.some((r) => r.args!.every((a) => (a.op === 'SCMP_CMP_LT' ? family < a.value : a.op === 'SCMP_CMP_EQ' ? family === a.value : family > a.value)));
    assert.ok(allows(1) && allows(2) && allows(10) && allows(16) && allows(39) && allows(44));
    assert.ok(!allows(38) && !allows(40));
  });
});

describe('the process user', () => {
  const withEtc = (fn: (etc: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'kubesvc-user-'));
    try {
      mkdirSync(join(dir, 'etc'));
      writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nnginx:x:101:101::/:/bin/false\nnum:x:1000:1000::/:/bin/sh\n');
      writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnginx:x:101:\nnum:x:1000:\nwww:x:33:nginx,num\nnginx2:x:102:nginx\n');
      fn(join(dir, 'etc'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('runAsUser, image users, groups and supplemental groups', () =>
    withEtc((etc) => {
      assert.deepEqual(resolveUser({ etc }), { uid: 0, gid: 0, additionalGids: [0] });
      assert.deepEqual(resolveUser({ etc, imageUser: 'nginx' }), { uid: 101, gid: 101, additionalGids: [33, 101, 102] });
      assert.deepEqual(resolveUser({ etc, runAsUser: 1000 }), { uid: 1000, gid: 1000, additionalGids: [33, 1000] });
      assert.deepEqual(resolveUser({ etc, runAsUser: 4242 }), { uid: 4242, gid: 0, additionalGids: [0] });
      assert.deepEqual(resolveUser({ etc, runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [5], fsGroup: 7 }), { uid: 1000, gid: 3000, additionalGids: [5, 7, 33, 3000] });
      assert.deepEqual(resolveUser({ etc, imageUser: 'nginx', supplementalGroupsPolicy: 'Strict' }), { uid: 101, gid: 101, additionalGids: [101] });
      assert.equal(resolveUser({ etc, imageUser: '1000:5' }).gid, 1000, "the kubelet passes the image's uid alone: its group from passwd");
      assert.throws(() => resolveUser({ etc, imageUser: 'nobody' }), /unable to find user nobody/);
    }));

  test('an image passwd that links outside the image is not read', () =>
    withEtc((etc) => {
      rmSync(join(etc, 'passwd'));
      symlinkSync('/etc/passwd', join(etc, 'passwd'));
      assert.throws(() => resolveUser({ etc, imageUser: 'root' }), /unable to find user root/);
    }));

  test('runAsNonRoot as the kubelet words it', () => {
    const o = { pod: 'default/web', container: 'c' };
    assert.equal(runAsNonRootError({ ...o, runAsNonRoot: true }), 'container has runAsNonRoot and image will run as root (pod: "default/web", container: c)');
    assert.match(runAsNonRootError({ ...o, runAsNonRoot: true, runAsUser: 0 })!, /runAsUser breaks non-root policy/);
    assert.match(runAsNonRootError({ ...o, runAsNonRoot: true, imageUser: 'nginx' })!, /non-numeric user \(nginx\)/);
    assert.equal(runAsNonRootError({ ...o, runAsNonRoot: true, imageUser: '101' }), undefined);
    assert.equal(runAsNonRootError({ ...o, runAsNonRoot: false }), undefined);
  });

  test('the effective securityContext takes the pod fields the container leaves out', () => {
    const sc = effectiveSecurityContext({ runAsUser: 1, runAsNonRoot: true, seccompProfile: { type: 'Unconfined' } }, { runAsUser: 2 });
    assert.deepEqual(sc, { runAsUser: 2, runAsNonRoot: true, seccompProfile: { type: 'Unconfined' } });
  });
});
