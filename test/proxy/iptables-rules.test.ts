// The iptables mode's rules, golden: chain names against upstream's test
// vectors, whole iptables-restore payloads for upstream's TestOverallIPTablesRules
// scenario and the reference's worked example (E.3), one case per service shape,
// partial (KEP-3453) payloads after a change, and a 10,000-service render.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, type EndpointSlice, type ProxySnapshot, type Service } from '../../src/proxy/snapshot.js';
import { createSnapshotBuilder } from '../../src/proxy/change-tracker.js';
import {
  isServiceChainName,
  portProtoHash,
  serviceExternalChainName,
  serviceFirewallChainName,
  servicePortEndpointChainName,
  servicePortPolicyClusterChain,
  servicePortPolicyLocalChainName,
} from '../../src/proxy/iptables/chain-names.js';
import { buildIptablesRules, jumpRules, probability, type IptablesRuleContext, type IptablesRuleSet } from '../../src/proxy/iptables/rules.js';
import { chainsFromIptablesSave, countRules, renderFullRestore, renderPartialRestore, renderTableReplacement, tablesOwnedByKubeProxy } from '../../src/proxy/iptables/restore.js';
import { endpoints, lbStatus, overallServices, overallSlices, p80, slice, svc, upstreamTestNode } from './fixtures.js';

const node = upstreamTestNode;
/** upstream's fake proxier: ClusterCIDR detector 10.0.0.0/8, nfacct counters present, no --random-fully. */
const upstreamContext: IptablesRuleContext = { clusterCIDRs: ['10.0.0.0/8'], nfacct: true, randomFully: false };
const context: IptablesRuleContext = { clusterCIDRs: ['10.0.0.0/8'] };


/** The rule lines of one table of a payload, without declarations. */
function tableRules(payload: string, table: 'filter' | 'nat'): string[] {
  const start = payload.indexOf(`*${table}\n`);
  assert.ok(start >= 0, `no *${table} in payload`);
  const body = payload.slice(start, payload.indexOf('COMMIT', start)).split('\n');
  return body.filter((l) => l.startsWith('-A ') || l.startsWith('-X '));
}

/** The rules of one chain, in order. */
function chainRules(rs: IptablesRuleSet, table: 'filter' | 'nat', chain: string): readonly string[] {
  return rs[table].byName.get(chain)?.rules ?? [];
}

function render(services: Service[], slices: EndpointSlice[], ctx: IptablesRuleContext = context): string {
  return renderFullRestore(buildIptablesRules(buildSnapshot(services, slices, node), ctx));
}

