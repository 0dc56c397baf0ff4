// Tests for the DNS wire codec: round trips of every record type, name
// compression, a real dig query, truncation to a size limit, rejection of
// malformed names (pointer loops, out-of-range pointers, long labels), a
// seeded fuzz run (parseMessage returns or throws WireError, nothing else,
// and what it returns serializes back to the same message), and the reverse
// names of IPv4 and IPv6 addresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP, SocketAddress } from 'node:net';
import { RRClass, RRType, type Header, type Message, type ResourceRecord } from '../../src/dns/types.js';
import { ipFromReverseName, normalizeName, parseHeaderId, parseMessage, reverseName, serializeMessage, WireError } from '../../src/dns/wire.js';

/** xorshift32: a tiny seeded PRNG so a failing fuzz case can be replayed. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const header = (over: Partial<Header> = {}): Header => ({ id: 4242, qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: true, ad: false, cd: false, rcode: 0, ...over });

/** A message with empty sections and a response header, plus what `over` sets. */
const message = (over: Partial<Message> = {}): Message => ({ header: header(), questions: [], answers: [], authorities: [], additionals: [], ...over });

const rr = (name: string, type: number, data: ResourceRecord['data'], ttl = 30): ResourceRecord => ({ name, type, class: RRClass.IN, ttl, data });

/** One record of every kind the codec decodes, plus raw ones, with names in mixed case. */
function everyKind(): Message {
  return {
    header: header({ aa: true, tc: true, ad: true, cd: true, rcode: 3, opcode: 2 }),
    questions: [{ name: 'Web.Default.svc.cluster.local', type: RRType.ANY, class: RRClass.IN }],
    answers: [
      rr('Web.Default.svc.cluster.local', RRType.A, { kind: 'A', address: '10.96.0.10' }),
      rr('web.default.svc.cluster.local', RRType.AAAA, { kind: 'AAAA', address: '2001:db8::1' }),
      rr('web.default.svc.cluster.local', RRType.AAAA, { kind: 'AAAA', address: '::ffff:10.1.2.3' }),
      rr('alias.default.svc.cluster.local', RRType.CNAME, { kind: 'name', target: 'web.default.svc.cluster.local' }),
      rr('10.0.96.10.in-addr.arpa', RRType.PTR, { kind: 'name', target: 'web.default.svc.cluster.local' }),
      rr('_http._tcp.web.default.svc.cluster.local', RRType.SRV, { kind: 'SRV', priority: 0, weight: 100, port: 8080, target: 'web.default.svc.cluster.local' }),
      rr('dns-version.cluster.local', RRType.TXT, { kind: 'TXT', texts: ['1.1.0', '', 'caf\u00e9 \u00ff\u0000'] }),
      rr('cluster.local', RRType.MX, { kind: 'MX', preference: 10, exchange: 'Mail.cluster.local' }),
      rr('cluster.local', 13 /* HINFO */, { kind: 'raw', data: Buffer.from([3, 0x61, 0x6d, 0x64, 5, 0x6c, 0x69, 0x6e, 0x75, 0x78]) }),
      rr('cluster.local', 99, { kind: 'raw', data: Buffer.alloc(0) }),
      { name: 'version.bind', type: RRType.TXT, class: RRClass.CH, ttl: 0, data: { kind: 'TXT', texts: ['kubesvc'] } },
      { name: 'chaos.example', type: RRType.A, class: RRClass.CH, ttl: 0, data: { kind: 'raw', data: Buffer.from([1, 2, 3, 4, 5, 6]) } },
    ],
    authorities: [
      rr('cluster.local', RRType.SOA, {
        kind: 'SOA',
        mname: 'ns.dns.cluster.local',
        rname: 'hostmaster.cluster.local',
        serial: 0xfffffffe,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: 30,
      }),
      rr('cluster.local', RRType.NS, { kind: 'name', target: 'ns.dns.cluster.local' }),
    ],
    additionals: [rr('ns.dns.cluster.local', RRType.A, { kind: 'A', address: '10.96.0.10' }, 0xffffffff), rr('', RRType.NS, { kind: 'name', target: '' })],
    edns: {
      udpSize: 4096,
      extendedRcode: 1,
      version: 0,
      dnssecOk: true,
      options: [
        { code: 10, data: Buffer.from('0123456789abcdef', 'hex') },
        { code: 12, data: Buffer.alloc(0) },
      ],
    },
  };
}

