// The nftables-maps layout (src/proxy/nftables/dispatch.ts): what it puts in
// the table for each shape of service, and — where nft and root are at hand —
// every transaction applied for real in a network namespace of its own: a full
// sync, then incremental ones in which dispatch chains come and go (nft 1.0.6
// refuses rules added later that use a map it cannot read back, which only a
// later transaction shows).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildSnapshot, type EndpointSlice, type Service } from '../../src/proxy/snapshot.js';
import { createSnapshotBuilder } from '../../src/proxy/change-tracker.js';
import { renderFullTransaction, renderIncrementalTransaction, staleServiceChains, renderChainDeletion } from '../../src/proxy/nftables/render.js';
import { buildNftablesRules, type NftablesRuleContext, type NftRuleSet } from '../../src/proxy/nftables/rules.js';
import { NftSessionError, NftTransactionError, openNftSession } from '../../src/proxy/nftables/nft-session.js';
import { endpoints, overallServices, overallSlices, slice, svc, upstreamTestNode } from './fixtures.js';

const node = upstreamTestNode;
const context: NftablesRuleContext = { clusterCIDRs: ['10.0.0.0/8'], serviceCIDRs: ['172.30.0.0/16'], nodePortIPs: ['192.168.0.2'], nodeIPs: ['192.168.0.2'], layout: 'maps' };

function rules(services: Service[], slices: EndpointSlice[], ctx: NftablesRuleContext = context): NftRuleSet {
  return buildNftablesRules(buildSnapshot(services, slices, node, '', { ipFamily: 'IPv4' }), ctx);
}

