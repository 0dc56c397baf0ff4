// `kubesvc images`: load a `docker save` tarball and an OCI image archive,
// list them as crictl images does, remove them (and what only they used),
// and clear one-line messages for bad input.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { humanSize, tabulate } from '../../src/cli/images.js';
import { hostPlatform } from '../../src/oci/platform.js';
import { buildImage, buildIndex, buildLayer, webLayer, type BuiltImage } from '../helpers/oci-image.js';
import { dockerSaveTar, ociArchiveTar } from '../helpers/oci-image.js';
import { repoRoot } from '../helpers/cli.js';
import { run, type RunResult } from '../helpers/root.js';

const skip = process.getuid?.() !== 0 ? 'needs root (layers are unpacked with their owners)' : false;

describe('kubesvc images', { skip }, () => {
  let work: string;
  let dataDir: string;
  let web: BuiltImage;
  let other: BuiltImage;
  const images = (...args: string[]): Promise<RunResult> => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'images', ...args, '--data-dir', dataDir], 60_000);

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kubesvc-images-cli-'));
    dataDir = join(work, 'data');
    web = buildImage([webLayer()], { platform: hostPlatform() });
    other = buildImage([webLayer(), buildLayer([{ name: 'www/.wh.index.html', type: 'file' }])], { platform: hostPlatform(), label: 'other' });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('loads a docker save tarball (gzip too) and lists it as crictl images', async () => {
    const file = join(work, 'save.tar.gz');
    writeFileSync(file, gzipSync(dockerSaveTar([{ image: web, repoTags: ['web:1.0', 'localhost:5000/web:latest'] }, { image: other, repoTags: ['other:2'] }])));
    const load = await images('load', file);
    assert.equal(load.stderr, '');
    assert.equal(load.code, 0);
    assert.deepEqual(load.stdout.trim().split('\n'), ['Loaded image: docker.io/library/web:1.0', 'Loaded image: localhost:5000/web:latest', 'Loaded image: docker.io/library/other:2']);
    const ls = await images('ls');
    assert.equal(ls.code, 0, ls.stderr);
    const lines = ls.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^IMAGE {21}TAG {17}IMAGE ID {12}SIZE$/);
    const id = web.configDesc.digest.slice(7, 20);
    assert.match(lines.find((l) => l.startsWith('docker.io/library/web '))!, new RegExp(`^docker\\.io/library/web +1\\.0 +${id} +[0-9.]+MB$`));
    assert.ok(lines.some((l) => l.startsWith('localhost:5000/web ') && l.includes(id)));
    assert.ok(lines.some((l) => l.startsWith('docker.io/library/other ') && l.includes(other.configDesc.digest.slice(7, 20))));
    assert.equal(readdirSync(join(dataDir, 'images/layers')).filter((n) => !n.startsWith('.')).length, 2, 'the shared busybox layer is unpacked once');
  });

  it('loads an OCI image archive named by its annotations', async () => {
    const file = join(work, 'oci.tar');
    const index = buildIndex([web, buildImage([buildLayer([{ name: 'x', type: 'file', data: 'x' }])], { platform: { os: 'linux', architecture: 's390x' } })]);
    writeFileSync(file, ociArchiveTar(index, { 'org.opencontainers.image.ref.name': 'registry.example/team/web:oci' }));
    const load = await images('load', file);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout.trim(), 'Loaded image: registry.example/team/web:oci');
    const tagOnly = join(work, 'tag-only.tar');
    writeFileSync(tagOnly, ociArchiveTar(other, { 'org.opencontainers.image.ref.name': '3.0' }));
    const refused = await images('load', tagOnly);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^kubesvc: the OCI archive names an image only by the tag "3\.0": give the repository with --base-name/);
    const named = await images('load', tagOnly, '--base-name', 'localhost/other');
    assert.equal(named.stdout.trim(), 'Loaded image: localhost/other:3.0');
    assert.match((await images('ls')).stdout, /registry\.example\/team\/web +oci +/);
  });

  it('removes by reference and by image ID, and what no other image uses', async () => {
    const layerDir = join(dataDir, 'images/layers', other.layers[1]!.diffId.slice(7));
    assert.ok(existsSync(layerDir));
    const byRef = await images('rm', 'other:2');
    assert.equal(byRef.code, 0, byRef.stderr);
    assert.equal(byRef.stdout.trim(), 'Deleted: docker.io/library/other:2');
    assert.match((await images('ls')).stdout, /localhost\/other +3\.0/);
    await images('rm', 'localhost/other:3.0');
    assert.ok(!existsSync(layerDir), 'the layer only it used is gone');
    assert.ok(existsSync(join(dataDir, 'images/layers', web.layers[0]!.diffId.slice(7))), 'the shared layer stays');
    const byId = await images('rm', web.configDesc.digest.slice(7, 20));
    assert.equal(byId.code, 0, byId.stderr);
    assert.deepEqual(byId.stdout.trim().split('\n').sort(), ['Deleted: docker.io/library/web:1.0', 'Deleted: localhost:5000/web:latest', 'Deleted: registry.example/team/web:oci']);
    assert.equal((await images('ls')).stdout.trim(), 'IMAGE               TAG                 IMAGE ID            SIZE');
    assert.deepEqual(readdirSync(join(dataDir, 'images/blobs/sha256')), []);
  });

  it('says what is wrong with bad input, without a stack', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['load', join(work, 'missing.tar')], /^kubesvc: .*missing\.tar: no such file\n$/],
      [['load', work], /is a directory, not an image archive\n$/],
      [['rm', 'nothing:here'], /^kubesvc: no such image "nothing:here" present\n$/],
      [['pull', 'Bad Name'], /^kubesvc: Failed to apply default image tag "Bad Name": couldn't parse image name "Bad Name": invalid reference format/],
      [['frobnicate'], /^kubesvc: unknown images command "frobnicate"/],
    ];
    const notTar = join(work, 'not.tar');
    writeFileSync(notTar, 'this is not an archive at all, just some text'.repeat(20));
    cases.push([['load', notTar], /^kubesvc: .*not\.tar is not a docker save or OCI image archive: invalid tar header/]);
    const emptyTar = join(work, 'empty.tar');
    writeFileSync(emptyTar, Buffer.alloc(1024));
    cases.push([['load', emptyTar], /is not a docker save or OCI image archive \(it has neither manifest\.json nor oci-layout and index\.json\)\n$/]);
    for (const [args, message] of cases) {
      const r = await images(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});

describe('images ls formatting', () => {
  it('sizes as go-units HumanSizeWithPrecision(3) and columns as crictl tabwriter', () => {
    assert.deepEqual([0, 12, 1234, 742_594, 999_999, 1_234_567, 5.5e9].map(humanSize), ['0B', '12B', '1.23kB', '743kB', '1e+03kB', '1.23MB', '5.5GB']);
    assert.equal(tabulate([['IMAGE', 'TAG'], ['a-very-long-image-name-beyond-twenty', 'x']]), 'IMAGE                                  TAG\na-very-long-image-name-beyond-twenty   x');
  });
});
