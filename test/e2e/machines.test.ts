// A cluster over several machines (README "Several machines"), the machines
// being network namespaces with their own addresses on a test bridge
// (test/helpers/machines.ts), each running its own processes as separate
// hosts would: cp1..cp3 each an etcd member, cp1 and cp2 each a `kubesvc
// apiserver` (etcd-backed, advertising its address) and a `kubesvc
// controllers --leader-elect`; w1 and w2 each `kubesvc join` with a bootstrap
// token, one node each. A Deployment spread over both machines answers
// through its ClusterIP from either machine (VXLAN overlay) and through its
// NodePort on each machine's address. Then, under a steady stream of Service
// creations through both API servers: an etcd member, the joined machines'
// API server, and the active controller manager are killed in turn —
// nothing acknowledged is lost, allocations stay unique, the Service keeps
// answering, and the cluster still acts (a scale-up runs on the new leader).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { etcdSkipReason } from '../helpers/etcd.js';
import { startEtcdCluster, type TestEtcdCluster } from '../helpers/etcd-cluster.js';
import { createMachines, type Machines } from '../helpers/machines.js';
import { namespaceSkipReason, onNode, run } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { createClient, resourceTypes, type Client } from '../../src/client/client.js';
import { createTransport } from '../../src/client/transport.js';
import { dataDirTransport } from '../../src/cli/client-flags.js';
import { componentUsers } from '../../src/auth/user.js';
import type { KubeObject } from '../../src/api/object.js';

const skip = namespaceSkipReason(['curl', 'nsenter', 'bridge', 'etcd', 'etcdctl']) || etcdSkipReason();

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

