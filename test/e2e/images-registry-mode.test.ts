// `up --images registry`: the tutorial images are pulled like any other,
// offline through `--registry-mirror`s on loopback. A registry here (Debian's
// docker-registry) holds a busybox-static web image under the names of
// registry.k8s.io's agnhost and Docker Hub's nginx; pods of those names show
// the kubelet's Pulling/Pulled events, serve the image's page, keep the
// images' own names (status, `kubesvc images ls`), while kube-proxy and
// coredns stay built in; `up` again without the flags keeps pulling through
// the mirror. By default the same names run built in, as the Pulled event
// says.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kubectl } from '../helpers/kubectl.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { namespaceSkipReason, onNode, run } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { repoRoot } from '../helpers/cli.js';
import { buildImage, INDEX_HTML, pushImage, webLayer, type BuiltImage } from '../helpers/oci-image.js';
import { registrySkipReason, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { hostPlatform } from '../../src/oci/platform.js';

const skip = namespaceSkipReason(['iptables-restore', 'curl']) || registrySkipReason();

const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.39';
const NGINX = 'nginx:1.25';
/** The test image's web server (its default command serves /www on 8080). */
const HTTPD = ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'];

/** The events of one pod, as `kubectl get events` prints them. */
const eventsOf = (kubectl: Kubectl, pod: string, namespace = 'default') => kubectl.ok(['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${pod}`]);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('up --images registry: the tutorial images pulled through loopback mirrors', { skip, timeout: 400_000 }, () => {
  let registry: TestRegistry | undefined;
  let web: BuiltImage;
  let cluster: UpCluster | undefined;
  /** The registry-mode cluster's data dir, kept across its restart. */
  let dataDir: string | undefined;

  before(async () => {
    registry = await startRegistry();
    web = buildImage([webLayer()], { platform: hostPlatform() });
    await pushImage(registry.url, 'e2e-test-images/agnhost', '2.39', web);
    await pushImage(registry.url, 'library/nginx', '1.25', web);
  });
  after(async () => {
    await cluster?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await registry?.stop();
  });

  /** Stops the cluster (Ctrl-C, as a user would), keeping its data dir. */
  const stopKeepingData = async () => {
    const c = cluster!;
    cluster = undefined;
    c.up.child.kill('SIGINT');
    await c.up.exited;
    c.kubectl.cleanup();
  };

  test('by default the tutorial names run built in, as the Pulled event says', async () => {
    cluster = await startUp('images-builtin', ['--nodes', '1']);
    const { kubectl } = cluster;
    assert.match(cluster.up.output(), /images {7}built in/);
    await kubectl.ok(['run', 'web', `--image=${NGINX}`]);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']);
    const events = await eventsOf(kubectl, 'web');
    assert.match(events, new RegExp(`Container image "${escape(NGINX)}" already present on machine \\(built into kubesvc: nginx\\)`));
    assert.doesNotMatch(events, /Pulling/);
    await cluster.stop();
    cluster = undefined;
  });

  test('registry mode: Pulling/Pulled from the mirror, the pulled image runs, its name kept; kube-system stays built in', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-images-registry-'));
    cluster = await startUp('images-registry', ['--nodes', '1', '--images', 'registry', '--registry-mirror', `registry.k8s.io=${registry!.url}`, '--registry-mirror', `docker.io=${registry!.url}`], { dataDir });
    const { kubectl } = cluster;
    assert.match(cluster.up.output(), /images {7}pulled/);
    assert.match(cluster.up.output(), new RegExp(`mirrors: registry\\.k8s\\.io → ${escape(registry!.url)}, docker\\.io → ${escape(registry!.url)}`));

    await kubectl.ok(['run', 'agnhost', `--image=${AGNHOST}`, '--command', '--', ...HTTPD]);
    await kubectl.ok(['run', 'nginx', `--image=${NGINX}`]);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/agnhost', 'pod/nginx', '--timeout=90s']);

    for (const [pod, image, name] of [
      ['agnhost', AGNHOST, 'registry.k8s.io/e2e-test-images/agnhost'],
      ['nginx', NGINX, 'docker.io/library/nginx'],
    ] as const) {
      const events = await eventsOf(kubectl, pod);
      assert.match(events, new RegExp(`Pulling image "${escape(image)}"`), events);
      assert.match(events, new RegExp(`Successfully pulled image "${escape(image)}" in `), events);
      assert.doesNotMatch(events, /built into kubesvc/);
      // The pulled image's own page, on its own port (the built-in nginx would serve its welcome page on 80).
      const ip = (await kubectl.ok(['get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])).trim();
      await waitFor(`${pod}'s page`, async () => (await onNode(cluster!.dataDir, ['curl', '-s', '-m', '3', `http://${ip}:8080/`])).stdout === INDEX_HTML, 30_000);
      // The image keeps its own name in the pod's status, the digest the mirror served in its ID.
      const status = JSON.parse(await kubectl.ok(['get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0]}']));
      assert.equal(status.image, `${name}:${image.split(':').at(-1)}`);
      assert.equal(status.imageID, `${name}@${web.desc.digest}`);
    }

    const ls = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'images', 'ls', '--data-dir', cluster.dataDir], 60_000);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^registry\.k8s\.io\/e2e-test-images\/agnhost +2\.39 /m);
    assert.match(ls.stdout, /^docker\.io\/library\/nginx +1\.25 /m);
    // `kubesvc images pull` goes through the cluster's mirrors too.
    const pulled = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'images', 'pull', 'nginx:1.25', '--data-dir', cluster.dataDir], 60_000);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /^Image is up to date for sha256:[0-9a-f]{64}\n$/);

    // kubesvc's own components: Running, built in (an ID without a digest: nothing was pulled).
    await waitFor(
      'kube-proxy and coredns Running',
      async () => {
        const pods = JSON.parse(await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-o', 'json'])).items as { metadata: { name: string }; status: { phase?: string } }[];
        return pods.length >= 2 && pods.every((p) => p.status.phase === 'Running');
      },
      60_000,
    );
    const system = JSON.parse(await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-o', 'json'])).items as {
      metadata: { name: string };
      status: { containerStatuses: { image: string; imageID: string }[] };
    }[];
    for (const pod of system) {
      const [c] = pod.status.containerStatuses;
      assert.doesNotMatch(c!.imageID, /@sha256:/, `${pod.metadata.name} runs built in`);
      assert.match(await eventsOf(kubectl, pod.metadata.name, 'kube-system'), /\(built into kubesvc: (kube-proxy|coredns)\)/);
    }
  });

  test('up again without the flags keeps registry mode and the mirrors', async () => {
    assert.ok(cluster, 'the registry-mode cluster runs');
    await stopKeepingData();
    cluster = await startUp('images-registry', ['--nodes', '1'], { dataDir });
    const { kubectl } = cluster;
    // The mirrors are kept (checked before any pull: without them docker.io would be asked).
    assert.match(cluster.up.output(), /images {7}pulled/);
    assert.match(cluster.up.output(), new RegExp(`mirrors: registry\\.k8s\\.io → ${escape(registry!.url)}, docker\\.io → ${escape(registry!.url)}`));
    // Pulled again (Always), from the mirror: nothing else could answer for docker.io here.
    await kubectl.ok(['run', 'again', `--image=${NGINX}`, '--image-pull-policy=Always']);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/again', '--timeout=90s']);
    const events = await eventsOf(kubectl, 'again');
    assert.match(events, new RegExp(`Successfully pulled image "${escape(NGINX)}" in `), events);
    assert.doesNotMatch(events, /built into kubesvc/);
  });
});
