// The node network, for real: namespaces, bridges, veths and TCP traffic
// between them. Every packet to a 10.244.x / 172.18.x address is sent from
// inside a namespace this test created (`ip netns exec`); the host namespace
// only lists its routes and links to prove nothing leaked into it.
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import type { NodeNetwork, PodSandbox } from '../../src/agent/contracts.js';
import {
  CONTROL_PLANE_IP,
  RUN_DIR,
  ROUTE_PROTO,
  cleanupAllStale,
  cleanupStale,
  clusterIdOfNetns,
  clusterNetnsName,
  clusterNetworkRoutes,
  clusterNetnsPrefix,
  createNodeNetwork,
  destroyClusterNetwork,
  ensureClusterNetwork,
  findStaleClusters,
  macForIPv4,
  nodeNetnsName,
  planPeerRoutes,
  planPodSandbox,
  podHostVethName,
  podNetnsName,
  readClusterMarker,
} from '../../src/agent/network.js';
import { execInNetns, ip, ipJson, listNetns, netnsExecArgv, netnsPids } from '../../src/net/ip.js';
import { listenInNetns } from '../../src/net/listen-in-netns.js';
import { ipv4CIDRContains, parseIPv4, parseIPv4CIDR } from '../../src/net/addr.js';
import { namespaceSkipReason } from '../helpers/root.js';

// --- pure parts: no root needed ---------------------------------------------------

