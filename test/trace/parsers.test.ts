// The trace's pure parts: TARGET and --from, the DNS search path, the two
// monitors' trace lines and conntrack's listing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsSearchNames, parseSource, parseTarget, serviceOfDnsName, TargetError } from '../../src/trace/target.js';
import { parseNftTraceLine, parseXtablesTraceLine } from '../../src/trace/trace-events.js';
import { parseConntrackLine } from '../../src/trace/conntrack-entries.js';

test('TARGET forms', () => {
  assert.deepEqual(parseTarget('web'), { kind: 'dns', name: 'web' });
  assert.deepEqual(parseTarget('web.prod:http'), { kind: 'dns', name: 'web.prod', port: 'http' });
  assert.deepEqual(parseTarget('svc/web:8080'), { kind: 'service', name: 'web', port: '8080' });
  assert.deepEqual(parseTarget('10.97.1.1:80'), { kind: 'address', ip: '10.97.1.1', port: 80 });
  assert.deepEqual(parseTarget('30002'), { kind: 'node-port', port: 30002 });
  assert.deepEqual(parseTarget('node/node-2:30080'), { kind: 'node-port', node: 'node-2', port: 30080 });
  assert.throws(() => parseTarget('10.97.1.1'), /a port is needed/);
  assert.throws(() => parseTarget('10.97.1.1:99999'), TargetError);
  assert.throws(() => parseTarget('Bad_Name'), /is not a Service name/);
  assert.deepEqual(parseSource('pod/web-1'), { kind: 'pod', name: 'web-1' });
  assert.deepEqual(parseSource('node/node-2'), { kind: 'node', name: 'node-2' });
  assert.throws(() => parseSource('deploy/web'), /expected pod\/NAME or node\/NAME/);
});

test('the DNS search path of a pod (ndots:5)', () => {
  assert.deepEqual(dnsSearchNames('web', 'prod'), ['web.prod.svc.cluster.local', 'web.svc.cluster.local', 'web.cluster.local', 'web']);
  assert.deepEqual(dnsSearchNames('web.prod.svc.cluster.local.', 'default'), ['web.prod.svc.cluster.local']);
  assert.deepEqual(serviceOfDnsName('web.prod.svc.cluster.local'), { namespace: 'prod', name: 'web' });
  assert.equal(serviceOfDnsName('example.com'), undefined);
});

test('nft monitor trace lines', () => {
  assert.deepEqual(parseNftTraceLine('trace id 9f3ba7d6 ip kube-proxy services rule ip daddr . meta l4proto . th dport vmap @service-ips (verdict goto service-ABC-ns/web/tcp/)'), {
    id: '9f3ba7d6', table: 'kube-proxy', chain: 'services', kind: 'rule', text: 'ip daddr . meta l4proto . th dport vmap @service-ips', verdict: 'goto', target: 'service-ABC-ns/web/tcp/',
  });
  assert.deepEqual(parseNftTraceLine('trace id 9f3ba7d6 ip kube-proxy reject-chain rule reject (verdict drop)')?.verdict, 'drop');
  assert.deepEqual(parseNftTraceLine('trace id 9f3ba7d6 ip kube-proxy filter-output-post-dnat policy accept meta mark 0x00004000')?.verdict, 'accept');
  assert.equal(parseNftTraceLine('trace id 9f ip kube-proxy nat-output packet: oif "eth0" ip saddr 1.2.3.4')?.kind, 'packet');
  assert.equal(parseNftTraceLine('add table ip x'), undefined);
});

test('xtables-monitor --trace lines', () => {
  assert.deepEqual(parseXtablesTraceLine(' TRACE: 2 4cc3ec03 nat:KUBE-SERVICES:rule:0x5:JUMP:KUBE-SVC-ABC  -4 -t nat -A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-ABC'), {
    id: '4cc3ec03', table: 'nat', chain: 'KUBE-SERVICES', kind: 'rule', text: '-4 -t nat -A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-ABC', verdict: 'jump', target: 'KUBE-SVC-ABC',
  });
  assert.equal(parseXtablesTraceLine(' TRACE: 2 4cc3ec03 raw:OUTPUT:policy:ACCEPT ')?.verdict, 'accept');
  assert.equal(parseXtablesTraceLine('PACKET: 2 4cc3ec03 OUT=lo SRC=127.0.0.1')?.kind, 'packet');
});

test('conntrack -L lines', () => {
  const e = parseConntrackLine('tcp      6 119 TIME_WAIT src=172.18.0.2 dst=10.97.1.1 sport=20001 dport=80 src=10.244.0.5 dst=172.18.0.2 sport=80 dport=20001 [ASSURED] mark=0 use=1', 'node-1');
  assert.deepEqual(e, {
    node: 'node-1', protocol: 'tcp', state: 'TIME_WAIT', flags: ['ASSURED'],
    original: { src: '172.18.0.2', dst: '10.97.1.1', sport: 20001, dport: 80 },
    reply: { src: '10.244.0.5', dst: '172.18.0.2', sport: 80, dport: 20001 },
  });
  const u = parseConntrackLine('udp      17 29 src=172.18.0.2 dst=10.96.0.10 sport=2 dport=53 [UNREPLIED] src=10.244.0.2 dst=172.18.0.2 sport=53 dport=2 mark=0 use=1', 'node-2');
  assert.equal(u?.state, null);
  assert.deepEqual(u?.flags, ['UNREPLIED']);
  assert.equal(u?.reply.src, '10.244.0.2');
});