test('chain names hash ServicePortName.String() + lower-case protocol (+ endpoint) like upstream', () => {
  // The reference's verified vectors (E.2), from upstream proxier_test.go.
  assert.equal(servicePortPolicyClusterChain('ns1/svc1:p80', 'tcp'), 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.equal(servicePortPolicyLocalChainName('ns1/svc1:p80', 'tcp'), 'KUBE-SVL-XPGD46QRK7WJZT7O');
  assert.equal(serviceExternalChainName('ns1/svc1:p80', 'tcp'), 'KUBE-EXT-XPGD46QRK7WJZT7O');
  assert.equal(serviceFirewallChainName('ns1/svc1:p80', 'tcp'), 'KUBE-FW-XPGD46QRK7WJZT7O');
  assert.equal(servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80'), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  assert.equal(servicePortPolicyClusterChain('ns2/svc2:p80', 'tcp'), 'KUBE-SVC-GNZBNJ2PO5MGZ6GT');
  assert.equal(servicePortEndpointChainName('ns2/svc2:p80', 'tcp', '10.180.0.2:80'), 'KUBE-SEP-RS4RBKLTHTF2IUXJ');
  assert.equal(servicePortEndpointChainName('ns2/svc2:p80', 'tcp', '10.180.0.3:80'), 'KUBE-SEP-2GOKER2KF7NAANZN');
  assert.equal(servicePortPolicyClusterChain('ns5/svc5:p80', 'tcp'), 'KUBE-SVC-NUKIZ6OKUXPJNT4C');
  assert.equal(servicePortEndpointChainName('ns5/svc5:p80', 'tcp', '10.180.0.3:80'), 'KUBE-SEP-I77PXRDZVX7PMWMN');
  assert.equal(servicePortPolicyClusterChain('ns6/svc6:p80', 'tcp'), 'KUBE-SVC-NDY5GL2HU4YWCI7Q');
  assert.equal(servicePortPolicyClusterChain('ns1/svc1', 'tcp'), 'KUBE-SVC-AQI2S6QIMU7PVVRP');
  assert.equal(servicePortPolicyClusterChain('ns1/svc1:p80', 'udp'), 'KUBE-SVC-OJWW7NSBVZTDHXNW');
  assert.equal(portProtoHash('ns1/svc1:p80', 'tcp').length, 16);
  assert.ok(isServiceChainName('KUBE-SEP-SXIVWICOYRO3J4NJ') && isServiceChainName('KUBE-FW-X') && !isServiceChainName('KUBE-SERVICES'));
});

test('probabilities print as Go %0.10f of 1/n, ties to even', () => {
  assert.deepEqual([1, 2, 3, 4, 7, 10].map(probability), ['1.0000000000', '0.5000000000', '0.3333333333', '0.2500000000', '0.1428571429', '0.1000000000']);
  // 1/2048 = 0.00048828125 exactly: Go rounds the tie to even, Number#toFixed would round up.
  assert.equal(probability(2048), '0.0004882812');
  assert.equal(probability(1000), '0.0010000000');
});

// upstream TestOverallIPTablesRules: ClusterIP, LoadBalancer with Local policy and no local endpoint,
// NodePort, external IP, LoadBalancer with source ranges and ClientIP affinity, no endpoints.

// Line for line upstream's expected text (which it compares sorted), in the order syncProxyRules writes it.
const overallGolden = `*filter
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-FIREWALL - [0:0]
-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
-A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
:KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
:KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
:KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
:KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
:KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
:KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
:KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
:KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
:KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
:KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3003 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3002 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
-A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
-A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade traffic for ns5/svc5:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN \
--rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
COMMIT
`;

test("upstream's overall scenario renders exactly its expected iptables-restore input", () => {
  const rs = buildIptablesRules(buildSnapshot(overallServices(), overallSlices(), node), upstreamContext);
  assert.equal(renderFullRestore(rs), overallGolden);
  // upstream checks the rules metric against the payload.
  assert.deepEqual(countRules(rs), { filter: 10, nat: tableRules(overallGolden, 'nat').length });
});

test('defaults: no nfacct counters, MASQUERADE --random-fully; conntrack-liberal hosts keep INVALID packets', () => {
  const rs = buildIptablesRules(buildSnapshot(overallServices(), overallSlices(), node), context);
  assert.deepEqual(
    chainRules(rs, 'nat', 'KUBE-POSTROUTING').at(-1),
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  );
  assert.equal(chainRules(rs, 'filter', 'KUBE-FORWARD')[0], '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
  assert.deepEqual(chainRules(rs, 'nat', 'KUBE-NODEPORTS'), [
    '-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT',
    '-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK',
    '-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C',
  ]);
  const liberal = buildIptablesRules(buildSnapshot(overallServices(), overallSlices(), node), { ...context, conntrackTCPLiberal: true, masqueradeBit: 5 });
  assert.deepEqual(chainRules(liberal, 'filter', 'KUBE-FORWARD'), [
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x20/0x20 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ]);
  assert.deepEqual(chainRules(liberal, 'nat', 'KUBE-MARK-MASQ'), ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x20']);
});

test('the reference worked example (E.3): externalTrafficPolicy Local with a local endpoint gets KUBE-SVL', () => {
  // svc2 of upstream's overall scenario: a LoadBalancer with Local policy.
  const services = overallServices().filter((s) => s.metadata.name === 'svc2');
  const out = render(services, [endpoints('ns2', 'svc2', [{ ip: '10.180.0.2', node }, { ip: '10.180.0.3', node: 'other-node' }])]);
  assert.deepEqual(tableRules(out, 'filter'), [
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT',
    '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
  ]);
  assert.deepEqual(
    tableRules(out, 'nat').filter((l) => !/KUBE-(POSTROUTING|MARK-MASQ) /.test(l)),
    [
      '-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      '-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-RS4RBKLTHTF2IUXJ',
      '-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.3:80" -j KUBE-SEP-2GOKER2KF7NAANZN',
      '-A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ',
      '-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80',
      '-A KUBE-SEP-2GOKER2KF7NAANZN -m comment --comment ns2/svc2:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-2GOKER2KF7NAANZN -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80',
    ],
  );
});

test('ClusterIP with 3 endpoints: probabilities 1/3, 1/2, then unconditional', () => {
  const out = render(
    [svc('default', 'web', [{ name: 'http', port: 80 }], { clusterIP: '10.96.0.20' })],
    [endpoints('default', 'web', [{ ip: '10.244.1.2' }, { ip: '10.244.2.3' }, { ip: '10.244.3.4' }], [{ name: 'http', port: 8080 }])],
  );
  const svcChain = servicePortPolicyClusterChain('default/web:http', 'tcp');
  const sep = (ip: string) => servicePortEndpointChainName('default/web:http', 'tcp', `${ip}:8080`);
  assert.deepEqual(
    tableRules(out, 'nat').filter((l) => l.includes(svcChain) || l.includes('KUBE-SEP-')),
    [
      `-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j ${svcChain}`,
      `-A ${svcChain} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`,
      `-A ${svcChain} -m comment --comment "default/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.3333333333 -j ${sep('10.244.1.2')}`,
      `-A ${svcChain} -m comment --comment "default/web:http -> 10.244.2.3:8080" -m statistic --mode random --probability 0.5000000000 -j ${sep('10.244.2.3')}`,
      `-A ${svcChain} -m comment --comment "default/web:http -> 10.244.3.4:8080" -j ${sep('10.244.3.4')}`,
      ...['10.244.1.2', '10.244.2.3', '10.244.3.4'].flatMap((ip) => [
        `-A ${sep(ip)} -m comment --comment default/web:http -s ${ip} -j KUBE-MARK-MASQ`,
        `-A ${sep(ip)} -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination ${ip}:8080`,
      ]),
    ],
  );
  // No external destination: no KUBE-EXT chain.
  assert.ok(!out.includes('KUBE-EXT-'));
});

test('no endpoints: REJECT for the cluster IP, external IPs, load-balancer IPs and node port; no nat chains', () => {
  const services = [
    svc('ns1', 'svc1', p80(3001), { type: 'LoadBalancer', clusterIP: '172.30.0.41', externalIPs: ['192.168.99.11'] }, {}, lbStatus('1.2.3.4')),
  ];
  // Endpoints that are neither ready nor serving-and-terminating do not count.
  const out = render(services, [endpoints('ns1', 'svc1', [{ ip: '10.180.0.1', ready: false, serving: false }])]);
  assert.deepEqual(
    tableRules(out, 'filter').filter((l) => l.includes('svc1')),
    [
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT',
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j REJECT',
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j REJECT',
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j REJECT',
    ],
  );
  assert.ok(!out.includes('KUBE-SVC-') && !out.includes('KUBE-EXT-') && !out.includes('KUBE-SEP-'));
});

test('NodePort: KUBE-NODEPORTS → KUBE-EXT (masquerade) → KUBE-SVC; --nodeport-addresses gives per-address jumps', () => {
  const services = [svc('ns3', 'svc3', p80(30080), { type: 'NodePort', clusterIP: '172.30.0.43' })];
  const slices = [endpoints('ns3', 'svc3', [{ ip: '10.180.0.3' }])];
  const rs = buildIptablesRules(buildSnapshot(services, slices, node), context);
  const ext = serviceExternalChainName('ns3/svc3:p80', 'tcp');
  assert.deepEqual(chainRules(rs, 'nat', 'KUBE-NODEPORTS'), [`-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 30080 -j ${ext}`]);
  assert.deepEqual(chainRules(rs, 'nat', ext), [
    `-A ${ext} -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ`,
    `-A ${ext} -j KUBE-SVC-X27LE4BHSL4DOUIK`,
  ]);

  const nodePortsJumps = (ctx: IptablesRuleContext, snap: ProxySnapshot = buildSnapshot(services, slices, node)) =>
    chainRules(buildIptablesRules(snap, ctx), 'nat', 'KUBE-SERVICES').filter((l) => l.endsWith('-j KUBE-NODEPORTS'));
  const comment = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  assert.deepEqual(nodePortsJumps({ ...context, nodePortIPs: ['172.18.0.2', '127.0.0.1', 'fd00::2'] }), [
    `-A KUBE-SERVICES ${comment} -d 172.18.0.2 -j KUBE-NODEPORTS`,
    `-A KUBE-SERVICES ${comment} -d 127.0.0.1 -j KUBE-NODEPORTS`,
  ]);
  // Loopback is skipped without --iptables-localhost-nodeports; without loopback in the list the KUBE-FIREWALL rule goes too.
  assert.deepEqual(nodePortsJumps({ ...context, nodePortIPs: ['172.18.0.2', '127.0.0.1'], localhostNodePorts: false }), [
    `-A KUBE-SERVICES ${comment} -d 172.18.0.2 -j KUBE-NODEPORTS`,
  ]);
  assert.ok(!buildIptablesRules(buildSnapshot(services, slices, node), { ...context, nodePortIPs: ['172.18.0.2'] }).filter.byName.has('KUBE-FIREWALL'));
  assert.deepEqual(nodePortsJumps({ ...context, localhostNodePorts: false }), [
    `-A KUBE-SERVICES ${comment} -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS`,
  ]);
  // IPv6 never serves node ports on ::1.
  const v6 = buildSnapshot(
    [svc('ns3', 'svc3', p80(30080), { type: 'NodePort', clusterIP: 'fd00:10::43', clusterIPs: ['fd00:10::43'] })],
    [endpoints('ns3', 'svc3', [{ ip: 'fd00:180::3' }])].map((s) => ({ ...s, addressType: 'IPv6' })),
    node,
    '',
    { ipFamily: 'IPv6' },
  );
  assert.deepEqual(nodePortsJumps({ clusterCIDRs: ['10.0.0.0/8', 'fd00:180::/64'] }, v6), [
    `-A KUBE-SERVICES ${comment} -m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS`,
  ]);
  const v6rules = buildIptablesRules(v6, { clusterCIDRs: ['10.0.0.0/8', 'fd00:180::/64'] });
  const v6sep = servicePortEndpointChainName('ns3/svc3:p80', 'tcp', '[fd00:180::3]:80');
  assert.deepEqual(chainRules(v6rules, 'nat', v6sep), [
    `-A ${v6sep} -m comment --comment ns3/svc3:p80 -s fd00:180::3 -j KUBE-MARK-MASQ`,
    `-A ${v6sep} -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination [fd00:180::3]:80`,
  ]);
  assert.ok(chainRules(v6rules, 'nat', 'KUBE-SVC-X27LE4BHSL4DOUIK')[0].endsWith('! -s fd00:180::/64 -j KUBE-MARK-MASQ'));
  assert.ok(!v6rules.filter.byName.has('KUBE-FIREWALL'));
});

test('externalTrafficPolicy Local without local endpoints: DROP outside traffic, still short-circuit pods and the node', () => {
  const rs = buildIptablesRules(buildSnapshot(overallServices(), overallSlices(), node), context);
  assert.deepEqual(chainRules(rs, 'nat', 'KUBE-EXT-GNZBNJ2PO5MGZ6GT').length, 3);
  assert.ok(!rs.nat.byName.has('KUBE-SVL-GNZBNJ2PO5MGZ6GT'));
  assert.ok(chainRules(rs, 'filter', 'KUBE-EXTERNAL-SERVICES').every((l) => l.endsWith('-j DROP')));
});

test('internalTrafficPolicy Local: the cluster IP goes to KUBE-SVL, or is dropped without local endpoints', () => {
  const services = [svc('ns', 'itp', p80(), { clusterIP: '10.96.0.30', internalTrafficPolicy: 'Local' })];
  const svl = servicePortPolicyLocalChainName('ns/itp:p80', 'tcp');
  const local = buildIptablesRules(buildSnapshot(services, [endpoints('ns', 'itp', [{ ip: '10.244.0.5', node }, { ip: '10.244.1.5', node: 'b' }])], node), context);
  const sep = servicePortEndpointChainName('ns/itp:p80', 'tcp', '10.244.0.5:80');
  assert.deepEqual(chainRules(local, 'nat', 'KUBE-SERVICES')[0], `-A KUBE-SERVICES -m comment --comment "ns/itp:p80 cluster IP" -m tcp -p tcp -d 10.96.0.30 --dport 80 -j ${svl}`);
  assert.deepEqual(chainRules(local, 'nat', svl), [
    `-A ${svl} -m comment --comment "ns/itp:p80 cluster IP" -m tcp -p tcp -d 10.96.0.30 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`,
    `-A ${svl} -m comment --comment "ns/itp:p80 -> 10.244.0.5:80" -j ${sep}`,
  ]);
  assert.ok(!local.nat.byName.has(servicePortPolicyClusterChain('ns/itp:p80', 'tcp')));

  const remote = buildIptablesRules(buildSnapshot(services, [endpoints('ns', 'itp', [{ ip: '10.244.1.5', node: 'b' }])], node), context);
  assert.deepEqual(chainRules(remote, 'filter', 'KUBE-SERVICES'), [
    '-A KUBE-SERVICES -m comment --comment "ns/itp:p80 has no local endpoints" -m tcp -p tcp -d 10.96.0.30 --dport 80 -j DROP',
  ]);
  assert.ok(!remote.nat.chains.some((c) => isServiceChainName(c.name)));
});

test('ClientIP affinity: recent checks before the random rules, --set in each KUBE-SEP', () => {
  const services = [
    svc('ns', 'sticky', p80(), { clusterIP: '10.96.0.40', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } } }),
  ];
  const rs = buildIptablesRules(buildSnapshot(services, [endpoints('ns', 'sticky', [{ ip: '10.244.0.1' }, { ip: '10.244.0.2' }])], node), context);
  const chain = servicePortPolicyClusterChain('ns/sticky:p80', 'tcp');
  const [a, b] = ['10.244.0.1', '10.244.0.2'].map((ip) => servicePortEndpointChainName('ns/sticky:p80', 'tcp', `${ip}:80`));
  assert.deepEqual(chainRules(rs, 'nat', chain).slice(1), [
    `-A ${chain} -m comment --comment "ns/sticky:p80 -> 10.244.0.1:80" -m recent --name ${a} --rcheck --seconds 300 --reap -j ${a}`,
    `-A ${chain} -m comment --comment "ns/sticky:p80 -> 10.244.0.2:80" -m recent --name ${b} --rcheck --seconds 300 --reap -j ${b}`,
    `-A ${chain} -m comment --comment "ns/sticky:p80 -> 10.244.0.1:80" -m statistic --mode random --probability 0.5000000000 -j ${a}`,
    `-A ${chain} -m comment --comment "ns/sticky:p80 -> 10.244.0.2:80" -j ${b}`,
  ]);
  assert.equal(chainRules(rs, 'nat', b)[1], `-A ${b} -m comment --comment ns/sticky:p80 -m recent --name ${b} --set -m tcp -p tcp -j DNAT --to-destination 10.244.0.2:80`);
});

test('loadBalancerSourceRanges: KUBE-FW per range, the LB IP itself when a range holds the node, DROP the rest', () => {
  const services = [
    svc(
      'ns',
      'fw',
      p80(31000),
      { type: 'LoadBalancer', clusterIP: '10.96.0.50', loadBalancerSourceRanges: ['203.0.113.0/25', '192.168.0.0/16', 'fd00::/8', 'bogus'] },
      {},
      lbStatus('5.6.7.9'),
    ),
  ];
  const snap = buildSnapshot(services, [endpoints('ns', 'fw', [{ ip: '10.244.0.9' }])], node);
  const fw = serviceFirewallChainName('ns/fw:p80', 'tcp');
  const ext = serviceExternalChainName('ns/fw:p80', 'tcp');
  const rs = buildIptablesRules(snap, { ...context, nodeIPs: ['192.168.1.10'] });
  assert.deepEqual(chainRules(rs, 'nat', fw), [
    `-A ${fw} -m comment --comment "ns/fw:p80 loadbalancer IP" -s 203.0.113.0/25 -j ${ext}`,
    `-A ${fw} -m comment --comment "ns/fw:p80 loadbalancer IP" -s 192.168.0.0/16 -j ${ext}`,
    `-A ${fw} -m comment --comment "ns/fw:p80 loadbalancer IP" -s 5.6.7.9 -j ${ext}`,
    `-A ${fw} -m comment --comment "other traffic to ns/fw:p80 will be dropped by KUBE-PROXY-FIREWALL"`,
  ]);
  assert.ok(chainRules(rs, 'nat', 'KUBE-SERVICES').includes(`-A KUBE-SERVICES -m comment --comment "ns/fw:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.9 --dport 80 -j ${fw}`));
  assert.deepEqual(chainRules(rs, 'filter', 'KUBE-PROXY-FIREWALL'), [
    `-A KUBE-PROXY-FIREWALL -m comment --comment "ns/fw:p80 traffic not accepted by ${fw}" -m tcp -p tcp -d 5.6.7.9 --dport 80 -j DROP`,
  ]);
  // Node ports are not filtered by source ranges.
  assert.deepEqual(chainRules(rs, 'nat', 'KUBE-NODEPORTS'), [`-A KUBE-NODEPORTS -m comment --comment ns/fw:p80 -m tcp -p tcp --dport 31000 -j ${ext}`]);
  // A node outside every range does not get the hairpin rule.
  assert.equal(chainRules(buildIptablesRules(snap, { ...context, nodeIPs: ['172.18.0.2'] }), 'nat', fw).length, 3);
});

test('externalIPs with Cluster policy: KUBE-SERVICES → KUBE-EXT, which masquerades', () => {
  const services = [svc('ns4', 'svc4', p80(), { clusterIP: '172.30.0.44', externalIPs: ['192.168.99.33', '192.168.99.34'] })];
  const rs = buildIptablesRules(buildSnapshot(services, [endpoints('ns4', 'svc4', [{ ip: '10.180.0.4' }])], node), context);
  assert.deepEqual(chainRules(rs, 'nat', 'KUBE-SERVICES').slice(1, 3), [
    '-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK',
    '-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.34 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK',
  ]);
  assert.deepEqual(chainRules(rs, 'nat', 'KUBE-EXT-4SW47YFZTEDKD3PK'), [
    '-A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ',
    '-A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK',
  ]);
});

test('multi-port and UDP: one set of chains per port, protocol in the hash and the matches', () => {
  const services = [
    svc('kube-system', 'kube-dns', [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }, { name: 'metrics', port: 9153 }], { clusterIP: '10.96.0.10' }),
  ];
  const slices = [
    slice(
      'kube-system',
      'kube-dns-1',
      'kube-dns',
      [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }, { name: 'metrics', port: 9153 }],
      [{ ip: '10.244.0.2' }],
    ),
  ];
  const rs = buildIptablesRules(buildSnapshot(services, slices, node), context);
  const udp = servicePortPolicyClusterChain('kube-system/kube-dns:dns', 'udp');
  const udpSep = servicePortEndpointChainName('kube-system/kube-dns:dns', 'udp', '10.244.0.2:53');
  const dnsTcp = servicePortPolicyClusterChain('kube-system/kube-dns:dns-tcp', 'tcp');
  const metrics = servicePortPolicyClusterChain('kube-system/kube-dns:metrics', 'tcp');
  // Ports in servicePortKey order ("…:dns-tcp/TCP" sorts before "…:dns/UDP"); kube-dns's UDP chain is the familiar KUBE-SVC-TCOU7JCQXEZGVUNU.
  assert.equal(udp, 'KUBE-SVC-TCOU7JCQXEZGVUNU');
  assert.deepEqual(chainRules(rs, 'nat', 'KUBE-SERVICES'), [
    `-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 53 -j ${dnsTcp}`,
    `-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 -j ${udp}`,
    `-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:metrics cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 9153 -j ${metrics}`,
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  ]);
  assert.deepEqual(chainRules(rs, 'nat', udpSep), [
    `-A ${udpSep} -m comment --comment kube-system/kube-dns:dns -s 10.244.0.2 -j KUBE-MARK-MASQ`,
    `-A ${udpSep} -m comment --comment kube-system/kube-dns:dns -m udp -p udp -j DNAT --to-destination 10.244.0.2:53`,
  ]);
  assert.equal(rs.nat.chains.filter((c) => c.name.startsWith('KUBE-SEP-')).length, 3);
});

