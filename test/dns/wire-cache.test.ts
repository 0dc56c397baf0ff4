// The wire cache (wire-cache.ts, used by server.ts): a repeated query gets
// exactly the bytes the full path would give it, with its own ID and its
// question as sent; a change to the record index drops what was kept; what
// depends on the client, an upstream or the first listing is never kept;
// answers from the cache are counted in the metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../src/api/types.js';
import { answerQuery } from '../../src/dns/answer.js';
import { createAnswerCache } from '../../src/dns/cache.js';
import type { Forwarder } from '../../src/dns/forwarder.js';
import { createDnsMetrics } from '../../src/dns/metrics.js';
import { createDnsIndex, type DnsIndex } from '../../src/dns/records.js';
import { startDnsServer, type DnsServerOptions } from '../../src/dns/server.js';
import { createWireCache } from '../../src/dns/wire-cache.js';
import { Rcode, RRClass, RRType, type Message } from '../../src/dns/types.js';
import { parseMessage, serializeMessage } from '../../src/dns/wire.js';

const service = (name: string, spec: Service['spec']): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec });

function newIndex(): DnsIndex {
  const index = createDnsIndex({ zone: 'cluster.local', now: () => 1_700_000_000_000 });
  index.setService(service('web', { type: 'ClusterIP', clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
  index.setService(service('ext', { type: 'ExternalName', externalName: 'example.com' }));
  return index;
}

function query(id: number, name: string, type: number = RRType.A, edns?: { udpSize: number; dnssecOk: boolean }): Buffer {
  const m: Message = {
    header: { id, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name, type, class: RRClass.IN }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: edns && { ...edns, extendedRcode: 0, version: 0, options: [] },
  };
  return serializeMessage(m).buf;
}

/** A server over the index that counts how often the zone is asked (each ask is a miss of the wire cache). */
async function serverOver(index: DnsIndex, cached: boolean, over: Partial<DnsServerOptions> = {}) {
  const asked = { n: 0 };
  const s = await startDnsServer({
    host: '127.0.0.1',
    port: 0,
    zone: 'cluster.local',
    answer: (q) => {
      asked.n++;
      return answerQuery(index, q, { ttl: 5 });
    },
    synced: () => true,
    generation: cached ? () => index.generation() : undefined,
    ...over,
  });
  return Object.assign(s, { asked });
}

const udp = { address: '10.244.0.5', proto: 'udp' as const };

test('a repeated query is answered from the cache: the full path\'s bytes, with its own ID and the question as sent', async () => {
  const index = newIndex();
  const cached = await serverOver(index, true);
  const reference = await serverOver(index, false);
  try {
    const shapes: [string, number, { udpSize: number; dnssecOk: boolean }?][] = [
      ['web.default.svc.cluster.local', RRType.A],
      ['WeB.Default.SVC.Cluster.LOCAL', RRType.A],
      ['web.default.svc.cluster.local', RRType.A, { udpSize: 1232, dnssecOk: true }],
      ['web.default.svc.cluster.local', RRType.AAAA],
      ['_http._tcp.web.default.svc.cluster.local', RRType.SRV, { udpSize: 4096, dnssecOk: false }],
      ['ext.default.svc.cluster.local', RRType.A],
      ['nothing.default.svc.cluster.local', RRType.A],
      ['Nothing.Default.svc.cluster.local', RRType.TXT],
    ];
    for (const proto of ['udp', 'tcp'] as const) {
      for (const [name, type, edns] of shapes) {
        const before = cached.asked.n;
        for (const id of [1, 0xbeef, 0xffff]) {
          const got = (await cached.handle(query(id, name, type, edns), { ...udp, proto }))!;
          const want = (await reference.handle(query(id, name, type, edns), { ...udp, proto }))!;
          assert.deepEqual(got, want, `${name} ${type} id ${id} over ${proto}`);
          assert.equal(got.readUInt16BE(0), id);
          assert.equal(parseMessage(got).questions[0].name, name);
        }
        assert.equal(cached.asked.n - before, 1, `${name} ${type} over ${proto}: the zone asked once, the repeats from the cache`);
      }
    }
    // Every spelling of a name is an entry of its own: compression keeps case, so the bytes can differ.
    assert.equal(parseMessage((await cached.handle(query(9, 'WEB.default.svc.cluster.local'), udp))!).answers[0].name, 'WEB.default.svc.cluster.local');
  } finally {
    await Promise.all([cached.close(), reference.close()]);
  }
});

test('a change to the record index drops the kept answers', async () => {
  const index = newIndex();
  const s = await serverOver(index, true);
  const address = async (name: string) => {
    const m = parseMessage((await s.handle(query(5, name), udp))!);
    return m.header.rcode === Rcode.NOERROR ? m.answers.map((a) => (a.data.kind === 'A' ? a.data.address : '')) : Object.keys(Rcode)[m.header.rcode];
  };
  try {
    assert.deepEqual(await address('web.default.svc.cluster.local'), ['10.96.5.5']);
    assert.deepEqual(await address('api.default.svc.cluster.local'), 'NXDOMAIN');
    index.setService(service('web', { type: 'ClusterIP', clusterIP: '10.96.7.7', clusterIPs: ['10.96.7.7'] }));
    index.setService(service('api', { type: 'ClusterIP', clusterIP: '10.96.8.8', clusterIPs: ['10.96.8.8'] }));
    assert.deepEqual(await address('web.default.svc.cluster.local'), ['10.96.7.7']);
    assert.deepEqual(await address('api.default.svc.cluster.local'), ['10.96.8.8']);
    index.deleteService(service('api', {}));
    assert.deepEqual(await address('api.default.svc.cluster.local'), 'NXDOMAIN');
  } finally {
    await s.close();
  }
});

test('never kept: forwarded names, autopath\'s completions (they depend on the client), SERVFAIL before the first listing', async () => {
  const index = newIndex();
  let resolved = 0;
  const forwarder: Forwarder = {
    probeName: 'probe.kubesvc-loop-probe',
    cache: createAnswerCache(),
    resolve: async (q) => {
      resolved++;
      return {
        header: { id: 1, qr: true, opcode: 0, aa: false, tc: false, rd: true, ra: true, ad: false, cd: false, rcode: 0 },
        questions: [q],
        answers: [{ name: q.name, type: RRType.A, class: RRClass.IN, ttl: 60, data: { kind: 'A', address: '192.0.2.1' } }],
        authorities: [],
        additionals: [],
      };
    },
    probe: async () => undefined,
    loopDetected: () => undefined,
    isLooping: () => false,
  };
  let synced = false;
  const s = await serverOver(index, true, { forwarder, synced: () => synced, podNamespace: (ip) => (ip === '10.244.0.5' ? 'default' : undefined) });
  const rcode = async (name: string, address = '10.244.0.5') => parseMessage((await s.handle(query(3, name), { address, proto: 'udp' }))!);
  try {
    assert.equal((await rcode('web.default.svc.cluster.local')).header.rcode, Rcode.SERVFAIL);
    synced = true;
    assert.equal((await rcode('web.default.svc.cluster.local')).header.rcode, Rcode.NOERROR);

    await rcode('www.example.com');
    await rcode('www.example.com');
    assert.equal(resolved, 2);

    // The pod's search path finishes "www.example.com.default.svc.cluster.local"; anyone else gets NXDOMAIN for the same bytes.
    const completed = await rcode('www.example.com.default.svc.cluster.local');
    assert.equal(completed.answers[0]?.type, RRType.CNAME);
    assert.equal((await rcode('www.example.com.default.svc.cluster.local', '10.1.1.1')).header.rcode, Rcode.NXDOMAIN);
    assert.equal((await rcode('www.example.com.default.svc.cluster.local')).answers[0]?.type, RRType.CNAME);
  } finally {
    await s.close();
  }
});

test('answers from the cache are counted in the metrics', async () => {
  const index = newIndex();
  const metrics = createDnsMetrics();
  const s = await serverOver(index, true, { metrics });
  try {
    for (let i = 0; i < 3; i++) await s.handle(query(i, 'web.default.svc.cluster.local'), udp);
    await s.handle(query(4, 'web.default.svc.cluster.local'), { address: 'fd00::5', proto: 'udp' });
    assert.equal(s.asked.n, 1);
    const text = await metrics.registry.metrics();
    assert.match(text, /^coredns_dns_requests_total\{[^}]*proto="udp",family="1",type="A"\} 3$/m);
    assert.match(text, /^coredns_dns_requests_total\{[^}]*proto="udp",family="2",type="A"\} 1$/m);
    assert.match(text, /^coredns_dns_responses_total\{[^}]*rcode="NOERROR",plugin="kubernetes"\} 4$/m);
    assert.match(text, /^coredns_dns_request_duration_seconds_count\{[^}]*type="A"\} 4$/m);
    assert.match(text, /^coredns_dns_response_size_bytes_count\{[^}]*proto="udp"\} 4$/m);
  } finally {
    await s.close();
  }
});

