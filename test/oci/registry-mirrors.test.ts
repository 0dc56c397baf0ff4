// Registry mirrors: the NAME=URL values `up --registry-mirror` takes (and the
// messages for bad ones), which mirror an image's registry maps to, the
// requests the client makes to a mirror (there only, the registry named in
// `ns`), and a pull of registry.k8s.io and docker.io images from a real
// registry on loopback standing in for both, the images keeping their names.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore } from '../../src/oci/image-store.js';
import { hostPlatform } from '../../src/oci/platform.js';
import { isRegistryDomain } from '../../src/oci/reference.js';
import { RegistryClient } from '../../src/oci/registry-client.js';
import { mirrorEndpoint, mirrorFor, parseRegistryMirror, RegistryMirrorError } from '../../src/oci/registry-mirrors.js';
import { buildImage, INDEX_HTML, pushImage, webLayer, type BuiltImage } from '../helpers/oci-image.js';
import { registrySkipReason, startRegistry, type TestRegistry } from '../helpers/registry.js';

describe('registry mirror values', () => {
  it('reads NAME=URL: the registry as references name it, the URL checked', () => {
    assert.deepEqual(parseRegistryMirror('registry.k8s.io=http://127.0.0.1:5000'), ['registry.k8s.io', 'http://127.0.0.1:5000']);
    assert.deepEqual(parseRegistryMirror('docker.io=https://mirror.example.com/docker'), ['docker.io', 'https://mirror.example.com/docker']);
    assert.deepEqual(parseRegistryMirror('Index.Docker.IO=http://localhost:5000'), ['docker.io', 'http://localhost:5000']);
    assert.deepEqual(parseRegistryMirror('localhost:5001=http://[::1]:5000'), ['localhost:5001', 'http://[::1]:5000']);
    assert.deepEqual(parseRegistryMirror('localhost=http://127.0.0.2'), ['localhost', 'http://127.0.0.2']);
  });

  it('refuses what is not a mirror, saying why', () => {
    const refused = (value: string, message: RegExp) => assert.throws(() => parseRegistryMirror(value), (e: Error) => e instanceof RegistryMirrorError && message.test(e.message));
    refused('registry.k8s.io', /^"registry\.k8s\.io" is not NAME=URL, e\.g\. registry\.k8s\.io=http:\/\/127\.0\.0\.1:5000$/);
    refused('registry.k8s.io=', /names no mirror URL/);
    refused('quay=https://mirror.example.com', /^"quay" is not a registry name: a host with a dot or a port, or localhost/);
    refused('=http://127.0.0.1:5000', /is not a registry name/);
    refused('registry.k8s.io/foo=http://127.0.0.1:5000', /is not a registry name/);
    refused('docker.io=127.0.0.1:5000', /a mirror's URL starts with http:\/\/ or https:\/\//);
    refused('docker.io=http://exa mple.com', /is not a URL/);
    refused('docker.io=localhost:5000', /starts with http:\/\/ or https:\/\//);
    refused('docker.io=ftp://127.0.0.1', /starts with http:\/\/ or https:\/\//);
    refused('docker.io=http://user:pass@127.0.0.1:5000', /credentials do not belong/);
    refused('docker.io=http://127.0.0.1:5000/?x=1', /no query or fragment/);
    // Plain HTTP stays loopback's alone, as for registries.
    for (const url of ['http://10.0.0.5:5000', 'http://registry.example.com', 'http://192.168.1.2']) {
      refused(`docker.io=${url}`, new RegExp(`^plain HTTP is refused for mirror "${url.replace(/[./]/g, '\\$&')}": only loopback registries \\(localhost, 127\\.0\\.0\\.0/8, \\[::1\\]\\) may be reached without TLS$`));
    }
    assert.equal(isRegistryDomain('registry.k8s.io'), true);
    assert.equal(isRegistryDomain('library'), false);
  });

  it('places the API under the URL path, /v2 appended as containerd appends it', () => {
    assert.deepEqual(mirrorEndpoint('http://127.0.0.1:5000'), { scheme: 'http', host: '127.0.0.1:5000', apiPath: '/v2' });
    assert.deepEqual(mirrorEndpoint('https://mirror.example.com/'), { scheme: 'https', host: 'mirror.example.com', apiPath: '/v2' });
    assert.deepEqual(mirrorEndpoint('https://mirror.example.com/docker-hub/'), { scheme: 'https', host: 'mirror.example.com', apiPath: '/docker-hub/v2' });
    assert.deepEqual(mirrorEndpoint('https://mirror.example.com/proxy/v2'), { scheme: 'https', host: 'mirror.example.com', apiPath: '/proxy/v2' });
  });

  it("maps an image's registry to its mirror; other registries have none", () => {
    const mirrors = { 'registry.k8s.io': 'http://127.0.0.1:5000', 'docker.io': 'http://localhost:5001' };
    assert.equal(mirrorFor(mirrors, 'registry.k8s.io')?.host, '127.0.0.1:5000');
    assert.equal(mirrorFor(mirrors, 'Registry.K8s.io')?.host, '127.0.0.1:5000');
    assert.equal(mirrorFor(mirrors, 'docker.io')?.host, 'localhost:5001');
    assert.equal(mirrorFor(mirrors, 'index.docker.io')?.host, 'localhost:5001');
    assert.equal(mirrorFor(mirrors, 'gcr.io'), undefined);
    assert.equal(mirrorFor(mirrors, 'constructor'), undefined);
    assert.equal(mirrorFor(undefined, 'docker.io'), undefined);
  });
});

describe('the registry client with a mirror', () => {
  it('asks the mirror only, naming the registry it stands in for', async () => {
    const urls: string[] = [];
    const answer: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response(null, { status: 200, headers: { 'docker-content-digest': `sha256:${'a'.repeat(64)}`, 'content-length': '10', 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    };
    const client = new RegistryClient('registry.k8s.io', 'e2e-test-images/agnhost', { fetch: answer, mirror: mirrorEndpoint('http://127.0.0.1:5000') });
    assert.equal(client.host, '127.0.0.1:5000');
    await client.resolve('2.39', 'registry.k8s.io/e2e-test-images/agnhost:2.39');
    const hub = new RegistryClient('docker.io', 'library/nginx', { fetch: answer, mirror: mirrorEndpoint('https://mirror.example.com/hub') });
    await hub.resolve('1.25', 'docker.io/library/nginx:1.25');
    assert.deepEqual(urls, [
      'http://127.0.0.1:5000/v2/e2e-test-images/agnhost/manifests/2.39?ns=registry.k8s.io',
      'https://mirror.example.com/hub/v2/library/nginx/manifests/1.25?ns=docker.io',
    ]);
  });

  it('refuses plain HTTP to a mirror off loopback even when handed one', () => {
    assert.throws(() => new RegistryClient('docker.io', 'library/nginx', { mirror: { scheme: 'http', host: '10.0.0.5:5000', apiPath: '/v2' } }), /plain HTTP is refused for registry "10\.0\.0\.5:5000"/);
  });
});

describe('pulling through a mirror', { skip: registrySkipReason() }, () => {
  let registry: TestRegistry;
  let dataDir: string;
  let web: BuiltImage;

  before(async () => {
    registry = await startRegistry();
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-mirror-pull-'));
    web = buildImage([webLayer()], { platform: hostPlatform() });
    await pushImage(registry.url, 'e2e-test-images/agnhost', '2.39', web);
    await pushImage(registry.url, 'library/nginx', '1.25', web);
  });
  after(async () => {
    await registry?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('pulls registry.k8s.io and docker.io images from the loopback mirror; they keep their names', async () => {
    const store = new ImageStore(dataDir, { mirrors: { 'registry.k8s.io': registry.url, 'docker.io': registry.url } });
    const agnhost = await store.pull('registry.k8s.io/e2e-test-images/agnhost:2.39');
    assert.equal(agnhost.ref, 'registry.k8s.io/e2e-test-images/agnhost:2.39');
    assert.equal(agnhost.name, 'registry.k8s.io/e2e-test-images/agnhost');
    assert.equal(agnhost.digest, web.desc.digest);
    const nginx = await store.pull('nginx:1.25');
    assert.equal(nginx.ref, 'docker.io/library/nginx:1.25');
    assert.equal(readFileSync(join(store.layerDirs('nginx:1.25')[0]!, 'www/index.html'), 'utf8'), INDEX_HTML);
    assert.deepEqual(store.list().map((r) => r.ref), ['docker.io/library/nginx:1.25', 'registry.k8s.io/e2e-test-images/agnhost:2.39']);
  });

  it('does not fall back to the registry itself when the mirror lacks the image', async () => {
    const requested: string[] = [];
    const recording: typeof fetch = (input, init) => {
      requested.push(String(input));
      return fetch(input, init);
    };
    const store = new ImageStore(dataDir, { mirrors: { 'registry.k8s.io': registry.url }, fetch: recording });
    await assert.rejects(store.pull('registry.k8s.io/pause:3.10'), {
      reason: 'ErrImagePull',
      message: `failed to pull and unpack image "registry.k8s.io/pause:3.10": failed to resolve reference "registry.k8s.io/pause:3.10": registry.k8s.io/pause:3.10: not found`,
    });
    assert.ok(requested.length > 0);
    for (const url of requested) assert.ok(url.startsWith(`${registry.url}/v2/pause/`), url);
  });
});
