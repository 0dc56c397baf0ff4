// Image references as the kubelet and containerd normalize them, and the
// kubelet's InvalidImageName messages (distribution/reference's errors).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackDomain, parseImageReference, registryApiHost } from '../../src/oci/reference.js';

const hex = 'a'.repeat(64);

describe('image references', () => {
  it('normalizes familiar names the Docker way', () => {
    // input | domain | path | normalized
    const cases = [
      'nginx | docker.io | library/nginx | docker.io/library/nginx:latest',
      'nginx:1.25 | docker.io | library/nginx | docker.io/library/nginx:1.25',
      'library/nginx | docker.io | library/nginx | docker.io/library/nginx:latest',
      'docker.io/nginx | docker.io | library/nginx | docker.io/library/nginx:latest',
      'index.docker.io/library/nginx | docker.io | library/nginx | docker.io/library/nginx:latest',
      'bitnami/redis:7 | docker.io | bitnami/redis | docker.io/bitnami/redis:7',
      'registry.k8s.io/e2e-test-images/agnhost:2.47 | registry.k8s.io | e2e-test-images/agnhost | registry.k8s.io/e2e-test-images/agnhost:2.47',
      'localhost:5000/app:1 | localhost:5000 | app | localhost:5000/app:1',
      'localhost/app | localhost | app | localhost/app:latest',
      '127.0.0.1:5000/team/app | 127.0.0.1:5000 | team/app | 127.0.0.1:5000/team/app:latest',
      '[::1]:5000/app:v1.0_rc-2 | [::1]:5000 | app | [::1]:5000/app:v1.0_rc-2',
      'Registry.Example:443/app | Registry.Example:443 | app | Registry.Example:443/app:latest',
      `nginx@sha256:${hex} | docker.io | library/nginx | docker.io/library/nginx@sha256:${hex}`,
      `nginx:1.25@sha256:${hex} | docker.io | library/nginx | docker.io/library/nginx@sha256:${hex}`,
    ];
    for (const line of cases) {
      const [input, domain, path, normalized] = line.split(' | ') as [string, string, string, string];
      const ref = parseImageReference(input);
      assert.deepEqual([ref.normalized, ref.domain, ref.path, ref.name], [normalized, domain, path, `${domain}/${path}`], input);
    }
    assert.equal(parseImageReference(`nginx:1.25@sha256:${hex}`).tag, undefined);
    assert.equal(parseImageReference(`nginx@sha256:${hex}`).digest, `sha256:${hex}`);
  });

  it('refuses what the kubelet refuses, in its words', () => {
    const msg = (image: string, why: string) => `Failed to apply default image tag ${JSON.stringify(image)}: couldn't parse image name ${JSON.stringify(image)}: ${why}`;
    const cases: Array<[string, string]> = [
      ['', 'invalid reference format'],
      ['nginx:', 'invalid reference format'],
      ['registry.k8s.io//pause', 'invalid reference format'],
      ['https://registry.example/app', 'invalid reference format'],
      ['nginx@sha256:abc', 'invalid reference format'],
      ['Nginx', 'invalid reference format: repository name (library/Nginx) must be lowercase'],
      ['THIS IS NOT A VALID IMAGE REFERENCE!!', 'invalid reference format: repository name (library/THIS IS NOT A VALID IMAGE REFERENCE!!) must be lowercase'],
      ['quay.io/Team/app:1', 'invalid reference format: repository name (Team/app) must be lowercase'],
      [hex, `invalid repository name (${hex}), cannot specify 64-byte hexadecimal strings`],
      [`nginx@sha256:${'a'.repeat(40)}`, 'invalid checksum digest length'],
      [`nginx@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
      [`nginx@sha256:${'A'.repeat(64)}`, 'invalid checksum digest format'],
      ['a'.repeat(256), 'repository name must not be more than 255 characters'],
    ];
    for (const [image, why] of cases) {
      assert.throws(() => parseImageReference(image), (e: Error & { reason?: string }) => {
        assert.equal(e.message, msg(image, why));
        assert.equal(e.reason, 'InvalidImageName');
        return true;
      }, image);
    }
  });

  it('knows Docker Hub\'s API host and the loopback registries', () => {
    assert.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(registryApiHost('localhost:5000'), 'localhost:5000');
    for (const d of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) assert.ok(isLoopbackDomain(d), d);
    for (const d of ['docker.io', '10.0.0.1:5000', '192.168.1.10', 'registry.example:5000', '128.0.0.1', 'localhost.example', '[::2]:5000']) assert.ok(!isLoopbackDomain(d), d);
  });
});