/** The size of a message written without any compression. */
function uncompressedSize(m: Message): number {
  const name = (n: string) => (n === '' ? 1 : Buffer.byteLength(n, 'latin1') + 2);
  let size = 12 + m.questions.reduce((s, q) => s + name(q.name) + 4, 0);
  for (const r of [...m.answers, ...m.authorities, ...m.additionals]) {
    const d = r.data;
    const rdlen = {
      A: () => 4,
      AAAA: () => 16,
      name: () => (d.kind === 'name' ? name(d.target) : 0),
      MX: () => (d.kind === 'MX' ? 2 + name(d.exchange) : 0),
      SRV: () => (d.kind === 'SRV' ? 6 + name(d.target) : 0),
      SOA: () => (d.kind === 'SOA' ? name(d.mname) + name(d.rname) + 20 : 0),
      TXT: () => (d.kind === 'TXT' ? d.texts.reduce((s, t) => s + 1 + t.length, 0) : 0),
      raw: () => (d.kind === 'raw' ? d.data.length : 0),
    }[d.kind]();
    size += name(r.name) + 10 + rdlen;
  }
  return size;
}

test('every record type round-trips, with header flags, EDNS and name case preserved', () => {
  const m = everyKind();
  const { buf, truncated } = serializeMessage(m);
  assert.equal(truncated, false);
  assert.deepEqual(parseMessage(buf), m);
  // Serializing the parsed message gives the same bytes.
  assert.deepEqual(serializeMessage(parseMessage(buf)).buf, buf);
});

test('a message without EDNS has no edns field and an empty root question round-trips', () => {
  const m = message({ header: header({ qr: false, aa: false, ra: false }), questions: [{ name: '', type: RRType.NS, class: RRClass.IN }] });
  const buf = serializeMessage(m).buf;
  assert.equal(buf.length, 12 + 1 + 4);
  const back = parseMessage(buf);
  assert.deepEqual(back, m);
  assert.equal('edns' in back, false);
});

test('names with one trailing dot are written as the same name', () => {
  const m = message({
    questions: [{ name: 'Example.com.', type: RRType.A, class: RRClass.IN }],
    answers: [rr('.', RRType.NS, { kind: 'name', target: 'a.root-servers.net.' })],
  });
  const back = parseMessage(serializeMessage(m).buf);
  assert.equal(back.questions[0].name, 'Example.com');
  assert.equal(back.answers[0].name, '');
  assert.deepEqual(back.answers[0].data, { kind: 'name', target: 'a.root-servers.net' });
});

test('TXT strings longer than 255 bytes are split into character-strings', () => {
  const long = 'x'.repeat(600);
  const unicode = '\u00e9\u4e2d'.repeat(100); // not Latin-1: written as UTF-8, never split inside a character
  const m = message({ answers: [rr('t.example', RRType.TXT, { kind: 'TXT', texts: [long, unicode] })] });
  const data = parseMessage(serializeMessage(m).buf).answers[0].data;
  assert.equal(data.kind, 'TXT');
  if (data.kind !== 'TXT') return;
  assert.deepEqual(data.texts.slice(0, 3), ['x'.repeat(255), 'x'.repeat(255), 'x'.repeat(90)]);
  const utf8 = data.texts.slice(3).map((t) => Buffer.from(t, 'latin1'));
  assert.ok(utf8.every((b) => b.length <= 255));
  assert.ok(utf8.length > 1);
  assert.equal(utf8.map((b) => b.toString('utf8')).join(''), unicode);
});

test('compression shrinks repeated names and pointers keep every name exactly as given', () => {
  const name = 'web.default.svc.cluster.local';
  const m: Message = {
    header: header(),
    questions: [{ name, type: RRType.A, class: RRClass.IN }],
    answers: Array.from({ length: 10 }, (_, i) => rr(name, RRType.A, { kind: 'A', address: `10.244.0.${i + 1}` })),
    authorities: [rr('cluster.local', RRType.NS, { kind: 'name', target: 'ns.dns.cluster.local' })],
    additionals: [rr('WEB.default.svc.cluster.local', RRType.A, { kind: 'A', address: '10.244.1.1' })],
  };
  const { buf } = serializeMessage(m);
  const full = uncompressedSize(m);
  // Each answer name is a 2-byte pointer instead of 31 bytes, and so on.
  assert.ok(buf.length < full - 10 * 29, `${buf.length} vs ${full} uncompressed`);
  const firstAnswer = 12 + name.length + 2 + 4;
  assert.deepEqual([...buf.subarray(firstAnswer, firstAnswer + 2)], [0xc0, 12]);
  const back = parseMessage(buf);
  assert.deepEqual(back, m);
  assert.equal(back.additionals[0].name, 'WEB.default.svc.cluster.local');
});

