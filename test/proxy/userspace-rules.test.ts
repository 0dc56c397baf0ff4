// The userspace mode's iptables rules and the node-port address selection, as
// pure functions: which addresses are captured, to which socket, from where.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderRules, type PortalRule } from '../../src/proxy/userspace/rules.js';
import { hostIP, nodePortIPs } from '../../src/proxy/node-addresses.js';

const base: PortalRule = {
  comment: 'default/web',
  protocol: 'tcp',
  port: 80,
  nodePort: 30080,
  clusterIPs: ['10.96.0.10'],
  externalIPs: ['172.18.255.1'],
  internalPort: 40001,
  externalPort: 40001,
  shortCircuitPort: 40001,
};

test('cluster policy: every address and the node port go to the one socket, from pods and from the node', () => {
  const out = renderRules([base]);
  assert.match(out, /^\*nat\n:KUBE-PORTALS-CONTAINER - \[0:0\]/);
  for (const chain of ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST']) {
    assert.ok(out.includes(`-A ${chain} -d 10.96.0.10/32 -p tcp -m comment --comment "default/web" -m tcp --dport 80 -j REDIRECT --to-ports 40001`));
    assert.ok(out.includes(`-A ${chain} -d 172.18.255.1/32 -p tcp -m comment --comment "default/web" -m tcp --dport 80 -j REDIRECT --to-ports 40001`));
  }
  for (const chain of ['KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST']) {
    assert.ok(out.includes(`-A ${chain} -m addrtype --dst-type LOCAL -p tcp -m comment --comment "default/web" -m tcp --dport 30080 -j REDIRECT --to-ports 40001`));
  }
  assert.ok(out.endsWith('COMMIT\n'));
});

test('externalTrafficPolicy Local: outside traffic to the local socket, pods and the node short-circuit to the cluster socket', () => {
  const out = renderRules([{ ...base, externalPort: 40002 }], { podCIDRs: ['10.244.0.0/16'], nodePortIPs: ['172.18.0.2'] });
  const lines = out.split('\n');
  const nodePortContainer = lines.filter((l) => l.startsWith('-A KUBE-NODEPORT-CONTAINER'));
  assert.deepEqual(nodePortContainer, [
    '-A KUBE-NODEPORT-CONTAINER -s 10.244.0.0/16 -d 172.18.0.2/32 -p tcp -m comment --comment "default/web" -m tcp --dport 30080 -j REDIRECT --to-ports 40001',
    '-A KUBE-NODEPORT-CONTAINER -d 172.18.0.2/32 -p tcp -m comment --comment "default/web" -m tcp --dport 30080 -j REDIRECT --to-ports 40002',
  ]);
  assert.deepEqual(
    lines.filter((l) => l.startsWith('-A KUBE-NODEPORT-HOST')),
    ['-A KUBE-NODEPORT-HOST -d 172.18.0.2/32 -p tcp -m comment --comment "default/web" -m tcp --dport 30080 -j REDIRECT --to-ports 40001'],
  );
  // The cluster IP is internal traffic: never the local socket.
  assert.ok(!lines.some((l) => l.includes('-d 10.96.0.10/32') && l.includes('40002')));
});

test('internalTrafficPolicy Local: the cluster IP goes to the local socket', () => {
  const out = renderRules([{ ...base, externalIPs: [], nodePort: 0, internalPort: 40003 }]);
  assert.deepEqual(
    out.split('\n').filter((l) => l.startsWith('-A')),
    [
      '-A KUBE-PORTALS-CONTAINER -d 10.96.0.10/32 -p tcp -m comment --comment "default/web" -m tcp --dport 80 -j REDIRECT --to-ports 40003',
      '-A KUBE-PORTALS-HOST -d 10.96.0.10/32 -p tcp -m comment --comment "default/web" -m tcp --dport 80 -j REDIRECT --to-ports 40003',
    ],
  );
});

test('traffic from the node is DNATed to the host IP when it is known (UDP replies then leave from the right address)', () => {
  const out = renderRules([{ ...base, externalIPs: [], nodePort: 0 }], { podCIDRs: [], hostIP: '172.18.0.2' });
  assert.ok(out.includes('-A KUBE-PORTALS-HOST -d 10.96.0.10/32 -p tcp -m comment --comment "default/web" -m tcp --dport 80 -j DNAT --to-destination 172.18.0.2:40001'));
  assert.ok(out.includes('-A KUBE-PORTALS-CONTAINER -d 10.96.0.10/32 -p tcp -m comment --comment "default/web" -m tcp --dport 80 -j REDIRECT --to-ports 40001'));
});

test('no rules still declares (and so flushes) every chain', () => {
  assert.equal(renderRules([]), '*nat\n:KUBE-PORTALS-CONTAINER - [0:0]\n:KUBE-PORTALS-HOST - [0:0]\n:KUBE-NODEPORT-CONTAINER - [0:0]\n:KUBE-NODEPORT-HOST - [0:0]\nCOMMIT\n');
});

test('nodePortAddresses: empty is every local address, CIDRs pick local addresses, primary the node IPs', () => {
  const local = ['127.0.0.1', '172.18.0.2', '10.244.0.1', '::1', 'fe80::1'];
  assert.equal(nodePortIPs([], local, ['172.18.0.2']), undefined);
  assert.deepEqual(nodePortIPs(['172.18.0.0/16'], local, []), ['172.18.0.2']);
  assert.deepEqual(nodePortIPs(['127.0.0.0/8', '10.244.0.0/16'], local, []), ['10.244.0.1', '127.0.0.1']);
  assert.deepEqual(nodePortIPs(['192.168.0.0/16'], local, []), []);
  assert.deepEqual(nodePortIPs(['primary'], local, ['172.18.0.2']), ['172.18.0.2']);
  assert.deepEqual(nodePortIPs(['::/0'], local, [], 'IPv6'), ['::1', 'fe80::1']);
});

test("host IP: the node's primary IP, else its first non-loopback address", () => {
  assert.equal(hostIP(['127.0.0.1', '10.244.0.1', '172.18.0.2'], ['172.18.0.2']), '172.18.0.2');
  assert.equal(hostIP(['127.0.0.1', '::1', '10.0.0.5'], []), '10.0.0.5');
  assert.equal(hostIP(['127.0.0.1'], []), undefined);
});