test('masqueradeAll, no cluster CIDR, another detector, large clusters', () => {
  const services = [
    svc('ns1', 'svc1', p80(), { clusterIP: '172.30.0.41' }),
    svc('ns2', 'svc2', p80(3001), { type: 'NodePort', clusterIP: '172.30.0.42', externalTrafficPolicy: 'Local' }),
  ];
  const slices = [endpoints('ns1', 'svc1', [{ ip: '10.180.0.1' }]), endpoints('ns2', 'svc2', [{ ip: '10.180.0.2', node }])];
  const snap = buildSnapshot(services, slices, node);
  const svc1 = 'KUBE-SVC-XPGD46QRK7WJZT7O';
  const cip = '-m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80';
  assert.equal(chainRules(buildIptablesRules(snap, { clusterCIDRs: ['10.0.0.0/8'], masqueradeAll: true }), 'nat', svc1)[0], `-A ${svc1} ${cip} -j KUBE-MARK-MASQ`);
  const undetected = buildIptablesRules(snap, { clusterCIDRs: [] });
  assert.deepEqual(chainRules(undetected, 'nat', svc1), [`-A ${svc1} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ`]);
  assert.ok(!chainRules(undetected, 'nat', 'KUBE-EXT-GNZBNJ2PO5MGZ6GT').some((l) => l.includes('pod traffic')));
  const bridge = buildIptablesRules(snap, { clusterCIDRs: ['10.0.0.0/8'], localDetector: { ifLocal: '-i cbr0', ifNotLocal: '! -i cbr0' } });
  assert.equal(chainRules(bridge, 'nat', svc1)[0], `-A ${svc1} ${cip} ! -i cbr0 -j KUBE-MARK-MASQ`);
  assert.equal(chainRules(bridge, 'nat', 'KUBE-EXT-GNZBNJ2PO5MGZ6GT')[0].split(' external destinations" ')[1], '-i cbr0 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT');

  // Past the endpoint threshold, per-endpoint comments go (upstream largeClusterMode).
  const large = buildIptablesRules(snap, { ...context, largeClusterEndpointsThreshold: 1 });
  assert.ok(large.largeClusterMode);
  assert.deepEqual(chainRules(large, 'nat', svc1).slice(1), [`-A ${svc1} -j KUBE-SEP-SXIVWICOYRO3J4NJ`]);
  assert.deepEqual(chainRules(large, 'nat', 'KUBE-SEP-SXIVWICOYRO3J4NJ'), [
    '-A KUBE-SEP-SXIVWICOYRO3J4NJ -s 10.180.0.1 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
  ]);
});

