// Loading archives writes nothing outside the store, whatever links the
// archive holds, and checks every OCI blob against its digest.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveError, loadArchive } from '../../src/oci/archive.js';
import { ImageStore } from '../../src/oci/image-store.js';
import { TarWriter } from '../../src/oci/tar-writer.js';
import { buildImage, buildLayer, ociArchiveTar } from '../helpers/oci-image.js';

describe('image archives', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kubesvc-archive-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('never writes through a link the archive makes', async () => {
    const target = join(work, 'outside');
    const file = join(work, 'evil.tar');
    writeFileSync(
      file,
      new TarWriter()
        .add({ name: 'evil', type: 'symlink', linkname: target })
        .add({ name: 'evil', type: 'file' }, Buffer.from('x'))
        .add({ name: 'up', type: 'symlink', linkname: '../../../../..' })
        .add({ name: 'up/escaped', type: 'file' }, Buffer.from('x'))
        .add({ name: 'manifest.json', type: 'symlink', linkname: '/etc/hostname' })
        .end(),
    );
    const store = new ImageStore(join(work, 'data'));
    await assert.rejects(loadArchive(store, file), (e: Error) => e instanceof ArchiveError && e.message === 'the archive has no manifest.json');
    assert.ok(!existsSync(target));
    assert.ok(!existsSync(join(work, '..', 'escaped')));
  });

  it('refuses an OCI blob that is not what its digest says', async () => {
    const image = buildImage([buildLayer([{ name: 'f', type: 'file', data: 'f' }])]);
    const tar = ociArchiveTar(image, { 'io.containerd.image.name': 'localhost/bad:1' });
    const configAt = tar.indexOf(image.config);
    tar[configAt + 2] ^= 0x01;
    const file = join(work, 'bad.tar');
    writeFileSync(file, tar);
    const store = new ImageStore(join(work, 'data2'));
    await assert.rejects(loadArchive(store, file), /unexpected commit digest sha256:[a-f0-9]{64}, expected sha256:[a-f0-9]{64}: failed precondition/);
    assert.equal(store.resolveLocal('localhost/bad:1'), undefined);
  });
});
