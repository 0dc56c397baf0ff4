// The nftables mode's rules, golden: object names against upstream's test vectors,
// the fixed table layout, upstream's TestOverallNFTablesRules scenario line for
// line (as v1.32/1.33 writes it), one case per service shape, incremental
// transactions after a change, `nft -c` validation when nft is installed, and a
// 10,000-service render.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSnapshot, type EndpointSlice, type IPFamily, type Service } from '../../src/proxy/snapshot.js';
import { createSnapshotBuilder } from '../../src/proxy/change-tracker.js';
import {
  hashAndTruncate,
  isAffinitySetName,
  isServiceChainName,
  servicePortChainNameBase,
  servicePortEndpointChainName,
  servicePortEndpointChainNameBase,
} from '../../src/proxy/nftables/chain-names.js';
import { buildNftablesRules, normalizeCIDR, type NftablesRuleContext, type NftRuleSet } from '../../src/proxy/nftables/rules.js';
import {
  countChains,
  countElements,
  countRules,
  effectiveElements,
  renderChainDeletion,
  renderFullTransaction,
  renderIncrementalTransaction,
  staleServiceChains,
} from '../../src/proxy/nftables/render.js';
import { endpoints, lbStatus, overallServices, overallSlices, slice, svc, upstreamTestNode, type PortSpec } from './fixtures.js';

const node = upstreamTestNode;
const T = 'ip kube-proxy';
/** upstream's fake proxier: pod CIDR 10.0.0.0/8, service CIDR 172.30.0.0/16, node ports on 192.168.0.2. */
const upstreamContext: NftablesRuleContext = { clusterCIDRs: ['10.0.0.0/8'], serviceCIDRs: ['172.30.0.0/16'], nodePortIPs: ['192.168.0.2'], nodeIPs: ['192.168.0.2'] };
const context: NftablesRuleContext = { clusterCIDRs: ['10.244.0.0/16'], serviceCIDRs: ['10.96.0.0/16'] };


const declare = (chain: string) => [`add chain ${T} ${chain}`, `flush chain ${T} ${chain}`];
const rule = (chain: string, body: string) => `add rule ${T} ${chain} ${body}`;
const element = (set: string, body: string) => `add element ${T} ${set} { ${body} }`;
/** An endpoint chain's rules without affinity. */
const endpointRules = (chain: string, ip: string, to: string, protocol = 'tcp') => [
  rule(chain, `ip saddr ${ip} jump mark-for-masquerade`),
  rule(chain, `meta l4proto ${protocol} dnat to ${to}`),
];

function rules(services: Service[], slices: EndpointSlice[], ctx: NftablesRuleContext = context, ipFamily: IPFamily = 'IPv4'): NftRuleSet {
  return buildNftablesRules(buildSnapshot(services, slices, node, '', { ipFamily }), ctx);
}

/** The lines of a full transaction a set of services adds to the one for no services at all. */
function serviceLines(services: Service[], slices: EndpointSlice[], ctx: NftablesRuleContext = context, ipFamily: IPFamily = 'IPv4'): string[] {
  const fixed = new Set(renderFullTransaction(rules([], [], ctx, ipFamily)).split('\n'));
  return renderFullTransaction(rules(services, slices, ctx, ipFamily))
    .split('\n')
    .filter((line) => !fixed.has(line));
}

// ---- nft -c ----------------------------------------------------------------------

let nftUsable: boolean | undefined;
/** Whether `nft -c` can check here (installed, and allowed to talk to the kernel). */
function nftAvailable(): boolean {
  if (nftUsable === undefined) {
    try {
      nftCheck('add table ip kubesvc-nft-probe\n');
      nftUsable = true;
    } catch {
      nftUsable = false;
    }
  }
  return nftUsable;
}

