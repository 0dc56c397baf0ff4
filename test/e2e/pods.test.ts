// Pods that really run, tried the way a user would: `kubesvc up`, the real
// kubectl, and `kubesvc exec` to reach pod addresses from inside the node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Kubectl } from '../helpers/kubectl.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { namespaceSkipReason, onNode as execOnNode, run } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { clusterIdFor } from '../../src/agent/cluster-id.js';
import { fixtures } from '../helpers/fixtures.js';

describe('pods run for real under kubesvc up', { skip: namespaceSkipReason(), timeout: 240_000 }, () => {
  let dataDir: string;
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  /** `kubesvc exec -- ...` on the node. */
  const onNode = (args: string[]) => execOnNode(dataDir, args);
  const podIPs = async (selector: string) =>
    (await kubectl.ok(['get', 'pods', '-l', selector, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.podIP}{"\\n"}{end}']))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('=') as [string, string]);

  before(async () => {
    cluster = await startUp('pods');
    ({ dataDir, kubectl } = cluster);
  });

  after(() => cluster?.stop());

  test('backend-deployment.yaml: 3 Running, Ready pods with distinct IPs that answer with their own name', async () => {
    await kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml')]);
    await kubectl.ok(['rollout', 'status', 'deployment/service-env', '--timeout=60s']);
    const pods = await podIPs('app=service-env');
    assert.equal(pods.length, 3);
    assert.equal(new Set(pods.map(([, ip]) => ip)).size, 3);
    for (const [name, ip] of pods) {
      assert.match(ip, /^10\.244\.0\.\d+$/);
      const r = await onNode(['curl', '-s', '-m', '5', `http://${ip}/`]);
      assert.equal(r.stdout.trim(), name, r.stderr);
    }
    const ep = await kubectl.ok(['get', 'endpoints', 'service-env', '--ignore-not-found']);
    assert.equal(ep, '', 'no Service yet, no Endpoints');
  });

  test('kubectl exec changes only that pod\'s web page; kubectl logs shows the access', async () => {
    await kubectl.ok(['create', 'deployment', 'web', '--image=nginx:1.23.1', '--replicas=2']);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    const [[a, ipA], [, ipB]] = await podIPs('app=web');
    await kubectl.ok(['exec', a, '--', 'sh', '-c', 'echo x > /usr/share/nginx/html/index.html']);
    // Ready once started (no readiness probe): nginx may not listen yet.
    await waitFor('the changed page', async () => (await onNode(['curl', '-s', '-m', '5', `http://${ipA}/`])).stdout === 'x\n', 10_000);
    assert.match((await onNode(['curl', '-s', '-m', '5', `http://${ipB}/`])).stdout, /Welcome to nginx!/);
    await waitFor('the access line in the logs', async () => /"GET \/ HTTP\/1\.1" 200 2 /.test(await kubectl.ok(['logs', a])));
  });

  test('readiness flips Ready and the endpoints; liveness failure restarts the container', async () => {
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'probed' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'probed' } },
        template: {
          metadata: { labels: { app: 'probed' } },
          spec: {
            containers: [
              {
                name: 'c',
                image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
                args: ['netexec', '--http-port=8080'],
                // The container's own /tmp (a restarted container starts with a new one).
                readinessProbe: { exec: { command: ['sh', '-c', 'test ! -e /tmp/notready'] }, periodSeconds: 1, failureThreshold: 1 },
                livenessProbe: { exec: { command: ['sh', '-c', 'test ! -e /tmp/dead'] }, periodSeconds: 1, failureThreshold: 1 },
              },
            ],
          },
        },
      },
    };
    await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    await kubectl.ok(['expose', 'deployment', 'probed', '--port=80', '--target-port=8080']);
    await kubectl.ok(['rollout', 'status', 'deployment/probed', '--timeout=60s']);
    const [[pod, ip]] = await podIPs('app=probed');
    await waitFor('ready endpoint', async () => (await kubectl.ok(['get', 'endpoints', 'probed', '-o', 'jsonpath={.subsets[0].addresses[0].ip}'])) === ip);
    await kubectl.ok(['exec', pod, '--', 'touch', '/tmp/notready']);
    await waitFor('pod not Ready', async () => (await kubectl.ok(['get', 'pod', pod, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'False');
    await waitFor('address moved to notReadyAddresses', async () =>
      (await kubectl.ok(['get', 'endpoints', 'probed', '-o', 'jsonpath={.subsets[0].notReadyAddresses[0].ip}'])) === ip,
    );
    assert.equal(await kubectl.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=probed', '-o', 'jsonpath={.items[0].endpoints[0].conditions.ready}']), 'false');
    await kubectl.ok(['exec', pod, '--', 'rm', '/tmp/notready']);
    await waitFor('Ready again', async () => (await kubectl.ok(['get', 'endpoints', 'probed', '-o', 'jsonpath={.subsets[0].addresses[0].ip}'])) === ip);

    await kubectl.ok(['exec', pod, '--', 'touch', '/tmp/dead']);
    await waitFor('a liveness restart', async () => Number(await kubectl.ok(['get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])) >= 1, 30_000);
    const events = await kubectl.ok(['describe', 'pod', pod]);
    assert.match(events, /Liveness probe failed/);
  });

  test('kubectl exec -- /agnhost runs the built-in agnhost, as in the real image', async () => {
    await kubectl.ok(['run', 'agn', '--image=registry.k8s.io/e2e-test-images/agnhost:2.39', '--', 'netexec', '--http-port=8080']);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/agn', '--timeout=60s']);
    const ip = (await kubectl.ok(['get', 'pod', 'agn', '-o', 'jsonpath={.status.podIP}'])).trim();
    // agnhost connect succeeds silently, as upstream's e2e tests use it. The pod has no
    // readiness probe, so it is Ready once its container started, which can be a moment
    // before netexec listens (as with the real image): retry until it answers.
    await waitFor('netexec listening', async () => (await kubectl(['exec', 'agn', '--', '/agnhost', 'connect', `${ip}:8080`, '--timeout=5s'])).code === 0, 30_000);
    const r = await kubectl(['exec', 'agn', '--', '/agnhost', 'connect', `${ip}:1`, '--timeout=2s']);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /REFUSED/);
    await kubectl.ok(['delete', 'pod', 'agn', '--grace-period=1']);
  });

  test("what a container writes to /dev/termination-log is its terminated state's message", async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'termlog' },
      spec: {
        restartPolicy: 'Never',
        containers: [
          { name: 'file', image: 'busybox', command: ['sh', '-c', 'echo "disk full" > /dev/termination-log; exit 3'] },
          { name: 'logs', image: 'busybox', command: ['sh', '-c', 'echo "last words"; exit 1'], terminationMessagePolicy: 'FallbackToLogsOnError' },
          { name: 'custom', image: 'busybox', command: ['sh', '-c', 'echo done > /tmp/msg'], terminationMessagePath: '/tmp/msg' },
        ],
      },
    };
    await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    const messages = async () =>
      (await kubectl.ok(['get', 'pod', 'termlog', '-o', 'jsonpath={range .status.containerStatuses[*]}{.name}={.state.terminated.message}|{end}'])).trim();
    await waitFor('three terminated containers', async () => (await messages()).split('|').filter((s) => /=./.test(s)).length === 3, 60_000);
    assert.equal(await messages(), 'custom=done\n|file=disk full\n|logs=last words\n|');
    await kubectl.ok(['delete', 'pod', 'termlog', '--grace-period=1']);
  });

  test('deleting the deployments leaves no pod namespace or process', async () => {
    const prefix = `ksvc-${clusterIdFor(dataDir)}-n0-p`;
    await kubectl.ok(['delete', 'deployment', 'web', 'probed', '--grace-period=1']);
    await kubectl.ok(['delete', 'deployment', 'service-env']);
    // The cluster DNS and the proxy are pods too (kube-system/coredns, the kube-proxy DaemonSet).
    await kubectl.ok(['delete', 'deployment', 'coredns', '-n', 'kube-system']);
    await kubectl.ok(['delete', 'daemonset', 'kube-proxy', '-n', 'kube-system']);
    await kubectl.ok(['delete', 'pods', '--all', '--grace-period=0', '--force']);
    await kubectl.ok(['delete', 'pods', '--all', '-n', 'kube-system', '--grace-period=0', '--force']);
    await waitFor(
      'no pod namespaces',
      async () => !(await run('ip', ['netns', 'list'])).stdout.split('\n').some((l) => l.startsWith(prefix)),
      90_000,
    );
    const procs = await run('pgrep', ['-f', `images/main`]);
    const ours = procs.stdout.split('\n').filter(Boolean);
    for (const pid of ours) {
      const environ = await run('cat', [`/proc/${pid}/cmdline`]);
      assert.ok(!environ.stdout.includes(dataDir), `a pod process of this cluster is still running: ${pid}`);
    }
  });
});
