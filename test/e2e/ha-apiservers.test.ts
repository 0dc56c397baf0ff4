// Several API servers on one etcd (issue 17's HA part), as processes: a
// 3-member etcd cluster, two `kubesvc apiserver`s on 127.0.0.2 and 127.0.0.3
// (same port; they advertise 192.0.2.2 and 192.0.2.3, documentation
// addresses nothing is sent to, since Endpoints refuse loopback) sharing the cluster CA, service-account keys and encryption
// key (the second data dir gets them copied from the first, as kubeadm's
// control-plane join copies ca.*, sa.* — each server issues its own serving
// certificate), and two `kubesvc controllers --leader-elect`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { etcdSkipReason } from '../helpers/etcd.js';
import { startEtcdCluster, type TestEtcdCluster } from '../helpers/etcd-cluster.js';
import { waitFor } from '../helpers/apiserver.js';
import { createClient, resourceTypes, type Client } from '../../src/client/client.js';
import { createTransport } from '../../src/client/transport.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import type { KubeObject } from '../../src/api/object.js';
import { freePort } from '../helpers/ports.js';

const skip = etcdSkipReason();

/** The files every API server of a cluster shares (kubeadm's certificate distribution): CA, service-account keys, encryption key. */
const sharedPki = ['ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'encryption-config.yaml'];


type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

describe('several API servers on one etcd', { skip, timeout: 240_000 }, () => {
  let etcd: TestEtcdCluster;
  const dirs: string[] = [];
  const processes: CliProcess[] = [];
  const clients: Client[] = [];
  let port = 0;
  let a: { proc: CliProcess; client: Client; dir: string };
  let b: { proc: CliProcess; client: Client; dir: string };

  async function startServer(ip: string, advertise: string, dir: string) {
    const proc = startCli(['apiserver', '--data-dir', dir, '--bind', ip, '--port', String(port), '--advertise-address', advertise, '--etcd-servers', etcd.urls.join(',')]);
    processes.push(proc);
    await waitForOutput(proc, /apiserver\] "ready" url="https:\/\/[^"]+"/, 90_000);
    const client = createClient(createTransport(loadKubeconfig(join(dir, 'kubeconfig'))));
    clients.push(client);
    return { proc, client, dir };
  }

  const kubernetesEndpoints = async (c: Client) => {
    const ep = await c.resource<Obj>(resourceTypes.endpoints).get('default', 'kubernetes');
    return ((ep as { subsets?: { addresses?: { ip: string }[] }[] }).subsets?.[0]?.addresses ?? []).map((x) => x.ip);
  };

  before(async () => {
    etcd = await startEtcdCluster(3);
    port = await freePort('127.0.0.2');
    for (const n of ['a', 'b']) dirs.push(mkdtempSync(join(tmpdir(), `kubesvc-ha-${n}-`)));
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const p of processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    await etcd?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('two API servers with one CA: Services created through both at once get distinct ClusterIPs and NodePorts', async () => {
    a = await startServer('127.0.0.2', '192.0.2.2', dirs[0]!);
    mkdirSync(join(dirs[1]!, 'pki'), { recursive: true, mode: 0o700 });
    for (const f of sharedPki) copyFileSync(join(dirs[0]!, 'pki', f), join(dirs[1]!, 'pki', f));
    b = await startServer('127.0.0.3', '192.0.2.3', dirs[1]!);
    const create = (c: Client, name: string) =>
      c.resource<Obj>(resourceTypes.services).create('default', {
        metadata: { name },
        spec: { type: 'NodePort', selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
      } as Obj);
    const created = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => create(a.client, `via-a-${i}`)),
      ...Array.from({ length: 50 }, (_, i) => create(b.client, `via-b-${i}`)),
    ]);
    const ips = created.map((s) => s.spec!.clusterIP as string);
    const ports = created.map((s) => (s.spec!.ports as { nodePort: number }[])[0]!.nodePort);
    assert.equal(new Set(ips).size, 100, 'ClusterIPs are unique');
    assert.equal(new Set(ports).size, 100, 'NodePorts are unique');
    // The allocations are in etcd: an IPAddress per address (the kubernetes Service's too), one RangeAllocation of node ports.
    const keys = (await etcd.etcdctl(['get', '--prefix', '--keys-only', '/registry/ipaddresses/'])).stdout.split('\n').filter(Boolean);
    assert.deepEqual(keys.sort(), [...ips, '10.96.0.1'].map((ip) => `/registry/ipaddresses/${ip}`).sort());
    const range = JSON.parse((await etcd.etcdctl(['get', '/registry/ranges/servicenodeports', '--print-value-only'])).stdout);
    assert.deepEqual([range.kind, range.range], ['RangeAllocation', '30000-32767']);
    // Each server reads what the other wrote, and refuses a port the other handed out.
    const fromB = await b.client.resource<Obj>(resourceTypes.services).get('default', 'via-a-7');
    assert.equal(fromB.spec!.clusterIP, ips[7]);
    await assert.rejects(
      b.client.resource<Obj>(resourceTypes.services).create('default', { metadata: { name: 'clash' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: ports[3] }] } } as Obj),
      new RegExp(`spec.ports\\[0\\].nodePort: Invalid value: ${ports[3]}: provided port is already allocated`),
    );
  });

  test('the kubernetes Endpoints name every API server holding a lease', async () => {
    await waitFor('both servers in the kubernetes Endpoints', async () => (await kubernetesEndpoints(a.client)).join(',') === '192.0.2.2,192.0.2.3', 30_000);
    const leases = (await etcd.etcdctl(['get', '--prefix', '--keys-only', '/registry/masterleases/'])).stdout.split('\n').filter(Boolean);
    assert.deepEqual(leases, ['/registry/masterleases/192.0.2.2', '/registry/masterleases/192.0.2.3']);
    const slice = await a.client.resource<Obj>(resourceTypes.endpointslices).get('default', 'kubernetes');
    assert.deepEqual((slice as { endpoints?: { addresses: string[] }[] }).endpoints?.map((e) => e.addresses[0]), ['192.0.2.2', '192.0.2.3']);
  });

  test('controllers --leader-elect: one leads; when it dies the standby takes the Lease and keeps EndpointSlices true', async () => {
    const leaseOf = () => b.client.resource<Obj>(resourceTypes.leases).get('kube-system', 'kube-controller-manager');
    // The endpoint controllers (node-lifecycle would mark the pod of a node without a kubelet not ready).
    const only = ['--controllers', 'endpoints,endpointslice'];
    const c1 = startCli(['controllers', '--data-dir', b.dir, '--leader-elect', ...only]);
    processes.push(c1);
    await waitForOutput(c1, /successfully acquired lease/, 60_000);
    const c2 = startCli(['controllers', '--data-dir', b.dir, '--leader-elect', ...only]);
    processes.push(c2);
    await waitForOutput(c2, /attempting to acquire leader lease/, 60_000);
    const first = (await leaseOf()).spec as { holderIdentity: string; leaseDurationSeconds: number; leaseTransitions: number };
    assert.equal(first.leaseDurationSeconds, 15);
    assert.match(first.holderIdentity, /^[^_]+_[0-9a-f-]{36}$/);
    // A pod the endpoints controllers see as ready (its status written as a kubelet would).
    const pods = b.client.resource<Obj>(resourceTypes.pods);
    await b.client.resource<Obj>(resourceTypes.services).create('default', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } as Obj);
    // The slice controller leaves out pods on nodes it does not know.
    await b.client.resource<Obj>(resourceTypes.nodes).create(undefined, { metadata: { name: 'node-x' } } as Obj);
    const pod = await pods.create('default', { metadata: { name: 'web-0', labels: { app: 'web' } }, spec: { nodeName: 'node-x', containers: [{ name: 'c', image: 'pause' }] } } as Obj);
    const setReady = async (ready: boolean) => {
      const current = await pods.get('default', 'web-0');
      current.status = {
        phase: 'Running',
        podIP: '10.244.0.5',
        podIPs: [{ ip: '10.244.0.5' }],
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      };
      await pods.updateStatus(current);
    };
    await setReady(true);
    const sliceReady = async () => {
      const { items } = await b.client.resource<Obj>(resourceTypes.endpointslices).list('default', { labelSelector: 'kubernetes.io/service-name=web' });
      const eps = items.flatMap((s) => (s as { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }).endpoints ?? []);
      return eps.length === 1 && eps[0]!.addresses[0] === '10.244.0.5' ? eps[0]!.conditions?.ready : undefined;
    };
    await waitFor('the slice of web to hold its ready pod', async () => (await sliceReady()) === true, 30_000);
    assert.ok(pod.metadata.uid);
    // The leader dies (no release): the standby takes over once the lease has not been renewed for 15s.
    const leader = c1.output().includes('successfully acquired lease') ? c1 : c2;
    const standby = leader === c1 ? c2 : c1;
    leader.child.kill('SIGKILL');
    await leader.exited;
    const killedAt = Date.now();
    await waitForOutput(standby, /successfully acquired lease/, 40_000);
    const tookOverMs = Date.now() - killedAt;
    assert.ok(tookOverMs < 15_000 + 2 * 2_200 + 3_000, `took over after ${tookOverMs}ms`);
    const second = (await leaseOf()).spec as { holderIdentity: string; leaseTransitions: number };
    assert.notEqual(second.holderIdentity, first.holderIdentity);
    assert.equal(second.leaseTransitions, first.leaseTransitions + 1);
    // The new leader's controllers keep the slice true.
    await setReady(false);
    await waitFor('the slice of web to show the pod not ready', async () => (await sliceReady()) === false, 30_000);
  });

  test('an API server killed under a stream of writes: every acknowledged write is readable through the other, and it leaves the Endpoints', async () => {
    const acknowledged: string[] = [];
    let failures = 0;
    const configmaps = a.client.resource<Obj>(resourceTypes.configmaps);
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; failures === 0; i++) {
        const name = `cm-${w}-${i}`;
        try {
          await configmaps.create('default', { metadata: { name }, data: { n: String(i) } } as Obj);
          acknowledged.push(name);
        } catch {
          failures++;
        }
      }
    });
    await waitFor('some writes acknowledged', () => acknowledged.length >= 40, 30_000);
    a.proc.child.kill('SIGKILL');
    await a.proc.exited;
    await Promise.all(writers);
    const read = b.client.resource<Obj>(resourceTypes.configmaps);
    for (const name of acknowledged) assert.ok(await read.get('default', name), `${name} is readable through the other server`);
    // Its lease runs out (15s) and the survivor's next reconcile (every 10s) drops it.
    await waitFor('the killed server to leave the kubernetes Endpoints', async () => (await kubernetesEndpoints(b.client)).join(',') === '192.0.2.3', 45_000);
  });

  test('one of three etcd members killed: the API server writes and reads on', async () => {
    await etcd.kill(0);
    const services = b.client.resource<Obj>(resourceTypes.services);
    for (let i = 0; i < 5; i++) await services.create('default', { metadata: { name: `after-member-${i}` }, spec: { ports: [{ port: 80 }] } } as Obj);
    const { items } = await services.list('default');
    assert.equal(items.filter((s) => s.metadata.name?.startsWith('after-member-')).length, 5);
  });
});
