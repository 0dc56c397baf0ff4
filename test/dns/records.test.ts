// The cluster DNS records and answers, without a network: every record form of
// the Kubernetes DNS schema (plus CoreDNS's endpoint, pod and PTR records) for
// the shared fixture Services, NXDOMAIN versus NODATA (both with the zone SOA),
// case-insensitive matching, forwarding of names the zone does not own, and the
// index following Service, EndpointSlice and Pod changes one object at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { EndpointSlice, Pod, Service } from '../../src/api/types.js';
import { answerQuery, ipv4FromReverseName, ipv6FromReverseName, routeOf, type ZoneResponse } from '../../src/dns/answer.js';
import { createDnsIndex, type DnsIndex } from '../../src/dns/records.js';
import { Rcode, RRClass, RRType, type ResourceRecord } from '../../src/dns/types.js';
import { fixtures } from '../helpers/fixtures.js';

const zone = 'cluster.local';

function loadServices(file: string): Service[] {
  return parseAllDocuments(readFileSync(join(fixtures, file), 'utf8'))
    .map((d) => d.toJS() as { kind?: string })
    .filter((o): o is Service => o?.kind === 'Service');
}

/** The fixtures as the API server stores them: cluster IPs allocated where the YAML left them out. */
function fixtureServices(): Service[] {
  const allocated: Record<string, string> = {
    'service-nodeport': '10.97.1.2',
    'service-affinity': '10.97.1.3',
    'service-multiport': '10.97.1.4',
    'service-lb': '10.97.1.5',
    'external-db': '10.97.1.6',
  };
  return [...loadServices('services.yaml'), ...loadServices('selectorless.yaml')].map((s) => {
    const ip = allocated[s.metadata!.name!] ?? s.spec?.clusterIP;
    if (s.spec?.type === 'ExternalName' || !ip) return s;
    return { ...s, spec: { ...s.spec, clusterIP: ip, clusterIPs: [ip] } };
  });
}

interface EndpointSpec {
  addresses: string[];
  hostname?: string;
  ready?: boolean;
}

function slice(
  namespace: string,
  name: string,
  service: string,
  endpoints: EndpointSpec[],
  ports: { name?: string; port?: number; protocol?: string }[] = [{ name: '', port: 80, protocol: 'TCP' }],
  addressType = 'IPv4',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { 'kubernetes.io/service-name': service } },
    addressType,
    endpoints: endpoints.map((e) => ({
      addresses: e.addresses,
      ...(e.hostname ? { hostname: e.hostname } : {}),
      conditions: e.ready === undefined ? {} : { ready: e.ready },
    })),
    ports,
  };
}

function pod(namespace: string, name: string, ips: string[], phase = 'Running'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase, podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
  };
}

function service(namespace: string, name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec };
}

const typeNames = new Map(Object.entries(RRType).map(([k, v]) => [v as number, k]));

/** "name TYPE rdata", as dig prints it (without the trailing dots). */
function show(rr: ResourceRecord): string {
  const d = rr.data;
  const rdata =
    d.kind === 'A' || d.kind === 'AAAA'
      ? d.address
      : d.kind === 'name'
        ? d.target
        : d.kind === 'SRV'
          ? `${d.priority} ${d.weight} ${d.port} ${d.target}`
          : d.kind === 'TXT'
            ? d.texts.map((t) => JSON.stringify(t)).join(' ')
            : d.kind === 'SOA'
              ? `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`
              : d.kind;
  return `${rr.name} ${typeNames.get(rr.type)} ${rdata}`;
}

const serial = 1_700_000_000;

function newIndex(): DnsIndex {
  const index = createDnsIndex({ zone, now: () => serial * 1000 });
  for (const s of fixtureServices()) index.setService(s);
  return index;
}

function ask(index: DnsIndex, name: string, type: number, ttl = 5): ZoneResponse {
  const r = answerQuery(index, { name, type, class: RRClass.IN }, { ttl });
  assert.ok(!('forward' in r), `${name} was forwarded`);
  return r;
}

const answers = (r: ZoneResponse) => r.answers.map(show);
const additionals = (r: ZoneResponse) => r.additionals.map(show);
const soa = `cluster.local SOA ns.dns.cluster.local hostmaster.cluster.local ${serial} 7200 1800 86400 5`;

/** A positive answer: NOERROR, authoritative, no SOA, exactly these records (in any order). */
function assertAnswer(r: ZoneResponse, expected: string[]): void {
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.authoritative, true);
  assert.deepEqual([...answers(r)].sort(), [...expected].sort());
  assert.deepEqual(r.authorities, []);
}