test('the cache holds at most its bound, and keeps what is asked again', () => {
  const wc = createWireCache(() => 0, 4);
  // A query's bytes: an ID, then what keys it (here its last byte differs).
  const q = (n: number) => Buffer.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, n]);
  const kept = (n: number) => {
    const e = wc.get(q(n), 'udp');
    return e < 0 ? undefined : { reply: [...wc.reply(q(n), e)], tag: wc.tagOf(e), requestSize: wc.requestSizeOf(e) };
  };
  wc.set(q(0), 'udp', 0, Buffer.from([0, 0, 0x80, 0]), 7, 1232);
  for (let n = 1; n < 50; n++) {
    wc.set(q(n), 'udp', 0, Buffer.from([0, 0, 0x80, n]), n, 512);
    // Asked again between every other insert: it is never the one dropped, and moves with its tag and request size.
    assert.deepEqual(kept(0), { reply: [0xab, 0xcd, 0x80, 0], tag: 7, requestSize: 1232 }, `entry 0 after ${n} more`);
    assert.ok(wc.size() <= 4, `${wc.size()} entries`);
  }
  assert.equal(kept(1), undefined);
  assert.deepEqual(kept(49), { reply: [0xab, 0xcd, 0x80, 49], tag: 49, requestSize: 512 });
});

