// The DNS server's decisions without the API: recursion only for cluster
// clients, SERVFAIL for cluster names until synced, FORMERR for a broken
// query that still has a header, silence for garbage, BADVERS for EDNS
// versions above 0, REFUSED when there is nowhere to forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsServerOptions } from '../../src/dns/server.js';
import { createAnswerCache } from '../../src/dns/cache.js';
import type { Forwarder } from '../../src/dns/forwarder.js';
import { parseMessage, serializeMessage } from '../../src/dns/wire.js';
import { Rcode, RRClass, RRType, type Message } from '../../src/dns/types.js';

function query(name: string, type: number = RRType.A, ednsVersion?: number): Buffer {
  const m: Message = {
    header: { id: 4242, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name, type, class: RRClass.IN }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: ednsVersion === undefined ? undefined : { udpSize: 1232, extendedRcode: 0, version: ednsVersion, dnssecOk: false, options: [] },
  };
  return serializeMessage(m).buf;
}

const upstreamAnswer = (name: string): Message => ({
  header: { id: 1, qr: true, opcode: 0, aa: false, tc: false, rd: true, ra: true, ad: false, cd: false, rcode: 0 },
  questions: [{ name, type: RRType.A, class: RRClass.IN }],
  answers: [{ name, type: RRType.A, class: RRClass.IN, ttl: 60, data: { kind: 'A', address: '192.0.2.1' } }],
  authorities: [],
  additionals: [],
});

const stubForwarder: Forwarder = {
  probeName: 'probe.kubesvc-loop-probe',
  cache: createAnswerCache(),
  resolve: async (q) => upstreamAnswer(q.name),
  probe: async () => undefined,
  loopDetected: () => undefined,
  isLooping: () => false,
};

async function server(over: Partial<DnsServerOptions> = {}) {
  return startDnsServer({
    host: '127.0.0.1',
    port: 0,
    zone: 'cluster.local',
    answer: (q) => (q.name.endsWith('cluster.local') ? { rcode: Rcode.NXDOMAIN, answers: [], authorities: [], additionals: [], authoritative: true } : { forward: true }),
    synced: () => true,
    forwarder: stubForwarder,
    recursionFrom: ['10.0.0.0/8', '127.0.0.0/8'],
    ...over,
  });
}

test('recursion for cluster clients only; REFUSED for others and when there is no upstream', async () => {
  const s = await server();
  const none = await server({ forwarder: undefined });
  try {
    const ok = parseMessage((await s.handle(query('www.example.com'), { address: '10.244.0.5', proto: 'udp' }))!);
    assert.equal(ok.header.rcode, Rcode.NOERROR);
    assert.equal(ok.header.id, 4242);
    assert.deepEqual(ok.answers.map((a) => a.data), [{ kind: 'A', address: '192.0.2.1' }]);
    const outsider = parseMessage((await s.handle(query('www.example.com'), { address: '203.0.113.9', proto: 'udp' }))!);
    assert.equal(outsider.header.rcode, Rcode.REFUSED);
    const nowhere = parseMessage((await none.handle(query('www.example.com'), { address: '10.244.0.5', proto: 'udp' }))!);
    assert.equal(nowhere.header.rcode, Rcode.REFUSED);
  } finally {
    await s.close();
    await none.close();
  }
});

test('SERVFAIL for cluster names until the API has been listed', async () => {
  let synced = false;
  const s = await server({ synced: () => synced });
  try {
    assert.equal(parseMessage((await s.handle(query('a.default.svc.cluster.local'), { address: '10.0.0.1', proto: 'udp' }))!).header.rcode, Rcode.SERVFAIL);
    synced = true;
    assert.equal(parseMessage((await s.handle(query('a.default.svc.cluster.local'), { address: '10.0.0.1', proto: 'udp' }))!).header.rcode, Rcode.NXDOMAIN);
  } finally {
    await s.close();
  }
});

test('FORMERR for a broken query with a header, nothing for garbage or responses, BADVERS for EDNS version 1', async () => {
  const s = await server();
  try {
    const broken = query('a.default.svc.cluster.local').subarray(0, 20);
    const formerr = (await s.handle(broken, { address: '10.0.0.1', proto: 'udp' }))!;
    assert.equal(formerr.readUInt16BE(0), 4242);
    assert.equal(formerr[3] & 0x0f, Rcode.FORMERR);
    assert.equal(await s.handle(Buffer.from([1, 2, 3]), { address: '10.0.0.1', proto: 'udp' }), undefined);
    const response = query('x.cluster.local');
    response[2] |= 0x80;
    assert.equal(await s.handle(response, { address: '10.0.0.1', proto: 'udp' }), undefined);
    const badvers = parseMessage((await s.handle(query('a.default.svc.cluster.local', RRType.A, 1), { address: '10.0.0.1', proto: 'udp' }))!);
    assert.equal(badvers.edns?.extendedRcode, 1);
  } finally {
    await s.close();
  }
});

test('zone transfers are REFUSED for any name, before the API is listed, without asking the zone', async () => {
  let asked = 0;
  const s = await server({ synced: () => false, answer: () => (asked++, { forward: true }) });
  try {
    for (const [name, type] of [['cluster.local', RRType.AXFR], ['www.example.com', RRType.AXFR], ['cluster.local', 251 /* IXFR */]] as const) {
      const m = parseMessage((await s.handle(query(name, type), { address: '10.0.0.1', proto: 'tcp' }))!);
      assert.equal(m.header.rcode, Rcode.REFUSED, `${name} ${type}`);
      assert.equal(m.header.aa, false);
    }
    assert.equal(asked, 0);
  } finally {
    await s.close();
  }
});