test('SRV targets are written uncompressed (RFC 2782)', () => {
  const target = 'web.default.svc.cluster.local';
  const m = message({
    questions: [{ name: target, type: RRType.A, class: RRClass.IN }],
    answers: [rr('_p._tcp.x', RRType.SRV, { kind: 'SRV', priority: 1, weight: 2, port: 3, target })],
  });
  const buf = serializeMessage(m).buf;
  assert.ok(buf.subarray(12 + target.length + 6).includes(Buffer.from('\x03web\x07default\x03svc\x07cluster\x05local\x00', 'latin1')));
  assert.deepEqual(parseMessage(buf), m);
});

test('a query captured from dig 9.18 ("dig example.com A") parses field by field and re-serializes to the same bytes', () => {
  // Received on a UDP socket from `dig @127.0.0.1 -p 15353 example.com A`: RD and AD set, EDNS0 with a 1232-byte UDP size and a client cookie.
  const bytes = Buffer.from('ac1701200001000000000001076578616d706c6503636f6d000001000100002904d000000000000c000a00088908a2cdacd38a5f', 'hex');
  assert.equal(parseHeaderId(bytes), 0xac17);
  const m = parseMessage(bytes);
  assert.deepEqual(m.header, { id: 0xac17, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, ad: true, cd: false, rcode: 0 });
  assert.deepEqual(m.questions, [{ name: 'example.com', type: RRType.A, class: RRClass.IN }]);
  assert.deepEqual(m.answers, []);
  assert.deepEqual(m.authorities, []);
  assert.deepEqual(m.additionals, []);
  assert.deepEqual(m.edns, { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, options: [{ code: 10, data: Buffer.from('8908a2cdacd38a5f', 'hex') }] });
  assert.deepEqual(serializeMessage(m).buf, bytes);
});

test('EDNS: extended rcode, version and the DO bit come from the OPT TTL', () => {
  // A response holding only an OPT record: root owner, type 41, UDP size 512, the given TTL (at offset 17), no options.
  const opt = (ttl: number) => {
    const b = Buffer.from('000181000000000000000001' + '0000290200000000000000', 'hex');
    b.writeUInt32BE(ttl, 17);
    return b;
  };
  assert.deepEqual(parseMessage(opt(0x01028000)).edns, { udpSize: 512, extendedRcode: 1, version: 2, dnssecOk: true, options: [] });
  assert.deepEqual(parseMessage(opt(0xff007fff)).edns, { udpSize: 512, extendedRcode: 255, version: 0, dnssecOk: false, options: [] });
  const m = message({ edns: { udpSize: 1232, extendedRcode: 0xff, version: 0xff, dnssecOk: true, options: [] } });
  assert.deepEqual(parseMessage(serializeMessage(m).buf), m);
});

function bigAnswer(nAnswers: number, nAuth: number, nAdd: number, edns = true): Message {
  const name = 'many.default.svc.cluster.local';
  return {
    header: header(),
    questions: [{ name, type: RRType.A, class: RRClass.IN }],
    answers: Array.from({ length: nAnswers }, (_, i) => rr(name, RRType.A, { kind: 'A', address: `10.244.${i >> 8}.${i & 255}` })),
    authorities: Array.from({ length: nAuth }, (_, i) => rr('cluster.local', RRType.NS, { kind: 'name', target: `ns${i}.dns.cluster.local` })),
    additionals: Array.from({ length: nAdd }, (_, i) => rr(`ns${i}.dns.cluster.local`, RRType.AAAA, { kind: 'AAAA', address: `fd00::${i + 1}` })),
    edns: edns ? { udpSize: 512, extendedRcode: 0, version: 0, dnssecOk: false, options: [{ code: 10, data: Buffer.alloc(24, 7) }] } : undefined,
  };
}