/** `nft -c -f`: parses and validates against the kernel without applying anything. */
function nftCheck(text: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-nft-'));
  try {
    const file = join(dir, 'ruleset.nft');
    writeFileSync(file, text);
    execFileSync('nft', ['-c', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertNftAccepts(text: string, what: string): void {
  if (!nftAvailable()) return;
  try {
    nftCheck(text);
  } catch (err) {
    assert.fail(`nft -c rejects the ${what}: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
}

// ---- names -------------------------------------------------------------------------

test('chain names: first 8 base32 chars of sha256(ns/name/proto/port[__ip/port]) + "-" + base, as upstream', () => {
  // The reference's verified vectors (E.4), from upstream proxier_test.go.
  assert.equal(servicePortChainNameBase('ns1', 'svc1', 'tcp', 'p80'), 'ULMVA6XW-ns1/svc1/tcp/p80');
  assert.equal(servicePortEndpointChainNameBase('ns1', 'svc1', 'tcp', 'p80', '10.180.0.1', 80), '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  assert.equal(servicePortChainNameBase('ns2', 'svc2', 'tcp', 'p80'), '42NFTM6N-ns2/svc2/tcp/p80');
  assert.equal(servicePortEndpointChainNameBase('ns2', 'svc2', 'tcp', 'p80', '10.180.0.2', 80), 'SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80');
  assert.equal(servicePortChainNameBase('ns5', 'svc5', 'tcp', 'p80'), 'HVFWP5L3-ns5/svc5/tcp/p80');
  assert.equal(servicePortEndpointChainNameBase('ns5', 'svc5', 'tcp', 'p80', '10.180.0.3', 80), 'GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80');
  assert.equal(servicePortEndpointChainName('ns4', 'svc4', 'tcp', 'p80', '10.180.0.5', 80), 'endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80');
  // IPv6 colons become dots; an unnamed port leaves the last part empty.
  assert.equal(servicePortEndpointChainName('ns', 's', 'tcp', 'p', '2001:db8::1', 80), 'endpoint-HJVXGUWE-ns/s/tcp/p__2001.db8..1/80');
  assert.match(servicePortChainNameBase('default', 'web', 'udp', ''), /^[A-Z2-7]{8}-default\/web\/udp\/$/);
  // Longer than 240 characters: cut to 237 and "...".
  const long = hashAndTruncate('x'.repeat(300));
  assert.equal(long.length, 240);
  assert.ok(long.endsWith('x...') && long.startsWith(hashAndTruncate('x'.repeat(300)).slice(0, 9)));
  assert.ok(isServiceChainName('service-ULMVA6XW-ns1/svc1/tcp/p80') && !isServiceChainName('services') && !isServiceChainName('reject-chain'));
  assert.ok(isAffinitySetName('affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80') && !isAffinitySetName('cluster-ips'));
});

test('CIDRs are normalized as Go prints them (host bits cleared, IPv6 compressed); invalid ones and the other family dropped', () => {
  assert.equal(normalizeCIDR('192.168.0.1/16', 'IPv4'), '192.168.0.0/16');
  assert.equal(normalizeCIDR('203.0.113.0/25', 'IPv4'), '203.0.113.0/25');
  assert.equal(normalizeCIDR('2001:0db8:0000:0000:0000:0000:0000:0001/32', 'IPv6'), '2001:db8::/32');
  assert.equal(normalizeCIDR('fd00:10:0:0:1::/64', 'IPv6'), 'fd00:10::/64');
  assert.equal(normalizeCIDR('::ffff:1.2.3.4/128', 'IPv6'), '::ffff:102:304/128');
  assert.equal(normalizeCIDR('10.0.0.0/33', 'IPv4'), undefined);
  assert.equal(normalizeCIDR('10.0.0.0', 'IPv4'), undefined);
  assert.equal(normalizeCIDR('fd00::/64', 'IPv4'), undefined);
});

// ---- the fixed objects --------------------------------------------------------------

test('fixed table layout: base chains with upstream hooks and priorities, dispatch maps, masquerading, no-endpoint and firewall checks', () => {
  const text = renderFullTransaction(rules([], [], upstreamContext));
  assert.equal(
    text,
    [
      `add table ${T} { comment "rules for kube-proxy" ; }`,
      `add chain ${T} filter-prerouting { type filter hook prerouting priority -110 ; }`,
      `flush chain ${T} filter-prerouting`,
      `add chain ${T} filter-input { type filter hook input priority -110 ; }`,
      `flush chain ${T} filter-input`,
      `add chain ${T} filter-forward { type filter hook forward priority -110 ; }`,
      `flush chain ${T} filter-forward`,
      `add chain ${T} filter-output { type filter hook output priority -110 ; }`,
      `flush chain ${T} filter-output`,
      `add chain ${T} filter-output-post-dnat { type filter hook output priority -90 ; }`,
      `flush chain ${T} filter-output-post-dnat`,
      `add chain ${T} nat-prerouting { type nat hook prerouting priority -100 ; }`,
      `flush chain ${T} nat-prerouting`,
      `add chain ${T} nat-output { type nat hook output priority -100 ; }`,
      `flush chain ${T} nat-output`,
      `add chain ${T} nat-postrouting { type nat hook postrouting priority 100 ; }`,
      `flush chain ${T} nat-postrouting`,
      ...declare('nodeport-endpoints-check'),
      ...declare('service-endpoints-check'),
      ...declare('firewall-check'),
      ...declare('services'),
      ...declare('masquerading'),
      ...declare('cluster-ips-check'),
      ...declare('mark-for-masquerade'),
      `add chain ${T} reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
      `flush chain ${T} reject-chain`,
      `add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
      `flush set ${T} cluster-ips`,
      `add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
      `flush set ${T} nodeport-ips`,
      `add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
      `flush map ${T} no-endpoint-services`,
      `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
      `flush map ${T} no-endpoint-nodeports`,
      `add map ${T} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
      `flush map ${T} firewall-ips`,
      `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
      `flush map ${T} service-ips`,
      `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
      `flush map ${T} service-nodeports`,
      rule('filter-prerouting', 'ct state new jump firewall-check'),
      rule('filter-input', 'ct state new jump nodeport-endpoints-check'),
      rule('filter-input', 'ct state new jump service-endpoints-check'),
      rule('filter-forward', 'ct state new jump service-endpoints-check'),
      rule('filter-forward', 'ct state new jump cluster-ips-check'),
      rule('filter-output', 'ct state new jump service-endpoints-check'),
      rule('filter-output', 'ct state new jump firewall-check'),
      rule('filter-output-post-dnat', 'ct state new jump cluster-ips-check'),
      rule('nat-prerouting', 'jump services'),
      rule('nat-output', 'jump services'),
      rule('nat-postrouting', 'jump masquerading'),
      rule('nodeport-endpoints-check', 'ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports'),
      rule('service-endpoints-check', 'ip daddr . meta l4proto . th dport vmap @no-endpoint-services'),
      rule('firewall-check', 'ip daddr . meta l4proto . th dport vmap @firewall-ips'),
      rule('services', 'ip daddr . meta l4proto . th dport vmap @service-ips'),
      rule('services', 'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports'),
      rule('masquerading', 'mark and 0x4000 == 0 return'),
      rule('masquerading', 'mark set mark xor 0x4000'),
      rule('masquerading', 'masquerade fully-random'),
      rule('cluster-ips-check', 'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"'),
      rule('cluster-ips-check', 'ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"'),
      rule('mark-for-masquerade', 'mark set mark or 0x4000'),
      rule('reject-chain', 'reject'),
      element('nodeport-ips', '192.168.0.2'),
      '',
    ].join('\n'),
  );
  assertNftAccepts(text, 'fixed table');
});

test('node ports on every local address: no nodeport-ips set (added and deleted), fib-matched local destinations except loopback', () => {
  const lines = renderFullTransaction(rules([], [], { clusterCIDRs: [] })).split('\n');
  assert.deepEqual(
    lines.filter((l) => l.includes('nodeport-') || l.includes('@service-nodeports')),
    [
      ...declare('nodeport-endpoints-check'),
      `add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
      `delete set ${T} nodeport-ips`,
      rule('filter-input', 'ct state new jump nodeport-endpoints-check'),
      rule('nodeport-endpoints-check', 'ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports'),
      rule('services', 'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports'),
    ],
  );
  // No service CIDRs known: no drop rule for unallocated cluster IPs. Loopback node port addresses are left out.
  assert.ok(!lines.some((l) => l.includes('unallocated')));
  const v6 = renderFullTransaction(rules([], [], { clusterCIDRs: [], nodePortIPs: ['::1', '2001:db8::2', '192.168.0.2'], masqueradeBit: 15 }, 'IPv6'));
  assert.ok(v6.includes(`add element ip6 kube-proxy nodeport-ips { 2001:db8::2 }\n`) && !v6.includes('{ ::1 }') && !v6.includes('192.168.0.2'));
  assert.ok(v6.includes('add rule ip6 kube-proxy mark-for-masquerade mark set mark or 0x8000\n'));
  assertNftAccepts(lines.join('\n'), 'fixed table (node ports everywhere)');
  assertNftAccepts(v6, 'fixed IPv6 table');
});

// ---- upstream's overall scenario ------------------------------------------------------

// upstream TestOverallNFTablesRules: ClusterIP, LoadBalancer with Local policy and no local endpoint, NodePort,
// external IP with a local endpoint, LoadBalancer with source ranges and ClientIP affinity, no endpoints.

const svc1 = 'service-ULMVA6XW-ns1/svc1/tcp/p80';
const svc1ep = 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80';
const svc2 = 'service-42NFTM6N-ns2/svc2/tcp/p80';
const svc2ext = 'external-42NFTM6N-ns2/svc2/tcp/p80';
const svc2ep = 'endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80';
const svc3 = 'service-4AT6LBPK-ns3/svc3/tcp/p80';
const svc3ext = 'external-4AT6LBPK-ns3/svc3/tcp/p80';
const svc3ep = 'endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80';
const svc4 = 'service-LAUZTJTB-ns4/svc4/tcp/p80';
const svc4ext = 'external-LAUZTJTB-ns4/svc4/tcp/p80';
const svc4ep4 = 'endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80';
const svc4ep5 = 'endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80';
const svc4ep6 = 'endpoint-LAUTRNDE-ns4/svc4/tcp/p80__10.180.0.6/80';
const svc5 = 'service-HVFWP5L3-ns5/svc5/tcp/p80';
const svc5ext = 'external-HVFWP5L3-ns5/svc5/tcp/p80';
const svc5fw = 'firewall-HVFWP5L3-ns5/svc5/tcp/p80';
const svc5ep = 'endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80';
const svc5affinity = 'affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80';
const masq = (ip: string) => `ip daddr ${ip} tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`;

// upstream's expected dump (sorted, without flushes) for this scenario, in its v1.32/1.33 shape: cluster IP
// masquerade rules still match the port (`tcp dport 80`), and the base chains are filter-prerouting,
// filter-output-post-dnat etc.
const overallExpected = [
  ...[
    'cluster-ips-check',
    'filter-forward { type filter hook forward priority -110 ; }',
    'filter-input { type filter hook input priority -110 ; }',
    'filter-output { type filter hook output priority -110 ; }',
    'filter-output-post-dnat { type filter hook output priority -90 ; }',
    'filter-prerouting { type filter hook prerouting priority -110 ; }',
    'firewall-check',
    'mark-for-masquerade',
    'masquerading',
    'nat-output { type nat hook output priority -100 ; }',
    'nat-postrouting { type nat hook postrouting priority 100 ; }',
    'nat-prerouting { type nat hook prerouting priority -100 ; }',
    'nodeport-endpoints-check',
    'reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }',
    'service-endpoints-check',
    'services',
  ].map((c) => `add chain ${T} ${c}`),
  `add table ${T} { comment "rules for kube-proxy" ; }`,
  `add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
  `add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
  `add map ${T} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
  `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
  `add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
  `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
  `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
  rule('cluster-ips-check', 'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"'),
  rule('cluster-ips-check', 'ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"'),
  rule('filter-prerouting', 'ct state new jump firewall-check'),
  rule('filter-forward', 'ct state new jump service-endpoints-check'),
  rule('filter-forward', 'ct state new jump cluster-ips-check'),
  rule('filter-input', 'ct state new jump nodeport-endpoints-check'),
  rule('filter-input', 'ct state new jump service-endpoints-check'),
  rule('filter-output', 'ct state new jump service-endpoints-check'),
  rule('filter-output', 'ct state new jump firewall-check'),
  rule('filter-output-post-dnat', 'ct state new jump cluster-ips-check'),
  rule('firewall-check', 'ip daddr . meta l4proto . th dport vmap @firewall-ips'),
  rule('mark-for-masquerade', 'mark set mark or 0x4000'),
  rule('masquerading', 'mark and 0x4000 == 0 return'),
  rule('masquerading', 'mark set mark xor 0x4000'),
  rule('masquerading', 'masquerade fully-random'),
  rule('nat-output', 'jump services'),
  rule('nat-postrouting', 'jump masquerading'),
  rule('nat-prerouting', 'jump services'),
  rule('nodeport-endpoints-check', 'ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports'),
  rule('reject-chain', 'reject'),
  rule('services', 'ip daddr . meta l4proto . th dport vmap @service-ips'),
  rule('services', 'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports'),
  element('nodeport-ips', '192.168.0.2'),
  rule('service-endpoints-check', 'ip daddr . meta l4proto . th dport vmap @no-endpoint-services'),

  // svc1
  `add chain ${T} ${svc1}`,
  rule(svc1, masq('172.30.0.41')),
  rule(svc1, `numgen random mod 1 vmap { 0 : goto ${svc1ep} }`),
  `add chain ${T} ${svc1ep}`,
  ...endpointRules(svc1ep, '10.180.0.1', '10.180.0.1:80'),
  element('cluster-ips', '172.30.0.41'),
  element('service-ips', `172.30.0.41 . tcp . 80 : goto ${svc1}`),

  // svc2: Local policy, no local endpoint: external traffic from outside is dropped, pods and the node short-circuit.
  `add chain ${T} ${svc2}`,
  rule(svc2, masq('172.30.0.42')),
  rule(svc2, `numgen random mod 1 vmap { 0 : goto ${svc2ep} }`),
  `add chain ${T} ${svc2ext}`,
  rule(svc2ext, `ip saddr 10.0.0.0/8 goto ${svc2} comment "short-circuit pod traffic"`),
  rule(svc2ext, 'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"'),
  rule(svc2ext, `fib saddr type local goto ${svc2} comment "short-circuit local traffic"`),
  `add chain ${T} ${svc2ep}`,
  ...endpointRules(svc2ep, '10.180.0.2', '10.180.0.2:80'),
  element('cluster-ips', '172.30.0.42'),
  element('service-ips', `172.30.0.42 . tcp . 80 : goto ${svc2}`),
  element('service-ips', `192.168.99.22 . tcp . 80 : goto ${svc2ext}`),
  element('service-ips', `1.2.3.4 . tcp . 80 : goto ${svc2ext}`),
  element('service-nodeports', `tcp . 3001 : goto ${svc2ext}`),
  element('no-endpoint-nodeports', 'tcp . 3001 comment "ns2/svc2:p80" : drop'),
  element('no-endpoint-services', '1.2.3.4 . tcp . 80 comment "ns2/svc2:p80" : drop'),
  element('no-endpoint-services', '192.168.99.22 . tcp . 80 comment "ns2/svc2:p80" : drop'),

  // svc3
  `add chain ${T} ${svc3}`,
  rule(svc3, masq('172.30.0.43')),
  rule(svc3, `numgen random mod 1 vmap { 0 : goto ${svc3ep} }`),
  `add chain ${T} ${svc3ext}`,
  rule(svc3ext, 'jump mark-for-masquerade'),
  rule(svc3ext, `goto ${svc3}`),
  `add chain ${T} ${svc3ep}`,
  ...endpointRules(svc3ep, '10.180.0.3', '10.180.0.3:80'),
  element('cluster-ips', '172.30.0.43'),
  element('service-ips', `172.30.0.43 . tcp . 80 : goto ${svc3}`),
  element('service-nodeports', `tcp . 3003 : goto ${svc3ext}`),

  // svc4
  `add chain ${T} ${svc4}`,
  rule(svc4, masq('172.30.0.44')),
  rule(svc4, `numgen random mod 2 vmap { 0 : goto ${svc4ep4} , 1 : goto ${svc4ep5} }`),
  `add chain ${T} ${svc4ext}`,
  rule(svc4ext, 'jump mark-for-masquerade'),
  rule(svc4ext, `goto ${svc4}`),
  `add chain ${T} ${svc4ep5}`,
  ...endpointRules(svc4ep5, '10.180.0.5', '10.180.0.5:80'),
  `add chain ${T} ${svc4ep4}`,
  ...endpointRules(svc4ep4, '10.180.0.4', '10.180.0.4:80'),
  element('cluster-ips', '172.30.0.44'),
  element('service-ips', `172.30.0.44 . tcp . 80 : goto ${svc4}`),
  element('service-ips', `192.168.99.33 . tcp . 80 : goto ${svc4ext}`),

  // svc5
  `add set ${T} ${svc5affinity} { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }`,
  `add chain ${T} ${svc5}`,
  rule(svc5, masq('172.30.0.45')),
  rule(svc5, `ip saddr @${svc5affinity} goto ${svc5ep}`),
  rule(svc5, `numgen random mod 1 vmap { 0 : goto ${svc5ep} }`),
  `add chain ${T} ${svc5ext}`,
  rule(svc5ext, 'jump mark-for-masquerade'),
  rule(svc5ext, `goto ${svc5}`),
  `add chain ${T} ${svc5ep}`,
  rule(svc5ep, 'ip saddr 10.180.0.3 jump mark-for-masquerade'),
  rule(svc5ep, `update @${svc5affinity} { ip saddr }`),
  rule(svc5ep, 'meta l4proto tcp dnat to 10.180.0.3:80'),
  `add chain ${T} ${svc5fw}`,
  rule(svc5fw, 'ip saddr != { 203.0.113.0/25 } drop'),
  element('cluster-ips', '172.30.0.45'),
  element('service-ips', `172.30.0.45 . tcp . 80 : goto ${svc5}`),
  element('service-ips', `5.6.7.8 . tcp . 80 : goto ${svc5ext}`),
  element('service-nodeports', `tcp . 3002 : goto ${svc5ext}`),
  element('firewall-ips', `5.6.7.8 . tcp . 80 : goto ${svc5fw}`),

  // svc6
  element('cluster-ips', '172.30.0.46'),
  element('no-endpoint-services', '172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain'),
];

test('upstream TestOverallNFTablesRules: the same objects, rules and elements (v1.32/1.33 layout)', () => {
  const text = renderFullTransaction(rules(overallServices(), overallSlices(), upstreamContext));
  const written = text.split('\n').filter((l) => l !== '' && !l.startsWith('flush '));
  assert.deepEqual([...written].sort(), [...overallExpected].sort());
  // Objects before the rules and elements that use them; rules in their chain's order.
  assert.ok(text.indexOf(`add set ${T} ${svc5affinity} `) < text.indexOf(`add rule ${T} ${svc5} ip saddr @`));
  assert.ok(text.indexOf(`add chain ${T} ${svc5fw}`) < text.indexOf(`add element ${T} firewall-ips`));
  const svc5Rules = written.filter((l) => l.startsWith(`add rule ${T} ${svc5} `));
  assert.deepEqual(svc5Rules, overallExpected.filter((l) => l.startsWith(`add rule ${T} ${svc5} `)));
  assertNftAccepts(text, 'overall full transaction');
});

// ---- one case per shape ---------------------------------------------------------------

test('ClusterIP with 3 endpoints: off-cluster masquerade, numgen over all three, hairpin + DNAT per endpoint', () => {
  const service = 'service-SUSTUHLJ-default/web/tcp/http';
  const ep1 = 'endpoint-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080';
  const ep2 = 'endpoint-LRPR4IZA-default/web/tcp/http__10.244.2.6/8080';
  const ep3 = 'endpoint-PW2UMWDW-default/web/tcp/http__10.244.3.7/8080';
  const services = [svc('default', 'web', [{ name: 'http', port: 80 }], { clusterIP: '10.96.0.20' })];
  const slices = [
    slice('default', 'web-1', 'web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5', node: 'node-b' }, { ip: '10.244.2.6', node }, { ip: '10.244.3.7' }]),
  ];
  assert.deepEqual(serviceLines(services, slices), [
    ...declare(service),
    ...declare(ep1),
    ...declare(ep2),
    ...declare(ep3),
    rule(service, 'ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade'),
    rule(service, `numgen random mod 3 vmap { 0 : goto ${ep1} , 1 : goto ${ep2} , 2 : goto ${ep3} }`),
    ...endpointRules(ep1, '10.244.1.5', '10.244.1.5:8080'),
    ...endpointRules(ep2, '10.244.2.6', '10.244.2.6:8080'),
    ...endpointRules(ep3, '10.244.3.7', '10.244.3.7:8080'),
    element('cluster-ips', '10.96.0.20'),
    element('service-ips', `10.96.0.20 . tcp . 80 : goto ${service}`),
  ]);
  // --masquerade-all masquerades every cluster IP packet.
  const all = serviceLines(services, slices, { ...context, masqueradeAll: true });
  assert.ok(all.includes(rule(service, 'ip daddr 10.96.0.20 tcp dport 80 jump mark-for-masquerade')));
  // No cluster CIDR (no local detector): no masquerade rule at all.
  assert.ok(!serviceLines(services, slices, { clusterCIDRs: [] }).some((l) => l.includes('10.96.0.20 tcp dport')));
});

test('no endpoints: no chains, cluster IP and external IP rejected through no-endpoint-services, node port through no-endpoint-nodeports', () => {
  const services = [svc('default', 'empty', [{ port: 443, nodePort: 30443 }], { clusterIP: '10.96.0.21', type: 'NodePort', externalIPs: ['192.0.2.10'] })];
  assert.deepEqual(serviceLines(services, []), [
    element('cluster-ips', '10.96.0.21'),
    element('no-endpoint-services', '10.96.0.21 . tcp . 443 comment "default/empty" : goto reject-chain'),
    element('no-endpoint-services', '192.0.2.10 . tcp . 443 comment "default/empty" : goto reject-chain'),
    element('no-endpoint-nodeports', 'tcp . 30443 comment "default/empty" : goto reject-chain'),
  ]);
  // Only terminating, not serving endpoints count as none.
  const terminating = [slice('default', 'empty-1', 'empty', [{ port: 443 }], [{ ip: '10.244.1.5', ready: false, serving: false, terminating: true }])];
  assert.deepEqual(serviceLines(services, terminating), serviceLines(services, []));
});

test('NodePort: service-nodeports → external chain (masquerade, then the service chain)', () => {
  const service = 'service-ASNVMIOD-default/np/tcp/http';
  const external = 'external-ASNVMIOD-default/np/tcp/http';
  const ep = 'endpoint-67EPUJIK-default/np/tcp/http__10.244.1.5/8080';
  const services = [svc('default', 'np', [{ name: 'http', port: 80, nodePort: 30080 }], { clusterIP: '10.96.0.22', type: 'NodePort' })];
  const slices = [slice('default', 'np-1', 'np', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5', node: 'node-b' }])];
  assert.deepEqual(serviceLines(services, slices), [
    ...declare(service),
    ...declare(external),
    ...declare(ep),
    rule(service, 'ip daddr 10.96.0.22 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade'),
    rule(service, `numgen random mod 1 vmap { 0 : goto ${ep} }`),
    rule(external, 'jump mark-for-masquerade'),
    rule(external, `goto ${service}`),
    ...endpointRules(ep, '10.244.1.5', '10.244.1.5:8080'),
    element('cluster-ips', '10.96.0.22'),
    element('service-ips', `10.96.0.22 . tcp . 80 : goto ${service}`),
    element('service-nodeports', `tcp . 30080 : goto ${external}`),
  ]);
});

test('LoadBalancer with externalTrafficPolicy Local: external chain short-circuits pods and the node, the rest goes to the local endpoints', () => {
  const service = 'service-CR6YO3JX-default/lbl/tcp/';
  const local = 'local-CR6YO3JX-default/lbl/tcp/';
  const external = 'external-CR6YO3JX-default/lbl/tcp/';
  const remoteEp = 'endpoint-FOMF234E-default/lbl/tcp/__10.244.1.5/8443';
  const localEp = 'endpoint-XIU6DAMT-default/lbl/tcp/__10.244.2.6/8443';
  const spec = { clusterIP: '10.96.0.23', type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 };
  const services = [svc('default', 'lbl', [{ port: 443, nodePort: 30443 }], spec, {}, lbStatus('203.0.113.7'))];
  const slices = [slice('default', 'lbl-1', 'lbl', [{ port: 8443 }], [{ ip: '10.244.1.5', node: 'node-b' }, { ip: '10.244.2.6', node }])];
  const rs = rules(services, slices);
  assert.deepEqual(serviceLines(services, slices), [
    ...declare(service),
    ...declare(local),
    ...declare(external),
    ...declare(remoteEp),
    ...declare(localEp),
    rule(service, 'ip daddr 10.96.0.23 tcp dport 443 ip saddr != 10.244.0.0/16 jump mark-for-masquerade'),
    rule(service, `numgen random mod 2 vmap { 0 : goto ${remoteEp} , 1 : goto ${localEp} }`),
    rule(local, `numgen random mod 1 vmap { 0 : goto ${localEp} }`),
    rule(external, `ip saddr 10.244.0.0/16 goto ${service} comment "short-circuit pod traffic"`),
    rule(external, 'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"'),
    rule(external, `fib saddr type local goto ${service} comment "short-circuit local traffic"`),
    rule(external, `goto ${local}`),
    ...endpointRules(remoteEp, '10.244.1.5', '10.244.1.5:8443'),
    ...endpointRules(localEp, '10.244.2.6', '10.244.2.6:8443'),
    element('cluster-ips', '10.96.0.23'),
    element('service-ips', `10.96.0.23 . tcp . 443 : goto ${service}`),
    element('service-ips', `203.0.113.7 . tcp . 443 : goto ${external}`),
    element('service-nodeports', `tcp . 30443 : goto ${external}`),
  ]);
  assert.deepEqual(rs.noLocalEndpoints, { internal: 0, external: 0 });
  // Without a local endpoint: no local chain, outside traffic to the LB IP and node port dropped.
  const remoteOnly = [slice('default', 'lbl-1', 'lbl', [{ port: 8443 }], [{ ip: '10.244.1.5', node: 'node-b' }])];
  const lines = serviceLines(services, remoteOnly);
  assert.ok(!lines.some((l) => l.includes(local)));
  assert.ok(!lines.includes(rule(external, `goto ${local}`)));
  assert.ok(lines.includes(element('no-endpoint-services', '203.0.113.7 . tcp . 443 comment "default/lbl" : drop')));
  assert.ok(lines.includes(element('no-endpoint-nodeports', 'tcp . 30443 comment "default/lbl" : drop')));
  assert.deepEqual(rules(services, remoteOnly).noLocalEndpoints, { internal: 0, external: 1 });
});

test('ClientIP affinity: one timed set per endpoint, looked up before the numgen pick and updated in the endpoint chain', () => {
  const service = 'service-EDE2N7RF-default/sticky/tcp/';
  const ep1 = 'endpoint-OGXTAQLB-default/sticky/tcp/__10.244.1.5/80';
  const ep2 = 'endpoint-GLCGHWB2-default/sticky/tcp/__10.244.2.6/80';
  const set1 = 'affinity-OGXTAQLB-default/sticky/tcp/__10.244.1.5/80';
  const set2 = 'affinity-GLCGHWB2-default/sticky/tcp/__10.244.2.6/80';
  const spec = { clusterIP: '10.96.0.24', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } };
  const services = [svc('default', 'sticky', [{ port: 80 }], spec)];
  const slices = [slice('default', 'sticky-1', 'sticky', [{ port: 80 }], [{ ip: '10.244.1.5' }, { ip: '10.244.2.6' }])];
  assert.deepEqual(serviceLines(services, slices), [
    ...declare(service),
    ...declare(ep1),
    ...declare(ep2),
    `add set ${T} ${set1} { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }`,
    `add set ${T} ${set2} { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }`,
    rule(service, 'ip daddr 10.96.0.24 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade'),
    rule(service, `ip saddr @${set1} goto ${ep1}`),
    rule(service, `ip saddr @${set2} goto ${ep2}`),
    rule(service, `numgen random mod 2 vmap { 0 : goto ${ep1} , 1 : goto ${ep2} }`),
    rule(ep1, 'ip saddr 10.244.1.5 jump mark-for-masquerade'),
    rule(ep1, `update @${set1} { ip saddr }`),
    rule(ep1, 'meta l4proto tcp dnat to 10.244.1.5:80'),
    rule(ep2, 'ip saddr 10.244.2.6 jump mark-for-masquerade'),
    rule(ep2, `update @${set2} { ip saddr }`),
    rule(ep2, 'meta l4proto tcp dnat to 10.244.2.6:80'),
    element('cluster-ips', '10.96.0.24'),
    element('service-ips', `10.96.0.24 . tcp . 80 : goto ${service}`),
  ]);
});

test('loadBalancerSourceRanges: firewall-ips sends LB IPs to a firewall chain dropping other sources (ranges normalized, node IP admits the LB IPs)', () => {
  const service = 'service-M6GJO2G2-default/fw/tcp/';
  const external = 'external-M6GJO2G2-default/fw/tcp/';
  const firewall = 'firewall-M6GJO2G2-default/fw/tcp/';
  const ep = 'endpoint-KXG4CDQU-default/fw/tcp/__10.244.1.5/80';
  const spec = { clusterIP: '10.96.0.25', type: 'LoadBalancer', loadBalancerSourceRanges: ['198.51.100.0/24', ' 192.168.0.1/16', 'bogus', 'fd00::/8'] };
  const services = [svc('default', 'fw', [{ port: 80, nodePort: 30081 }], spec, {}, lbStatus('203.0.113.8', '203.0.113.9'))];
  const slices = [slice('default', 'fw-1', 'fw', [{ port: 80 }], [{ ip: '10.244.1.5' }])];
  const ctx = { ...context, nodeIPs: ['192.168.1.1'] };
  assert.deepEqual(serviceLines(services, slices, ctx), [
    ...declare(service),
    ...declare(external),
    ...declare(firewall),
    ...declare(ep),
    rule(service, 'ip daddr 10.96.0.25 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade'),
    rule(service, `numgen random mod 1 vmap { 0 : goto ${ep} }`),
    rule(external, 'jump mark-for-masquerade'),
    rule(external, `goto ${service}`),
    rule(firewall, 'ip saddr != { 198.51.100.0/24 , 192.168.0.0/16 , 203.0.113.8 , 203.0.113.9 } drop'),
    ...endpointRules(ep, '10.244.1.5', '10.244.1.5:80'),
    element('cluster-ips', '10.96.0.25'),
    element('service-ips', `10.96.0.25 . tcp . 80 : goto ${service}`),
    element('service-ips', `203.0.113.8 . tcp . 80 : goto ${external}`),
    element('firewall-ips', `203.0.113.8 . tcp . 80 : goto ${firewall}`),
    element('service-ips', `203.0.113.9 . tcp . 80 : goto ${external}`),
    element('firewall-ips', `203.0.113.9 . tcp . 80 : goto ${firewall}`),
    // Node ports are not subject to source ranges.
    element('service-nodeports', `tcp . 30081 : goto ${external}`),
  ]);
  // The node's IP outside every range: the LB IPs are not admitted. Without endpoints the firewall still applies.
  assert.ok(serviceLines(services, slices).includes(rule(firewall, 'ip saddr != { 198.51.100.0/24 , 192.168.0.0/16 } drop')));
  const empty = serviceLines(services, []);
  assert.ok(empty.includes(element('firewall-ips', `203.0.113.8 . tcp . 80 : goto ${firewall}`)));
  assert.ok(empty.includes(element('no-endpoint-services', '203.0.113.8 . tcp . 80 comment "default/fw" : goto reject-chain')));
});

test('externalIPs: service-ips sends them to the external chain', () => {
  const service = 'service-PCAA43RN-default/ext/tcp/';
  const external = 'external-PCAA43RN-default/ext/tcp/';
  const ep = 'endpoint-MBIEMYW6-default/ext/tcp/__10.244.1.5/80';
  const services = [svc('default', 'ext', [{ port: 80 }], { clusterIP: '10.96.0.26', externalIPs: ['192.0.2.50', 'fd00::50'] })];
  const slices = [slice('default', 'ext-1', 'ext', [{ port: 80 }], [{ ip: '10.244.1.5' }])];
  assert.deepEqual(serviceLines(services, slices), [
    ...declare(service),
    ...declare(external),
    ...declare(ep),
    rule(service, 'ip daddr 10.96.0.26 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade'),
    rule(service, `numgen random mod 1 vmap { 0 : goto ${ep} }`),
    rule(external, 'jump mark-for-masquerade'),
    rule(external, `goto ${service}`),
    ...endpointRules(ep, '10.244.1.5', '10.244.1.5:80'),
    element('cluster-ips', '10.96.0.26'),
    element('service-ips', `10.96.0.26 . tcp . 80 : goto ${service}`),
    element('service-ips', `192.0.2.50 . tcp . 80 : goto ${external}`),
  ]);
});

test('multi-port with UDP: a chain set per port and protocol, one cluster-ips element, udp matches and DNAT', () => {
  const udp = 'service-FY5PMXPG-kube-system/kube-dns/udp/dns';
  const tcp = 'service-NWBZK7IH-kube-system/kube-dns/tcp/dns-tcp';
  const udp2 = 'endpoint-2GKX576Q-kube-system/kube-dns/udp/dns__10.244.0.2/53';
  const udp3 = 'endpoint-SHKW4FT7-kube-system/kube-dns/udp/dns__10.244.0.3/53';
  const tcp2 = 'endpoint-BFW5VCWB-kube-system/kube-dns/tcp/dns-tcp__10.244.0.2/53';
  const tcp3 = 'endpoint-BAVBYS25-kube-system/kube-dns/tcp/dns-tcp__10.244.0.3/53';
  const ports: PortSpec[] = [
    { name: 'dns', port: 53, protocol: 'UDP' },
    { name: 'dns-tcp', port: 53 },
  ];
  const services = [svc('kube-system', 'kube-dns', ports, { clusterIP: '10.96.0.10' })];
  const slices = [
    slice('kube-system', 'kube-dns-1', 'kube-dns', [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }], [{ ip: '10.244.0.2' }, { ip: '10.244.0.3' }]),
  ];
  assert.deepEqual(serviceLines(services, slices), [
    ...declare(udp),
    ...declare(udp2),
    ...declare(udp3),
    ...declare(tcp),
    ...declare(tcp2),
    ...declare(tcp3),
    rule(udp, 'ip daddr 10.96.0.10 udp dport 53 ip saddr != 10.244.0.0/16 jump mark-for-masquerade'),
    rule(udp, `numgen random mod 2 vmap { 0 : goto ${udp2} , 1 : goto ${udp3} }`),
    ...endpointRules(udp2, '10.244.0.2', '10.244.0.2:53', 'udp'),
    ...endpointRules(udp3, '10.244.0.3', '10.244.0.3:53', 'udp'),
    rule(tcp, 'ip daddr 10.96.0.10 tcp dport 53 ip saddr != 10.244.0.0/16 jump mark-for-masquerade'),
    rule(tcp, `numgen random mod 2 vmap { 0 : goto ${tcp2} , 1 : goto ${tcp3} }`),
    ...endpointRules(tcp2, '10.244.0.2', '10.244.0.2:53'),
    ...endpointRules(tcp3, '10.244.0.3', '10.244.0.3:53'),
    element('cluster-ips', '10.96.0.10'),
    element('service-ips', `10.96.0.10 . udp . 53 : goto ${udp}`),
    element('service-ips', `10.96.0.10 . tcp . 53 : goto ${tcp}`),
  ]);
});

test('IPv6: table ip6, ip6 matches, ipv6_addr sets, [ip]:port DNAT, dotted endpoint names', () => {
  const service = 'service-KYX2TYW5-default/v6/tcp/';
  const local = 'local-KYX2TYW5-default/v6/tcp/';
  const external = 'external-KYX2TYW5-default/v6/tcp/';
  const firewall = 'firewall-KYX2TYW5-default/v6/tcp/';
  const ep = 'endpoint-2CM6Q6L6-default/v6/tcp/__fd00.10..5/8080';
  const spec = {
    clusterIP: 'fd00:10:96::1',
    clusterIPs: ['fd00:10:96::1'],
    type: 'LoadBalancer',
    externalTrafficPolicy: 'Local',
    loadBalancerSourceRanges: ['2001:db8::/32'],
  };
  const services = [svc('default', 'v6', [{ port: 80, nodePort: 30090 }], spec, {}, lbStatus('2001:db8::7', '192.0.2.7'))];
  const slices = [slice('default', 'v6-1', 'v6', [{ port: 8080 }], [{ ip: 'fd00:10::5', node }], { addressType: 'IPv6' })];
  const ctx = { clusterCIDRs: ['10.244.0.0/16', 'fd00:10::/64'], serviceCIDRs: ['fd00:10:96::/112'] };
  const six = (chain: string, body: string) => `add rule ip6 kube-proxy ${chain} ${body}`;
  const lines = serviceLines(services, slices, ctx, 'IPv6');
  assert.deepEqual(
    lines.filter((l) => l.startsWith('add rule') || l.startsWith('add element')),
    [
      six(service, 'ip6 daddr fd00:10:96::1 tcp dport 80 ip6 saddr != fd00:10::/64 jump mark-for-masquerade'),
      six(service, `numgen random mod 1 vmap { 0 : goto ${ep} }`),
      six(local, `numgen random mod 1 vmap { 0 : goto ${ep} }`),
      six(external, `ip6 saddr fd00:10::/64 goto ${service} comment "short-circuit pod traffic"`),
      six(external, 'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"'),
      six(external, `fib saddr type local goto ${service} comment "short-circuit local traffic"`),
      six(external, `goto ${local}`),
      six(firewall, 'ip6 saddr != { 2001:db8::/32 } drop'),
      six(ep, 'ip6 saddr fd00:10::5 jump mark-for-masquerade'),
      six(ep, 'meta l4proto tcp dnat to [fd00:10::5]:8080'),
      'add element ip6 kube-proxy cluster-ips { fd00:10:96::1 }',
      `add element ip6 kube-proxy service-ips { fd00:10:96::1 . tcp . 80 : goto ${service} }`,
      `add element ip6 kube-proxy service-ips { 2001:db8::7 . tcp . 80 : goto ${external} }`,
      `add element ip6 kube-proxy firewall-ips { 2001:db8::7 . tcp . 80 : goto ${firewall} }`,
      `add element ip6 kube-proxy service-nodeports { tcp . 30090 : goto ${external} }`,
    ],
  );
  const text = renderFullTransaction(rules(services, slices, ctx, 'IPv6'));
  assert.ok(text.startsWith('add table ip6 kube-proxy { comment "rules for kube-proxy" ; }\n'));
  assert.ok(text.includes('add set ip6 kube-proxy cluster-ips { type ipv6_addr ; comment "Active ClusterIPs" ; }\n'));
  assert.ok(text.includes('add rule ip6 kube-proxy services fib daddr type local ip6 daddr != ::1 meta l4proto . th dport vmap @service-nodeports\n'));
  assertNftAccepts(text, 'IPv6 full transaction');
});

test('every shape together passes nft -c', () => {
  const services = [
    ...overallServices(),
    svc('default', 'udp', [{ port: 53, protocol: 'UDP', nodePort: 30053 }], { clusterIP: '172.30.1.1', type: 'NodePort', internalTrafficPolicy: 'Local' }),
    svc('default', 'sctp', [{ port: 9999, protocol: 'SCTP' }], { clusterIP: '172.30.1.2', sessionAffinity: 'ClientIP' }),
    svc('default', 'ilocal', [{ port: 80 }], { clusterIP: '172.30.1.3', internalTrafficPolicy: 'Local' }),
  ];
  const slices = [
    ...overallSlices(),
    slice('default', 'udp-1', 'udp', [{ port: 53, protocol: 'UDP' }], [{ ip: '10.180.1.1', node }, { ip: '10.180.1.2' }]),
    slice('default', 'sctp-1', 'sctp', [{ port: 9999, protocol: 'SCTP' }], [{ ip: '10.180.1.3' }]),
    slice('default', 'ilocal-1', 'ilocal', [{ port: 80 }], [{ ip: '10.180.1.4', node: 'elsewhere' }]),
  ];
  const rs = rules(services, slices, upstreamContext);
  const text = renderFullTransaction(rs, { recreateBaseChains: true });
  // internalTrafficPolicy Local: the local chain holds only this node's endpoint; none here: cluster IP traffic dropped.
  const udpLocal = servicePortChainNameBase('default', 'udp', 'udp', '');
  assert.ok(text.includes(`add rule ${T} local-${udpLocal} ip daddr 172.30.1.1 udp dport 53 ip saddr != 10.0.0.0/8 jump mark-for-masquerade\n`));
  assert.ok(text.includes(element('no-endpoint-services', '172.30.1.3 . tcp . 80 comment "default/ilocal" : drop')));
  assert.deepEqual(rs.noLocalEndpoints, { internal: 1, external: 1 });
  assert.ok(text.includes(`add chain ${T} filter-input\ndelete chain ${T} filter-input\n`));
  assertNftAccepts(text, 'combined full transaction');
});

// ---- incremental ----------------------------------------------------------------------

test('incremental: one endpoint changed → only that service port chain flushed and rewritten, the new endpoint chain added, the old one deleted', () => {
  const before = rules(overallServices(), overallSlices(), upstreamContext);
  const after = rules(overallServices(), overallSlices([{ ip: '10.180.0.6' }, { ip: '10.180.0.5', node }]), upstreamContext);
  const expected = [
    `add chain ${T} ${svc4ep6}`,
    `flush chain ${T} ${svc4}`,
    `flush chain ${T} ${svc4ep4}`,
    rule(svc4, masq('172.30.0.44')),
    rule(svc4, `numgen random mod 2 vmap { 0 : goto ${svc4ep5} , 1 : goto ${svc4ep6} }`),
    ...endpointRules(svc4ep6, '10.180.0.6', '10.180.0.6:80'),
    `delete chain ${T} ${svc4ep4}`,
    '',
  ].join('\n');
  assert.equal(renderIncrementalTransaction(after, before), expected);
  assert.equal(renderIncrementalTransaction(after, after), '');
  assert.equal(renderIncrementalTransaction(before, before), '');
  // Deferred deletion: flushed now, deleted by a later transaction.
  const deferred = renderIncrementalTransaction(after, before, { deleteStaleChains: false });
  assert.ok(deferred.includes(`flush chain ${T} ${svc4ep4}\n`) && !deferred.includes('delete chain'));
  assert.deepEqual(staleServiceChains(after, before), [svc4ep4]);
  assert.equal(renderChainDeletion(after, staleServiceChains(after, before)), `delete chain ${T} ${svc4ep4}\n`);
  // The endpoint came back before the deferred deletion: its chain is in use again and stays.
  assert.equal(renderChainDeletion(before, [svc4ep4]), '');
  assertNftAccepts(renderFullTransaction(before) + expected, 'full + incremental transaction');
});

test('incremental: endpoints appearing, a service deleted, a service added — elements added and deleted one by one, stale objects removed last', () => {
  const before = rules(overallServices(), overallSlices(), upstreamContext);
  const services = overallServices()
    .filter((s) => s.metadata.name !== 'svc5')
    .concat(svc('ns7', 'svc7', [{ name: 'p80', port: 80 }], { clusterIP: '172.30.0.45' })); // svc5's cluster IP, reused
  const slices = [...overallSlices(), endpoints('ns6', 'svc6', [{ ip: '10.180.0.7' }])];
  const after = rules(services, slices, upstreamContext);
  const svc6 = 'service-Y3O5BOQO-ns6/svc6/tcp/p80';
  const svc6ep = 'endpoint-OJ2L5DXG-ns6/svc6/tcp/p80__10.180.0.7/80';
  const text = renderIncrementalTransaction(after, before);
  assert.equal(
    text,
    [
      `add chain ${T} ${svc6}`,
      `add chain ${T} ${svc6ep}`,
      `delete element ${T} service-ips { 172.30.0.45 . tcp . 80 }`,
      `delete element ${T} service-ips { 5.6.7.8 . tcp . 80 }`,
      `delete element ${T} firewall-ips { 5.6.7.8 . tcp . 80 }`,
      `delete element ${T} service-nodeports { tcp . 3002 }`,
      `delete element ${T} no-endpoint-services { 172.30.0.46 . tcp . 80 }`,
      `flush chain ${T} ${svc5}`,
      `flush chain ${T} ${svc5ext}`,
      `flush chain ${T} ${svc5fw}`,
      `flush chain ${T} ${svc5ep}`,
      `delete set ${T} ${svc5affinity}`,
      rule(svc6, masq('172.30.0.46')),
      rule(svc6, `numgen random mod 1 vmap { 0 : goto ${svc6ep} }`),
      ...endpointRules(svc6ep, '10.180.0.7', '10.180.0.7:80'),
      element('service-ips', `172.30.0.46 . tcp . 80 : goto ${svc6}`),
      element('no-endpoint-services', '172.30.0.45 . tcp . 80 comment "ns7/svc7:p80" : goto reject-chain'),
      `delete chain ${T} ${svc5}`,
      `delete chain ${T} ${svc5ext}`,
      `delete chain ${T} ${svc5fw}`,
      `delete chain ${T} ${svc5ep}`,
      '',
    ].join('\n'),
  );
  // The reused cluster IP stays in cluster-ips: deleted for svc5 and added for svc7 is no change at all.
  assert.ok(!text.includes('cluster-ips'));
  assertNftAccepts(renderFullTransaction(before) + text, 'full + incremental transaction');
  // Back again.
  assertNftAccepts(renderFullTransaction(after) + renderIncrementalTransaction(before, after), 'full + reverse incremental transaction');
});

test('incremental: an affinity timeout change re-creates the sets and rewrites the chains using them', () => {
  const withTimeout = (timeoutSeconds: number) =>
    overallServices().map((s) =>
      s.metadata.name === 'svc5' ? { ...s, spec: { ...s.spec, sessionAffinityConfig: { clientIP: { timeoutSeconds } } } } : s,
    );
  const before = rules(withTimeout(10800), overallSlices(), upstreamContext);
  const after = rules(withTimeout(60), overallSlices(), upstreamContext);
  const text = renderIncrementalTransaction(after, before);
  assert.equal(
    text,
    [
      `flush chain ${T} ${svc5}`,
      `flush chain ${T} ${svc5ext}`,
      `flush chain ${T} ${svc5fw}`,
      `flush chain ${T} ${svc5ep}`,
      `delete set ${T} ${svc5affinity}`,
      `add set ${T} ${svc5affinity} { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }`,
      ...after.services.get('ns5/svc5')!.chains.flatMap((c) => c.rules.map((r) => rule(c.name, r))),
      '',
    ].join('\n'),
  );
  assertNftAccepts(renderFullTransaction(before) + text, 'full + affinity change');
  // A full transaction knowing the previous rule set re-creates it too.
  assert.ok(renderFullTransaction(after, { previous: before }).includes(`delete set ${T} ${svc5affinity}\nadd set ${T} ${svc5affinity} `));
});

test('element clashes: the smallest service key wins, and the other takes over when it goes', () => {
  const claim = (name: string, clusterIP: string) => svc('default', name, [{ port: 80 }], { clusterIP, externalIPs: ['192.0.2.99'] });
  const eps = (name: string, ip: string) => slice('default', `${name}-1`, name, [{ port: 80 }], [{ ip }]);
  const both = rules([claim('b', '10.96.1.2'), claim('a', '10.96.1.1')], [eps('a', '10.244.0.1'), eps('b', '10.244.0.2')]);
  const extA = `external-${servicePortChainNameBase('default', 'a', 'tcp', '')}`;
  const extB = `external-${servicePortChainNameBase('default', 'b', 'tcp', '')}`;
  const full = renderFullTransaction(both);
  assert.ok(full.includes(element('service-ips', `192.0.2.99 . tcp . 80 : goto ${extA}`)));
  assert.ok(!full.includes(element('service-ips', `192.0.2.99 . tcp . 80 : goto ${extB}`)));
  assert.equal(countElements(both)['service-ips'], 3);
  assertNftAccepts(full, 'full transaction with a clash');
  const onlyB = rules([claim('b', '10.96.1.2')], [eps('b', '10.244.0.2')]);
  const text = renderIncrementalTransaction(onlyB, both);
  assert.ok(text.includes(`delete element ${T} service-ips { 192.0.2.99 . tcp . 80 }\n`));
  assert.ok(text.includes(element('service-ips', `192.0.2.99 . tcp . 80 : goto ${extB}`)));
  assert.equal(countElements(onlyB)['service-ips'], 2);
  assertNftAccepts(full + text, 'clash handed over');
});

test('incremental from the change tracker: unchanged services keep their objects, one slice update is a few lines', () => {
  const b = createSnapshotBuilder({ nodeName: node });
  for (const s of overallServices()) b.setService(s);
  for (const s of overallSlices()) b.setSlice(s);
  const before = buildNftablesRules(b.snapshot(), upstreamContext);
  b.setSlice(endpoints('ns1', 'svc1', [{ ip: '10.180.0.1' }, { ip: '10.180.0.8' }]));
  const after = buildNftablesRules(b.snapshot(), upstreamContext);
  assert.equal(after.services.get('ns4/svc4'), before.services.get('ns4/svc4'));
  const added = 'endpoint-E3VOBTBG-ns1/svc1/tcp/p80__10.180.0.8/80';
  assert.equal(
    renderIncrementalTransaction(after, before),
    [
      `add chain ${T} ${added}`,
      `flush chain ${T} ${svc1}`,
      rule(svc1, masq('172.30.0.41')),
      rule(svc1, `numgen random mod 2 vmap { 0 : goto ${svc1ep} , 1 : goto ${added} }`),
      ...endpointRules(added, '10.180.0.8', '10.180.0.8:80'),
      '',
    ].join('\n'),
  );
  // The same answer comparing every service.
  const rebuilt = rules(overallServices(), [...overallSlices().slice(1), endpoints('ns1', 'svc1', [{ ip: '10.180.0.1' }, { ip: '10.180.0.8' }])], upstreamContext);
  assert.equal(renderIncrementalTransaction(rebuilt, before), renderIncrementalTransaction(after, before));
  // The same snapshot and context: the same rule set.
  assert.equal(buildNftablesRules(b.snapshot(), upstreamContext), after);
});

test('incremental with another context (masquerade bit): the full transaction instead', () => {
  const before = rules(overallServices(), overallSlices(), upstreamContext);
  const after = rules(overallServices(), overallSlices(), { ...upstreamContext, masqueradeBit: 13 });
  const text = renderIncrementalTransaction(after, before);
  assert.equal(text, renderFullTransaction(after, { previous: before }));
  assert.ok(text.includes(rule('mark-for-masquerade', 'mark set mark or 0x2000')));
});

test('full transaction with known existing objects: stale per-service chains flushed then deleted, stale affinity sets deleted', () => {
  const rs = rules(overallServices(), overallSlices(), upstreamContext);
  const text = renderFullTransaction(rs, {
    existingChains: ['services', svc1, 'endpoint-GONEGONE-ns9/svc9/tcp/p80__10.9.9.9/80', 'some-old-fixed-chain'],
    existingSets: ['cluster-ips', svc5affinity, 'affinity-GONEGONE-ns9/svc9/tcp/p80__10.9.9.9/80'],
  });
  const lines = text.split('\n');
  const gone = 'endpoint-GONEGONE-ns9/svc9/tcp/p80__10.9.9.9/80';
  assert.ok(lines.indexOf(`flush chain ${T} ${gone}`) < lines.indexOf(`delete set ${T} affinity-GONEGONE-ns9/svc9/tcp/p80__10.9.9.9/80`));
  assert.equal(lines.at(-2), `delete chain ${T} ${gone}`);
  assert.ok(!text.includes('delete chain ip kube-proxy some-old-fixed-chain') && !text.includes(`delete chain ${T} ${svc1}`));
  assert.ok(!text.includes(`delete set ${T} ${svc5affinity}`) && !text.includes('delete set ip kube-proxy cluster-ips'));
});

test('counts for metrics', () => {
  const rs = rules(overallServices(), overallSlices(), upstreamContext);
  assert.deepEqual(countChains(rs), { fixed: 16, service: 16, total: 32 });
  assert.deepEqual(countElements(rs), {
    'cluster-ips': 6,
    'nodeport-ips': 1,
    'no-endpoint-services': 3,
    'no-endpoint-nodeports': 1,
    'firewall-ips': 1,
    'service-ips': 9,
    'service-nodeports': 3,
  });
  assert.equal(countRules(rs), overallExpected.filter((l) => l.startsWith('add rule')).length);
  assert.deepEqual(
    effectiveElements(rs, 'service-nodeports').map((el) => `${el.key} : ${el.value}`),
    [`tcp . 3001 : goto ${svc2ext}`, `tcp . 3003 : goto ${svc3ext}`, `tcp . 3002 : goto ${svc5ext}`],
  );
  assert.deepEqual(rs.noLocalEndpoints, { internal: 0, external: 1 });
});

// ---- scale ------------------------------------------------------------------------------

test('10,000 services × 10 endpoints: full transaction, then one changed service as a tiny incremental one', () => {
  const N = 10_000;
  const b = createSnapshotBuilder({ nodeName: 'node-0' });
  const endpointsOf = (i: number, moved = -1) =>
    slice(
      `ns${i % 50}`,
      `svc-${i}-1`,
      `svc-${i}`,
      [{ name: 'http', port: 8080 }],
      Array.from({ length: 10 }, (_, j) => ({ ip: `10.${(i >> 8) & 255}.${i & 255}.${j === moved ? 200 : j + 1}`, node: `node-${j % 3}` })),
    );
  for (let i = 0; i < N; i++) {
    // Every tenth service is a NodePort one.
    const nodePort = i % 10 === 0 ? { nodePort: 30000 + (i % 2000) } : {};
    const spec = { ...(i % 10 === 0 ? { type: 'NodePort' } : {}), clusterIP: `10.96.${i >> 8}.${i & 255}` };
    b.setService(svc(`ns${i % 50}`, `svc-${i}`, [{ name: 'http', port: 80, ...nodePort }], spec));
    b.setSlice(endpointsOf(i));
  }
  const ctx: NftablesRuleContext = { clusterCIDRs: ['10.0.0.0/8'], serviceCIDRs: ['10.96.0.0/12'] };
  const snapshot = b.snapshot();
  const start = performance.now();
  const rs = buildNftablesRules(snapshot, ctx);
  const built = performance.now();
  const text = renderFullTransaction(rs);
  const rendered = performance.now();

  const incremental: number[] = [];
  let previous = rs;
  let last = '';
  for (let k = 0; k < 10; k++) {
    b.setSlice(endpointsOf(1234 + k, 3));
    const next = b.snapshot();
    const t0 = performance.now();
    const current = buildNftablesRules(next, ctx);
    last = renderIncrementalTransaction(current, previous);
    incremental.push(performance.now() - t0);
    previous = current;
  }
  incremental.sort((x, y) => x - y);
  const median = incremental[incremental.length >> 1];
  console.log(
    `10k services x 10 endpoints: build ${(built - start).toFixed(0)} ms + full render ${(rendered - built).toFixed(0)} ms` +
      ` (${(text.length / 1e6).toFixed(1)} MB, ${countChains(rs).total} chains, ${countRules(rs)} rules);` +
      ` one changed service: rebuild + incremental render median ${median.toFixed(2)} ms, max ${incremental.at(-1)!.toFixed(2)} ms`,
  );
  assert.equal(countChains(rs).service, N + N * 10 + N / 10);
  assert.equal(countElements(rs)['service-ips'], N);
  assert.equal(countElements(rs)['service-nodeports'], N / 10 / 5); // 30000 + i % 2000 repeats: 200 distinct node ports
  // One endpoint replaced: add the new endpoint chain, flush + rewrite the service chain, flush + delete the old one.
  const lines = last.trimEnd().split('\n');
  assert.equal(lines.length, 8);
  assert.ok(lines.every((l) => l.includes('ns43/svc-1243/')));
});
