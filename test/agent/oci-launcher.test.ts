// Pulled images under the OCI runtime in real pods (needs root, crun, a
// static busybox and docker-registry): an API server, one node network and
// an agent; an image built from busybox-static is pushed to a registry on
// loopback. Its pod is pulled (Pulling/Pulled events), runs Running with the
// image's Env and WorkingDir, is entered by kubectl exec and an exec probe
// through the runtime's exec, and logs as usual; a 16Mi limit is OOMKilled
// (exit 137); a missing tag is ErrImagePull then ImagePullBackOff; a root
// image under runAsNonRoot is refused. Nothing is left behind: no
// container, mount, namespace or cgroup.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../../src/api/object.js';
import type { Pod } from '../../src/api/types.js';
import { resourceTypes } from '../../src/client/client.js';
import type { NodeNetwork } from '../../src/agent/contracts.js';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { createNodeNetwork, destroyClusterNetwork } from '../../src/agent/network.js';
import { ociPaths } from '../../src/agent/oci-leftovers.js';
import { cgroupHierarchies } from '../../src/agent/oci/cgroups.js';
import { mountsUnder } from '../../src/agent/oci/mount.js';
import { hostPlatform } from '../../src/oci/platform.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/apiserver.js';
import { buildImage, INDEX_HTML, pushImage, WEB_CONFIG, webLayer } from '../helpers/oci-image.js';
import { registrySkipReason, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { namespaceSkipReason } from '../helpers/root.js';
import { ociSkipReason } from './oci/helpers.js';

type PodObj = Pod & KubeObject;
type Status = NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number];

const skip = namespaceSkipReason(['ip', 'unshare', 'nsenter', 'setpriv', 'kubectl']) || ociSkipReason() || registrySkipReason();