function assertNodata(r: ZoneResponse): void {
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.authoritative, true);
  assert.deepEqual(answers(r), []);
  assert.deepEqual(r.authorities.map(show), [soa]);
  assert.equal(r.authorities[0].ttl, 5);
}

function assertNxdomain(r: ZoneResponse): void {
  assert.equal(r.rcode, Rcode.NXDOMAIN);
  assert.equal(r.authoritative, true);
  assert.deepEqual(answers(r), []);
  assert.deepEqual(r.authorities.map(show), [soa]);
}

function assertForwarded(index: DnsIndex, name: string, type: number): void {
  assert.deepEqual(answerQuery(index, { name, type, class: RRClass.IN }), { forward: true }, name);
}

const fqdn = (svc: string, ns = 'default') => `${svc}.${ns}.svc.cluster.local`;

test('ClusterIP services: A from the cluster IP, AAAA NODATA, PTR back to the service', () => {
  const index = newIndex();
  const r = ask(index, fqdn('service-clusterip'), RRType.A, 30);
  assertAnswer(r, ['service-clusterip.default.svc.cluster.local A 10.97.1.1']);
  assert.equal(r.answers[0].ttl, 30);
  assert.equal(r.answers[0].class, RRClass.IN);
  for (const name of ['service-nodeport', 'service-affinity', 'service-lb', 'external-db']) {
    assert.equal(ask(index, fqdn(name), RRType.A).answers.length, 1, name);
  }
  assertNodata(ask(index, fqdn('service-clusterip'), RRType.AAAA));
  assertNodata(ask(index, fqdn('service-clusterip'), RRType.TXT));
  assertNodata(ask(index, fqdn('service-clusterip'), RRType.MX));
  assertAnswer(ask(index, '1.1.97.10.in-addr.arpa', RRType.PTR), ['1.1.97.10.in-addr.arpa PTR service-clusterip.default.svc.cluster.local']);
  assertAnswer(ask(index, '4.1.97.10.in-addr.arpa', RRType.PTR), ['4.1.97.10.in-addr.arpa PTR service-multiport.default.svc.cluster.local']);
});

test('ClusterIP SRV: one per named port, the bare name lists every port, targets resolved in the additional section', () => {
  const index = newIndex();
  const multiport = fqdn('service-multiport');
  const http = ask(index, `_http._tcp.${multiport}`, RRType.SRV);
  assertAnswer(http, [`_http._tcp.${multiport} SRV 0 100 80 ${multiport}`]);
  assert.deepEqual(additionals(http), [`${multiport} A 10.97.1.4`]);
  assertAnswer(ask(index, `_alt._tcp.${multiport}`, RRType.SRV), [`_alt._tcp.${multiport} SRV 0 100 8443 ${multiport}`]);
  // CoreDNS shares the weight 100 among the records.
  assertAnswer(ask(index, multiport, RRType.SRV), [`${multiport} SRV 0 50 80 ${multiport}`, `${multiport} SRV 0 50 8443 ${multiport}`]);
  // An unnamed port has no _port._proto name, but the bare name still lists it.
  const clusterip = fqdn('service-clusterip');
  assertAnswer(ask(index, clusterip, RRType.SRV), [`${clusterip} SRV 0 100 80 ${clusterip}`]);
  // _tcp is an empty non-terminal; an unknown port or protocol does not exist.
  assertNodata(ask(index, `_tcp.${multiport}`, RRType.SRV));
  assertNodata(ask(index, `_http._tcp.${multiport}`, RRType.A));
  assertNxdomain(ask(index, `_http._udp.${multiport}`, RRType.SRV));
  assertNxdomain(ask(index, `_https._tcp.${multiport}`, RRType.SRV));
  assertNxdomain(ask(index, `_udp.${multiport}`, RRType.SRV));
});