describe('node network plans', () => {
  test('names fit the 15-char interface limit and carry the cluster and node', () => {
    const uid = '6f1c2b7e-3d4a-4c55-9e0f-0123456789ab';
    assert.match(podHostVethName(uid), /^veth[0-9a-f]{10}$/);
    assert.ok(podHostVethName(uid).length <= 15);
    assert.equal(nodeNetnsName('k1', 3), 'ksvc-k1-n3');
    assert.equal(clusterNetnsName('k1'), 'ksvc-k1-net');
    assert.match(podNetnsName('k1', 3, uid), /^ksvc-k1-n3-p[0-9a-f]{10}$/);
    assert.equal(clusterIdOfNetns(podNetnsName('ab12', 0, uid)), 'ab12');
    assert.equal(clusterIdOfNetns('other-ns'), undefined);
    assert.equal(macForIPv4('10.244.1.5'), '0a:58:0a:f4:01:05');
  });

  test('pod sandbox plan: veth into node and pod, address, default route via .1', () => {
    const plan = planPodSandbox('k1', 2, 'uid-1', '10.244.2.9');
    const veth = podHostVethName('uid-1');
    const podNs = podNetnsName('k1', 2, 'uid-1');
    assert.deepEqual(plan.host, [
      `netns add ${podNs}`,
      `link add ${veth} netns ksvc-k1-n2 type veth peer name eth0 address 0a:58:0a:f4:02:09 netns ${podNs}`,
    ]);
    assert.ok(plan.pod.includes('addr add 10.244.2.9/24 dev eth0'));
    assert.ok(plan.pod.includes('route add default via 10.244.2.1 dev eth0'));
    assert.ok(plan.node.includes(`link set ${veth} master cbr0 up`));
    assert.throws(() => planPodSandbox('k1', 2, 'uid-1', '10.244.3.9'), /outside the node's pod CIDR/);
  });

  test('peer routes: add, change, remove; skip self; reject bad peers', () => {
    const self = { podCIDR: '10.244.0.0/24', nodeIP: '172.18.0.2' };
    const peers = [
      { podCIDR: '10.244.0.0/24', nodeIP: '172.18.0.2' },
      { podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3' },
      { podCIDR: '10.244.2.0/24', nodeIP: '172.18.0.4' },
    ];
    assert.deepEqual(planPeerRoutes([], peers, self), [
      `route replace 10.244.1.0/24 via 172.18.0.3 dev eth0 proto ${ROUTE_PROTO}`,
      `route replace 10.244.2.0/24 via 172.18.0.4 dev eth0 proto ${ROUTE_PROTO}`,
    ]);
    const current = [
      { dst: 'default', dev: 'eth0' },
      { dst: '10.244.1.0/24', gateway: '172.18.0.3', dev: 'eth0' },
      { dst: '10.244.2.0/24', gateway: '172.18.0.9', dev: 'eth0' },
      { dst: '10.244.5.0/24', gateway: '172.18.0.7', dev: 'eth0' },
    ];
    assert.deepEqual(planPeerRoutes(current, peers, self), [
      `route del 10.244.5.0/24 proto ${ROUTE_PROTO}`,
      `route replace 10.244.2.0/24 via 172.18.0.4 dev eth0 proto ${ROUTE_PROTO}`,
    ]);
    assert.deepEqual(planPeerRoutes(current.slice(0, 2), peers.slice(0, 2), self), []);
    assert.throws(() => planPeerRoutes([], [{ podCIDR: '10.244.1.0/24', nodeIP: '192.168.1.1' }], self), /not on the node network/);
    assert.throws(() => planPeerRoutes([], [{ podCIDR: '10.244.1.1/24', nodeIP: '172.18.0.3' }], self), /host bits/);
    assert.throws(
      () =>
        planPeerRoutes(
          [],
          [
            { podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3' },
            { podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.4' },
          ],
          self,
        ),
      /claimed by two peers/,
    );
  });

  test('stale clusters: no marker, or an owner that is gone', () => {
    const markers = new Map([
      ['live', { pid: 10, startTime: '5' }],
      ['dead', { pid: 11, startTime: '6' }],
    ]);
    assert.deepEqual(findStaleClusters(['live', 'dead', 'orphan', 'dead'], markers, (m) => m.pid === 10), ['dead', 'orphan']);
  });
});

// --- real namespaces ------------------------------------------------------------

const CID = `t${process.pid.toString(36)}`;
const CID_CRASH = `${CID}c`;
const CID_ORPHAN = `${CID}o`;
const ALL_CIDS = [CID, CID_CRASH, CID_ORPHAN];

async function whyNoNetns(): Promise<string | undefined> {
  const why = namespaceSkipReason(['ip']);
  if (why) return why;
  const probe = `ksvc-${CID}-probe`;
  try {
    await ip(['netns', 'add', probe]);
    await ip(['netns', 'delete', probe]);
  } catch (e) {
    return `ip netns does not work here: ${(e as Error).message}`;
  }
  return undefined;
}
const skipReason = await whyNoNetns();

const ECHO_PORT = 7007;
// Replies "<peer address>|<what it got>" so the test sees pod-to-pod traffic is not NATed.
const ECHO_SERVER = `
const net = require('node:net');
net.createServer((c) => c.once('data', (d) => c.end(c.remoteAddress + '|' + d))).listen(${ECHO_PORT}, '0.0.0.0', () => console.log('ready'));
`;
// argv[1]: JSON list of addresses inside the cluster namespaces, argv[2]: timeout ms; prints one result per address.
const ECHO_CLIENT = `
const net = require('node:net');
const one = (host) => new Promise((resolve) => {
  const s = net.connect({ host, port: ${ECHO_PORT}, timeout: Number(process.argv[2] || 3000) });
  let got = '';
  s.on('connect', () => s.write('ping ' + host));
  s.on('data', (d) => (got += d));
  s.on('end', () => resolve({ host, reply: got }));
  s.on('timeout', () => { s.destroy(); resolve({ host, error: 'timeout' }); });
  s.on('error', (e) => resolve({ host, error: e.code || e.message }));
});
Promise.all(JSON.parse(process.argv[1]).map(one)).then((r) => console.log(JSON.stringify(r)));
`;

interface EchoResult {
  host: string;
  reply?: string;
  error?: string;
}

const servers: ChildProcess[] = [];

function startEchoServer(netns: string): Promise<void> {
  const argv = netnsExecArgv(netns, [process.execPath, '-e', ECHO_SERVER]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`echo server in ${netns} not ready after 10 s: ${err}`)), 10_000);
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`echo server in ${netns} exited with ${code}: ${err}`));
    });
  });
}