test('jump rules from the built-in chains', () => {
  const jumps = jumpRules();
  assert.deepEqual(jumps[0], {
    table: 'filter',
    chain: 'INPUT',
    target: 'KUBE-EXTERNAL-SERVICES',
    args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES'],
  });
  assert.deepEqual(
    jumps.filter((j) => j.table === 'nat').map((j) => `${j.chain} ${j.args.join(' ')}`),
    [
      'OUTPUT -m comment --comment kubernetes service portals -j KUBE-SERVICES',
      'PREROUTING -m comment --comment kubernetes service portals -j KUBE-SERVICES',
      'POSTROUTING -m comment --comment kubernetes postrouting rules -j KUBE-POSTROUTING',
    ],
  );
  assert.deepEqual(jumps.at(-1), { table: 'filter', chain: 'OUTPUT', target: 'KUBE-FIREWALL', args: ['-j', 'KUBE-FIREWALL'] });
});

test('full sync deletes stale per-service chains only', () => {
  const rs = buildIptablesRules(buildSnapshot(overallServices(), overallSlices(), node), context);
  const saved = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]\n:KUBE-SEP-GONEGONEGONEGONE - [0:0]\n:KUBE-XLB-OLD - [0:0]\nCOMMIT\n';
  const existing = chainsFromIptablesSave(saved);
  assert.deepEqual([...existing], ['PREROUTING', 'KUBE-SERVICES', 'KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SEP-GONEGONEGONEGONE', 'KUBE-XLB-OLD']);
  const out = renderFullRestore(rs, existing);
  const nat = out.slice(out.indexOf('*nat'));
  assert.ok(nat.includes(':KUBE-SEP-GONEGONEGONEGONE - [0:0]\n'));
  assert.ok(nat.endsWith('-X KUBE-SEP-GONEGONEGONEGONE\nCOMMIT\n'));
  assert.ok(!out.includes('-X KUBE-SVC-XPGD46QRK7WJZT7O') && !out.includes('KUBE-XLB-OLD') && !out.includes('-X PREROUTING'));
});