test('dual-stack ClusterIP: A gives the IPv4 address, AAAA the IPv6 one, both PTRs', () => {
  const index = newIndex();
  index.setService(service('prod', 'dual', { clusterIP: '10.97.2.1', clusterIPs: ['10.97.2.1', 'fd00:10:97::21'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
  assertAnswer(ask(index, fqdn('dual', 'prod'), RRType.A), ['dual.prod.svc.cluster.local A 10.97.2.1']);
  assertAnswer(ask(index, fqdn('dual', 'prod'), RRType.AAAA), ['dual.prod.svc.cluster.local AAAA fd00:10:97::21']);
  const srv = ask(index, `_dns._udp.${fqdn('dual', 'prod')}`, RRType.SRV);
  assertAnswer(srv, [`_dns._udp.dual.prod.svc.cluster.local SRV 0 100 53 dual.prod.svc.cluster.local`]);
  assert.deepEqual(additionals(srv), ['dual.prod.svc.cluster.local A 10.97.2.1', 'dual.prod.svc.cluster.local AAAA fd00:10:97::21']);
  const ptr6 = '1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa';
  assertAnswer(ask(index, ptr6, RRType.PTR), [`${ptr6} PTR dual.prod.svc.cluster.local`]);
  assertAnswer(ask(index, '1.2.97.10.in-addr.arpa', RRType.PTR), ['1.2.97.10.in-addr.arpa PTR dual.prod.svc.cluster.local']);
});

test('headless services: A per ready endpoint across slices, hostname and dashed-IP names, SRV per endpoint, PTR to the endpoint', () => {
  const index = newIndex();
  const headless = fqdn('service-headless');
  // Before any endpoint is ready the name does not exist (spec: NXDOMAIN).
  assertNxdomain(ask(index, headless, RRType.A));
  index.setEndpointSlice(
    slice('default', 'service-headless-a', 'service-headless', [
      { addresses: ['10.244.1.5'], ready: true },
      { addresses: ['10.244.1.6'] }, // ready unset: ready
      { addresses: ['10.244.1.7'], ready: false },
      { addresses: ['10.244.1.8'], hostname: 'db-0', ready: true },
    ]),
  );
  // A second slice repeats 10.244.1.5 (e.g. mid-move): one record.
  index.setEndpointSlice(slice('default', 'service-headless-b', 'service-headless', [{ addresses: ['10.244.2.9', '10.244.1.5'] }]));
  assertAnswer(ask(index, headless, RRType.A), ['10.244.1.5', '10.244.1.6', '10.244.1.8', '10.244.2.9'].map((ip) => `${headless} A ${ip}`));
  assertNodata(ask(index, headless, RRType.AAAA));
  assertAnswer(ask(index, `db-0.${headless}`, RRType.A), [`db-0.${headless} A 10.244.1.8`]);
  assertAnswer(ask(index, `10-244-1-6.${headless}`, RRType.A), [`10-244-1-6.${headless} A 10.244.1.6`]);
  // Not ready: no records at all; an endpoint with a hostname is not also named by its IP.
  assertNxdomain(ask(index, `10-244-1-7.${headless}`, RRType.A));
  assertNxdomain(ask(index, `10-244-1-8.${headless}`, RRType.A));
  // The fixture's port is unnamed: the bare name lists it per endpoint (weight 100/4), with each target's address.
  const srv = ask(index, headless, RRType.SRV);
  const targets = ['10-244-1-5', '10-244-1-6', 'db-0', '10-244-2-9'].map((h) => `${h}.${headless}`);
  assertAnswer(srv, targets.map((t) => `${headless} SRV 0 25 80 ${t}`));
  const targetAddresses = { '10-244-1-5': '10.244.1.5', '10-244-1-6': '10.244.1.6', 'db-0': '10.244.1.8', '10-244-2-9': '10.244.2.9' };
  assert.deepEqual(additionals(srv).sort(), Object.entries(targetAddresses).map(([host, ip]) => `${host}.${headless} A ${ip}`).sort());
  assertAnswer(ask(index, '8.1.244.10.in-addr.arpa', RRType.PTR), [`8.1.244.10.in-addr.arpa PTR db-0.${headless}`]);
  assertAnswer(ask(index, '5.1.244.10.in-addr.arpa', RRType.PTR), [`5.1.244.10.in-addr.arpa PTR 10-244-1-5.${headless}`]);
  // The not-ready endpoint's IP is unknown: forwarded (fallthrough in-addr.arpa).
  assertForwarded(index, '7.1.244.10.in-addr.arpa', RRType.PTR);
});

test('headless named ports: _port._proto SRV per ready endpoint, dual-stack slices merged by hostname', () => {
  const index = newIndex();
  index.setService(service('db', 'pg', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'sql', port: 5432 }] }));
  const ports = [{ name: 'sql', port: 5432, protocol: 'TCP' }];
  index.setEndpointSlice(slice('db', 'pg-v4', 'pg', [{ addresses: ['10.244.3.1'], hostname: 'pg-0' }, { addresses: ['10.244.3.2'], hostname: 'pg-1' }], ports));
  index.setEndpointSlice(slice('db', 'pg-v6', 'pg', [{ addresses: ['fd00:244::3:1'], hostname: 'pg-0' }], ports, 'IPv6'));
  const pg = fqdn('pg', 'db');
  const srv = ask(index, `_sql._tcp.${pg}`, RRType.SRV);
  assertAnswer(srv, [`_sql._tcp.${pg} SRV 0 50 5432 pg-0.${pg}`, `_sql._tcp.${pg} SRV 0 50 5432 pg-1.${pg}`]);
  assert.deepEqual(additionals(srv).sort(), [`pg-0.${pg} A 10.244.3.1`, `pg-0.${pg} AAAA fd00:244::3:1`, `pg-1.${pg} A 10.244.3.2`].sort());
  assertAnswer(ask(index, `pg-0.${pg}`, RRType.AAAA), [`pg-0.${pg} AAAA fd00:244::3:1`]);
  assertAnswer(ask(index, pg, RRType.AAAA), [`${pg} AAAA fd00:244::3:1`]);
  assertAnswer(ask(index, pg, RRType.ANY), [`${pg} A 10.244.3.1`, `${pg} A 10.244.3.2`, `${pg} AAAA fd00:244::3:1`]);
  const ptr6 = '1.0.0.0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa';
  assertAnswer(ask(index, ptr6, RRType.PTR), [`${ptr6} PTR pg-0.${pg}`]);
  assertNxdomain(ask(index, `_sql._udp.${pg}`, RRType.SRV));
  assertNodata(ask(index, `_tcp.${pg}`, RRType.SRV));
});

test('publishNotReadyAddresses publishes not-ready endpoints, and turning it off withdraws them', () => {
  const index = newIndex();
  const spec: Service['spec'] = { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] };
  index.setEndpointSlice(slice('default', 'peers-x', 'peers', [{ addresses: ['10.244.4.1'], ready: false }, { addresses: ['10.244.4.2'], ready: true }]));
  index.setService(service('default', 'peers', { ...spec, publishNotReadyAddresses: true }));
  const peers = fqdn('peers');
  assertAnswer(ask(index, peers, RRType.A), [`${peers} A 10.244.4.1`, `${peers} A 10.244.4.2`]);
  assertAnswer(ask(index, `10-244-4-1.${peers}`, RRType.A), [`10-244-4-1.${peers} A 10.244.4.1`]);
  index.setService(service('default', 'peers', spec));
  assertAnswer(ask(index, peers, RRType.A), [`${peers} A 10.244.4.2`]);
  assertNxdomain(ask(index, `10-244-4-1.${peers}`, RRType.A));
  assertForwarded(index, '1.4.244.10.in-addr.arpa', RRType.PTR);
});

