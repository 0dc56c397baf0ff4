// The ipvs mode's generated state for a snapshot: virtual servers per service
// address with the scheduler, persistence for ClientIP affinity, node ports
// on each node address, the kube-ipvs0 addresses and ipsets, and the
// ipvsadm listing; plus the fallback decision on a kernel without IPVS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot } from '../../src/proxy/snapshot.js';
import { buildIpvsRules, renderIpsetRestore, renderIpvsadmList, renderIpvsadmRestore } from '../../src/proxy/ipvs/rules.js';
import { effectiveMode, ipvsUnavailableReason } from '../../src/proxy/mode-fallback.js';
import { slice, svc } from './fixtures.js';

const services = [
  svc('default', 'web', [{ port: 80, nodePort: 30080 }], { type: 'NodePort', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'] }),
  svc('default', 'sticky', [{ port: 8080, targetPort: 80 }], {
    clusterIP: '10.96.0.21',
    clusterIPs: ['10.96.0.21'],
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
  }),
  svc('default', 'dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], externalIPs: ['172.18.100.1'] }),
];
const slices = [
  slice('default', 'web-1', 'web', [{ port: 80 }], [{ ip: '10.244.0.5', node: 'node-1' }, { ip: '10.244.1.5', node: 'node-2' }]),
  slice('default', 'sticky-1', 'sticky', [{ port: 80 }], [{ ip: '10.244.0.6', node: 'node-1' }]),
  slice('default', 'dns-1', 'dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ ip: '10.244.0.2', node: 'node-1' }]),
];

test('virtual servers: cluster IP, external IP and node port per node address, scheduler and persistence', () => {
  const rules = buildIpvsRules(buildSnapshot(services, slices, 'node-1'), { scheduler: 'wlc', nodePortIPs: ['172.18.0.2'], clusterCIDRs: ['10.244.0.0/16'] });
  assert.equal(
    renderIpvsadmRestore(rules),
    [
      '-A -u 10.96.0.10:53 -s wlc',
      '-a -u 10.96.0.10:53 -r 10.244.0.2:53 -m -w 1',
      '-A -u 172.18.100.1:53 -s wlc',
      '-a -u 172.18.100.1:53 -r 10.244.0.2:53 -m -w 1',
      '-A -t 10.96.0.21:8080 -s wlc -p 600',
      '-a -t 10.96.0.21:8080 -r 10.244.0.6:80 -m -w 1',
      '-A -t 10.96.0.20:80 -s wlc',
      '-a -t 10.96.0.20:80 -r 10.244.0.5:80 -m -w 1',
      '-a -t 10.96.0.20:80 -r 10.244.1.5:80 -m -w 1',
      '-A -t 172.18.0.2:30080 -s wlc',
      '-a -t 172.18.0.2:30080 -r 10.244.0.5:80 -m -w 1',
      '-a -t 172.18.0.2:30080 -r 10.244.1.5:80 -m -w 1',
      '',
    ].join('\n'),
  );
  assert.deepEqual(rules.dummyAddresses, ['10.96.0.10', '10.96.0.20', '10.96.0.21', '172.18.100.1']);
  const list = renderIpvsadmList(rules);
  assert.match(list, /^TCP {2}10\.96\.0\.21:8080 wlc persistent 600$/m);
  assert.match(list, /^ {2}-> 10\.244\.0\.6:80 +Masq +1 +0 +0$/m);
  const ipset = renderIpsetRestore(rules);
  assert.match(ipset, /^add KUBE-CLUSTER-IP 10\.96\.0\.20,tcp:80 /m);
  assert.match(ipset, /^add KUBE-NODE-PORT-TCP 30080 /m);
  assert.match(ipset, /^add KUBE-EXTERNAL-IP 172\.18\.100\.1,udp:53 /m);
  assert.match(rules.iptables, /-A KUBE-SERVICES ! -s 10\.244\.0\.0\/16 .*--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ/);
});

test('ipvs falls back to iptables with the reason when the kernel has no IPVS', () => {
  assert.match(ipvsUnavailableReason('/nonexistent/ip_vs') ?? '', /kernel has no IPVS/);
  assert.equal(ipvsUnavailableReason(import.meta.filename), undefined);
  assert.deepEqual(effectiveMode('ipvs', '/nonexistent/ip_vs'), { mode: 'iptables', fallbackReason: 'the kernel has no IPVS (/nonexistent/ip_vs is missing: module ip_vs not loaded or not built)' });
  // Where the kernel has IPVS, kubesvc still runs iptables and says why (it does not program IPVS yet).
  assert.match(effectiveMode('ipvs', import.meta.filename).fallbackReason ?? '', /does not program IPVS/);
  assert.deepEqual(effectiveMode('nftables'), { mode: 'nftables' });
});