test('truncation drops records from the end, sets TC when answers are lost, keeps OPT and stays parseable', () => {
  const m = bigAnswer(100, 3, 3);
  const full = serializeMessage(m);
  assert.equal(full.truncated, false);
  assert.ok(full.buf.length > 512);
  const { buf, truncated } = serializeMessage(m, { maxSize: 512 });
  assert.equal(truncated, true);
  assert.ok(buf.length <= 512, `${buf.length} bytes`);
  const back = parseMessage(buf);
  assert.equal(back.header.tc, true);
  assert.ok(back.answers.length > 0 && back.answers.length < 100);
  assert.deepEqual(back.answers, m.answers.slice(0, back.answers.length));
  assert.deepEqual(back.authorities, []);
  assert.deepEqual(back.additionals, []);
  assert.deepEqual(back.edns, m.edns);
  assert.deepEqual(back.questions, m.questions);
  // As many answers as fit: one more would not.
  const oneMore = serializeMessage({ ...m, answers: m.answers.slice(0, back.answers.length + 1), authorities: [], additionals: [] });
  assert.ok(oneMore.buf.length > 512);
});

test('truncation: losing only additionals does not set TC; losing authorities does', () => {
  const m = bigAnswer(5, 2, 40);
  const size = serializeMessage({ ...m, additionals: m.additionals.slice(0, 10) }).buf.length;
  const a = serializeMessage(m, { maxSize: size });
  assert.equal(a.truncated, false);
  assert.equal(a.buf.length, size);
  const back = parseMessage(a.buf);
  assert.equal(back.header.tc, false);
  assert.deepEqual(back.answers, m.answers);
  assert.deepEqual(back.authorities, m.authorities);
  assert.deepEqual(back.additionals, m.additionals.slice(0, 10));
  assert.ok(back.edns);

  const withoutAuth = serializeMessage({ ...m, authorities: m.authorities.slice(0, 1), additionals: [] }).buf.length;
  const b = serializeMessage(m, { maxSize: withoutAuth });
  assert.equal(b.truncated, true);
  const backB = parseMessage(b.buf);
  assert.equal(backB.header.tc, true);
  assert.deepEqual(backB.answers, m.answers);
  assert.deepEqual(backB.authorities, m.authorities.slice(0, 1));
  assert.deepEqual(backB.additionals, []);
});

test('truncation: a message that fits is unchanged; one too small even for its questions keeps questions and OPT', () => {
  const m = bigAnswer(3, 1, 1);
  const full = serializeMessage(m).buf;
  assert.deepEqual(serializeMessage(m, { maxSize: full.length }), { buf: full, truncated: false });
  const tiny = serializeMessage(m, { maxSize: 20 });
  assert.equal(tiny.truncated, true);
  const back = parseMessage(tiny.buf);
  assert.deepEqual(back.questions, m.questions);
  assert.deepEqual([back.answers.length, back.authorities.length, back.additionals.length], [0, 0, 0]);
  assert.deepEqual(back.edns, m.edns);
  // Without EDNS the count of additionals is zero too.
  const plain = parseMessage(serializeMessage(bigAnswer(100, 0, 0, false), { maxSize: 512 }).buf);
  assert.equal(plain.header.tc, true);
  assert.equal(plain.edns, undefined);
});

/** A header with the given counts followed by `body`. */
const msg = (counts: [number, number, number, number], body: number[]) => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(7, 0);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i));
  return Buffer.concat([h, Buffer.from(body)]);
};
const label = (s: string) => [s.length, ...Buffer.from(s, 'latin1')];

function rejects(buf: Buffer, pattern: RegExp): void {
  assert.throws(
    () => parseMessage(buf),
    (e: unknown) => e instanceof WireError && pattern.test(e.message),
  );
}

test('compression pointer loops are rejected', () => {
  // The question name is a pointer to itself.
  rejects(msg([1, 0, 0, 0], [0xc0, 12, 0, 1, 0, 1]), /pointer loop/);
  // "a" then a pointer back to the "a": a two-step cycle.
  rejects(msg([1, 0, 0, 0], [...label('a'), 0xc0, 12, 0, 1, 0, 1]), /pointer loop/);
  // Two names pointing at each other.
  rejects(msg([2, 0, 0, 0], [...label('a'), 0xc0, 20, 0, 1, 0, 1, ...label('b'), 0xc0, 12, 0, 1, 0, 1]), /pointer loop/);
  // A pointer forward, even inside the message, is refused (pointers refer to prior names).
  rejects(msg([2, 0, 0, 0], [0xc0, 18, 0, 1, 0, 1, ...label('x'), 0, 0, 1, 0, 1]), /pointer loop/);
});