test('endpoints of ClusterIP services get CoreDNS endpoint names and PTRs; the service name stays its cluster IP', () => {
  const index = newIndex();
  // selectorless.yaml's hand-made endpoint, as the mirroring controller publishes it.
  index.setEndpointSlice(slice('default', 'external-db-abcde', 'external-db', [{ addresses: ['1.2.3.4'] }], [{ name: '', port: 9376, protocol: 'TCP' }]));
  const db = fqdn('external-db');
  assertAnswer(ask(index, db, RRType.A), [`${db} A 10.97.1.6`]);
  assertAnswer(ask(index, `1-2-3-4.${db}`, RRType.A), [`1-2-3-4.${db} A 1.2.3.4`]);
  assertAnswer(ask(index, '4.3.2.1.in-addr.arpa', RRType.PTR), [`4.3.2.1.in-addr.arpa PTR 1-2-3-4.${db}`]);
  // The SRV of a ClusterIP service still targets the service, on the service port.
  assertAnswer(ask(index, db, RRType.SRV), [`${db} SRV 0 100 80 ${db}`]);
  // A cluster IP's PTR wins over an endpoint with the same address.
  index.setEndpointSlice(slice('default', 'service-clusterip-1', 'service-clusterip', [{ addresses: ['10.97.1.1'] }]));
  assertAnswer(ask(index, '1.1.97.10.in-addr.arpa', RRType.PTR), ['1.1.97.10.in-addr.arpa PTR service-clusterip.default.svc.cluster.local']);
});

