// The registry client without a network: which scheme it may use (plain
// HTTP only to loopback registries, as Docker's default insecure set), how
// it reads WWW-Authenticate, and the platform it picks from an index.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostPlatform, selectManifest } from '../../src/oci/platform.js';
import { parseChallenges } from '../../src/oci/registry-auth.js';
import { RegistryClient, registryScheme } from '../../src/oci/registry-client.js';
import type { Descriptor } from '../../src/oci/media-types.js';

describe('registry client', () => {
  it('refuses plain HTTP to anything but a loopback registry', () => {
    for (const host of ['10.0.0.5:5000', 'registry.example.com', '192.168.1.2:5000', 'docker.io']) {
      assert.throws(() => registryScheme(host, true), new RegExp(`^Error: plain HTTP is refused for registry "${host.replace(/\./g, '\\.')}": only loopback registries \\(localhost, 127\\.0\\.0\\.0/8, \\[::1\\]\\) may be reached without TLS$`));
      assert.throws(() => new RegistryClient(host, 'app', { plainHttp: true }), /plain HTTP is refused/);
      assert.equal(registryScheme(host), 'https');
    }
    for (const host of ['localhost:5000', '127.0.0.1:5000', '127.9.9.9', '[::1]:5000']) assert.equal(registryScheme(host, true), 'http');
    assert.equal(new RegistryClient('docker.io', 'library/nginx').host, 'registry-1.docker.io');
  });

  it('does not fall back to HTTP when a non-loopback registry answers HTTPS in plain HTTP', async () => {
    const urls: string[] = [];
    const tlsFailure: typeof fetch = async (input) => {
      urls.push(String(input));
      throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('SSL routines::wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }) });
    };
    const client = new RegistryClient('registry.example:5000', 'app', { fetch: tlsFailure });
    await assert.rejects(client.resolve('1.0', 'registry.example:5000/app:1.0'), {
      message: 'failed to do request: Head "https://registry.example:5000/v2/app/manifests/1.0": http: server gave HTTP response to HTTPS client (plain HTTP is allowed only for loopback registries: localhost, 127.0.0.0/8, [::1])',
    });
    assert.deepEqual(urls, ['https://registry.example:5000/v2/app/manifests/1.0']);
  });

  it('reads WWW-Authenticate challenges', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull",error="insufficient_scope"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull', error: 'insufficient_scope' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="kubesvc \\"test\\"", Bearer realm="x"'), [
      { scheme: 'basic', params: { realm: 'kubesvc "test"' } },
      { scheme: 'bearer', params: { realm: 'x' } },
    ]);
    assert.deepEqual(parseChallenges(null), []);
  });

  it('picks this platform from an index, then what it can run', () => {
    const d = (architecture: string, variant?: string, os = 'linux'): Descriptor => ({ mediaType: 'm', digest: `${architecture}${variant ?? ''}${os}`, size: 1, platform: { os, architecture, variant } });
    assert.deepEqual(hostPlatform('x64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64' });
    const arm64 = { os: 'linux', architecture: 'arm64' };
    assert.equal(selectManifest([d('amd64'), d('arm', 'v7'), d('arm64', 'v8')], arm64)?.digest, 'arm64v8linux');
    assert.equal(selectManifest([d('amd64'), d('arm', 'v6'), d('arm', 'v7')], arm64)?.digest, 'armv7linux');
    assert.equal(selectManifest([d('amd64', undefined, 'windows'), d('unknown', undefined, 'unknown')], { os: 'linux', architecture: 'amd64' }), undefined);
    assert.equal(selectManifest([d('amd64', 'v3'), d('amd64')], { os: 'linux', architecture: 'amd64' })?.digest, 'amd64linux');
  });
});