test('compression pointers outside the message or into the header are rejected', () => {
  rejects(msg([2, 0, 0, 0], [...label('a'), 0, 0, 1, 0, 1, 0xff, 0xff, 0, 1, 0, 1]), /outside/);
  rejects(msg([2, 0, 0, 0], [...label('a'), 0, 0, 1, 0, 1, 0xc0, 40, 0, 1, 0, 1]), /outside/);
  rejects(msg([2, 0, 0, 0], [...label('a'), 0, 0, 1, 0, 1, 0xc0, 4, 0, 1, 0, 1]), /header/);
  // Cut off in the middle of the pointer.
  rejects(msg([2, 0, 0, 0], [...label('a'), 0, 0, 1, 0, 1, 0xc0]), /cut off/);
});

test('labels over 63 octets, names over 255 octets and dots inside labels are rejected', () => {
  rejects(msg([1, 0, 0, 0], [64, ...Buffer.alloc(64, 0x61), 0, 0, 1, 0, 1]), /over 63/);
  rejects(msg([1, 0, 0, 0], [0x80, 0, 0, 1, 0, 1]), /over 63/);
  const long = Array.from({ length: 4 }, () => label('a'.repeat(63))).flat(); // 4 × 64 + 1 = 257 octets
  rejects(msg([1, 0, 0, 0], [...long, 0, 0, 1, 0, 1]), /longer than 255/);
  // 3 × 64 + 62 + 1 = 255 octets is the longest name there is.
  const longest = [...Array.from({ length: 3 }, () => label('a'.repeat(63))).flat(), ...label('b'.repeat(61)), 0, 0, 1, 0, 1];
  assert.equal(parseMessage(msg([1, 0, 0, 0], longest)).questions[0].name.length, 253);
  rejects(msg([1, 0, 0, 0], [...label('a.b'), 0, 0, 1, 0, 1]), /dot/);
});

test('other malformed messages are rejected with WireError', () => {
  rejects(Buffer.alloc(11), /header/);
  rejects(msg([1, 0, 0, 0], [...label('a'), 0, 0, 1]), /question/);
  rejects(msg([0, 1, 0, 0], [...label('a'), 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 5, 1, 2, 3, 4]), /RDATA/);
  // A record with 5 bytes of address.
  rejects(msg([0, 1, 0, 0], [...label('a'), 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 5, 1, 2, 3, 4, 5]), /not 4/);
  // CNAME whose name does not fill its RDATA.
  rejects(msg([0, 1, 0, 0], [...label('a'), 0, 0, 5, 0, 1, 0, 0, 0, 1, 0, 4, ...label('b'), 0, 9]), /RDATA/);
  // A name running past its RDATA into the next bytes.
  rejects(msg([0, 1, 0, 0], [...label('a'), 0, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, ...label('b'), 0]), /past the end/);
  // TXT character-string longer than the RDATA.
  rejects(msg([0, 1, 0, 0], [...label('a'), 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 0x61]), /TXT/);
  // SOA without its five numbers.
  rejects(msg([0, 1, 0, 0], [...label('a'), 0, 0, 6, 0, 1, 0, 0, 0, 1, 0, 4, 0, 0, 0, 0]), /SOA/);
  const optRecord = [0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0];
  rejects(msg([0, 1, 0, 0], optRecord), /outside the additional/);
  rejects(msg([0, 0, 0, 2], [...optRecord, ...optRecord]), /more than one OPT/);
  rejects(msg([0, 0, 0, 1], [...label('a'), ...optRecord]), /root/);
  rejects(msg([0, 0, 0, 1], [0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 3, 0, 10, 0]), /EDNS option/);
  rejects(msg([0, 0, 0, 1], [0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 4, 0, 10, 0, 1]), /EDNS option/);
  // More records announced than present.
  rejects(msg([0, 0, 0, 3], optRecord), /ends inside|runs past/);
  assert.equal(parseHeaderId(Buffer.from([1])), undefined);
});

test('trailing bytes after the last record are ignored', () => {
  const buf = serializeMessage(everyKind()).buf;
  assert.deepEqual(parseMessage(Buffer.concat([buf, Buffer.from([1, 2, 3])])), everyKind());
});