test('ExternalName: CNAME to the external name, chased when the target is inside the zone, loops are SERVFAIL', () => {
  const index = newIndex();
  const ext = fqdn('service-externalname');
  assertAnswer(ask(index, ext, RRType.A), [`${ext} CNAME www.example.com`]);
  assertAnswer(ask(index, ext, RRType.CNAME), [`${ext} CNAME www.example.com`]);
  assertAnswer(ask(index, ext, RRType.AAAA), [`${ext} CNAME www.example.com`]);
  index.setService(service('other', 'alias', { type: 'ExternalName', externalName: 'Service-ClusterIP.default.svc.cluster.local.' }));
  const alias = fqdn('alias', 'other');
  assertAnswer(ask(index, alias, RRType.A), [`${alias} CNAME service-clusterip.default.svc.cluster.local`, `${fqdn('service-clusterip')} A 10.97.1.1`]);
  // Inside the zone, the end of the chain decides: NODATA (SOA) for a family the target lacks, NXDOMAIN for a missing target.
  const nodata = ask(index, alias, RRType.AAAA);
  assert.equal(nodata.rcode, Rcode.NOERROR);
  assert.deepEqual(answers(nodata), [`${alias} CNAME service-clusterip.default.svc.cluster.local`]);
  assert.deepEqual(nodata.authorities.map(show), [soa]);
  index.setService(service('other', 'dangling', { type: 'ExternalName', externalName: 'gone.default.svc.cluster.local' }));
  const dangling = ask(index, fqdn('dangling', 'other'), RRType.A);
  assert.equal(dangling.rcode, Rcode.NXDOMAIN);
  assert.deepEqual(answers(dangling), [`${fqdn('dangling', 'other')} CNAME gone.default.svc.cluster.local`]);
  index.setService(service('other', 'ping', { type: 'ExternalName', externalName: fqdn('pong', 'other') }));
  index.setService(service('other', 'pong', { type: 'ExternalName', externalName: fqdn('ping', 'other') }));
  const loop = ask(index, fqdn('ping', 'other'), RRType.A);
  assert.equal(loop.rcode, Rcode.SERVFAIL);
  assert.deepEqual(loop.answers, []);
  // An ExternalName that is an IP gives no record (CoreDNS only CNAMEs host names).
  index.setService(service('other', 'by-ip', { type: 'ExternalName', externalName: '192.0.2.1' }));
  assertNxdomain(ask(index, fqdn('by-ip', 'other'), RRType.A));
});

test('pods verified: a-b-c-d.<ns>.pod answers only for a pod of that namespace with that IP', () => {
  const index = newIndex();
  index.setPod(pod('default', 'web-1', ['10.244.1.5', 'fd00:244::1:5']));
  assertAnswer(ask(index, '10-244-1-5.default.pod.cluster.local', RRType.A), ['10-244-1-5.default.pod.cluster.local A 10.244.1.5']);
  assertNodata(ask(index, '10-244-1-5.default.pod.cluster.local', RRType.AAAA));
  assertAnswer(ask(index, 'fd00-244--1-5.default.pod.cluster.local', RRType.AAAA), ['fd00-244--1-5.default.pod.cluster.local AAAA fd00:244::1:5']);
  assertNxdomain(ask(index, '10-244-1-6.default.pod.cluster.local', RRType.A));
  assertNxdomain(ask(index, '10-244-1-5.kube-system.pod.cluster.local', RRType.A));
  assertNodata(ask(index, 'default.pod.cluster.local', RRType.A));
  // Pods have no PTR records (CoreDNS): forwarded.
  assertForwarded(index, '5.1.244.10.in-addr.arpa', RRType.PTR);
  // A pod alone makes its namespace exist.
  index.setPod(pod('batch', 'job-1', ['10.244.9.9']));
  assertNodata(ask(index, 'batch.svc.cluster.local', RRType.A));
  index.setPod(pod('batch', 'job-1', ['10.244.9.9'], 'Succeeded'));
  assertNxdomain(ask(index, '10-244-9-9.batch.pod.cluster.local', RRType.A));
  index.deletePod(pod('batch', 'job-1', []));
  assertNxdomain(ask(index, 'batch.svc.cluster.local', RRType.A));
  index.deletePod(pod('default', 'web-1', []));
  assertNxdomain(ask(index, '10-244-1-5.default.pod.cluster.local', RRType.A));
});