describe('pulled images under the OCI runtime', { skip, timeout: 240_000 }, () => {
  const clusterId = `t${randomBytes(3).toString('hex')}`;
  const nodeName = 'node-oci';
  let cluster: TestCluster;
  let network: NodeNetwork;
  let agent: Agent | undefined;
  let registry: TestRegistry;
  let stateDir: string;
  let image: string;

  const pods = () => cluster.client.resource<PodObj>(resourceTypes.pods);
  const apply = (name: string, spec: object) =>
    cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, ...spec } }) });
  const status = async (name: string): Promise<Status | undefined> => (await pods().get('default', name)).status?.containerStatuses?.[0];
  const events = async (name: string) => (await cluster.kubectl.ok(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'custom-columns=T:.type,R:.reason,M:.message', '--no-headers'])).split('\n');

  before(async () => {
    registry = await startRegistry();
    await pushImage(registry.url, 'acme/web', '1.0', buildImage([webLayer()], { platform: hostPlatform() }));
    image = `${registry.host}/acme/web:1.0`;
    cluster = await startTestCluster({ only: [] });
    network = await createNodeNetwork({ clusterId, nodeName, nodeIndex: 0, peers: [] });
    stateDir = mkdtempSync(join(tmpdir(), 'kubesvc-oci-agent-'));
    agent = await startAgent({ client: cluster.client, nodeName, nodeIndex: 0, clusterId, stateDir, dataDir: cluster.dataDir, network, stopGraceMs: 1000 });
  });

  after(async () => {
    await agent?.stop();
    await network?.destroy();
    await destroyClusterNetwork(clusterId).catch(() => undefined);
    await cluster?.stop();
    await registry?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  test('a pod of a pulled image runs: events, image config, exec, exec probe, logs', async () => {
    await apply('web', {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'web', image, env: [{ name: 'MINE', value: 'yes' }], readinessProbe: { exec: { command: ['/bin/busybox', 'test', '-f', '/www/index.html'] }, periodSeconds: 1 } }],
    });
    await waitFor('web Ready', async () => (await status('web'))?.ready === true, 60_000);
    const s = (await status('web'))!;
    assert.equal(s.image, `${image}`);
    assert.match(s.imageID ?? '', new RegExp(`^${registry.host.replace(/\./g, '\\.')}/acme/web@sha256:[0-9a-f]{64}$`));
    const ev = await events('web');
    assert.ok(ev.some((l) => /^Normal\s+Pulling\s+Pulling image "/.test(l)), ev.join('\n'));
    assert.ok(ev.some((l) => /^Normal\s+Pulled\s+Successfully pulled image ".*" in [\d.]+m?s \([\d.]+m?s including waiting\)\. Image size: \d+ bytes\.$/.test(l)), ev.join('\n'));

    const exec = (cmd: string[]) => cluster.kubectl.ok(['exec', 'web', '--', ...cmd]);
    const env = await exec(['/bin/busybox', 'env']);
    assert.match(env, /^GREETING=hello$/m, 'the image Env');
    assert.match(env, /^MINE=yes$/m, 'the container env');
    assert.equal((await exec(['/bin/busybox', 'pwd'])).trim(), WEB_CONFIG.WorkingDir);
    assert.equal(await exec(['/bin/busybox', 'cat', '/www/index.html']), INDEX_HTML);
    // Inside the container: its own PID namespace, no data dir of the host.
    assert.equal((await exec(['/bin/busybox', 'sh', '-c', 'echo $$'])).trim() !== '', true);
    assert.notEqual((await cluster.kubectl(['exec', 'web', '--', '/bin/busybox', 'ls', cluster.dataDir])).code, 0);
    // httpd logs nothing by default: the log is the run's file, empty but there.
    assert.equal((await cluster.kubectl(['logs', 'web'])).code, 0);
  });

  test('a container over its 16Mi limit is OOMKilled with exit code 137', async () => {
    await apply('hog', {
      restartPolicy: 'Never',
      containers: [{ name: 'hog', image, command: ['/bin/busybox', 'sh', '-c', 'echo eating; /bin/busybox head -c 200000000 /dev/zero | /bin/busybox tail'], resources: { limits: { memory: '16Mi' } } }],
    });
    const t = await waitFor('hog terminated', async () => (await status('hog'))?.state?.terminated, 60_000);
    assert.equal(t.reason, 'OOMKilled');
    assert.equal(t.exitCode, 137);
    assert.match(await cluster.kubectl.ok(['logs', 'hog']), /^eating\n/);
  });

  test('a missing tag: ErrImagePull, then ImagePullBackOff', async () => {
    const missing = `${registry.host}/acme/web:nope`;
    await apply('missing', { containers: [{ name: 'c', image: missing }] });
    const first = await waitFor('a waiting reason', async () => (await status('missing'))?.state?.waiting, 30_000);
    assert.ok(['ErrImagePull', 'ImagePullBackOff'].includes(first.reason ?? ''), first.reason);
    const backoff = await waitFor('ImagePullBackOff', async () => {
      const w = (await status('missing'))?.state?.waiting;
      return w?.reason === 'ImagePullBackOff' ? w : undefined;
    }, 60_000);
    assert.equal(backoff.message, `Back-off pulling image "${missing}"`);
    const ev = await events('missing');
    assert.ok(ev.some((l) => l.startsWith('Warning') && l.includes(`Failed to pull image "${missing}": `)), ev.join('\n'));
    assert.ok(ev.some((l) => /^Warning\s+Failed\s+Error: ErrImagePull$/.test(l)), ev.join('\n'));
    assert.ok(ev.some((l) => /^Normal\s+BackOff\s+Back-off pulling image/.test(l)), ev.join('\n'));
  });

  test('runAsNonRoot refuses an image that runs as root; Never refuses an absent image', async () => {
    await apply('nonroot', { securityContext: { runAsNonRoot: true }, containers: [{ name: 'c', image }] });
    const pod = await pods().get('default', 'nonroot');
    const w = await waitFor('CreateContainerConfigError', async () => {
      const x = (await status('nonroot'))?.state?.waiting;
      return x?.reason === 'CreateContainerConfigError' ? x : undefined;
    }, 30_000);
    assert.equal(w.message, `container has runAsNonRoot and image will run as root (pod: "nonroot_default(${pod.metadata.uid})", container: c)`);

    await apply('never', { containers: [{ name: 'c', image: `${registry.host}/acme/absent:1`, imagePullPolicy: 'Never' }] });
    const n = await waitFor('ErrImageNeverPull', async () => {
      const x = (await status('never'))?.state?.waiting;
      return x?.reason === 'ErrImageNeverPull' ? x : undefined;
    }, 30_000);
    assert.equal(n.message, `Container image "${registry.host}/acme/absent:1" is not present with pull policy of Never`);
  });

  test('deleting the pods leaves no container, mount or cgroup', async () => {
    await cluster.kubectl.ok(['delete', 'pods', '--all', '--wait=true', '--timeout=60s']);
    const paths = ociPaths(stateDir, clusterId, nodeName);
    await waitFor('no mounts under the pods', () => mountsUnder(paths.podsDir).length === 0, 20_000);
    const podCgroups = () =>
      cgroupHierarchies().flatMap((h) =>
        ['kubepods', 'kubepods/burstable', 'kubepods/besteffort'].flatMap((d) => {
          const dir = join(h.mountpoint, paths.cgroupParent, d);
          return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('pod')).map((n) => join(dir, n)) : [];
        }),
      );
    await waitFor('no pod cgroups', () => podCgroups().length === 0, 20_000);
    await waitFor('the runtime forgot the pods', () => agent!.runtime.containerNames('default', 'web') === undefined, 20_000);
  });
});
