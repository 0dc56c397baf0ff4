// Pulls from a real registry (Debian's docker-registry) on loopback: by tag
// and by digest, a manifest list resolved to this platform, corrupted blobs
// refused, a missing tag, one pull for concurrent callers, and the errors
// containerd gives for a registry that wants credentials.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore } from '../../src/oci/image-store.js';
import { hostPlatform } from '../../src/oci/platform.js';
import { buildImage, buildIndex, buildLayer, INDEX_HTML, pushImage, WEB_CONFIG, webLayer, type BuiltImage } from '../helpers/oci-image.js';
import { registryBlobPath, registrySkipReason, startRegistry, TEST_PASSWORD, TEST_USER, type TestRegistry } from '../helpers/registry.js';

const skip = registrySkipReason();
const creds = { username: TEST_USER, password: TEST_PASSWORD };

describe('pulling from a registry', { skip }, () => {
  let registry: TestRegistry;
  let dataDir: string;
  let web: BuiltImage;
  const host = hostPlatform();

  before(async () => {
    registry = await startRegistry();
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-pull-'));
    web = buildImage([webLayer()], { platform: host });
    await pushImage(registry.url, 'web', '1.0', web);
  });
  after(async () => {
    await registry?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('pulls by tag: blobs by digest, the layer unpacked, the config as the runtime reads it', async () => {
    const store = new ImageStore(dataDir);
    const ref = `${registry.host}/web:1.0`;
    const record = await store.pull(ref);
    assert.equal(record.ref, ref);
    assert.equal(record.digest, web.desc.digest);
    assert.equal(record.config, web.configDesc.digest);
    assert.ok(existsSync(join(dataDir, 'images/blobs/sha256', web.layers[0]!.desc.digest.slice(7))));
    const [top] = store.layerDirs(ref);
    assert.equal(top, join(dataDir, 'images/layers', web.layers[0]!.diffId.slice(7)));
    assert.equal(readFileSync(join(top!, 'www/index.html'), 'utf8'), INDEX_HTML);
    const config = await store.imageConfig(ref);
    assert.deepEqual(
      { Entrypoint: config.Entrypoint, Cmd: config.Cmd, Env: config.Env, WorkingDir: config.WorkingDir, ExposedPorts: config.ExposedPorts },
      { Entrypoint: WEB_CONFIG.Entrypoint, Cmd: WEB_CONFIG.Cmd, Env: WEB_CONFIG.Env, WorkingDir: WEB_CONFIG.WorkingDir, ExposedPorts: WEB_CONFIG.ExposedPorts },
    );
    assert.equal(config.id, web.configDesc.digest);
    assert.equal(store.resolveLocal(ref)?.config, web.configDesc.digest);
    assert.equal(store.resolveLocal(web.configDesc.digest.slice(7, 20))?.ref, ref);
  });

  it('pulls by digest, and IfNotPresent then finds it without the registry', async () => {
    const store = new ImageStore(dataDir);
    const ref = `${registry.host}/web@${web.desc.digest}`;
    // Present already (pulled by tag): IfNotPresent does not pull again.
    assert.equal((await store.pull(ref)).ref, `${registry.host}/web:1.0`);
    const record = await store.pull(ref, { policy: 'Always' });
    assert.equal(record.ref, ref);
    assert.equal(record.tag, undefined);
    assert.equal(record.manifest, web.desc.digest);
    const offline = new ImageStore(dataDir, { fetch: () => Promise.reject(new Error('no network')) });
    assert.equal((await offline.pull(ref, { policy: 'IfNotPresent' })).manifest, web.desc.digest);
    assert.equal((await offline.pull(`${registry.host}/web:1.0`, { policy: 'Never' })).config, web.configDesc.digest);
    await assert.rejects(offline.pull(`${registry.host}/web:2.0`, { policy: 'Never' }), {
      name: 'Error',
      message: `Container image "${registry.host}/web:2.0" is not present with pull policy of Never`,
    });
  });

  it('resolves a manifest list to this platform', async () => {
    const other = host.architecture === 'arm64' ? { os: 'linux', architecture: 'amd64' } : { os: 'linux', architecture: 'arm64' };
    const mine = buildImage([buildLayer([{ name: 'arch', type: 'file', data: host.architecture }])], { platform: host, docker: true });
    const theirs = buildImage([buildLayer([{ name: 'arch', type: 'file', data: other.architecture }])], { platform: other, docker: true });
    const windows = buildImage([buildLayer([{ name: 'arch', type: 'file', data: 'windows' }])], { platform: { os: 'windows', architecture: host.architecture } });
    const list = buildIndex([theirs, windows, mine], { docker: true });
    await pushImage(registry.url, 'multi', 'latest', list);
    const store = new ImageStore(dataDir);
    const record = await store.pull(`${registry.host}/multi`);
    assert.equal(record.ref, `${registry.host}/multi:latest`);
    assert.equal(record.digest, list.desc.digest);
    assert.equal(record.manifest, mine.desc.digest);
    assert.equal(readFileSync(join(store.layerDirs(record.ref)[0]!, 'arch'), 'utf8'), host.architecture);

    const foreign = buildIndex([theirs]);
    await pushImage(registry.url, 'foreign', '1', foreign);
    await assert.rejects(store.pull(`${registry.host}/foreign:1`), {
      message: `failed to pull and unpack image "${registry.host}/foreign:1": no match for platform in manifest: not found`,
    });
  });

  it('refuses a blob whose content is not its digest, and keeps nothing of it', async () => {
    const layer = buildLayer([{ name: 'data', type: 'file', data: 'x'.repeat(4096) }]);
    const image = buildImage([layer], { platform: host });
    await pushImage(registry.url, 'corrupt', '1', image);
    const file = registryBlobPath(registry, layer.desc.digest);
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(file, bytes);
    const store = new ImageStore(dataDir);
    const ref = `${registry.host}/corrupt:1`;
    await assert.rejects(store.pull(ref), (e: Error) => {
      assert.match(e.message, new RegExp(`^failed to pull and unpack image "${ref}": failed commit on ref "layer-${layer.desc.digest}": unexpected commit digest sha256:[a-f0-9]{64}, expected ${layer.desc.digest}: failed precondition$`));
      return true;
    });
    assert.ok(!existsSync(join(dataDir, 'images/blobs/sha256', layer.desc.digest.slice(7))));
    assert.equal(store.resolveLocal(ref), undefined);
  });

  it('says not found for a missing tag or repository, as containerd does', async () => {
    const store = new ImageStore(dataDir);
    for (const ref of [`${registry.host}/web:nope`, `${registry.host}/nothing-here:1`]) {
      await assert.rejects(store.pull(ref), { name: 'Error', message: `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found` });
    }
  });

  it('runs one pull for concurrent callers of one reference', async () => {
    const image = buildImage([buildLayer([{ name: 'once', type: 'file', data: 'once' }])], { platform: host, label: 'once' });
    await pushImage(registry.url, 'once', '1', image);
    let manifestGets = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input).includes('/manifests/') && init?.method === 'HEAD') manifestGets++;
      return fetch(input, init);
    };
    const store = new ImageStore(mkdtempSync(join(tmpdir(), 'kubesvc-once-')), { fetch: counting });
    try {
      const ref = `${registry.host}/once:1`;
      const results = await Promise.all([store.pull(ref), store.pull(ref), store.pull(ref, { policy: 'Always' })]);
      assert.equal(manifestGets, 1);
      assert.deepEqual(new Set(results.map((r) => r.config)), new Set([image.configDesc.digest]));
    } finally {
      rmSync(join(store.dir, '..'), { recursive: true, force: true });
    }
  });
});