test('tables kube-proxy owns are replaced whole: built-ins with ACCEPT, the jumps as ensureJumps leaves them, every chain', () => {
  const rs = buildIptablesRules(buildSnapshot(overallServices(), overallSlices(), node), context);
  const out = renderTableReplacement(rs, jumpRules());
  const filter = out.slice(0, out.indexOf('COMMIT') + 7);
  assert.match(filter, /^\*filter\n:INPUT ACCEPT \[0:0\]\n:FORWARD ACCEPT \[0:0\]\n:OUTPUT ACCEPT \[0:0\]\n:KUBE-/);
  // Each inserted at the top by ensureJumps: the last in jumpRules() order comes first.
  assert.deepEqual(tableRules(filter, 'filter').filter((l) => l.startsWith('-A INPUT ')), [
    '-A INPUT -j KUBE-FIREWALL',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
  ]);
  assert.deepEqual(tableRules(out, 'nat').filter((l) => !l.startsWith('-A KUBE-')), [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  ]);
  // Every chain's rules as the --noflush payload has them, and no -X (the table starts empty).
  const noflush = renderFullRestore(rs);
  for (const t of ['filter', 'nat'] as const) assert.deepEqual(tableRules(out, t).filter((l) => l.startsWith('-A KUBE-')), tableRules(noflush, t));
  assert.ok(!out.includes('\n-X '));

  const owned = `*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j MARK --set-mark 1\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n`;
  assert.equal(tablesOwnedByKubeProxy(owned), true, 'other tables do not matter');
  assert.equal(tablesOwnedByKubeProxy(''), true, 'empty tables');
  assert.equal(tablesOwnedByKubeProxy(owned.replace('-A KUBE-SERVICES -j RETURN', '-A POSTROUTING -j MASQUERADE')), false, 'a rule of someone else');
  assert.equal(tablesOwnedByKubeProxy(owned.replace(':INPUT ACCEPT', ':INPUT DROP')), false, 'a policy of someone else');
  assert.equal(tablesOwnedByKubeProxy(owned.replace(':KUBE-SERVICES - [0:0]', ':KUBE-SERVICES - [0:0]\n:DOCKER - [0:0]')), false, 'a chain of someone else');
});

