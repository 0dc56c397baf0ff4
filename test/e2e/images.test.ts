// The user's own images on a `kubesvc up` cluster, offline: a registry on
// loopback (Debian's docker-registry, started here) holds an image built from
// busybox-static, a Deployment runs it and a ClusterIP and a NodePort serve
// it; a private image needs its imagePullSecret; a missing tag backs off; a
// loaded tarball runs with imagePullPolicy Never; a pod over its memory limit
// is OOMKilled; and a container can touch nothing of the host.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kubectl } from '../helpers/kubectl.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { namespaceSkipReason, onNode } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { startCli } from '../helpers/cli.js';
import { buildImage, dockerSaveTar, INDEX_HTML, pushImage, WEB_CONFIG, webLayer, type BuiltImage } from '../helpers/oci-image.js';
import { registrySkipReason, startRegistry, TEST_PASSWORD, TEST_USER, type TestRegistry } from '../helpers/registry.js';
import { hostPlatform } from '../../src/oci/platform.js';

const skip = namespaceSkipReason(['iptables-restore']) || registrySkipReason();

describe('the user\'s own images', { skip, timeout: 300_000 }, () => {
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  let dataDir: string;
  let open: TestRegistry | undefined;
  let closed: TestRegistry | undefined;
  let web: BuiltImage;

  before(async () => {
    [open, closed] = await Promise.all([startRegistry(), startRegistry({ auth: 'htpasswd' })]);
    web = buildImage([webLayer()], { platform: hostPlatform() });
    await pushImage(open.url, 'acme/web', '1.0', web);
    await pushImage(closed.url, 'acme/private', '1.0', web, { username: TEST_USER, password: TEST_PASSWORD });
    cluster = await startUp('images', ['--nodes', '1']);
    ({ dataDir, kubectl } = cluster);
  });
  after(async () => {
    await cluster?.stop();
    await open?.stop();
    await closed?.stop();
  });

  /** The waiting reason of a pod's only container, or its state. */
  const waitingReason = async (pod: string) =>
    (await kubectl(['get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}'])).stdout.trim();

  test('a Deployment of an image from the loopback registry is served through a ClusterIP and a NodePort', async () => {
    const image = `${open!.host}/acme/web:1.0`;
    await kubectl.ok(['create', 'deployment', 'web', `--image=${image}`, '--replicas=2', '--port=8080']);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    await kubectl.ok(['expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--type=NodePort']);
    const ip = (await kubectl.ok(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const nodePort = (await kubectl.ok(['get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).trim();
    await waitFor('the page by ClusterIP', async () => (await onNode(dataDir, ['curl', '-s', '-m', '3', `http://${ip}/`])).stdout === INDEX_HTML, 30_000);
    await waitFor('the page by NodePort', async () => (await onNode(dataDir, ['curl', '-s', '-m', '3', `http://172.18.0.2:${nodePort}/`])).stdout === INDEX_HTML, 30_000);
    const pod = (await kubectl.ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const events = await kubectl.ok(['get', 'events', '--field-selector', `involvedObject.name=${pod}`]);
    assert.match(events, new RegExp(`Pulling image "${image.replace(/[.]/g, '\\.')}"`));
    // The image's config merged as the kubelet does: its Env and WorkingDir are there.
    assert.match(await kubectl.ok(['exec', pod, '--', '/bin/busybox', 'env']), /^GREETING=hello$/m);
    assert.equal((await kubectl.ok(['exec', pod, '--', '/bin/busybox', 'pwd'])).trim(), WEB_CONFIG.WorkingDir);
  });

  test('a private image: refused without its imagePullSecret (ErrImagePull, then ImagePullBackOff), pulled with it', async () => {
    const image = `${closed!.host}/acme/private:1.0`;
    await kubectl.ok(['run', 'no-secret', `--image=${image}`]);
    await waitFor('ErrImagePull or ImagePullBackOff', async () => ['ErrImagePull', 'ImagePullBackOff'].includes(await waitingReason('no-secret')), 60_000);
    await waitFor('ImagePullBackOff', async () => (await waitingReason('no-secret')) === 'ImagePullBackOff', 60_000);
    assert.match(await kubectl.ok(['describe', 'pod', 'no-secret']), /Failed to pull image/);

    await kubectl.ok(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${closed!.host}`, `--docker-username=${TEST_USER}`, `--docker-password=${TEST_PASSWORD}`]);
    await kubectl.ok(['run', 'with-secret', `--image=${image}`, '--overrides', JSON.stringify({ spec: { imagePullSecrets: [{ name: 'regcred' }] } })]);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/with-secret', '--timeout=90s']);
  });

  test('a missing tag is ErrImagePull then ImagePullBackOff', async () => {
    await kubectl.ok(['run', 'missing', `--image=${open!.host}/acme/web:nope`]);
    await waitFor('ImagePullBackOff', async () => (await waitingReason('missing')) === 'ImagePullBackOff', 60_000);
    assert.match(await kubectl.ok(['describe', 'pod', 'missing']), /not found/);
  });

  test('kubesvc images load, then a pod with imagePullPolicy Never', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubesvc-load-'));
    try {
      const tarball = join(dir, 'local.tar');
      writeFileSync(tarball, dockerSaveTar([{ image: web, repoTags: ['local.example/app:dev'] }]));
      const load = startCli(['images', 'load', tarball, '--data-dir', dataDir]);
      assert.equal(await load.exited, 0);
      await kubectl.ok(['run', 'loaded', '--image=local.example/app:dev', '--image-pull-policy=Never']);
      await kubectl.ok(['wait', '--for=condition=Ready', 'pod/loaded', '--timeout=60s']);
      await kubectl.ok(['run', 'never-there', '--image=local.example/app:absent', '--image-pull-policy=Never']);
      await waitFor('ErrImageNeverPull', async () => (await waitingReason('never-there')) === 'ErrImageNeverPull', 30_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the image's StopSignal stops its container, not SIGTERM", async () => {
    // A shell that ignores SIGTERM and exits on SIGUSR1: deleted, it is gone long before its 120 s grace period.
    const script = 'trap "" TERM; trap "exit 0" USR1; while :; do sleep 1 & wait $!; done';
    const stoppable = buildImage([webLayer()], { platform: hostPlatform(), config: { Entrypoint: ['/bin/sh', '-c', script], StopSignal: 'SIGUSR1' } });
    await pushImage(open!.url, 'acme/stoppable', '1.0', stoppable);
    await kubectl.ok(['run', 'stoppable', `--image=${open!.host}/acme/stoppable:1.0`, '--overrides={"spec":{"terminationGracePeriodSeconds":120}}']);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/stoppable', '--timeout=60s']);
    await kubectl.ok(['delete', 'pod', 'stoppable', '--wait=false']);
    await waitFor('the pod gone on its StopSignal', async () => (await kubectl(['get', 'pod', 'stoppable'])).code !== 0, 30_000);
  });

  test('a pod over its memory limit is OOMKilled and restarted', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hog' },
      spec: {
        containers: [
          {
            name: 'hog',
            image: `${open!.host}/acme/web:1.0`,
            command: ['/bin/busybox', 'sh', '-c', 'busybox head -c 100000000 /dev/zero | busybox tail'],
            resources: { limits: { memory: '16Mi' } },
          },
        ],
      },
    };
    await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    await waitFor(
      'OOMKilled',
      async () => {
        const status = JSON.parse(await kubectl.ok(['get', 'pod', 'hog', '-o', 'json'])).status.containerStatuses?.[0];
        const t = status?.lastState?.terminated ?? status?.state?.terminated;
        return t?.reason === 'OOMKilled' && t.exitCode === 137 && status.restartCount >= 1;
      },
      90_000,
    );
  });

  test('a container touches nothing of the host: files, processes, mounts, links, the data dir; runAsNonRoot refuses a root image', async () => {
    const image = `${open!.host}/acme/web:1.0`;
    await kubectl.ok(['run', 'jail', `--image=${image}`]);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/jail', '--timeout=60s']);
    const sh = (script: string) => kubectl(['exec', 'jail', '--', '/bin/busybox', 'sh', '-c', script]);
    const marker = `kubesvc-marker-${Date.now()}`;
    await sh(`busybox mkdir -p /etc /root && busybox touch /etc/${marker} /root/${marker}`);
    assert.equal(existsSync(`/etc/${marker}`), false, 'nothing written to the host /etc');
    assert.equal(existsSync(`/root/${marker}`), false, 'nothing written to the host /root');
    const ps = (await sh('busybox ps -o pid,comm')).stdout;
    assert.doesNotMatch(ps, /kubesvc|node |systemd|init/, `only the container's processes:\n${ps}`);
    assert.notEqual((await sh('busybox mount -t tmpfs none /mnt')).code, 0, 'no CAP_SYS_ADMIN');
    assert.notEqual((await sh('busybox ip link set lo down')).code, 0, 'no CAP_NET_ADMIN');
    assert.notEqual((await sh(`busybox ls ${dataDir}`)).code, 0, 'the data dir is not there');

    const nonRoot = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nonroot' },
      spec: { securityContext: { runAsNonRoot: true }, containers: [{ name: 'c', image }] },
    };
    await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(nonRoot) });
    await waitFor('CreateContainerConfigError', async () => (await waitingReason('nonroot')) === 'CreateContainerConfigError', 60_000);
    const message = (await kubectl.ok(['get', 'pod', 'nonroot', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.message}'])).trim();
    assert.equal(message, 'container has runAsNonRoot and image will run as root (pod: "nonroot_default(' + (await kubectl.ok(['get', 'pod', 'nonroot', '-o', 'jsonpath={.metadata.uid}'])).trim() + ')", container: c)');
  });
});
