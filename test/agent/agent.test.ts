// The node agent for real (needs root): an API server with the controllers,
// one node network, the agent running pods as processes in their own network
// namespaces, and the real kubectl. A Deployment's pods come up Running and
// Ready with distinct pod IPs and answer HTTP from inside the node's
// namespace; crash loops, completed pods, environment, DNS files, logs and
// exec behave as on a kubelet; deleting leaves no namespace or process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify as stringifyYaml } from 'yaml';
import type { KubeObject } from '../../src/api/object.js';
import type { Node, Pod } from '../../src/api/types.js';
import { resourceTypes } from '../../src/client/client.js';
import type { NodeNetwork } from '../../src/agent/contracts.js';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { createNodeNetwork, destroyClusterNetwork } from '../../src/agent/network.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/apiserver.js';
import { namespaceSkipReason, run } from '../helpers/root.js';
import { fixtures } from '../helpers/fixtures.js';

type PodObj = Pod & KubeObject;



const isReady = (p: PodObj) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('node agent', { skip: namespaceSkipReason(['ip', 'unshare', 'nsenter', 'setpriv', 'kubectl', 'curl']), timeout: 180_000 }, () => {
  const clusterId = `t${randomBytes(3).toString('hex')}`;
  let cluster: TestCluster;
  let network: NodeNetwork;
  let agent: Agent;
  let stateDir: string;
  const nodeName = 'node-a';

  const pods = () => cluster.client.resource<PodObj>(resourceTypes.pods);
  const listPods = async (selector: string) => (await pods().list('default', { labelSelector: selector })).items;
  const podNamespaces = async () => (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${network.netns}-p`));
  const inNode = (args: string[]) => run('ip', ['netns', 'exec', network.netns, ...args]);

  before(async () => {
    cluster = await startTestCluster({ only: ['deployment', 'replicaset', 'scheduler', 'garbage-collector'] });
    network = await createNodeNetwork({ clusterId, nodeName, nodeIndex: 0, peers: [] });
    stateDir = mkdtempSync(join(tmpdir(), 'kubesvc-agent-'));
    agent = await startAgent({ client: cluster.client, nodeName, nodeIndex: 0, clusterId, stateDir, dataDir: cluster.dataDir, network });
  });

  after(async () => {
    await agent?.stop();
    await network?.destroy();
    await destroyClusterNetwork(clusterId).catch(() => undefined);
    await cluster?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  test('registers a Ready node with the kubelet fields', async () => {
    const node = await waitFor('node Ready', async () => {
      const n = (await cluster.client.resource<Node & KubeObject>(resourceTypes.nodes).get(undefined, nodeName)) as Node & KubeObject;
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    });
    assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], nodeName);
    assert.equal(node.metadata.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(node.spec?.podCIDR, '10.244.0.0/24');
    assert.deepEqual(node.status?.addresses, [
      { type: 'InternalIP', address: '172.18.0.2' },
      { type: 'Hostname', address: nodeName },
    ]);
    assert.equal(node.status?.capacity?.pods, '110');
    assert.equal(node.status?.nodeInfo?.kubeletVersion, 'v1.32.0');
    assert.equal(node.status?.nodeInfo?.containerRuntimeVersion, 'kubesvc://0.1.0');
    assert.deepEqual(
      node.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
        ['Ready', 'True', 'KubeletReady'],
      ],
    );
    const wide = await cluster.kubectl.ok(['get', 'nodes', '-o', 'wide']);
    assert.match(wide, new RegExp(`${nodeName}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.32\\.0\\s+172\\.18\\.0\\.2`));
  });

  test('a Deployment: Running, Ready pods with distinct IPs that answer from the node namespace; deleting leaves nothing', async () => {
    await cluster.kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml')]);
    const ready = await waitFor(
      '3 Running and Ready pods',
      async () => {
        const items = await listPods('app=service-env');
        return items.length === 3 && items.every((p) => p.status?.phase === 'Running' && isReady(p)) ? items : undefined;
      },
      60_000,
    );
    const ips = ready.map((p) => p.status!.podIP!);
    assert.equal(new Set(ips).size, 3, `distinct pod IPs: ${ips.join(' ')}`);
    for (const ip of ips) assert.match(ip, /^10\.244\.0\.\d+$/);
    for (const p of ready) {
      assert.equal(p.status?.hostIP, '172.18.0.2');
      const cs = p.status!.containerStatuses![0];
      assert.equal(cs.ready, true);
      assert.equal(cs.started, true);
      assert.match(cs.containerID ?? '', /^kubesvc:\/\/[0-9a-f]{64}$/);
      assert.equal(cs.image, 'registry.k8s.io/e2e-test-images/agnhost:2.53');
      assert.deepEqual(
        p.status!.conditions!.map((c) => [c.type, c.status]),
        [
          ['PodReadyToStartContainers', 'True'],
          ['Initialized', 'True'],
          ['Ready', 'True'],
          ['ContainersReady', 'True'],
          ['PodScheduled', 'True'],
        ],
      );
      const r = await inNode(['curl', '-s', '--max-time', '5', `http://${p.status!.podIP}:80/`]);
      assert.equal(r.stdout.trim(), p.metadata.name, `GET http://${p.status!.podIP}/ from the node namespace`);
    }
    assert.equal((await podNamespaces()).length, 3);
    const pids = ready.map((p) => agent.runtime.containerPid('default', p.metadata.name!, 'web')!);
    assert.ok(pids.every((pid) => pid > 0 && alive(pid)));

    // The kubelet's events.
    const events = await cluster.kubectl.ok(['get', 'events', '--field-selector', `involvedObject.name=${ready[0].metadata.name}`, '-o', 'custom-columns=R:.reason,M:.message,S:.source.component']);
    assert.match(events, /Created\s+Created container web\s+kubelet/);
    assert.match(events, /Started\s+Started container web\s+kubelet/);

    await cluster.kubectl.ok(['delete', 'deployment', 'service-env']);
    await waitFor('the pods are gone', async () => (await listPods('app=service-env')).length === 0, 60_000);
    await waitFor('no pod namespaces', async () => (await podNamespaces()).length === 0, 10_000);
    for (const pid of pids) assert.equal(alive(pid), false, `container process ${pid} ended`);
    const killing = await cluster.kubectl.ok(['get', 'events', '--field-selector', `involvedObject.name=${ready[0].metadata.name},reason=Killing`, '-o', 'custom-columns=M:.message']);
    assert.match(killing, /Stopping container web/);
  });

  test('environment, hostname, /etc/hosts, resolv.conf, image files, logs and exec', async () => {
    await cluster.kubectl.ok(['create', 'service', 'clusterip', 'my-svc', '--tcp=8080:80']);
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'nginx',
            image: 'nginx:1.27',
            env: [
              { name: 'MY_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'GREETING', value: 'hi from $(MY_POD_IP)' },
            ],
            readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 1 },
          },
        ],
      },
    };
    await cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    const pod = await waitFor('web Ready', async () => {
      const p = await pods().get('default', 'web');
      return isReady(p) ? p : undefined;
    }, 60_000);
    const ip = pod.status!.podIP!;
    const exec = (cmd: string[]) => cluster.kubectl.ok(['exec', 'web', '--', ...cmd]);
    const env = await exec(['env']);
    assert.match(env, new RegExp(`^MY_POD_IP=${ip.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(env, new RegExp(`^GREETING=hi from ${ip.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(env, /^MY_SVC_SERVICE_HOST=10\.\d+\.\d+\.\d+$/m);
    assert.match(env, /^MY_SVC_SERVICE_PORT_8080_80=8080$/m);
    assert.match(env, /^MY_SVC_PORT=tcp:\/\/10\.\d+\.\d+\.\d+:8080$/m);
    assert.match(env, /^HOSTNAME=web$/m);
    assert.equal((await exec(['hostname'])).trim(), 'web');
    assert.equal(
      await exec(['cat', '/etc/resolv.conf']),
      'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
    const hosts = await exec(['cat', '/etc/hosts']);
    assert.ok(hosts.startsWith('# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n'));
    assert.ok(hosts.endsWith(`${ip}\tweb\n`));
    // The image's files are the container's own: a write does not reach the host or other containers.
    await exec(['sh', '-c', 'echo changed > /usr/share/nginx/html/index.html']);
    const page = await inNode(['curl', '-s', '--max-time', '5', `http://${ip}/`]);
    assert.equal(page.stdout, 'changed\n');
    assert.notEqual(existsSync('/usr/share/nginx/html/index.html') ? readFileSync('/usr/share/nginx/html/index.html', 'utf8') : '', 'changed\n');
    // Its network is the pod's: eth0 holds the pod IP.
    assert.match(await exec(['ip', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`));
    const logs = await cluster.kubectl.ok(['logs', 'web']);
    assert.match(logs, /GET \/ HTTP\/1\.1" 200/);
    assert.match(logs, /kube-probe\/1\.32/);
    await cluster.kubectl.ok(['delete', 'pod', 'web']);
    await cluster.kubectl.ok(['delete', 'service', 'my-svc']);
  });

  test('a built-in image under its securityContext: read-only root, runAsUser, its files where the host has none', async () => {
    const hadNginxDir = existsSync('/usr/share/nginx');
    await cluster.kubectl.ok(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'locked', namespace: 'default' },
        spec: {
          terminationGracePeriodSeconds: 1,
          securityContext: { runAsUser: 1000, runAsGroup: 3000 },
          containers: [{ name: 'web', image: 'nginxinc/nginx-unprivileged:1.27', securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }, readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 } }],
        },
      }),
    });
    const pod = await waitFor('locked Ready', async () => {
      const p = await pods().get('default', 'locked');
      return isReady(p) ? p : undefined;
    }, 60_000);
    const exec = (cmd: string[]) => cluster.kubectl(['exec', 'locked', '--', ...cmd]);
    assert.equal((await exec(['id', '-u'])).stdout.trim(), '1000');
    assert.equal((await exec(['id', '-g'])).stdout.trim(), '3000');
    assert.notEqual((await exec(['sh', '-c', 'echo x > /etc/kubesvc-locked'])).code, 0, 'the root is read-only');
    assert.notEqual((await exec(['sh', '-c', 'echo x > /tmp/kubesvc-locked'])).code, 0, '/tmp too');
    assert.match((await exec(['grep', 'NoNewPrivs', '/proc/self/status'])).stdout, /NoNewPrivs:\s+1/);
    assert.match((await inNode(['curl', '-s', '--max-time', '5', `http://${pod.status!.podIP}:8080/`])).stdout, /Welcome to nginx!/);
    assert.equal(existsSync('/usr/share/nginx'), hadNginxDir, 'nothing made on the host for the page');
    await cluster.kubectl.ok(['delete', 'pod', 'locked']);
  });

  test('crash loops back off; a failed readiness probe keeps a pod unready; completed pods finish', async () => {
    const manifest = (name: string, spec: object) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { t: 'lifecycle' } }, spec });
    const items = [
      manifest('crash', { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo crashing; exit 3'] }] }),
      manifest('done', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo all done'] }] }),
      manifest('fails', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 7'] }] }),
      manifest('unready', {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], readinessProbe: { httpGet: { path: '/healthz', port: 8081 }, periodSeconds: 1 } }],
      }),
      manifest('noimage', { containers: [{ name: 'c', image: 'example.com/not/builtin:1' }] }),
    ];
    await cluster.kubectl.ok(['apply', '-f', '-'], { input: items.map((i) => stringifyYaml(i)).join('---\n') });

    const crash = await waitFor('crash in CrashLoopBackOff', async () => {
      const p = await pods().get('default', 'crash');
      const cs = p.status?.containerStatuses?.[0];
      return cs?.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    }, 30_000);
    const cs = crash.status!.containerStatuses![0];
    assert.ok(cs.restartCount >= 1);
    assert.equal(cs.lastState?.terminated?.exitCode, 3);
    assert.equal(cs.lastState?.terminated?.reason, 'Error');
    assert.match(cs.state!.waiting!.message!, /^back-off 10s restarting failed container=c pod=crash_default\(/);
    assert.equal(crash.status!.phase, 'Running');
    assert.equal((await cluster.kubectl.ok(['logs', 'crash'])).trim(), 'crashing');
    assert.equal((await cluster.kubectl.ok(['logs', 'crash', '--previous'])).trim(), 'crashing');
    const table = await cluster.kubectl.ok(['get', 'pod', 'crash']);
    assert.match(table, /crash\s+0\/1\s+CrashLoopBackOff\s+\d+ \(\d+s ago\)/);

    const done = await waitFor('done Succeeded', async () => {
      const p = await pods().get('default', 'done');
      return p.status?.phase === 'Succeeded' ? p : undefined;
    }, 30_000);
    assert.equal(done.status!.containerStatuses![0].state?.terminated?.reason, 'Completed');
    assert.equal((await cluster.kubectl.ok(['logs', 'done'])).trim(), 'all done');
    const fails = await waitFor('fails Failed', async () => {
      const p = await pods().get('default', 'fails');
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 30_000);
    assert.equal(fails.status!.containerStatuses![0].state?.terminated?.exitCode, 7);

    const unready = await waitFor('unready running with a failing probe', async () => {
      const p = await pods().get('default', 'unready');
      return p.status?.phase === 'Running' ? p : undefined;
    }, 30_000);
    await waitFor('an Unhealthy event', async () =>
      (await cluster.kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=unready,reason=Unhealthy', '-o', 'custom-columns=M:.message'])).includes(
        `Readiness probe failed: Get "http://${unready.status!.podIP}:8081/healthz": dial tcp ${unready.status!.podIP}:8081: connect: connection refused`,
      ),
    );
    assert.equal(isReady(await pods().get('default', 'unready')), false);

    const noimage = await waitFor('noimage ErrImagePull', async () => {
      const p = await pods().get('default', 'noimage');
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull' ? p : undefined;
    });
    assert.equal(noimage.status!.phase, 'Pending');

    await cluster.kubectl.ok(['delete', 'pods', '-l', 't=lifecycle', '--wait=true']);
    await waitFor('no pod namespaces', async () => (await podNamespaces()).length === 0, 20_000);
  });
});
