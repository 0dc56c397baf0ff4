// Layer unpacking for overlayfs: whiteouts as 0:0 character devices, opaque
// directories marked with trusted.overlay.opaque=y, modes, owners, times,
// symlinks, hard links, devices, long names; nothing written outside the
// layer directory. Needs root (mknod, chown, trusted.* xattrs) and setfattr.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { cleanEntryPath } from '../../src/oci/scoped-path.js';
import { unpackLayer } from '../../src/oci/unpack.js';
import { buildLayer, type LayerEntry } from '../helpers/oci-image.js';
import { missingPackageReason, toolSkipReason } from '../helpers/root.js';

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (mknod, chown, trusted.* extended attributes)';
  if (toolSkipReason(['getfattr']) || toolSkipReason(['setfattr'])) return missingPackageReason('setfattr and getfattr', 'attr');
  return toolSkipReason(['mknod']);
}

const skip = skipReason();

function getXattr(path: string, name: string): string | undefined {
  try {
    return execFileSync('getfattr', ['-h', '--only-values', '-n', name, path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch {
    return undefined;
  }
}

describe('unpacking a layer', { skip }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kubesvc-unpack-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  async function unpack(entries: LayerEntry[], opts: { gzip?: boolean; gnuLongNames?: boolean } = {}): Promise<{ dir: string; diffId: string; expected: string }> {
    const layer = buildLayer(entries, { gzip: false, ...opts });
    const dir = mkdtempSync(join(work, 'layer-'));
    const diffId = await unpackLayer(Readable.from([layer.tar]), dir);
    return { dir, diffId, expected: layer.diffId };
  }

  it('turns whiteouts into 0:0 character devices and marks opaque directories', async () => {
    const { dir, diffId, expected } = await unpack([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.removed.conf', type: 'file' },
      { name: 'var/lib/app/.wh..wh..opq', type: 'file' },
      { name: 'var/lib/app/fresh', type: 'file', data: 'new' },
      { name: '.wh.gone-dir', type: 'file' },
      { name: 'etc/.wh..wh.plnk', type: 'file' },
    ]);
    assert.equal(diffId, expected);
    for (const w of ['etc/removed.conf', 'gone-dir']) {
      const st = lstatSync(join(dir, w));
      assert.ok(st.isCharacterDevice(), `${w} is a character device`);
      assert.equal(st.rdev, 0);
      assert.equal(st.uid, 0);
      assert.equal(st.gid, 0);
    }
    assert.ok(!existsSync(join(dir, 'etc/.wh.removed.conf')));
    assert.ok(!existsSync(join(dir, 'etc/.wh..wh.plnk')));
    assert.ok(!existsSync(join(dir, 'var/lib/app/.wh..wh..opq')));
    assert.equal(getXattr(join(dir, 'var/lib/app'), 'trusted.overlay.opaque'), 'y');
    assert.equal(getXattr(join(dir, 'etc'), 'trusted.overlay.opaque'), undefined);
    assert.equal(readFileSync(join(dir, 'var/lib/app/fresh'), 'utf8'), 'new');
  });

  it('keeps modes, owners, times, symlinks, hard links, devices and long names', async () => {
    const long = `deep/${'d'.repeat(90)}/${'f'.repeat(120)}.txt`;
    for (const gnuLongNames of [false, true]) {
      const { dir } = await unpack(
        [
          { name: 'bin/', type: 'directory', mode: 0o755, mtime: 1_600_000_000 },
          { name: 'bin/tool', type: 'file', mode: 0o4755, uid: 1000, gid: 1001, mtime: 1_500_000_000, data: 'tool' },
          { name: 'bin/alias', type: 'link', linkname: 'bin/tool' },
          { name: 'etc/localtime', type: 'symlink', linkname: '/usr/share/zoneinfo/UTC', uid: 7, gid: 8 },
          { name: 'secret/', type: 'directory', mode: 0o700, uid: 65534, gid: 65534 },
          { name: 'ro/', type: 'directory', mode: 0o555 },
          { name: 'ro/file', type: 'file', mode: 0o444, data: 'ro' },
          { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
          { name: 'run/fifo', type: 'fifo', mode: 0o600 },
          { name: long, type: 'file', data: 'long', xattrs: { 'user.origin': Buffer.from('test') } },
        ],
        { gnuLongNames },
      );
      const tool = statSync(join(dir, 'bin/tool'));
      assert.equal(tool.mode & 0o7777, 0o4755, 'setuid kept after chown');
      assert.deepEqual([tool.uid, tool.gid, tool.mtimeMs / 1000], [1000, 1001, 1_500_000_000]);
      assert.equal(statSync(join(dir, 'bin')).mtimeMs / 1000, 1_600_000_000);
      assert.equal(statSync(join(dir, 'bin/alias')).ino, tool.ino);
      assert.equal(readlinkSync(join(dir, 'etc/localtime')), '/usr/share/zoneinfo/UTC');
      assert.deepEqual([lstatSync(join(dir, 'etc/localtime')).uid, lstatSync(join(dir, 'etc/localtime')).gid], [7, 8]);
      const secret = statSync(join(dir, 'secret'));
      assert.deepEqual([secret.mode & 0o777, secret.uid, secret.gid], [0o700, 65534, 65534]);
      assert.equal(statSync(join(dir, 'ro')).mode & 0o777, 0o555);
      assert.equal(readFileSync(join(dir, 'ro/file'), 'utf8'), 'ro');
      const dev = lstatSync(join(dir, 'dev/null'));
      assert.ok(dev.isCharacterDevice());
      assert.equal(dev.rdev, (1 << 8) | 3);
      assert.ok(lstatSync(join(dir, 'run/fifo')).isFIFO());
      assert.equal(readFileSync(join(dir, long), 'utf8'), 'long');
      assert.equal(getXattr(join(dir, long), 'user.origin'), 'test');
    }
  });

  it('writes nothing outside the layer: .. refused, symlinked parents resolved inside it', async () => {
    assert.throws(() => cleanEntryPath('../escape'), /leaves the layer directory/);
    assert.throws(() => cleanEntryPath('a/../../escape'), /leaves the layer directory/);
    assert.equal(cleanEntryPath('/abs/./path/'), 'abs/path');
    const outside = join(work, 'outside');
    mkdirSync(outside);
    await assert.rejects(unpack([{ name: '../outside/pwned', type: 'file', data: 'x' }]), /leaves the layer directory/);
    const { dir } = await unpack([
      { name: 'lnk', type: 'symlink', linkname: outside },
      { name: 'lnk/pwned', type: 'file', data: 'inside' },
      { name: 'up', type: 'symlink', linkname: '../../../..' },
      { name: 'up/escaped', type: 'file', data: 'inside too' },
    ]);
    assert.ok(!existsSync(join(outside, 'pwned')));
    assert.equal(readFileSync(join(dir, outside, 'pwned'), 'utf8'), 'inside');
    assert.equal(readFileSync(join(dir, 'escaped'), 'utf8'), 'inside too');
    await assert.rejects(unpack([{ name: 'hard', type: 'link', linkname: '../../etc/passwd' }]), /leaves the layer directory/);
  });

  it('unpacks a gzip layer stream as the registry serves it, with its diff ID', async () => {
    const layer = buildLayer([{ name: 'a', type: 'file', data: 'a'.repeat(100_000) }]);
    const { openLayer } = await import('../../src/oci/decompress.js');
    const { writeFileSync } = await import('node:fs');
    const blob = join(work, 'blob.gz');
    writeFileSync(blob, layer.blob);
    const dir = mkdtempSync(join(work, 'layer-'));
    assert.equal(await unpackLayer(await openLayer(blob), dir), layer.diffId);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8').length, 100_000);
  });
});