/** The files every API server of a cluster shares (kubeadm's certificate distribution). */
const sharedPki = ['ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'encryption-config.yaml'];
/** The line a controller manager prints when it takes the controllers' Lease (the scheduler elects on its own). */
const leadsControllers = /successfully acquired lease" lock="kube-system\/kube-controller-manager"/;

describe('a cluster over several machines', { skip, timeout: 600_000 }, () => {
  let machines: Machines;
  let etcd: TestEtcdCluster;
  const dirs: Record<string, string> = {};
  const processes: CliProcess[] = [];
  const clients: Client[] = [];
  let apiA: CliProcess;
  let apiB: CliProcess;
  let viaA: Client;
  let viaB: Client;
  const controllers: CliProcess[] = [];
  let nodePort = 0;
  let clusterIP = '';

  const kubesvc = async (args: string[], netns?: string) => {
    const p = startCli(args, {}, netns);
    processes.push(p);
    const code = await p.exited;
    assert.equal(code, 0, `kubesvc ${args.join(' ')}:\n${p.output()}`);
    return p.output();
  };
  const answers = async (machine: 'w1' | 'w2', url: string, n = 12) => {
    const out = await onNode(dirs[machine]!, ['sh', '-c', `for i in $(seq ${n}); do curl -s -m 3 ${url} || echo FAILED; echo; done`], machine === 'w1' ? 'node-1' : 'node-2');
    return new Set(out.stdout.split('\n').filter(Boolean));
  };
  const fromMachine = async (machine: string, url: string, n = 12) => {
    const out = await machines.exec(machine, ['sh', '-c', `for i in $(seq ${n}); do curl -s -m 3 ${url} || echo FAILED; echo; done`], 60_000);
    return new Set(out.stdout.split('\n').filter(Boolean));
  };
  const webPods = async (c: Client) =>
    (await c.resource<Obj>(resourceTypes.pods).list('default', { labelSelector: 'app=web' })).items.filter((p) => (p.status as { phase?: string })?.phase === 'Running');

  before(async () => {
    machines = await createMachines(['cp1', 'cp2', 'cp3', 'w1', 'w2']);
    for (const n of ['a', 'b', 'w1', 'w2']) dirs[n] = mkdtempSync(join(tmpdir(), `kubesvc-machines-${n}-`));
    const [cp1, cp2, cp3] = ['cp1', 'cp2', 'cp3'].map((n) => machines.byName(n));
    etcd = await startEtcdCluster(3, [cp1!, cp2!, cp3!].map((m) => ({ netns: m.netns, ip: m.ip })));
    const server = (dir: string, ip: string, netns: string) => {
      const p = startCli(['apiserver', '--data-dir', dir, '--bind', ip, '--port', '6443', '--advertise-address', ip, '--enable-admission-plugins', 'ServiceAccount', '--etcd-servers', etcd.urls.join(',')], {}, netns);
      processes.push(p);
      return p;
    };
    apiA = server(dirs.a!, cp1!.ip, cp1!.netns);
    await waitForOutput(apiA, /apiserver\] "ready"/, 90_000);
    mkdirSync(join(dirs.b!, 'pki'), { recursive: true, mode: 0o700 });
    for (const f of sharedPki) copyFileSync(join(dirs.a!, 'pki', f), join(dirs.b!, 'pki', f));
    apiB = server(dirs.b!, cp2!.ip, cp2!.netns);
    await waitForOutput(apiB, /apiserver\] "ready"/, 90_000);
    // The test reaches each server over its data dir's socket (a file: no route from the host into the machines).
    viaA = createClient(createTransport(dataDirTransport(dirs.a!, componentUsers.admin)));
    viaB = createClient(createTransport(dataDirTransport(dirs.b!, componentUsers.admin)));
    clients.push(viaA, viaB);
    // Both controller managers talk to API server a (the one that stays); one leads.
    for (const m of [cp1!, cp2!]) {
      const c = startCli(['controllers', '--data-dir', dirs.a!, '--leader-elect', '--root-ca-file', join(dirs.a!, 'pki', 'ca.crt')], {}, m.netns);
      processes.push(c);
      controllers.push(c);
    }
    await waitFor('a controller manager to lead', () => controllers.some((c) => leadsControllers.test(c.output())), 60_000);
    await kubesvc(['addons', '--data-dir', dirs.a!, '--no-dns']);
    // On cp1, as an admin there would: the data dir's kubeconfig names the server's address on the machines' network.
    const joinLine = (await kubesvc(['token', 'create', '--data-dir', dirs.a!, '--print-join-command'], cp1!.netns)).trim().split('\n').pop()!;
    const m = /^kubesvc join --server (https:\/\/[\d.]+:6443) --token (\S+) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})$/.exec(joinLine);
    assert.ok(m, `a join command: ${joinLine}`);
    // cluster-info names the last server to start (b): the joined machines' API server of choice.
    assert.equal(m[1], `https://${cp2!.ip}:6443`);
    for (const [w, node] of [['w1', 'node-1'], ['w2', 'node-2']] as const) {
      const p = startCli(['join', '--server', m[1]!, '--token', m[2]!, '--discovery-token-ca-cert-hash', m[3]!, '--node-name', node, '--data-dir', dirs[w]!], {}, machines.byName(w).netns, 'network-only');
      processes.push(p);
    }
    for (const p of processes.slice(-2)) await waitForOutput(p, /kubesvc joined https:\/\/[\d.]+:6443 as node-\d/, 120_000);
  });

  after(async () => {
    for (const c of clients) c.close();
    // The joined machines first (SIGTERM: they remove their namespaces), then the control plane.
    for (const p of processes.reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      const killer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
      await p.exited;
      clearTimeout(killer);
    }
    await etcd?.stop();
    await machines?.remove();
    // What a joined machine killed mid-way would leave: `kubesvc down` removes it.
    for (const w of ['w1', 'w2']) if (dirs[w]) await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../src/cli/main.ts'), 'down', '--data-dir', dirs[w]!]);
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  });

  test('a Deployment spread over two joined machines answers through its ClusterIP from both and its NodePort on each', async () => {
    await waitFor(
      'both joined nodes Ready',
      async () => {
        const { items } = await viaA.resource<Obj>(resourceTypes.nodes).list();
        const ready = items.filter((n) => ((n.status as { conditions?: { type: string; status: string }[] })?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.map((n) => n.metadata.name).sort().join(',') === 'node-1,node-2';
      },
      60_000,
    );
    const nodes = (await viaA.resource<Obj>(resourceTypes.nodes).list()).items;
    assert.deepEqual(nodes.map((n) => n.metadata.annotations?.['overlay.kubesvc.io/public-ip']).sort(), [machines.byName('w1').ip, machines.byName('w2').ip]);
    await waitFor(
      'kube-proxy Running on both nodes',
      async () => (await viaA.resource<Obj>(resourceTypes.pods).list('kube-system', { labelSelector: 'k8s-app=kube-proxy' })).items.filter((p) => (p.status as { phase?: string })?.phase === 'Running').length === 2,
      90_000,
    );
    await viaA.resource<Obj>(resourceTypes.deployments).create('default', {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.k8s.io/serve_hostname', ports: [{ containerPort: 9376 }] }] } },
      },
    } as Obj);
    const svc = await viaA.resource<Obj>(resourceTypes.services).create('default', {
      metadata: { name: 'web' },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 9376 }] },
    } as Obj);
    clusterIP = svc.spec!.clusterIP as string;
    nodePort = (svc.spec!.ports as { nodePort: number }[])[0]!.nodePort;
    const pods = await waitFor('two web pods Running, one per machine', async () => {
      const running = await webPods(viaA);
      return running.length === 2 && new Set(running.map((p) => (p.spec as { nodeName?: string }).nodeName)).size === 2 ? running : undefined;
    }, 90_000);
    const names = pods.map((p) => p.metadata.name!).sort();
    // From each machine's node: both pods answer, the one on the other machine through the overlay.
    for (const w of ['w1', 'w2'] as const) {
      await waitFor(`both pods answering through ${clusterIP} from ${w}`, async () => [...(await answers(w, `http://${clusterIP}/`))].sort().join(',') === names.join(','), 60_000);
    }
    // The NodePort on each machine's own address, from a third machine.
    for (const w of ['w1', 'w2']) {
      const url = `http://${machines.byName(w).ip}:${nodePort}/`;
      await waitFor(`NodePort ${url} answering from cp3 with both pods`, async () => [...(await fromMachine('cp3', url))].sort().join(',') === names.join(','), 60_000);
    }
    // The machines' own namespaces got no route to a cluster range: the VTEP is in the cluster's namespace.
    for (const w of ['w1', 'w2']) {
      const routes = (await machines.exec(w, ['ip', 'route', 'show'])).stdout;
      assert.doesNotMatch(routes, /10\.244\.|10\.96\.|172\.18\./, `no cluster route in machine ${w}`);
    }
  });

  test('an etcd member, the joined machines\' API server and the leading controller manager killed under writes: nothing lost, allocations unique, the Service answers', async () => {
    assert.ok(nodePort, 'the first test made the Service');
    const acknowledged = new Map<string, { ip: string; port: number }>();
    let writing = true;
    const errors: string[] = [];
    const create = async (name: string) => {
      const body = { metadata: { name }, spec: { type: 'NodePort', ports: [{ port: 80 }] } } as Obj;
      // A client with two servers: another try through the other one when a write fails.
      for (const c of name.endsWith('-b') ? [viaB, viaA] : [viaA, viaB]) {
        try {
          const s = await c.resource<Obj>(resourceTypes.services).create('default', body);
          return { ip: s.spec!.clusterIP as string, port: (s.spec!.ports as { nodePort: number }[])[0]!.nodePort };
        } catch (e) {
          if ((e as { code?: number }).code === 409) {
            const s = await viaA.resource<Obj>(resourceTypes.services).get('default', name);
            return { ip: s.spec!.clusterIP as string, port: (s.spec!.ports as { nodePort: number }[])[0]!.nodePort };
          }
          errors.push(`${name}: ${(e as Error).message}`);
        }
      }
      return undefined;
    };
    const writers = ['a', 'b'].map(async (via) => {
      for (let i = 0; writing; i++) {
        const name = `w-${i}-${via}`;
        const got = await create(name);
        if (got) acknowledged.set(name, got);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    const serving = async (what: string) => {
      for (const w of ['w1', 'w2'] as const) {
        await waitFor(`the Service answering through its ClusterIP from ${w} ${what}`, async () => !(await answers(w, `http://${clusterIP}/`, 4)).has('FAILED'), 60_000);
        const url = `http://${machines.byName(w).ip}:${nodePort}/`;
        await waitFor(`the NodePort on ${w} answering ${what}`, async () => !(await fromMachine('cp3', url, 4)).has('FAILED'), 60_000);
      }
    };
    const more = async (n: number, what: string) => {
      const target = acknowledged.size + n;
      await waitFor(`${n} more acknowledged writes ${what}`, () => acknowledged.size >= target, 60_000);
    };
    try {
      await more(10, 'before anything is killed');
      await etcd.kill(2);
      await more(10, 'after an etcd member died');
      await serving('after an etcd member died');
      apiB.child.kill('SIGKILL');
      await apiB.exited;
      await more(10, 'after API server b died');
      await serving('after API server b died');
      // The joined machines' agents carry on through a: the scale-up's new pod runs and answers.
      const leader = controllers.find((c) => leadsControllers.test(c.output()))!;
      const standby = controllers.find((c) => c !== leader)!;
      leader.child.kill('SIGKILL');
      await leader.exited;
      await waitForOutput(standby, leadsControllers, 40_000);
      await more(10, 'after the leading controller manager died');
      // A patch, as kubectl scale does: a read-then-update can meet the new leader's status write (409 Conflict).
      await viaA.resource<Obj>(resourceTypes.deployments).patch('default', 'web', { spec: { replicas: 3 } });
      const three = await waitFor('three web pods Running after the failovers', async () => {
        const running = await webPods(viaA);
        return running.length === 3 ? running.map((p) => p.metadata.name!).sort() : undefined;
      }, 90_000);
      await waitFor('all three pods answering through the ClusterIP from w1', async () => [...(await answers('w1', `http://${clusterIP}/`, 18))].sort().join(',') === three.join(','), 60_000);
      await serving('after the controller manager failover');
    } finally {
      writing = false;
      await Promise.all(writers);
    }
    // Every acknowledged write is there, read through the surviving server; no address or port was handed out twice.
    const { items } = await viaA.resource<Obj>(resourceTypes.services).list('default');
    const stored = new Map(items.map((s) => [s.metadata.name!, s]));
    for (const [name, got] of acknowledged) {
      const s = stored.get(name);
      assert.ok(s, `${name} was acknowledged and is stored`);
      assert.equal(s.spec!.clusterIP, got.ip, `${name} keeps its ClusterIP`);
    }
    const ips = items.map((s) => s.spec!.clusterIP as string).filter((ip) => ip !== 'None');
    const ports = items.flatMap((s) => ((s.spec!.ports as { nodePort?: number }[]) ?? []).map((p) => p.nodePort).filter(Boolean));
    assert.equal(new Set(ips).size, ips.length, 'ClusterIPs are unique');
    assert.equal(new Set(ports).size, ports.length, 'NodePorts are unique');
    assert.ok(acknowledged.size >= 40, `${acknowledged.size} writes acknowledged (failed tries: ${errors.length})`);
  });

  test('a machine cut off from the API keeps its pods and rules, and catches up when it is back', async () => {
    assert.ok(nodePort, 'the first test made the Service');
    const w2 = machines.byName('w2');
    const nft = async (...args: string[]) => {
      const r = await run('ip', ['netns', 'exec', w2.netns, 'nft', ...args]);
      assert.equal(r.code, 0, `nft ${args.join(' ')}: ${r.stderr}`);
    };
    // Its packets to the API servers dropped (not refused): a cable pulled, not a server down.
    await nft('add', 'table', 'ip', 'cutoff');
    await nft('add', 'chain', 'ip', 'cutoff', 'out', '{ type filter hook output priority 0; }');
    await nft('add', 'rule', 'ip', 'cutoff', 'out', 'ip', 'daddr', '198.51.100.0/24', 'tcp', 'dport', '6443', 'drop');
    try {
      // Cut off: its pods run on and the Service still answers from its node, with the rules it had.
      const before = (await webPods(viaA)).map((p) => p.metadata.name!).sort();
      assert.ok(!(await answers('w2', `http://${clusterIP}/`, 6)).has('FAILED'), 'the Service answers from the cut-off machine');
      // Meanwhile the cluster changes: a pod on the other machine is replaced (a new address w2 has not heard of).
      const onW1 = (await webPods(viaA)).find((p) => (p.spec as { nodeName?: string }).nodeName === 'node-1')!;
      await viaA.resource<Obj>(resourceTypes.pods).delete('default', onW1.metadata.name!);
      await waitFor('the replacement pod scheduled', async () => {
        const pods = (await viaA.resource<Obj>(resourceTypes.pods).list('default', { labelSelector: 'app=web' })).items;
        return pods.some((p) => p.metadata.name !== onW1.metadata.name && !before.includes(p.metadata.name!) && (p.spec as { nodeName?: string }).nodeName);
      }, 60_000);
      // Still cut off: the node's own pod runs on and answers at its address.
      const onW2 = (await webPods(viaA)).find((p) => (p.spec as { nodeName?: string }).nodeName === 'node-2')!;
      const podIP = (onW2.status as { podIP: string }).podIP;
      assert.deepEqual([...(await answers('w2', `http://${podIP}:9376/`, 2))], [onW2.metadata.name], 'the cut-off node keeps its pod');
      await run('ip', ['netns', 'exec', w2.netns, 'nft', 'delete', 'table', 'ip', 'cutoff']);
      // Back: it catches up — every current pod, the replacement too, answers through the ClusterIP from w2.
      const now = await waitFor('three web pods Running', async () => {
        const names = (await webPods(viaA)).map((p) => p.metadata.name!).sort();
        return names.length === before.length && !names.includes(onW1.metadata.name!) ? names : undefined;
      }, 90_000);
      await waitFor('w2 answering with the current pods after it is back', async () => [...(await answers('w2', `http://${clusterIP}/`, 18))].sort().join(',') === now.join(','), 90_000);
    } finally {
      await run('ip', ['netns', 'exec', w2.netns, 'nft', 'delete', 'table', 'ip', 'cutoff']);
    }
  });

  test('the scheduler leads on a Lease of its own, as kube-scheduler', async () => {
    const lease = await viaA.resource<Obj>(resourceTypes.leases).get('kube-system', 'kube-scheduler');
    assert.match((lease.spec as { holderIdentity?: string }).holderIdentity ?? '', /^[^_]+_[0-9a-f-]{36}$/);
  });
});

// The README's path: `up --advertise-address` on one machine, `join` on another.
describe('up on one machine, join from another', { skip, timeout: 300_000 }, () => {
  let machines: Machines;
  const dirs: Record<string, string> = {};
  const processes: CliProcess[] = [];
  let client: Client;

  const curlFromNode = async (dataDir: string, node: string, url: string, n = 12) => {
    const out = await onNode(dataDir, ['sh', '-c', `for i in $(seq ${n}); do curl -s -m 3 ${url} || echo FAILED; echo; done`], node);
    return [...new Set(out.stdout.split('\n').filter(Boolean))].sort().join(',');
  };

  before(async () => {
    machines = await createMachines(['a', 'b', 'c']);
    for (const n of ['a', 'b']) dirs[n] = mkdtempSync(join(tmpdir(), `kubesvc-machines-up-${n}-`));
    const a = machines.byName('a');
    const up = startCli(['up', '--data-dir', dirs.a!, '--nodes', '1', '--no-install', '--advertise-address', a.ip], {}, a.netns, 'network-only');
    processes.push(up);
    await waitForOutput(up, /kubesvc is up/, 90_000);
    assert.match(up.output(), new RegExp(`machines +others join through ${a.ip.replace(/\./g, '\\.')}`));
    client = createClient(createTransport(dataDirTransport(dirs.a!, componentUsers.admin)));
    const token = startCli(['token', 'create', '--data-dir', dirs.a!, '--print-join-command'], {}, a.netns);
    processes.push(token);
    assert.equal(await token.exited, 0, token.output());
    const line = token.output().trim().split('\n').pop()!;
    assert.ok(line.startsWith(`kubesvc join --server https://${a.ip}:6443 --token `), line);
    const join_ = startCli([...line.split(' ').slice(1), '--node-name', 'node-2', '--data-dir', dirs.b!], {}, machines.byName('b').netns, 'network-only');
    processes.push(join_);
    await waitForOutput(join_, /kubesvc joined/, 120_000);
  });

  after(async () => {
    client?.close();
    for (const p of processes.reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGINT');
      const killer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
      await p.exited;
      clearTimeout(killer);
    }
    for (const d of Object.values(dirs)) {
      await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../src/cli/main.ts'), 'down', '--data-dir', d]);
      rmSync(d, { recursive: true, force: true });
    }
    await machines?.remove();
  });

  test('pods on both machines answer through a ClusterIP from either node and a NodePort on either machine', async () => {
    await client.resource<Obj>(resourceTypes.deployments).create('default', {
      metadata: { name: 'hostnames' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'hostnames' } },
        template: { metadata: { labels: { app: 'hostnames' } }, spec: { containers: [{ name: 'h', image: 'registry.k8s.io/serve_hostname' }] } },
      },
    } as Obj);
    const svc = await client.resource<Obj>(resourceTypes.services).create('default', {
      metadata: { name: 'hostnames' },
      spec: { type: 'NodePort', selector: { app: 'hostnames' }, ports: [{ port: 80, targetPort: 9376 }] },
    } as Obj);
    const ip = svc.spec!.clusterIP as string;
    const port = (svc.spec!.ports as { nodePort: number }[])[0]!.nodePort;
    const names = await waitFor('a pod Running on each machine', async () => {
      const running = (await client.resource<Obj>(resourceTypes.pods).list('default', { labelSelector: 'app=hostnames' })).items.filter((p) => (p.status as { phase?: string })?.phase === 'Running');
      return new Set(running.map((p) => (p.spec as { nodeName?: string }).nodeName)).size === 2 ? running.map((p) => p.metadata.name!).sort().join(',') : undefined;
    }, 90_000);
    await waitFor('both pods through the ClusterIP from node-1 (machine a)', async () => (await curlFromNode(dirs.a!, 'node-1', `http://${ip}/`)) === names, 60_000);
    await waitFor('both pods through the ClusterIP from node-2 (machine b)', async () => (await curlFromNode(dirs.b!, 'node-2', `http://${ip}/`)) === names, 60_000);
    for (const m of ['a', 'b']) {
      const url = `http://${machines.byName(m).ip}:${port}/`;
      await waitFor(`the NodePort on machine ${m} from machine c`, async () => {
        const out = await machines.exec('c', ['sh', '-c', `for i in $(seq 12); do curl -s -m 3 ${url} || echo FAILED; echo; done`], 60_000);
        return [...new Set(out.stdout.split('\n').filter(Boolean))].sort().join(',') === names;
      }, 60_000);
    }
  });

  test('a UDP NodePort answers on both machines\' addresses', async () => {
    await client.resource<Obj>(resourceTypes.deployments).create('default', {
      metadata: { name: 'udp' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'udp' } },
        template: {
          metadata: { labels: { app: 'udp' } },
          spec: { containers: [{ name: 'u', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['serve-hostname', '--udp', '--http=false', '--port', '9376'] }] },
        },
      },
    } as Obj);
    const svc = await client.resource<Obj>(resourceTypes.services).create('default', {
      metadata: { name: 'udp' },
      spec: { type: 'NodePort', selector: { app: 'udp' }, ports: [{ port: 53, protocol: 'UDP', targetPort: 9376 }] },
    } as Obj);
    const port = (svc.spec!.ports as { nodePort: number }[])[0]!.nodePort;
    const pod = await waitFor('the UDP pod Running', async () => {
      const running = (await client.resource<Obj>(resourceTypes.pods).list('default', { labelSelector: 'app=udp' })).items.filter((p) => (p.status as { phase?: string })?.phase === 'Running');
      return running[0]?.metadata.name;
    }, 90_000);
    for (const m of ['a', 'b']) {
      await waitFor(`the UDP NodePort on machine ${m} from machine c`, async () => {
        const out = await machines.exec('c', [process.execPath, join(import.meta.dirname, '../helpers/udp-ask.mjs'), machines.byName(m).ip, String(port), '--count', '3', '--wait', '1000'], 30_000);
        return out.stdout.split('\n').filter(Boolean).every((l) => l === pod) && out.stdout.includes(pod);
      }, 60_000);
    }
  });
});
