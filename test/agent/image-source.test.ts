// Where a node's images come from (`up --images`, `--registry-mirror`):
// which images run built in per mode (kubesvc's own components always),
// the run plan taking the image manager's word for it, and `up`'s flags —
// parsed with clear messages, kept in the data dir, a flag left out keeping
// what was kept — up to the command line refusing a bad value before
// anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from '../../src/api/types.js';
import { builtinImagePolicy } from '../../src/agent/image-source.js';
import { createImageManager, type ImageManagerOptions } from '../../src/agent/image-pull.js';
import { planRun } from '../../src/agent/run-plan.js';
import type { ImageRecord } from '../../src/oci/image-store.js';
import { UsageError } from '../../src/cli/args.js';
import {
  applyImageFlags,
  defaultImageSettings,
  imageSettingsPath,
  parseImagesFlag,
  parseRegistryMirrorFlags,
  readImageSettings,
} from '../../src/cli/image-settings.js';
import { coreDnsImage, kubeProxyImage } from '../../src/cli/system-components.js';
import { repoRoot } from '../helpers/cli.js';
import { run } from '../helpers/root.js';

const systemImages = [kubeProxyImage, coreDnsImage];
const tutorial = ['registry.k8s.io/e2e-test-images/agnhost:2.39', 'nginx:1.25', 'registry.k8s.io/serve_hostname', 'busybox', 'gcr.io/google-samples/node-hello:1.0'];

test('builtin: every image kubesvc implements runs built in; others are pulled', () => {
  const builtin = builtinImagePolicy({ mode: 'builtin', systemImages });
  for (const image of [...tutorial, ...systemImages]) assert.equal(builtin(image), true, image);
  assert.equal(builtin('127.0.0.1:5000/acme/web:1.0'), false);
});

test('registry: only the exact images kubesvc deploys for its components stay built in', () => {
  const registry = builtinImagePolicy({ mode: 'registry', systemImages });
  for (const image of tutorial) assert.equal(registry(image), false, image);
  assert.equal(registry(kubeProxyImage), true);
  assert.equal(registry(coreDnsImage), true);
  // Another tag of the same image is a user's: pulled.
  assert.equal(registry('registry.k8s.io/kube-proxy:v1.31.0'), false);
  assert.equal(registry('registry.k8s.io/coredns/coredns:v1.11.1'), false);
  assert.equal(registry('Not An Image'), false);
  // Without system images named, nothing is built in.
  assert.equal(builtinImagePolicy({ mode: 'registry' })(kubeProxyImage), false);
});

/** A store with nothing present whose pulls all succeed, recording them. */
function pullingStore() {
  const pulls: string[] = [];
  const record = (image: string) => ({ ref: image, name: image.split(':')[0], digest: 'sha256:d', config: 'sha256:c', layers: [], size: 7 }) as unknown as ImageRecord;
  const pulled = new Set<string>();
  const store: ImageManagerOptions['store'] = {
    resolveLocal: (image) => (pulled.has(image) ? record(image) : undefined),
    pull: async (image) => {
      pulls.push(image);
      pulled.add(image);
      return record(image);
    },
    imageConfig: async () => ({ id: 'sha256:c', Entrypoint: ['/bin/busybox'], Cmd: ['httpd', '-f'] }),
    layerDirs: () => ['/layers/top'],
  };
  return { store, pulls };
}

const podWith = (image: string): { pod: Pod; container: Container } => {
  const container = { name: 'c', image } as Container;
  return { pod: { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [container] } } as Pod, container };
};

test('the run plan asks the image manager: registry mode pulls agnhost with Pulling/Pulled, kube-proxy stays built in', async () => {
  const { store, pulls } = pullingStore();
  const images = createImageManager({ store, getSecret: async () => undefined, runsBuiltin: builtinImagePolicy({ mode: 'registry', systemImages }) });
  const events: string[] = [];
  const event = (t: string, reason: string, message: string) => events.push(`${t} ${reason} ${message}`);
  const agnhost = podWith('registry.k8s.io/e2e-test-images/agnhost:2.39');
  const pulled = await planRun({ ...agnhost, hostname: 'p', images, event });
  assert.equal(pulled.kind, 'run');
  assert.equal(pulled.kind === 'run' && pulled.plan.builtin, undefined);
  assert.deepEqual(pulled.kind === 'run' && pulled.plan.layers, ['/layers/top']);
  assert.deepEqual(pulls, ['registry.k8s.io/e2e-test-images/agnhost:2.39']);
  assert.deepEqual(events.map((e) => e.split(' ').slice(0, 2).join(' ')), ['Normal Pulling', 'Normal Pulled']);
  assert.match(events[1]!, /^Normal Pulled Successfully pulled image "registry\.k8s\.io\/e2e-test-images\/agnhost:2\.39" in /);

  const proxy = podWith(kubeProxyImage);
  const system = await planRun({ ...proxy, command: ['/usr/local/bin/kube-proxy'], hostname: 'p', images, event });
  assert.equal(system.kind === 'run' && system.plan.builtin?.program, 'kube-proxy');
  assert.equal(pulls.length, 1, 'kube-proxy is not pulled');

  // The default manager (builtin mode) runs agnhost built in.
  const builtin = await planRun({ ...agnhost, hostname: 'p', images: createImageManager({ store, getSecret: async () => undefined }), event });
  assert.equal(builtin.kind === 'run' && builtin.plan.builtin?.program, 'agnhost');
});