test('zone names: dns-version TXT, SOA and NS at the apex, empty non-terminals NODATA, unknown names NXDOMAIN', () => {
  const index = newIndex();
  assertAnswer(ask(index, 'dns-version.cluster.local', RRType.TXT), ['dns-version.cluster.local TXT "1.1.0"']);
  assertNodata(ask(index, 'dns-version.cluster.local', RRType.A));
  assertAnswer(ask(index, 'cluster.local', RRType.SOA), [soa]);
  assertAnswer(ask(index, 'cluster.local', RRType.NS), ['cluster.local NS ns.dns.cluster.local']);
  for (const name of ['cluster.local', 'svc.cluster.local', 'pod.cluster.local', 'default.svc.cluster.local', 'default.pod.cluster.local']) {
    assertNodata(ask(index, name, RRType.A));
  }
  assertNodata(ask(index, 'svc.cluster.local', RRType.SOA));
  const missing = ['nope.default.svc.cluster.local', 'nope.svc.cluster.local', 'service-clusterip.nope.svc.cluster.local', 'foo.cluster.local'];
  for (const name of [...missing, 'a.b.service-clusterip.default.svc.cluster.local']) {
    assertNxdomain(ask(index, name, RRType.A));
  }
  assertNxdomain(ask(index, 'nope.default.svc.cluster.local', RRType.SRV));
  const ttl = ask(index, 'nope.cluster.local', RRType.A, 30).authorities[0];
  assert.equal(ttl.ttl, 30);
  assert.equal(ttl.data.kind === 'SOA' && ttl.data.minimum, 30);
  assert.deepEqual(answerQuery(index, { name: 'cluster.local', type: RRType.AXFR, class: RRClass.IN }), {
    rcode: Rcode.REFUSED,
    answers: [],
    authorities: [],
    additionals: [],
    authoritative: false,
  });
});

test('matching is case-insensitive and the answer owner echoes the question', () => {
  const index = newIndex();
  const asked = 'Service-ClusterIP.DEFAULT.svc.Cluster.Local';
  assertAnswer(ask(index, asked, RRType.A), [`${asked} A 10.97.1.1`]);
  assertAnswer(ask(index, `${asked}.`, RRType.A), [`${asked}. A 10.97.1.1`]);
  const srv = `_HTTP._Tcp.service-multiport.default.SVC.cluster.local`;
  assertAnswer(ask(index, srv, RRType.SRV), [`${srv} SRV 0 100 80 service-multiport.default.svc.cluster.local`]);
  assertAnswer(ask(index, '1.1.97.10.IN-ADDR.ARPA', RRType.PTR), ['1.1.97.10.IN-ADDR.ARPA PTR service-clusterip.default.svc.cluster.local']);
  const upper = createDnsIndex({ zone: 'Cluster.Local.' });
  assert.equal(upper.zone, 'cluster.local');
  upper.setService(service('Default', 'Web', { clusterIP: '10.97.9.9', clusterIPs: ['10.97.9.9'] }));
  assertAnswer(ask(upper, 'web.default.svc.cluster.local', RRType.A), ['web.default.svc.cluster.local A 10.97.9.9']);
});

test('names outside the zone and reverse names of unknown IPs are forwarded', () => {
  const index = newIndex();
  assertForwarded(index, 'www.example.com', RRType.A);
  assertForwarded(index, 'xcluster.local', RRType.A);
  assertForwarded(index, 'cluster.local.example.com', RRType.A);
  assertForwarded(index, '8.8.8.8.in-addr.arpa', RRType.PTR);
  assertForwarded(index, '97.10.in-addr.arpa', RRType.PTR);
  assertForwarded(index, '1.1.97.10.in-addr.arpa', RRType.A); // only PTR is answered for reverse names
  assertForwarded(index, '01.1.97.10.in-addr.arpa', RRType.PTR);
  assertForwarded(index, '1.0.0.0.ip6.arpa', RRType.PTR);
});

test('reverse-name parsing', () => {
  assert.equal(ipv4FromReverseName('4.3.2.1.in-addr.arpa'), '1.2.3.4');
  assert.equal(ipv4FromReverseName('256.3.2.1.in-addr.arpa'), undefined);
  assert.equal(ipv4FromReverseName('3.2.1.in-addr.arpa'), undefined);
  const nibbles = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa';
  assert.equal(ipv6FromReverseName(nibbles), '2001:0db8:0000:0000:0000:0000:0000:0001');
  assert.equal(ipv6FromReverseName(`g.${nibbles.slice(2)}`), undefined);
  assert.equal(ipv6FromReverseName(nibbles.slice(2)), undefined);
});

