// The overlay's plans (pure): VXLAN neighbour, route and FDB entries for the
// nodes of other machines, and how Node objects sort into this machine's and
// the others'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlayAnnotationsFor, planOverlay, planVtep, vtepMACFor, type RemoteNode } from '../../src/agent/overlay.js';
import { classifyPeers } from '../../src/agent/peer-routes.js';
import { planPeerRoutes } from '../../src/agent/network.js';
import type { NodeObject } from '../../src/api/types.js';

const b: RemoteNode = { podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3', publicIP: '198.51.100.15', vtepMAC: vtepMACFor('198.51.100.15') };
const c: RemoteNode = { podCIDR: '10.244.2.0/24', nodeIP: '172.18.0.4', publicIP: '198.51.100.15', vtepMAC: vtepMACFor('198.51.100.15') };

test('the VTEP is made in the machine namespace on its address and moved into the cluster namespace', () => {
  assert.deepEqual(planVtep('k1', '198.51.100.14'), [
    'link add vxk1 address 0a:59:c6:33:64:0e mtu 1450 type vxlan id 1 local 198.51.100.14 dstport 8472 nolearning',
    'link set vxk1 netns ksvc-k1-net',
  ]);
  assert.deepEqual(overlayAnnotationsFor('198.51.100.14'), { 'overlay.kubesvc.io/public-ip': '198.51.100.14', 'overlay.kubesvc.io/vtep-mac': '0a:59:c6:33:64:0e' });
});

test('a remote node gets a permanent neighbour, a route to its address and one to its pods over the VTEP; its machine one FDB entry', () => {
  const plan = planOverlay('vxk1', [], [b, c]);
  assert.deepEqual(plan.fdb, ['fdb append 0a:59:c6:33:64:0f dev vxk1 dst 198.51.100.15']);
  assert.deepEqual(plan.ip, [
    'neigh replace 172.18.0.3 lladdr 0a:59:c6:33:64:0f dev vxk1 nud permanent',
    'route replace 172.18.0.3/32 dev vxk1 proto 76',
    'route replace 10.244.1.0/24 via 172.18.0.3 dev vxk1 onlink proto 76',
    'neigh replace 172.18.0.4 lladdr 0a:59:c6:33:64:0f dev vxk1 nud permanent',
    'route replace 172.18.0.4/32 dev vxk1 proto 76',
    'route replace 10.244.2.0/24 via 172.18.0.4 dev vxk1 onlink proto 76',
  ]);
  assert.deepEqual(planOverlay('vxk1', [b, c], [b, c]), { ip: [], fdb: [] });
  // One node leaves: its entries go; the machine's FDB entry stays for the other.
  assert.deepEqual(planOverlay('vxk1', [b, c], [b]), { ip: ['route del 10.244.2.0/24 proto 76', 'route del 172.18.0.4/32 proto 76', 'neigh del 172.18.0.4 dev vxk1'], fdb: [] });
  // The machine's address changes: the FDB entry moves.
  const moved = { ...b, publicIP: '198.51.100.20' };
  assert.deepEqual(planOverlay('vxk1', [b], [moved]).fdb, ['fdb del 0a:59:c6:33:64:0f dev vxk1 dst 198.51.100.15', 'fdb append 0a:59:c6:33:64:0f dev vxk1 dst 198.51.100.20']);
  assert.throws(() => planOverlay('vxk1', [], [{ ...b, vtepMAC: 'nope' }]), /not a MAC address/);
  assert.throws(() => planOverlay('vxk1', [], [b, { ...c, publicIP: '198.51.100.99' }]), /claimed by machines/);
});

const node = (name: string, podCIDR: string, ip: string, annotations: Record<string, string> = {}): NodeObject =>
  ({ metadata: { name, annotations }, spec: { podCIDR }, status: { addresses: [{ type: 'InternalIP', address: ip }] } }) as NodeObject;

test('Nodes sort into this machine\'s (over the bridge) and other machines\' (through the overlay)', () => {
  const here = overlayAnnotationsFor('198.51.100.14');
  const there = overlayAnnotationsFor('198.51.100.15');
  const nodes = [node('node-1', '10.244.0.0/24', '172.18.0.2', here), node('node-2', '10.244.1.0/24', '172.18.0.3', there), node('node-3', '10.244.2.0/24', '172.18.0.4')];
  assert.deepEqual(classifyPeers(nodes, '198.51.100.14'), {
    local: [
      { podCIDR: '10.244.0.0/24', nodeIP: '172.18.0.2' },
      { podCIDR: '10.244.2.0/24', nodeIP: '172.18.0.4' },
    ],
    remote: [{ podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3', publicIP: '198.51.100.15', vtepMAC: '0a:59:c6:33:64:0f' }],
  });
  // One machine (no overlay): every node is on the bridge, as before.
  assert.equal(classifyPeers(nodes, undefined).local.length, 3);
});

test('a node routes to another machine\'s pods and node address through the cluster namespace', () => {
  const self = { podCIDR: '10.244.0.0/24', nodeIP: '172.18.0.2' };
  assert.deepEqual(planPeerRoutes([], [{ podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3', via: '172.18.0.1' }, { podCIDR: '10.244.2.0/24', nodeIP: '172.18.0.4' }], self), [
    'route replace 10.244.1.0/24 via 172.18.0.1 dev eth0 proto 75',
    'route replace 10.244.2.0/24 via 172.18.0.4 dev eth0 proto 75',
    'route replace 172.18.0.3/32 via 172.18.0.1 dev eth0 proto 75',
  ]);
  assert.deepEqual(
    planPeerRoutes([{ dst: '10.244.1.0/24', gateway: '172.18.0.1' }, { dst: '172.18.0.3', gateway: '172.18.0.1' }], [{ podCIDR: '10.244.1.0/24', nodeIP: '172.18.0.3', via: '172.18.0.1' }], self),
    [],
  );
});