test('partial sync: one service’s endpoints change → only its changed chains, KUBE-SERVICES, and the removed KUBE-SEP', () => {
  const before = buildIptablesRules(buildSnapshot(overallServices(), overallSlices(), node), context);
  const after = buildIptablesRules(buildSnapshot(overallServices(), overallSlices([{ ip: '10.180.0.6' }, { ip: '10.180.0.5', node }]), node), context);
  const added = servicePortEndpointChainName('ns4/svc4:p80', 'tcp', '10.180.0.6:80');
  const svc4 = 'KUBE-SVC-4SW47YFZTEDKD3PK';
  const expected = [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    `:${svc4} - [0:0]`,
    `:${added} - [0:0]`,
    ':KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]',
    ...chainRules(after, 'nat', 'KUBE-SERVICES'),
    `-A ${svc4} -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`,
    `-A ${svc4} -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-C6EBXVWJJZMIWKLZ`,
    `-A ${svc4} -m comment --comment "ns4/svc4:p80 -> 10.180.0.6:80" -j ${added}`,
    `-A ${added} -m comment --comment ns4/svc4:p80 -s 10.180.0.6 -j KUBE-MARK-MASQ`,
    `-A ${added} -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.6:80`,
    '-X KUBE-SEP-UKSFD7AGPMPPLUHC',
    'COMMIT',
    '',
  ].join('\n');
  assert.equal(renderPartialRestore(after, before), expected);
  assert.equal(renderPartialRestore(after, after), '');

  // A service going away: its chains flushed and deleted, the filter table rewritten where it had rules.
  const gone = buildIptablesRules(buildSnapshot(overallServices().filter((s) => s.metadata.name !== 'svc5'), overallSlices(), node), context);
  const partial = renderPartialRestore(gone, before);
  assert.deepEqual(
    partial.split('\n').filter((l) => l.startsWith('-X ')),
    ['-X KUBE-EXT-NUKIZ6OKUXPJNT4C', '-X KUBE-FW-NUKIZ6OKUXPJNT4C', '-X KUBE-SVC-NUKIZ6OKUXPJNT4C', '-X KUBE-SEP-I77PXRDZVX7PMWMN'],
  );
  assert.ok(partial.startsWith('*filter\n:KUBE-PROXY-FIREWALL - [0:0]\nCOMMIT\n*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]\n'));
});