test('incremental updates: deleting a slice drops only its records, a new cluster IP moves the PTR, deleting a service drops everything', () => {
  const index = newIndex();
  const headless = fqdn('service-headless');
  const a = slice('default', 'service-headless-a', 'service-headless', [{ addresses: ['10.244.1.5'] }, { addresses: ['10.244.1.6'] }]);
  const b = slice('default', 'service-headless-b', 'service-headless', [{ addresses: ['10.244.2.9'] }, { addresses: ['10.244.1.6'] }]);
  index.setEndpointSlice(a);
  index.setEndpointSlice(b);
  index.deleteEndpointSlice(a);
  // 10.244.1.6 is still in slice b.
  assertAnswer(ask(index, headless, RRType.A), [`${headless} A 10.244.1.6`, `${headless} A 10.244.2.9`]);
  assertForwarded(index, '5.1.244.10.in-addr.arpa', RRType.PTR);
  assertNxdomain(ask(index, `10-244-1-5.${headless}`, RRType.A));
  assertAnswer(ask(index, '6.1.244.10.in-addr.arpa', RRType.PTR), [`6.1.244.10.in-addr.arpa PTR 10-244-1-6.${headless}`]);
  // Updating a slice in place replaces its endpoints.
  index.setEndpointSlice(slice('default', 'service-headless-b', 'service-headless', [{ addresses: ['10.244.2.10'] }]));
  assertAnswer(ask(index, headless, RRType.A), [`${headless} A 10.244.2.10`]);
  // Relabelled to another service: its records move there.
  index.setService(service('default', 'other-headless', { clusterIP: 'None', clusterIPs: ['None'] }));
  index.setEndpointSlice(slice('default', 'service-headless-b', 'other-headless', [{ addresses: ['10.244.2.10'] }]));
  assertNxdomain(ask(index, headless, RRType.A));
  assertAnswer(ask(index, fqdn('other-headless'), RRType.A), [`${fqdn('other-headless')} A 10.244.2.10`]);
  index.deleteEndpointSlice(b);
  assertNxdomain(ask(index, fqdn('other-headless'), RRType.A));
  assertNodata(ask(index, 'default.svc.cluster.local', RRType.A));

  const svc = fixtureServices().find((s) => s.metadata!.name === 'service-clusterip')!;
  index.setService({ ...svc, spec: { ...svc.spec, clusterIP: '10.97.3.3', clusterIPs: ['10.97.3.3'] } });
  assertForwarded(index, '1.1.97.10.in-addr.arpa', RRType.PTR);
  assertAnswer(ask(index, '3.3.97.10.in-addr.arpa', RRType.PTR), ['3.3.97.10.in-addr.arpa PTR service-clusterip.default.svc.cluster.local']);
  assertAnswer(ask(index, fqdn('service-clusterip'), RRType.A), [`${fqdn('service-clusterip')} A 10.97.3.3`]);

  // Slices that arrive before their service wait for it; deleting the service withdraws them again.
  index.setEndpointSlice(slice('late', 'late-1', 'late', [{ addresses: ['10.244.7.7'] }]));
  assertNxdomain(ask(index, 'late.late.svc.cluster.local', RRType.A));
  index.setService(service('late', 'late', { clusterIP: 'None', clusterIPs: ['None'] }));
  assertAnswer(ask(index, 'late.late.svc.cluster.local', RRType.A), ['late.late.svc.cluster.local A 10.244.7.7']);
  // Headless → ClusterIP: the name becomes the cluster IP, endpoints keep only their own names.
  index.setService(service('late', 'late', { clusterIP: '10.97.7.7', clusterIPs: ['10.97.7.7'] }));
  assertAnswer(ask(index, 'late.late.svc.cluster.local', RRType.A), ['late.late.svc.cluster.local A 10.97.7.7']);
  assertAnswer(ask(index, '10-244-7-7.late.late.svc.cluster.local', RRType.A), ['10-244-7-7.late.late.svc.cluster.local A 10.244.7.7']);
  index.deleteService(service('late', 'late', {}));
  assertNxdomain(ask(index, 'late.late.svc.cluster.local', RRType.A));
  assertNxdomain(ask(index, '10-244-7-7.late.late.svc.cluster.local', RRType.A));
  assertNxdomain(ask(index, 'late.svc.cluster.local', RRType.A));
  assertForwarded(index, '7.7.244.10.in-addr.arpa', RRType.PTR);
  assertForwarded(index, '7.7.97.10.in-addr.arpa', RRType.PTR);

  // Everything deleted: only the zone's own names are left.
  for (const s of fixtureServices()) index.deleteService(s);
  index.deleteService(service('default', 'other-headless', {}));
  assertNxdomain(ask(index, 'default.svc.cluster.local', RRType.A));
  assertNodata(ask(index, 'svc.cluster.local', RRType.A));
  assertAnswer(ask(index, 'dns-version.cluster.local', RRType.TXT), ['dns-version.cluster.local TXT "1.1.0"']);
});

