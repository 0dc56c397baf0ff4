// A pod's resolv.conf and /etc/hosts as the kubelet (pkg/kubelet/network/dns,
// kubelet_pods.go) and containerd write them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../src/api/types.js';
import { formatResolvConf, managedHostsFile, parseResolvConf, podDNSConfig, podHostnameAndDomain, podKernelHostname, type ClusterDNS } from '../../src/agent/dns.js';

const cluster = (hostText: string): ClusterDNS => ({ clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host: parseResolvConf(hostText) });
const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}, ns = 'shop'): Pod => ({ metadata: { name: 'web-0', namespace: ns }, spec: { containers: [], ...spec } });

describe('resolv.conf', () => {
  test('ClusterFirst', () => {
    const { config, warnings } = podDNSConfig(pod({ dnsPolicy: 'ClusterFirst' }), cluster('nameserver 10.255.255.53\n'));
    assert.equal(formatResolvConf(config), 'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
    assert.deepEqual(warnings, []);
  });

  test("ClusterFirst appends the host's search domains, without duplicates", () => {
    const { config } = podDNSConfig(pod(), cluster('search example.com. cluster.local\nnameserver 1.1.1.1\noptions rotate\n'));
    assert.deepEqual(config.searches, ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'example.com']);
    assert.deepEqual(config.options, ['ndots:5'], "the host's options are not used");
  });

  test('Default and ClusterFirst on the host network use the host configuration', () => {
    const host = 'search corp.example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\noptions timeout:2\n';
    for (const p of [pod({ dnsPolicy: 'Default' }), pod({ dnsPolicy: 'ClusterFirst', hostNetwork: true })]) {
      assert.equal(formatResolvConf(podDNSConfig(p, cluster(host)).config), 'search corp.example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\noptions timeout:2\n');
    }
    assert.equal(podDNSConfig(pod({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }), cluster(host)).config.nameservers[0], '10.96.0.10');
  });

  test('None takes only dnsConfig; dnsConfig merges into the others, options overriding', () => {
    const none = podDNSConfig(
      pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }),
      cluster('nameserver 10.0.0.2\n'),
    );
    assert.equal(formatResolvConf(none.config), 'search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 1.2.3.4\noptions ndots:2 edns0\n');
    const merged = podDNSConfig(pod({ dnsConfig: { nameservers: ['10.96.0.10', '8.8.8.8'], searches: ['extra.example'], options: [{ name: 'ndots', value: '1' }] } }), cluster(''));
    assert.deepEqual(merged.config.nameservers, ['10.96.0.10', '8.8.8.8']);
    assert.deepEqual(merged.config.searches.slice(-1), ['extra.example']);
    assert.deepEqual(merged.config.options, ['ndots:1']);
  });

  test('limits: 3 nameservers, 32 search paths, with the kubelet warnings', () => {
    const r = podDNSConfig(
      pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'], searches: Array.from({ length: 40 }, (_, i) => `s${i}.example`) } }),
      cluster(''),
    );
    assert.deepEqual(r.config.nameservers, ['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    assert.equal(r.config.searches.length, 32);
    assert.equal(r.warnings[0], 'Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3');
    assert.match(r.warnings[1], /^Search Line limits were exceeded, some search paths have been omitted, the applied search line is: s0\.example /);
  });
});

describe('/etc/hosts and hostname', () => {
  test('the kubelet-managed hosts file', () => {
    assert.equal(
      managedHostsFile(['10.244.0.4'], 'nginx', ''),
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.244.0.4\tnginx\n',
    );
  });

  test('subdomain FQDN and host aliases', () => {
    const text = managedHostsFile(['10.244.0.4'], 'web-0', 'web.shop.svc.cluster.local', [
      { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
      { ip: '10.1.2.3', hostnames: ['foo.remote', 'bar.remote'] },
    ]);
    assert.ok(text.includes('10.244.0.4\tweb-0.web.shop.svc.cluster.local\tweb-0\n'));
    assert.ok(text.endsWith('\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\tbar.remote\n'));
  });

  test('hostname: spec.hostname or the pod name (63 chars), subdomain, setHostnameAsFQDN', () => {
    assert.deepEqual(podHostnameAndDomain(pod(), 'cluster.local'), { hostname: 'web-0', domain: '' });
    assert.deepEqual(podHostnameAndDomain(pod({ hostname: 'db', subdomain: 'web' }), 'cluster.local'), { hostname: 'db', domain: 'web.shop.svc.cluster.local' });
    const long: Pod = { metadata: { name: `${'a'.repeat(62)}-b`, namespace: 'x' }, spec: { containers: [] } };
    assert.equal(podHostnameAndDomain(long, 'cluster.local').hostname, 'a'.repeat(62));
    assert.equal(podKernelHostname(pod({ hostname: 'db', subdomain: 'web', setHostnameAsFQDN: true }), 'cluster.local'), 'db.web.shop.svc.cluster.local');
  });
});
