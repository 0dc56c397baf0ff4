// The tar reader against what the writer and other tar writers produce:
// PAX and GNU long names, base-256 numbers, bodies left unread, bad input.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { BLOCK, formatHeader } from '../../src/oci/tar-header.js';
import { readTar } from '../../src/oci/tar-reader.js';
import { TarWriter } from '../../src/oci/tar-writer.js';

async function entries(tar: Buffer, chunk = 7): Promise<Array<{ name: string; type: string; linkname: string; uid: number; size: number; data: string }>> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < tar.length; i += chunk) chunks.push(tar.subarray(i, i + chunk));
  const out = [];
  for await (const { header, body } of readTar(Readable.from(chunks))) {
    const parts: Buffer[] = [];
    for await (const p of body) parts.push(p);
    out.push({ name: header.name, type: header.type, linkname: header.linkname, uid: header.uid, size: header.size, data: Buffer.concat(parts).toString() });
  }
  return out;
}

describe('tar', () => {
  const long = `${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(60)}`;

  for (const gnuLongNames of [false, true]) {
    it(`reads long names and link names written as ${gnuLongNames ? 'GNU L/K entries' : 'PAX records'}`, async () => {
      const tar = new TarWriter({ gnuLongNames })
        .add({ name: long, type: 'file', uid: 3_000_000 }, Buffer.from('x'.repeat(1000)))
        .add({ name: 'short-link', type: 'symlink', linkname: `/${long}` })
        .add({ name: 'dir/', type: 'directory' })
        .end();
      assert.deepEqual(await entries(tar), [
        { name: long, type: 'file', linkname: '', uid: 3_000_000, size: 1000, data: 'x'.repeat(1000) },
        { name: 'short-link', type: 'symlink', linkname: `/${long}`, uid: 0, size: 0, data: '' },
        { name: 'dir/', type: 'directory', linkname: '', uid: 0, size: 0, data: '' },
      ]);
    });
  }

  it('reads what GNU tar writes (ustar prefix, long names, hard links)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubesvc-tar-'));
    try {
      mkdirSync(join(dir, 'src', long), { recursive: true });
      writeFileSync(join(dir, 'src', long, 'file'), 'gnu');
      symlinkSync('file', join(dir, 'src', long, 'link'));
      for (const format of ['gnu', 'posix', 'ustar']) {
        if (format === 'ustar') rmSync(join(dir, 'src', long, 'link'));
        const tar = execFileSync('tar', [`--format=${format}`, '-C', join(dir, 'src'), '-cf', '-', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'], { maxBuffer: 1 << 24 });
        const got = await entries(tar, 4096);
        const file = got.find((e) => e.name === `${long}/file`);
        assert.equal(file?.data, 'gnu', format);
        if (format !== 'ustar') assert.equal(got.find((e) => e.name === `${long}/link`)?.linkname, 'file', format);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads GNU base-256 numbers and skips bodies left unread', async () => {
    const big = formatHeader({ name: 'big-uid', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 0, linkname: '' });
    Buffer.from([0x80, 0, 0, 0, 0, 0x10, 0, 0]).copy(big, 108);
    big.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of big) sum += b;
    big.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    const tar = Buffer.concat([big, Buffer.from('abc'), Buffer.alloc(BLOCK - 3), new TarWriter().add({ name: 'next', type: 'file' }, Buffer.from('n')).end()]);
    const seen: Array<[string, number]> = [];
    for await (const { header } of readTar(Readable.from([tar]))) seen.push([header.name, header.uid]);
    assert.deepEqual(seen, [['big-uid', 0x100000], ['next', 0]]);
  });

  it('refuses what is not tar, and a truncated archive', async () => {
    await assert.rejects(entries(Buffer.from('not a tar archive '.repeat(40))), /invalid tar header/);
    const tar = new TarWriter().add({ name: 'f', type: 'file' }, Buffer.alloc(2000)).end();
    await assert.rejects(entries(tar.subarray(0, 1024)), /unexpected EOF/);
  });
});
