// What the layer reads from the host (no root needed): capabilities, limits,
// cgroup hierarchies, the mount table, devices, OOM kills in the kernel log.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boundingCapabilities } from '../../../src/agent/oci/capabilities.js';
import { cgroupHierarchies } from '../../../src/agent/oci/cgroups.js';
import { hostDevices } from '../../../src/agent/oci/devices.js';
import { nofileHardLimit } from '../../../src/agent/oci/host.js';
import { mountsUnder, mountTable } from '../../../src/agent/oci/mount.js';
import { oomKilledCgroups } from '../../../src/agent/oci/oom.js';

function withFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-host-'));
  try {
    writeFileSync(join(dir, 'f'), text);
    fn(join(dir, 'f'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mountinfo = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '30 22 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,clone_children,cpu',
  '33 30 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  '40 22 0:40 / /data/pods/a\\040b/rootfs rw - overlay overlay rw,lowerdir=/l',
  '41 40 0:41 / /data/pods/a\\040b/rootfs/proc rw - proc proc rw',
  '',
].join('\n');

describe('host facts', () => {
  test('the bounding set from /proc/self/status', () => {
    withFile('Name:\tnode\nCapBnd:\t0000000000000421\n', (f) => assert.deepEqual(boundingCapabilities(f), ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']));
    assert.ok(boundingCapabilities().length > 0);
  });

  test('the hard open-file limit', () => {
    withFile('Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 20000                files\n', (f) => assert.equal(nofileHardLimit(f), 20000));
    withFile('Max open files            unlimited            unlimited            files\n', (f) => assert.equal(nofileHardLimit(f), undefined));
  });

  test('cgroup hierarchies and the mount table from mountinfo', () =>
    withFile(mountinfo, (f) => {
      assert.deepEqual(cgroupHierarchies(f), [
        { mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
        { mountpoint: '/sys/fs/cgroup/cpu', controllers: ['cpu'] },
        { mountpoint: '/sys/fs/cgroup/unified', controllers: ['*'] },
      ]);
      assert.deepEqual(mountTable(f)[5], { mountpoint: '/data/pods/a b/rootfs', fstype: 'overlay', source: 'overlay' });
      assert.deepEqual(mountsUnder('/data/pods/', f), ['/data/pods/a b/rootfs/proc', '/data/pods/a b/rootfs']);
    }));

  test('device nodes with their numbers', () => {
    const null_ = hostDevices().find((d) => d.path === '/dev/null');
    assert.deepEqual(null_ && { type: null_.type, major: null_.major, minor: null_.minor }, { type: 'c', major: 1, minor: 3 });
    assert.ok(!hostDevices().some((d) => d.path.startsWith('/dev/pts/') || d.path === '/dev/console'));
  });

  test('OOM kills in kernel log records', () =>
    withFile('', (f) => {
      // A regular file reads whole: one record is enough to check the parsing.
      writeFileSync(f, '6,1234,5678,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=c1,mems_allowed=0,oom_memcg=/k/p/c1,task_memcg=/k/p/c1,task=tail,pid=9,uid=0\n');
      assert.deepEqual([...oomKilledCgroups(f)], ['/k/p/c1']);
      assert.deepEqual([...oomKilledCgroups(join(f, 'missing'))], []);
    }));
});