test('partial sync from the incremental builder: unchanged services share chain objects', () => {
  const b = createSnapshotBuilder({ nodeName: node });
  for (const s of overallServices()) b.setService(s);
  for (const s of overallSlices()) b.setSlice(s);
  const before = buildIptablesRules(b.snapshot(), context);
  b.setSlice(endpoints('ns1', 'svc1', [{ ip: '10.180.0.1' }, { ip: '10.180.0.7' }]));
  const after = buildIptablesRules(b.snapshot(), context);
  assert.equal(after.nat.byName.get('KUBE-SVC-X27LE4BHSL4DOUIK'), before.nat.byName.get('KUBE-SVC-X27LE4BHSL4DOUIK'));
  const declared = renderPartialRestore(after, before)
    .split('\n')
    .filter((l) => l.startsWith(':'));
  assert.deepEqual(declared, [
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]',
    `:${servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.7:80')} - [0:0]`,
  ]);
});

test('10,000 services × 10 endpoints: full rule set and iptables-restore text', () => {
  const N = 10_000;
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < N; i++) {
    const ns = `ns${i % 50}`;
    // Every tenth service is a NodePort one.
    const nodePort = i % 10 === 0 ? { nodePort: 30000 + (i % 2000) } : {};
    services.push(svc(ns, `svc-${i}`, [{ name: 'http', port: 80, ...nodePort }], { ...(i % 10 === 0 ? { type: 'NodePort' } : {}), clusterIP: `10.96.${i >> 8}.${i & 255}` }));
    slices.push(
      slice(
        ns,
        `svc-${i}-1`,
        `svc-${i}`,
        [{ name: 'http', port: 8080 }],
        Array.from({ length: 10 }, (_, j) => ({ ip: `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`, node: `node-${j % 3}` })),
      ),
    );
  }
  const snap = buildSnapshot(services, slices, 'node-0');
  const start = performance.now();
  const rs = buildIptablesRules(snap, context);
  const text = renderFullRestore(rs);
  const elapsed = performance.now() - start;
  const again = performance.now();
  const partial = renderPartialRestore(buildIptablesRules(snap, context), rs);
  const memoized = performance.now() - again;
  const size = `${(text.length / 1e6).toFixed(1)} MB, ${JSON.stringify(countRules(rs))}`;
  console.log(`# 10k services x 10 endpoints: build + full render ${elapsed.toFixed(0)} ms (${size}); memoized rebuild + partial diff ${memoized.toFixed(0)} ms`);
  assert.ok(rs.largeClusterMode);
  assert.equal(partial, '');
  assert.equal(rs.nat.chains.length, 4 + N + N * 10 + N / 10);
  const counts = countRules(rs);
  assert.equal(text.split('\n').filter((l) => l.startsWith('-A ')).length, counts.filter + counts.nat);
});