test('--images and --registry-mirror: parsed, with clear messages', () => {
  assert.equal(parseImagesFlag(undefined), undefined);
  assert.equal(parseImagesFlag('registry'), 'registry');
  assert.equal(parseImagesFlag('builtin'), 'builtin');
  assert.throws(() => parseImagesFlag('pulled'), (e: Error) => e instanceof UsageError && e.message === '--images must be builtin or registry, got "pulled"');
  assert.equal(parseRegistryMirrorFlags(undefined), undefined);
  assert.equal(parseRegistryMirrorFlags([]), undefined);
  assert.deepEqual(parseRegistryMirrorFlags(['registry.k8s.io=http://127.0.0.1:5000', 'docker.io=http://127.0.0.1:5000']), {
    'registry.k8s.io': 'http://127.0.0.1:5000',
    'docker.io': 'http://127.0.0.1:5000',
  });
  assert.deepEqual(parseRegistryMirrorFlags(['none']), {});
  const usage = (values: string[], message: RegExp) => assert.throws(() => parseRegistryMirrorFlags(values), (e: Error) => e instanceof UsageError && message.test(e.message));
  usage(['registry.k8s.io'], /^--registry-mirror: "registry\.k8s\.io" is not NAME=URL/);
  usage(['docker.io=http://10.1.2.3:5000'], /^--registry-mirror: plain HTTP is refused for mirror "http:\/\/10\.1\.2\.3:5000"/);
  usage(['docker.io=http://127.0.0.1:5000', 'index.docker.io=http://127.0.0.1:5001'], /^--registry-mirror: docker\.io is given two mirrors \(http:\/\/127\.0\.0\.1:5000, http:\/\/127\.0\.0\.1:5001\); a registry has one$/);
  usage(['none', 'docker.io=http://127.0.0.1:5000'], /none forgets the mirrors: it goes alone/);
});

test('the settings are kept in the data dir: a flag given replaces, a flag left out keeps', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-image-settings-'));
  try {
    assert.deepEqual(applyImageFlags(dataDir, {}), defaultImageSettings);
    assert.equal(existsSync(imageSettingsPath(dataDir)), false, 'nothing written without flags');
    const mirrors = { 'registry.k8s.io': 'http://127.0.0.1:5000' };
    assert.deepEqual(applyImageFlags(dataDir, { images: 'registry', registryMirrors: mirrors }), { images: 'registry', registryMirrors: mirrors });
    assert.equal((statSync(imageSettingsPath(dataDir)).mode & 0o777).toString(8), '600');
    // `up` again without the flags: the same.
    assert.deepEqual(applyImageFlags(dataDir, {}), { images: 'registry', registryMirrors: mirrors });
    // One flag: the other kept.
    assert.deepEqual(applyImageFlags(dataDir, { images: 'builtin' }), { images: 'builtin', registryMirrors: mirrors });
    assert.deepEqual(applyImageFlags(dataDir, { registryMirrors: {} }), { images: 'builtin', registryMirrors: {} });
    assert.deepEqual(readImageSettings(dataDir), { images: 'builtin', registryMirrors: {} });

    writeFileSync(imageSettingsPath(dataDir), JSON.stringify({ images: 'sometimes', registryMirrors: {} }));
    assert.throws(() => readImageSettings(dataDir), (e: Error) => e instanceof UsageError && e.message.includes('image-settings.json: images must be builtin or registry, got "sometimes"'));
    writeFileSync(imageSettingsPath(dataDir), JSON.stringify({ images: 'registry', registryMirrors: { 'docker.io': 'http://10.0.0.1' } }));
    assert.throws(() => readImageSettings(dataDir), /plain HTTP is refused for mirror/);
    writeFileSync(imageSettingsPath(dataDir), '{');
    assert.throws(() => readImageSettings(dataDir), (e: Error) => e instanceof UsageError && /image-settings\.json: .*fix it, or remove it/.test(e.message));
    assert.match(readFileSync(imageSettingsPath(dataDir), 'utf8'), /^\{$/, 'a bad file is left for its owner to fix');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('kubesvc up refuses a bad --images or --registry-mirror before starting anything', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-image-flags-'));
  try {
    const up = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'up', '--data-dir', dataDir, '--nodes', '0', ...args], 60_000);
    const images = await up('--images', 'cached');
    assert.equal(images.code, 2);
    assert.equal(images.stderr, 'kubesvc: --images must be builtin or registry, got "cached"\n');
    const mirror = await up('--registry-mirror', 'docker.io=http://192.0.2.1:5000');
    assert.equal(mirror.code, 2);
    assert.equal(mirror.stderr, 'kubesvc: --registry-mirror: plain HTTP is refused for mirror "http://192.0.2.1:5000": only loopback registries (localhost, 127.0.0.0/8, [::1]) may be reached without TLS\n');
    assert.equal(existsSync(join(dataDir, 'state.db')), false, 'no API server started');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