test('serializing refuses what cannot be written, with WireError', () => {
  const q = (name: string) => message({ questions: [{ name, type: 1, class: 1 }] });
  const writes = (m: Message, pattern: RegExp) =>
    assert.throws(
      () => serializeMessage(m),
      (e: unknown) => e instanceof WireError && pattern.test(e.message),
    );
  writes(q(`${'a'.repeat(64)}.example`), /longer than 63/);
  writes(q(Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')), /longer than 255/);
  writes(q('a..b'), /empty label/);
  writes(q('\u4e2d.example'), /not one byte/);
  const one = (r: ResourceRecord): Message => ({ ...q('x'), answers: [r] });
  writes(one(rr('x', RRType.A, { kind: 'A', address: '10.0.0.256' })), /not an IPv4/);
  writes(one(rr('x', RRType.A, { kind: 'A', address: '010.0.0.1' })), /not an IPv4/);
  writes(one(rr('x', RRType.AAAA, { kind: 'AAAA', address: '1::2::3' })), /not an IPv6/);
  writes(one(rr('x', RRType.A, { kind: 'name', target: 'y' })), /has name data/);
  writes(one(rr('x', RRType.OPT, { kind: 'raw', data: Buffer.alloc(0) })), /OPT/);
  writes(one(rr('x', RRType.A, { kind: 'A', address: '1.2.3.4' }, -1)), /TTL/);
  writes(one(rr('x', RRType.SRV, { kind: 'SRV', priority: 0, weight: 0, port: 70000, target: 'y' })), /SRV port/);
  writes({ ...q('x'), header: header({ rcode: 16 }) }, /rcode/);
  writes({ ...q('x'), header: header({ id: 65536 }) }, /id/);
  writes({ ...q('x'), edns: { udpSize: 1232, extendedRcode: 256, version: 0, dnssecOk: false, options: [] } }, /extended rcode/);
});

test('AAAA addresses come back in Node canonical form', () => {
  const rand = xorshift(99);
  for (let n = 0; n < 2000; n++) {
    const words = Array.from({ length: 8 }, () => [0, 0, 0, 1, 0xffff, rand() & 0xffff][rand() % 6]);
    if (n % 3 === 0) words.fill(0, 0, 5);
    const text = words.map((w) => w.toString(16)).join(':');
    const m = message({ answers: [rr('x', RRType.AAAA, { kind: 'AAAA', address: text })] });
    const data = parseMessage(serializeMessage(m).buf).answers[0].data;
    assert.deepEqual(data, { kind: 'AAAA', address: new SocketAddress({ address: text, family: 'ipv6' }).address }, text);
  }
});

test('reverseName and ipFromReverseName, both ways', () => {
  assert.equal(reverseName('10.96.0.10'), '10.0.96.10.in-addr.arpa');
  assert.equal(reverseName('0.0.0.0'), '0.0.0.0.in-addr.arpa');
  assert.equal(reverseName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  assert.equal(reverseName('::ffff:10.1.2.3'), '3.0.2.0.1.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa');
  assert.equal(reverseName('FD00::ABCD'), reverseName('fd00:0:0:0:0:0:0:abcd'));
  assert.equal(ipFromReverseName('10.0.96.10.in-addr.arpa'), '10.96.0.10');
  assert.equal(ipFromReverseName('10.0.96.10.IN-ADDR.ARPA.'), '10.96.0.10');
  assert.equal(ipFromReverseName('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa'), '2001:db8::1');
  assert.equal(ipFromReverseName(reverseName('::ffff:10.1.2.3')), '::ffff:10.1.2.3');
  assert.equal(ipFromReverseName(reverseName('::')), '::');
  for (const partial of [
    '10.in-addr.arpa',
    '0.96.10.in-addr.arpa',
    '1.10.0.96.10.in-addr.arpa',
    'in-addr.arpa',
    '256.0.0.10.in-addr.arpa',
    '01.0.0.10.in-addr.arpa',
    'a.0.0.10.in-addr.arpa',
    '..0.10.in-addr.arpa',
    '8.b.d.0.1.0.0.2.ip6.arpa',
    '10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    'g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    'web.default.svc.cluster.local',
    '',
  ]) {
    assert.equal(ipFromReverseName(partial), undefined, partial);
  }
  for (const bad of ['10.0.0', '10.0.0.256', '1::2::3', 'example.com', '', 'fe80::1%eth0']) assert.throws(() => reverseName(bad), WireError, bad);

  const rand = xorshift(7);
  for (let n = 0; n < 2000; n++) {
    const v4 = [rand() & 255, rand() & 255, rand() & 255, rand() & 255].join('.');
    assert.equal(ipFromReverseName(reverseName(v4)), v4);
    const words = Array.from({ length: 8 }, () => (rand() % 3 === 0 ? 0 : rand() & 0xffff).toString(16));
    const v6 = new SocketAddress({ address: words.join(':'), family: 'ipv6' }).address;
    assert.equal(ipFromReverseName(reverseName(v6)), v6);
    assert.equal(ipFromReverseName(reverseName(words.join(':'))), v6);
  }
});

test('reverseName accepts exactly the addresses net.isIP accepts (no zones)', () => {
  const rand = xorshift(3);
  const alphabet = '0123456789abcdefABCDEF:.';
  for (let n = 0; n < 20_000; n++) {
    const len = 1 + (rand() % 24);
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[rand() % alphabet.length];
    if (n % 2) s = s.replace(/^[^:]*/, '').replace(/^/, ['::', '1:', 'ffff::', ''][rand() % 4]);
    let ok = true;
    try {
      reverseName(s);
    } catch (e) {
      assert.ok(e instanceof WireError);
      ok = false;
    }
    assert.equal(ok, isIP(s) !== 0, s);
  }
});

test('normalizeName lowercases ASCII and strips one trailing dot', () => {
  assert.equal(normalizeName('Web.Default.SVC.Cluster.Local.'), 'web.default.svc.cluster.local');
  assert.equal(normalizeName('a.b..'), 'a.b.');
  assert.equal(normalizeName('.'), '');
  assert.equal(normalizeName(''), '');
  assert.equal(normalizeName('\u00c9.example'), '\u00c9.example');
});

test('fuzz: random and mutated messages parse or throw WireError, and what parses serializes back to itself', { timeout: 30_000 }, () => {
  const seed = 0x5eed;
  const rand = xorshift(seed);
  const started = performance.now();
  const check = (buf: Buffer, what: string) => {
    let m: Message;
    try {
      m = parseMessage(buf);
    } catch (e) {
      if (e instanceof WireError) return false;
      assert.fail(`${what} (seed ${seed}): ${String(e)} for ${buf.toString('hex')}`);
    }
    // Whatever parses must serialize, and parse back to the same message.
    assert.deepEqual(parseMessage(serializeMessage(m).buf), m, `${what}: ${buf.toString('hex')}`);
    return true;
  };

  let parsed = 0;
  for (let n = 0; n < 20_000; n++) {
    const buf = Buffer.alloc(rand() % 601);
    for (let i = 0; i < buf.length; i++) buf[i] = rand() & 255;
    // Half of them get small section counts, so parsing goes past the header.
    if (n % 2 && buf.length >= 12) for (let i = 4; i < 12; i++) buf[i] = i % 2 ? rand() % 4 : 0;
    if (check(buf, `random buffer ${n}`)) parsed++;
  }

  const seeds = [
    serializeMessage(everyKind()).buf,
    serializeMessage(bigAnswer(20, 3, 3)).buf,
    Buffer.from('ac1701200001000000000001076578616d706c6503636f6d000001000100002904d000000000000c000a00088908a2cdacd38a5f', 'hex'),
  ];
  for (let n = 0; n < 20_000; n++) {
    let buf = Buffer.from(seeds[n % seeds.length]);
    const edits = 1 + (rand() % 4);
    for (let e = 0; e < edits; e++) {
      const op = rand() % 6;
      if (op <= 2 && buf.length) buf[rand() % buf.length] = op === 0 ? rand() & 255 : buf[rand() % buf.length] ^ (1 << (rand() % 8));
      else if (op === 3) buf = buf.subarray(0, rand() % (buf.length + 1));
      else if (op === 4) buf = Buffer.concat([buf, Buffer.from(Array.from({ length: rand() % 32 }, () => rand() & 255))]);
      else if (buf.length > 13) buf[12 + (rand() % (buf.length - 12))] = [0xc0, 0xc0 | (rand() & 0x3f), 63, 64, 0][rand() % 5];
    }
    if (check(buf, `mutation ${n}`)) parsed++;
  }
  const seconds = (performance.now() - started) / 1000;
  assert.ok(parsed > 1000, `only ${parsed} of 40000 fuzz inputs parsed: the mutations are too destructive to exercise the decoders`);
  assert.ok(seconds < 15, `fuzzing took ${seconds.toFixed(1)} s`);
});