/** The shapes beside upstream's overall scenario: UDP and SCTP, internal Local policy, a NodePort with Local policy and local endpoints. */
const moreServices = () => [
  svc('default', 'dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], { clusterIP: '172.30.1.1' }),
  svc('default', 'sctp', [{ port: 9999, protocol: 'SCTP' }], { clusterIP: '172.30.1.2' }),
  svc('default', 'ilocal', [{ port: 80 }], { clusterIP: '172.30.1.3', internalTrafficPolicy: 'Local' }),
  svc('default', 'np-local', [{ port: 80, nodePort: 30080 }], { type: 'NodePort', clusterIP: '172.30.1.4', externalTrafficPolicy: 'Local' }),
];
const moreSlices = (npLocal = [{ ip: '10.180.2.1', node }, { ip: '10.180.2.2' }, { ip: '10.180.2.3', node: 'other' }]) => [
  slice('default', 'dns-1', 'dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ ip: '10.180.1.1' }, { ip: '10.180.1.2', node }]),
  slice('default', 'sctp-1', 'sctp', [{ port: 9999, protocol: 'SCTP' }], [{ ip: '10.180.1.3' }]),
  slice('default', 'ilocal-1', 'ilocal', [{ port: 80 }], [{ ip: '10.180.1.4', node }, { ip: '10.180.1.5', node: 'other' }]),
  endpoints('default', 'np-local', npLocal, [{ port: 80 }]),
];

const lines = (text: string) => text.split('\n');

describe('what the map layout programs', () => {
  const full = renderFullTransaction(rules([...overallServices(), ...moreServices()], [...overallSlices(), ...moreSlices()]));
  const has = (line: string) => assert.ok(lines(full).some((l) => l.includes(line)), `missing: ${line}`);

  test('a ClusterIP: one verdict element to the shared chain for its endpoint count, its endpoints by index', () => {
    has('172.30.0.41 . tcp . 80 : goto dispatch-cluster-ip-tcp-1');
    has('172.30.0.41 . 80 . 0 : 10.180.0.1 . 80');
    has('add rule ip kube-proxy dispatch-cluster-ip-tcp-1 ip saddr != 10.0.0.0/8 jump mark-for-masquerade');
    has('add rule ip kube-proxy dispatch-cluster-ip-tcp-1 meta l4proto tcp dnat ip to ip daddr . th dport . numgen random mod 1 map @endpoints-tcp');
    // No per-service chain for it.
    assert.ok(!full.includes('ns1/svc1/tcp'), 'no chain of ns1/svc1');
  });

  test('UDP and SCTP use their own maps and chains', () => {
    has('172.30.1.1 . udp . 53 : goto dispatch-cluster-ip-udp-2');
    has('add element ip kube-proxy endpoints-udp { 172.30.0.41'.replace('172.30.0.41', '172.30.1.1 . 53 . 0 : 10.180.1.1 . 53'));
    has('meta l4proto udp dnat ip to ip daddr . th dport . numgen random mod 2 map @endpoints-udp');
    has('172.30.1.2 . sctp . 9999 : goto dispatch-cluster-ip-sctp-1');
  });

  test('NodePort and external IPs under Cluster policy: masqueraded, then picked from the entry\'s own elements', () => {
    has('tcp . 3003 : goto dispatch-nodeport-external-tcp-1');
    has('3003 . 0 : 10.180.0.3 . 80');
    has('add rule ip kube-proxy dispatch-nodeport-external-tcp-1 jump mark-for-masquerade');
    has('add rule ip kube-proxy dispatch-nodeport-external-tcp-1 meta l4proto tcp dnat ip to th dport . numgen random mod 1 map @nodeport-endpoints-tcp');
    has('192.168.99.33 . tcp . 80 : goto dispatch-external-tcp-2');
    has('192.168.99.33 . 80 . 1 : 10.180.0.5 . 80');
  });

  test('Local policy: local endpoints by index, the cluster ones behind the short-circuit at 65536 + i', () => {
    has('tcp . 30080 : goto dispatch-nodeport-external-local-tcp-1');
    has('30080 . 0 : 10.180.2.1 . 80');
    for (const [i, ip] of ['10.180.2.1', '10.180.2.2', '10.180.2.3'].entries()) has(`30080 . ${65536 + i} : ${ip} . 80`);
    has('tcp . 30080 : goto dispatch-nodeport-fallback-tcp-3');
    has('add rule ip kube-proxy dispatch-nodeport-external-local-tcp-1 ip saddr 10.0.0.0/8 meta l4proto . th dport vmap @nodeport-fallback');
    has('add rule ip kube-proxy dispatch-nodeport-external-local-tcp-1 fib saddr type local jump mark-for-masquerade');
    has('add rule ip kube-proxy dispatch-nodeport-fallback-tcp-3 meta l4proto tcp dnat ip to th dport . numgen random mod 3 offset 65536 map @nodeport-endpoints-tcp');
    // svc2 (LoadBalancer, Local, its endpoint elsewhere): no local endpoint to pick, only the short-circuit.
    has('1.2.3.4 . tcp . 80 : goto dispatch-external-local-tcp-0');
    assert.ok(!lines(full).some((l) => l.startsWith('add rule ip kube-proxy dispatch-external-local-tcp-0 meta l4proto')), 'no DNAT without local endpoints');
    has('1.2.3.4 . tcp . 80 comment "ns2/svc2:p80" : drop');
  });

  test('internalTrafficPolicy Local: the cluster IP picks among this node\'s endpoints only', () => {
    has('172.30.1.3 . tcp . 80 : goto dispatch-cluster-ip-tcp-1');
    has('172.30.1.3 . 80 . 0 : 10.180.1.4 . 80');
    assert.ok(!full.includes('172.30.1.3 . 80 . 1 :'));
  });

  test('hairpin pairs: this node\'s endpoints, and every cluster endpoint of a Local policy\'s short-circuit', () => {
    const hairpin = lines(full).filter((l) => l.startsWith('add element ip kube-proxy hairpin-endpoints')).join(' ');
    for (const ip of ['10.180.0.5', '10.180.1.2', '10.180.1.4', '10.180.2.1', '10.180.2.2', '10.180.2.3']) assert.ok(hairpin.includes(`${ip} . ${ip}`), ip);
    for (const ip of ['10.180.0.1', '10.180.0.4', '10.180.1.1']) assert.ok(!hairpin.includes(`${ip} . ${ip}`), `${ip} is another node's`);
    has('add rule ip kube-proxy masquerading ct status dnat ip saddr . ip daddr @hairpin-endpoints jump mark-for-masquerade');
  });

  test('ClientIP affinity keeps upstream\'s per-service chains; the firewall chain stays', () => {
    assert.ok(full.includes('ns5/svc5/tcp/p80__10.180.0.3/80'), 'svc5 endpoint chain');
    assert.ok(full.includes('update @affinity-'), 'affinity set update');
    has('5.6.7.8 . tcp . 80 : goto firewall-');
  });

  test('a rule set derived from the last keeps a dispatch chain no service uses any more (creating one costs the kernel a walk of its map)', () => {
    const builder = createSnapshotBuilder({ nodeName: node });
    for (const s of [...overallServices(), ...moreServices()]) builder.setService(s);
    for (const s of [...overallSlices(), ...moreSlices()]) builder.setSlice(s);
    const first = buildNftablesRules(builder.snapshot(), context);
    assert.equal(first.dispatchChains.get('dispatch-cluster-ip-udp-2')?.users, 1);
    builder.deleteService(moreServices()[0]);
    const second = buildNftablesRules(builder.snapshot(), context);
    assert.equal(second.dispatchChains.get('dispatch-cluster-ip-udp-2')?.users, 0);
    const text = renderIncrementalTransaction(second, first);
    assert.match(text, /delete element ip kube-proxy service-ips \{ 172\.30\.1\.1 \. udp \. 53 \}/);
    assert.doesNotMatch(text, /dispatch-cluster-ip-udp-2/);
    // Built afresh (the proxy's start), only the chains in use.
    assert.equal(rules(overallServices(), overallSlices()).dispatchChains.has('dispatch-cluster-ip-udp-2'), false);
  });

  test('elements are written a thousand to a command', () => {
    const many = rules(
      Array.from({ length: 600 }, (_, i) => svc('bulk', `s${i}`, [{ port: 80 }], { clusterIP: `172.30.${10 + (i >> 8)}.${i & 255}` })),
      Array.from({ length: 600 }, (_, i) => endpoints('bulk', `s${i}`, [{ ip: `10.181.${i >> 8}.${i & 255}` }], [{ port: 80 }])),
    );
    const commands = lines(renderFullTransaction(many)).filter((l) => l.startsWith('add element ip kube-proxy endpoints-tcp'));
    assert.equal(commands.length, 1);
    assert.equal(commands[0].split(' : ').length - 1, 600);
  });
});

// ---- in the kernel ------------------------------------------------------------------------

const netns = `ksvc-nftmaps-${process.pid}`;
const nftSkip = (() => {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (spawnSync('nft', ['--version']).status !== 0) return process.env.CI === 'true' ? undefined : 'nft is not installed (Debian package nftables)';
  return undefined;
})();

function nft(input: string): void {
  const r = spawnSync('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input, encoding: 'utf8' });
  if (r.status !== 0) assert.fail(`nft -f refused the transaction: ${r.stderr}\n${input.slice(0, 4000)}`);
}

function listed(what: string[]): string {
  return spawnSync('ip', ['netns', 'exec', netns, 'nft', ...what], { encoding: 'utf8' }).stdout;
}

describe('the map layout in a kernel: full and incremental transactions', { skip: nftSkip }, () => {
  before(() => {
    assert.equal(spawnSync('ip', ['netns', 'add', netns]).status, 0);
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', netns]);
  });

  test('a full sync, then endpoint counts changing, services going and coming, a layout switch', () => {
    const services = [...overallServices(), ...moreServices()];
    const first = rules(services, [...overallSlices(), ...moreSlices()]);
    nft(renderFullTransaction(first, { recreateBaseChains: true }));
    assert.match(listed(['list', 'chain', 'ip', 'kube-proxy', 'dispatch-cluster-ip-udp-2']), /numgen random mod 2 map @endpoints-udp/);

    // One more endpoint for np-local: a new count, so new dispatch chains are added in an incremental transaction.
    const second = rules(services, [...overallSlices(), ...moreSlices([{ ip: '10.180.2.1', node }, { ip: '10.180.2.4', node }, { ip: '10.180.2.2' }, { ip: '10.180.2.3', node: 'other' }])]);
    nft(renderIncrementalTransaction(second, first));
    assert.match(listed(['list', 'chain', 'ip', 'kube-proxy', 'dispatch-nodeport-fallback-tcp-4']), /mod 4 offset 65536 map @nodeport-endpoints-tcp/);
    assert.match(listed(['list', 'map', 'ip', 'kube-proxy', 'service-nodeports']), /tcp \. 30080 : goto dispatch-nodeport-external-local-tcp-2/);
    assert.match(listed(['list', 'map', 'ip', 'kube-proxy', 'nodeport-endpoints-tcp']), /30080 \. 65539 : 10\.180\.2\.4 \. 80/);

    // The UDP service goes: its dispatch chain has no other user and is removed after its elements (deferred here,
    // as the proxier does on kernels before 6.2).
    const third = rules(services.filter((s) => s.metadata.name !== 'dns'), [...overallSlices(), ...moreSlices()]);
    nft(renderIncrementalTransaction(third, second, { deleteStaleChains: false }));
    const stale = staleServiceChains(third, second);
    assert.ok(stale.includes('dispatch-cluster-ip-udp-2') && stale.includes('dispatch-nodeport-fallback-tcp-4'), stale.join(' '));
    nft(renderChainDeletion(third, stale));
    assert.doesNotMatch(listed(['list', 'chains', 'ip']), /dispatch-cluster-ip-udp-2|dispatch-nodeport-fallback-tcp-4/);
    assert.doesNotMatch(listed(['list', 'map', 'ip', 'kube-proxy', 'endpoints-udp']), /172\.30\.1\.1/);

    // It comes back; then a full resync over the existing table (the periodic one), which rewrites every rule.
    const fourth = rules(services, [...overallSlices(), ...moreSlices()]);
    nft(renderIncrementalTransaction(fourth, third));
    nft(renderFullTransaction(fourth, { previous: fourth }));
    assert.match(listed(['list', 'map', 'ip', 'kube-proxy', 'endpoints-udp']), /172\.30\.1\.1 \. 53 \. 1 : 10\.180\.1\.2 \. 53/);

    // Upstream's layout replaces it in one transaction (the proxier deletes a table of the other layout first).
    const upstream = buildNftablesRules(buildSnapshot(services, [...overallSlices(), ...moreSlices()], node, '', { ipFamily: 'IPv4' }), { ...context, layout: 'upstream' });
    nft(`add table ip kube-proxy\ndelete table ip kube-proxy\n${renderFullTransaction(upstream)}`);
    assert.doesNotMatch(listed(['list', 'table', 'ip', 'kube-proxy']), /dispatch-|endpoints-tcp/);
  });
});

describe('incremental transactions through one long-lived nft -i (the proxier\'s session)', { skip: nftSkip }, () => {
  const ns = `${netns}-session`;
  before(() => {
    assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });
  const inNs = (input: string) => {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input, encoding: 'utf8' });
    if (r.status !== 0) assert.fail(`nft -f refused the transaction: ${r.stderr}`);
  };
  const list = (what: string[]) => spawnSync('ip', ['netns', 'exec', ns, 'nft', ...what], { encoding: 'utf8' }).stdout;

  test('changes are applied one transaction at a time; a refused one changes nothing and the session goes on', async () => {
    const services = [...overallServices(), ...moreServices()];
    const first = rules(services, [...overallSlices(), ...moreSlices()]);
    inNs(renderFullTransaction(first, { recreateBaseChains: true }));
    const session = openNftSession({ command: ['ip', 'netns', 'exec', ns, 'nft', '-i'] });
    try {
      // A new endpoint count for np-local: dispatch chains added, elements deleted and added, in one line.
      const more = moreSlices([{ ip: '10.180.2.1', node }, { ip: '10.180.2.4', node }, { ip: '10.180.2.2' }, { ip: '10.180.2.3', node: 'other' }]);
      const second = rules(services, [...overallSlices(), ...more]);
      await session.apply(renderIncrementalTransaction(second, first));
      assert.match(list(['list', 'map', 'ip', 'kube-proxy', 'nodeport-endpoints-tcp']), /30080 \. 65539 : 10\.180\.2\.4 \. 80/);
      assert.match(list(['list', 'chain', 'ip', 'kube-proxy', 'dispatch-nodeport-fallback-tcp-4']), /mod 4 offset 65536/);

      // The kernel refuses the second command (the key exists with another value): the first is not applied either.
      const refused = session.apply(
        'add element ip kube-proxy cluster-ips { 172.30.99.1 }\nadd element ip kube-proxy endpoints-tcp { 172.30.0.41 . 80 . 0 : 10.99.99.99 . 80 }',
      );
      await assert.rejects(refused, (e: unknown) => e instanceof NftTransactionError && /File exists/.test(e.stderr));
      assert.doesNotMatch(list(['list', 'set', 'ip', 'kube-proxy', 'cluster-ips']), /172\.30\.99\.1/);
      // nft itself refuses one (no such map): rejected, and the next transaction works.
      await assert.rejects(session.apply('add element ip kube-proxy no-such-map { 172.30.99.2 }'), NftTransactionError);
      const third = rules(services.filter((s) => s.metadata.name !== 'dns'), [...overallSlices(), ...more]);
      await session.apply(renderIncrementalTransaction(third, second));
      assert.doesNotMatch(list(['list', 'map', 'ip', 'kube-proxy', 'endpoints-udp']), /172\.30\.1\.1/);
      assert.doesNotMatch(list(['list', 'chains', 'ip']), /dispatch-cluster-ip-udp-2/);
    } finally {
      session.close();
    }
  });

  test('a session that cannot work says so: the proxier then syncs in full and uses nft -f', async () => {
    // What an nft built without its interactive CLI does: print an error and exit.
    const session = openNftSession({ command: ['sh', '-c', 'echo "Error: interactive CLI not supported in this build" >&2; exit 1'] });
    await assert.rejects(session.apply('add table ip kube-proxy'), (e: unknown) => e instanceof NftSessionError && e.unusable && /not supported/.test(e.message));
    session.close();
  });
});