test('the SOA serial is the time of the last change', () => {
  let clock = 1_000_000;
  const index = createDnsIndex({ zone, now: () => clock });
  assert.equal(index.serial(), 1000);
  clock = 5_000_500;
  index.setService(service('default', 'x', { clusterIP: '10.97.0.10', clusterIPs: ['10.97.0.10'] }));
  assert.equal(index.serial(), 5000);
  const r = ask(index, 'nope.cluster.local', RRType.A);
  assert.equal(r.authorities[0].data.kind === 'SOA' && r.authorities[0].data.serial, 5000);
});

test('routing: zone transfers whatever the name, then the zone, the reverse zones, elsewhere', () => {
  const route = (name: string, type: number = RRType.A) => routeOf({ name, type, class: RRClass.IN }, zone);
  assert.equal(route('cluster.local', RRType.AXFR), 'transfer');
  assert.equal(route('www.example.com', 251 /* IXFR */), 'transfer');
  assert.equal(route('Cluster.Local.'), 'zone');
  assert.equal(route('a.default.svc.CLUSTER.local'), 'zone');
  assert.equal(route('xcluster.local'), 'elsewhere');
  assert.equal(route('cluster.local.example.com'), 'elsewhere');
  assert.equal(route('10.0.96.10.IN-ADDR.ARPA.', RRType.PTR), 'reverse');
  assert.equal(route('1.0.0.0.ip6.arpa', RRType.A), 'reverse');
});

test('zone transfers are refused outside the zone too; classes other than IN are forwarded', () => {
  const index = newIndex();
  const refused = { rcode: Rcode.REFUSED, answers: [], authorities: [], additionals: [], authoritative: false };
  assert.deepEqual(answerQuery(index, { name: 'www.example.com', type: RRType.AXFR, class: RRClass.IN }), refused);
  assert.deepEqual(answerQuery(index, { name: 'cluster.local', type: 251 /* IXFR */, class: RRClass.IN }), refused);
  assert.deepEqual(answerQuery(index, { name: fqdn('service-clusterip'), type: RRType.A, class: RRClass.CH }), { forward: true });
});

test('churn: after many Services and slices come and go, the index answers as one built from what is left', () => {
  const churned = createDnsIndex({ zone });
  const svc = (i: number, ip: string) => service('churn', `s${i}`, { clusterIP: i % 7 === 0 ? 'None' : ip, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
  const sl = (i: number, ip: string) => slice('churn', `s${i}-x`, `s${i}`, [{ addresses: [ip], hostname: i % 3 === 0 ? `h${i}` : undefined }], [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const ip = (i: number, round: number) => `10.${96 + round}.${(i >> 8) & 255}.${i & 255}`;
  const podIp = (i: number, round: number) => `10.${200 + round}.${(i >> 8) & 255}.${i & 255}`;
  const n = 400;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < n; i++) {
      churned.setEndpointSlice(sl(i, podIp(i, round)));
      churned.setService(svc(i, ip(i, round)));
    }
    for (let i = 0; i < n; i += 2) churned.deleteService(svc(i, ip(i, round)));
    for (let i = 0; i < n; i += 3) churned.deleteEndpointSlice(sl(i, podIp(i, round)));
  }
  const fresh = createDnsIndex({ zone });
  for (let i = 1; i < n; i += 2) fresh.setService(svc(i, ip(i, 2)));
  for (let i = 0; i < n; i++) if (i % 3 !== 0) fresh.setEndpointSlice(sl(i, podIp(i, 2)));
  for (let i = 0; i < n; i++) {
    const name = `s${i}.churn.svc.${zone}`;
    for (const round of [0, 1, 2]) {
      for (const owner of [name, `_http._tcp.${name}`, `_tcp.${name}`, `h${i}.${name}`, `${ip(i, round).replaceAll('.', '-')}.${name}`, `${podIp(i, round).replaceAll('.', '-')}.${name}`]) {
        assert.deepEqual(churned.lookup(owner), fresh.lookup(owner), owner);
      }
      assert.deepEqual(churned.lookupPtr(ip(i, round)), fresh.lookupPtr(ip(i, round)));
      assert.deepEqual(churned.lookupPtr(podIp(i, round)), fresh.lookupPtr(podIp(i, round)));
    }
  }
  assert.equal(fresh.lookup(`_http._tcp.s1.churn.svc.${zone}`)?.srv[0]?.target, `s1.churn.svc.${zone}`);
});