describe('pulling from a registry with htpasswd (Basic) auth', { skip }, () => {
  let registry: TestRegistry;
  let dataDir: string;
  before(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-pull-basic-'));
    await pushImage(registry.url, 'private/app', '1.0', buildImage([webLayer()], { platform: hostPlatform() }), creds);
  });
  after(async () => {
    await registry?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('pulls with credentials', async () => {
    const record = await new ImageStore(dataDir).pull(`${registry.host}/private/app:1.0`, { credentials: creds });
    assert.equal(record.ref, `${registry.host}/private/app:1.0`);
  });

  it('fails without credentials or with wrong ones, in containerd words', async () => {
    const store = new ImageStore(dataDir);
    const ref = `${registry.host}/private/app:2.0`;
    await assert.rejects(store.pull(ref), {
      message: `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`,
    });
    await assert.rejects(store.pull(ref, { credentials: { username: TEST_USER, password: 'wrong' } }), {
      message: `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": unexpected status from HEAD request to http://${registry.host}/v2/private/app/manifests/2.0: 401 Unauthorized`,
    });
  });

  it('tries each credential of the keyring in turn', async () => {
    const record = await new ImageStore(dataDir).pull(`${registry.host}/private/app:1.0`, { policy: 'Always', credentials: [{ username: 'nobody', password: 'x' }, creds] });
    assert.equal(record.tag, '1.0');
  });
});

describe('pulling from a registry with token (Bearer) auth', { skip }, () => {
  let registry: TestRegistry;
  let dataDir: string;
  before(async () => {
    registry = await startRegistry({ auth: 'token', publicRepos: ['public/app'] });
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-pull-token-'));
    const image = buildImage([webLayer()], { platform: hostPlatform() });
    await pushImage(registry.url, 'private/app', '1.0', image, creds);
    await pushImage(registry.url, 'public/app', '1.0', image, creds);
  });
  after(async () => {
    await registry?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('pulls a public repository with an anonymous token and a private one with the credentials', async () => {
    const store = new ImageStore(dataDir);
    assert.equal((await store.pull(`${registry.host}/public/app:1.0`)).tag, '1.0');
    assert.equal((await store.pull(`${registry.host}/private/app:1.0`, { credentials: creds })).tag, '1.0');
  });

  it('is denied a private repository without credentials, and says why with wrong ones', async () => {
    const store = new ImageStore(dataDir);
    const ref = `${registry.host}/private/app:1.0`;
    await store.remove(ref).catch(() => []);
    await assert.rejects(store.pull(ref, { policy: 'Always' }), {
      message: `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
    });
    await assert.rejects(store.pull(ref, { policy: 'Always', credentials: { username: TEST_USER, password: 'wrong' } }), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(`^failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": failed to authorize: failed to fetch oauth token: unexpected status from GET request to http://127\\.0\\.0\\.1:\\d+/token\\?scope=repository%3Aprivate%2Fapp%3Apull&service=kubesvc-test-registry: 401 Unauthorized$`),
      );
      return true;
    });
  });
});