async function echoFrom(netns: string, hosts: string[], timeoutMs = 3000): Promise<EchoResult[]> {
  const argv = [process.execPath, '-e', ECHO_CLIENT, JSON.stringify(hosts), String(timeoutMs)];
  const { stdout } = await execInNetns(netns, argv, { timeoutMs: timeoutMs + 10_000 });
  return JSON.parse(stdout) as EchoResult[];
}

function assertEchoed(results: EchoResult[], from: string): void {
  for (const r of results) {
    assert.equal(r.error, undefined, `connect to ${r.host} failed: ${r.error}`);
    assert.equal(r.reply, `${from}|ping ${r.host}`, `reply from ${r.host}`);
  }
}

/** Links of the host namespace (names), to prove no veth or bridge ever lands there. */
async function hostLinks(): Promise<string[]> {
  return (await ipJson<{ ifname: string }>(['link', 'show'])).map((l) => l.ifname).sort();
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function sleeperIn(netns: string): ChildProcess {
  const argv = netnsExecArgv(netns, ['sleep', '300']);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  servers.push(child);
  return child;
}

async function pidInNetns(pid: number, netns: string): Promise<boolean> {
  return ((await netnsPids([netns])).get(netns) ?? []).includes(pid);
}

describe('node network in namespaces', () => {
  const skip = (t: TestContext): boolean => {
    if (skipReason) t.skip(skipReason);
    return skipReason !== undefined;
  };
  let linksBefore: string[] = [];
  let node0: NodeNetwork;
  let node1: NodeNetwork;
  const pods: Record<'a' | 'b' | 'c' | 'd', PodSandbox> = {} as never;
  const createMs: number[] = [];

  before(async () => {
    if (skipReason) return;
    for (const id of ALL_CIDS) await cleanupStale(id);
    linksBefore = await hostLinks();
    await ensureClusterNetwork(CID);
    node0 = await createNodeNetwork({
      clusterId: CID,
      nodeName: 'node-0',
      nodeIndex: 0,
      peers: [{ podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3' }],
    });
    node1 = await createNodeNetwork({ clusterId: CID, nodeName: 'node-1', nodeIndex: 1, peers: [] });
    // Every node's entry, including its own, as an agent would pass them.
    await node1.setPeers([
      { podCIDR: '10.244.0.0/24', nodeIP: '172.18.0.2' },
      { podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3' },
    ]);
    const make = async (node: NodeNetwork, uid: string) => {
      const t0 = performance.now();
      const s = await node.createPodSandbox(uid);
      createMs.push(performance.now() - t0);
      return s;
    };
    pods.a = await make(node0, 'uid-a');
    pods.b = await make(node0, 'uid-b');
    pods.c = await make(node1, 'uid-c');
    pods.d = await make(node1, 'uid-d');
    await Promise.all([pods.a, pods.b, pods.c, pods.d].map((p) => startEchoServer(p.netns)));
  });

  after(async () => {
    for (const s of servers) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
    if (skipReason) return;
    for (const id of ALL_CIDS) await cleanupStale(id);
  });

  test('nodes and pods get their addresses, names and routes', async (t) => {
    if (skip(t)) return;
    assert.equal(node0.netns, `ksvc-${CID}-n0`);
    assert.equal(node0.nodeIP, '172.18.0.2');
    assert.equal(node1.nodeIP, '172.18.0.3');
    assert.equal(node1.podCIDR, '10.244.1.0/24');
    const ips = [pods.a, pods.b, pods.c, pods.d].map((p) => p.ip);
    assert.equal(new Set(ips).size, 4);
    for (const [p, node] of [
      [pods.a, node0],
      [pods.b, node0],
      [pods.c, node1],
      [pods.d, node1],
    ] as const) {
      assert.ok(ipv4CIDRContains(parseIPv4CIDR(node.podCIDR), parseIPv4(p.ip)), `${p.ip} in ${node.podCIDR}`);
      assert.ok(!p.ip.endsWith('.1') && !p.ip.endsWith('.0'));
      const addrs = await ipJson<{ ifname: string; addr_info: { local: string }[] }>(['addr', 'show', 'dev', 'eth0'], p.netns);
      assert.deepEqual(addrs[0]?.addr_info.filter((a) => a.local.includes('.')).map((a) => a.local), [p.ip]);
      const routes = await ipJson<{ dst: string; gateway?: string }>(['route', 'show', 'default'], p.netns);
      assert.equal(routes[0]?.gateway, node.podCIDR.replace('.0/24', '.1'));
      const links = await ipJson<{ ifname: string; master?: string }>(['link', 'show', 'dev', p.hostVeth], node.netns);
      assert.equal(links[0]?.master, 'cbr0');
    }
    // Idempotent per pod: asking again returns the same sandbox.
    assert.deepEqual(await node0.createPodSandbox('uid-a'), pods.a);
    const { stdout } = await execInNetns(node0.netns, ['sysctl', '-n', 'net.ipv4.ip_forward']);
    assert.equal(stdout.trim(), '1');
    const peerRoutes = await ipJson<{ dst: string; gateway?: string }>(['route', 'show', 'proto', String(ROUTE_PROTO)], node1.netns);
    assert.deepEqual(
      peerRoutes.filter((r) => r.dst !== 'default').map((r) => [r.dst, r.gateway]),
      [['10.244.0.0/24', '172.18.0.2']],
    );
  });

  test('pod reaches a pod on its node and pods on the other node, without NAT', async (t) => {
    if (skip(t)) return;
    assertEchoed(await echoFrom(pods.a.netns, [pods.b.ip, pods.c.ip, pods.d.ip]), pods.a.ip);
    assertEchoed(await echoFrom(pods.d.netns, [pods.a.ip, pods.b.ip, pods.c.ip]), pods.d.ip);
  });

  test('a node reaches its own pods and the other node’s pods', async (t) => {
    if (skip(t)) return;
    // To its own pods the node speaks from its pod bridge; to the other node's, from its node IP.
    const own = await echoFrom(node0.netns, [pods.a.ip, pods.b.ip]);
    for (const r of own) assert.equal(r.reply, `10.244.0.1|ping ${r.host}`, JSON.stringify(r));
    assertEchoed(await echoFrom(node0.netns, [pods.c.ip, pods.d.ip]), node0.nodeIP);
    assertEchoed(await echoFrom(node1.netns, [pods.a.ip]), node1.nodeIP);
  });

  test('setPeers replaces the routes to other nodes’ pod CIDRs', async (t) => {
    if (skip(t)) return;
    await node0.setPeers([]);
    const gone = await echoFrom(pods.a.netns, [pods.c.ip], 500);
    assert.ok(gone[0]?.error, `without a route pod C must be unreachable, got ${JSON.stringify(gone)}`);
    await node0.setPeers([{ podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3' }]);
    assertEchoed(await echoFrom(pods.a.netns, [pods.c.ip]), pods.a.ip);
    await assert.rejects(node0.setPeers([{ podCIDR: 'nonsense', nodeIP: '172.18.0.3' }]), /invalid CIDR/);
  });

  test('the control plane address: a socket of this process bound in the cluster net namespace answers pods of every node', async (t) => {
    if (skip(t)) return;
    const listener = await listenInNetns(clusterNetnsName(CID), CONTROL_PLANE_IP, ECHO_PORT);
    t.after(() => listener.close());
    listener.on('connection', (c) => c.once('data', (d) => c.end(`${c.remoteAddress}|${d}`)));
    await assert.rejects(listenInNetns(clusterNetnsName(CID), CONTROL_PLANE_IP, ECHO_PORT), /already in use/);
    const routes = clusterNetworkRoutes(CID);
    await routes.setPeers([
      { podCIDR: '10.244.0.0/24', nodeIP: '172.18.0.2' },
      { podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3' },
    ]);
    // Pods keep their own source address (no NAT): the replies need the routes back.
    assertEchoed(await echoFrom(pods.a.netns, [CONTROL_PLANE_IP]), pods.a.ip);
    assertEchoed(await echoFrom(pods.d.netns, [CONTROL_PLANE_IP]), pods.d.ip);
    assertEchoed(await echoFrom(node1.netns, [CONTROL_PLANE_IP]), node1.nodeIP);
    await routes.setPeers([{ podCIDR: '10.244.0.0/24', nodeIP: '172.18.0.2' }]);
    const noRoute = await echoFrom(pods.d.netns, [CONTROL_PLANE_IP], 500);
    assert.ok(noRoute[0]?.error, `without a route back pod D gets no answer, got ${JSON.stringify(noRoute)}`);
  });

  test('the host namespace has no route, address or link of the cluster', async (t) => {
    if (skip(t)) return;
    const ranges = ['10.244.0.0/16', '172.18.0.0/16'].map(parseIPv4CIDR);
    const inCluster = (s: string) => {
      const addr = s.split('/')[0]!;
      return /^\d+\.\d+\.\d+\.\d+$/.test(addr) && ranges.some((r) => ipv4CIDRContains(r, parseIPv4(addr)));
    };
    const routes = await ipJson<{ dst: string; gateway?: string }>(['route', 'show', 'table', 'all']);
    assert.deepEqual(routes.filter((r) => inCluster(r.dst) || (r.gateway && inCluster(r.gateway))), []);
    const addrs = await ipJson<{ addr_info: { local: string }[] }>(['addr', 'show']);
    assert.deepEqual(addrs.flatMap((l) => l.addr_info.map((a) => a.local)).filter(inCluster), []);
    assert.deepEqual(await hostLinks(), linksBefore);
  });

  test('deleting a pod removes its namespace and veth; its IP is not reused at once', async (t) => {
    if (skip(t)) return;
    await node1.deletePodSandbox('uid-d');
    assert.deepEqual(await listNetns(pods.d.netns), []);
    const links = (await ipJson<{ ifname: string }>(['link', 'show'], node1.netns)).map((l) => l.ifname);
    assert.ok(!links.includes(pods.d.hostVeth), `veth ${pods.d.hostVeth} left in ${links}`);
    await node1.deletePodSandbox('uid-d'); // again: nothing to do, no error
    const e = await node1.createPodSandbox('uid-e');
    assert.notEqual(e.ip, pods.d.ip);
    assert.notEqual(e.ip, pods.c.ip);
    await startEchoServer(e.netns);
    assertEchoed(await echoFrom(pods.b.netns, [e.ip]), pods.b.ip);
  });

  test('a node left over by a crash is rebuilt; cleanupStale removes everything of a crashed cluster', async (t) => {
    if (skip(t)) return;
    const cfg = { clusterId: CID_CRASH, nodeName: 'node-0', nodeIndex: 0, peers: [] };
    const crashed = await createNodeNetwork(cfg);
    const p1 = await crashed.createPodSandbox('crash-1');
    const sleeper1 = sleeperIn(p1.netns);
    await waitFor('sleeper in pod', () => pidInNetns(sleeper1.pid!, p1.netns));
    // "Crash": drop the handle, create the node again.
    const rebuilt = await createNodeNetwork(cfg);
    await waitFor('old pod process killed', async () => sleeper1.exitCode !== null || sleeper1.signalCode !== null);
    assert.deepEqual(await listNetns(p1.netns), [], 'the old pod namespace is gone');
    const p2 = await rebuilt.createPodSandbox('crash-2');
    const sleeper2 = sleeperIn(p2.netns);
    await waitFor('sleeper in pod', () => pidInNetns(sleeper2.pid!, p2.netns));
    assert.deepEqual(await listNetns(clusterNetnsPrefix(CID_CRASH)), [
      `ksvc-${CID_CRASH}-n0`,
      p2.netns,
      `ksvc-${CID_CRASH}-net`,
    ].sort());
    assert.ok(await readClusterMarker(CID_CRASH));

    // "Crash" again, this time of the whole cluster: the next start cleans it up.
    const removed = await cleanupStale(CID_CRASH);
    assert.equal(removed.length, 3);
    assert.deepEqual(await listNetns(clusterNetnsPrefix(CID_CRASH)), []);
    await waitFor('pod process killed', async () => sleeper2.exitCode !== null || sleeper2.signalCode !== null);
    assert.equal(await readClusterMarker(CID_CRASH), undefined);
  });

  test('cleanupAllStale removes clusters whose owner is gone and keeps live ones', async (t) => {
    if (skip(t)) return;
    const only = (id: string) => id === CID_ORPHAN || id === CID;
    const node = await createNodeNetwork({ clusterId: CID_ORPHAN, nodeName: 'node-0', nodeIndex: 0, peers: [] });
    await node.createPodSandbox('orphan-1');
    assert.deepEqual(await cleanupAllStale({ match: only }), [], 'both owned by this live process');
    assert.equal((await listNetns(clusterNetnsPrefix(CID_ORPHAN))).length, 3);
    // Its owner "died": a marker naming a process that ran at another time.
    const marker = `${RUN_DIR}/${CID_ORPHAN}.pid`;
    const [pid, start] = (await readFile(marker, 'utf8')).trim().split(' ');
    await writeFile(marker, `${pid} ${Number(start) + 1}\n`);
    assert.deepEqual(await cleanupAllStale({ match: only }), [CID_ORPHAN]);
    assert.deepEqual(await listNetns(clusterNetnsPrefix(CID_ORPHAN)), []);
    assert.ok((await listNetns(clusterNetnsPrefix(CID))).length > 0, 'the live cluster is untouched');
  });

  test('destroy removes every namespace and link', async (t) => {
    if (skip(t)) return;
    const clusterNs = clusterNetnsName(CID);
    await node0.destroy();
    await node0.destroy(); // twice is fine
    await assert.rejects(node0.createPodSandbox('late'), /destroyed/);
    const uplinks = (await ipJson<{ ifname: string }>(['link', 'show'], clusterNs)).map((l) => l.ifname);
    assert.ok(!uplinks.includes('n0') && uplinks.includes('n1'), `uplinks left: ${uplinks}`);
    assert.deepEqual(
      (await listNetns(clusterNetnsPrefix(CID))).filter((n) => n.startsWith(node0.netns)),
      [],
    );
    await node1.destroy();
    await destroyClusterNetwork(CID);
    assert.deepEqual(await listNetns(clusterNetnsPrefix(CID)), []);
    const { stdout } = await ip(['netns', 'list']);
    assert.ok(!stdout.includes(`ksvc-${CID}`), stdout);
    assert.deepEqual(await hostLinks(), linksBefore);
    assert.equal(await readClusterMarker(CID), undefined);
    await waitFor('echo servers gone', async () => servers.every((s) => s.exitCode !== null || s.signalCode !== null));
    const ms = [...createMs].sort((x, y) => x - y);
    t.diagnostic(`createPodSandbox ms: ${ms.map((m) => m.toFixed(1)).join(', ')} (median ${ms[Math.floor(ms.length / 2)]!.toFixed(1)})`);
  });
});