test('the cache keys on the protocol and every byte after the ID, and drops all when the index changes', () => {
  let generation = 1;
  const wc = createWireCache(() => generation, 100);
  const q = Buffer.from([1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x65, 0x62, 0]);
  wc.set(q, 'udp', 1, Buffer.from([0, 0, 0x81]), 0, 512);
  assert.ok(wc.get(q, 'udp') >= 0);
  // Another ID is the same query.
  assert.ok(wc.get(Buffer.from([9, 9, ...q.subarray(2)]), 'udp') >= 0);
  assert.equal(wc.get(q, 'tcp'), -1);
  // The question in another case is another key (compression keeps case).
  assert.equal(wc.get(Buffer.from([1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x57, 0x65, 0x62, 0]), 'udp'), -1);
  // Too short to be a query: never kept nor found.
  wc.set(Buffer.from([1, 2, 3]), 'udp', 1, Buffer.from([0]), 0, 512);
  assert.equal(wc.get(Buffer.from([1, 2, 3]), 'udp'), -1);
  // Answered from an older index: not kept.
  wc.set(Buffer.from([1, 2, ...q.subarray(2, 16), 1]), 'udp', 0, Buffer.from([0, 0, 0x81]), 0, 512);
  assert.equal(wc.size(), 1);
  generation = 2;
  assert.equal(wc.get(q, 'udp'), -1);
  assert.equal(wc.size(), 0);
});

test('whatever is kept, dropped or moved, a hit is the response kept for that query', () => {
  const wc = createWireCache(() => 0, 64);
  let seed = 12345;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  // Queries of varying length; each one's response names it (its length and last byte).
  const q = (n: number) => Buffer.from([0, 0, ...Array.from({ length: 10 + (n % 7) }, (_, i) => (i === 0 ? n % 256 : i)), n >> 8]);
  const response = (n: number) => Buffer.from([0, 0, ...Array.from({ length: 1 + (n % 40) }, () => n % 256)]);
  let hits = 0;
  for (let step = 0; step < 20_000; step++) {
    const n = rand(300);
    const proto = rand(2) === 0 ? 'udp' : 'tcp';
    const e = wc.get(q(n), proto);
    if (e >= 0) {
      hits++;
      assert.deepEqual(wc.reply(q(n), e).subarray(2), response(n).subarray(2), `query ${n}`);
      assert.equal(wc.tagOf(e), n);
    } else wc.set(q(n), proto, 0, response(n), n, 512);
    assert.ok(wc.size() <= 64);
  }
  assert.ok(hits > 1000, `${hits} hits`);
});
