import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createAffinity,
  createScheduler,
  createSeededRng,
  DEFAULT_CLIENT_IP_AFFINITY_SECONDS,
  isSchedulerName,
  SCHEDULER_NAMES,
  toBackend,
  withAffinity,
  type Backend,
  type Scheduler,
} from '../../src/proxy/lb/index.js';
import { foldAddress } from '../../src/proxy/lb/addr.js';
import { hash32, sipHash } from '../../src/proxy/lb/hash.js';
import { mhLookupTable } from '../../src/proxy/lb/mh.js';
import { shTable } from '../../src/proxy/lb/sh.js';

const HOUR = 3600_000;

/** Backends named a, b, c... at 10.244.<i>.10:8080 with the given fields. */
function backends(...specs: Partial<Backend>[]): Backend[] {
  return specs.map((s, i) => ({ ...toBackend(`10.244.${i + 1}.10`, 8080), ...s }));
}

const names = new Map<string, string>();
for (let i = 0; i < 8; i++) names.set(`10.244.${i + 1}.10:8080`, 'abcdefgh'[i]!);
const letter = (b: Backend | undefined) => (b ? names.get(b.id)! : '-');

function sequence(s: Scheduler, bs: Backend[], n: number, client = { ip: '10.0.0.1' }): string {
  let out = '';
  for (let i = 0; i < n; i++) out += letter(s.pick(bs, client, 0));
  return out;
}

test('wrr: the kernel interleaved sequence, gcd steps, overload and quiesce', () => {
  const wrr = createScheduler('wrr');
  const bs = backends({ weight: 4 }, { weight: 3 }, { weight: 2 });
  assert.equal(sequence(wrr, bs, 18), 'aababcabc' + 'aababcabc');

  assert.equal(sequence(createScheduler('wrr'), backends({ weight: 4 }, { weight: 2 }), 6), 'aabaab');
  assert.equal(sequence(createScheduler('wrr'), backends({ weight: 3 }, { weight: 1 }), 8), 'aaabaaab');
  assert.equal(sequence(createScheduler('wrr'), backends({ weight: 2 }, { weight: 0 }, { weight: 1 }), 6), 'aacaac');

  const overloaded = backends({ weight: 4, overloaded: true }, { weight: 3 }, { weight: 2 });
  const w2 = createScheduler('wrr');
  assert.equal(sequence(w2, overloaded, 5), 'bbcbc');
  assert.ok(!sequence(w2, overloaded, 30).includes('a'));

  const allOver = backends({ overloaded: true }, { overloaded: true });
  const w3 = createScheduler('wrr');
  assert.equal(w3.pick(allOver, { ip: '10.0.0.1' }, 0), undefined);
  assert.equal(sequence(w3, backends({}, {}), 4), 'abab');
  assert.equal(createScheduler('wrr').pick(backends({ weight: 0 }, { weight: 0 }), { ip: '10.0.0.1' }, 0), undefined);
  assert.equal(createScheduler('wrr').pick([], { ip: '10.0.0.1' }, 0), undefined);
});

test('wrr: a weight change restarts the walk at the head of the list', () => {
  const wrr = createScheduler('wrr');
  assert.equal(sequence(wrr, backends({ weight: 1 }, { weight: 1 }, { weight: 1 }), 2), 'ab');
  // Now 1:1:2: the walk restarts at the head but cw stays 1 (it is <= the new
  // mw 2), so this pass takes everyone; then a pass for weight >= 2 (only c).
  assert.equal(sequence(wrr, backends({ weight: 1 }, { weight: 1 }, { weight: 2 }), 8), 'abccabcc');
});

test('rr (ipvs): cycles, skips quiesced and overloaded, survives removals', () => {
  const rr = createScheduler('rr');
  const bs = backends({}, {}, {}, {});
  assert.equal(sequence(rr, bs, 6), 'abcdab');
  // Last pick was b; b leaves: the walk goes on from its predecessor a, so c is next.
  const withoutB = bs.filter((b) => letter(b) !== 'b');
  assert.equal(sequence(rr, withoutB, 4), 'cdac');
  assert.equal(sequence(createScheduler('rr'), backends({}, { weight: 0 }, { overloaded: true }, {}), 4), 'adad');
  assert.equal(createScheduler('rr').pick(backends({ weight: 0 }, { overloaded: true }), { ip: '10.0.0.1' }, 0), undefined);
});

test('rr (userspace LoadBalancerRR): shuffled cycle, reset only when the endpoint set changes', () => {
  const rr = createScheduler('rr', { rrFlavor: 'userspace', rng: createSeededRng(7) });
  const bs = backends({}, {}, {});
  const first = sequence(rr, bs, 3);
  assert.deepEqual([...first].sort(), ['a', 'b', 'c']);
  assert.equal(sequence(rr, bs, 6), first + first);
  // Same set in another order: no reshuffle, no reset.
  assert.equal(sequence(rr, [...bs].reverse(), 3), first);
  // A new set: reshuffled and the index back to 0, so a full cycle over the new set follows.
  const four = backends({}, {}, {}, {});
  const cycle = sequence(rr, four, 4);
  assert.deepEqual([...cycle].sort(), ['a', 'b', 'c', 'd']);
  assert.equal(sequence(rr, four, 4), cycle);
  // Same seed, same picks.
  const again = createScheduler('rr', { rrFlavor: 'userspace', rng: createSeededRng(7) });
  assert.equal(sequence(again, bs, 3), first);
});

test('lc: least activeconns*256 + inactconns, first on ties, skipping quiesced and overloaded', () => {
  const lc = createScheduler('lc');
  const pick = (bs: Backend[]) => letter(lc.pick(bs, { ip: '10.0.0.1' }, 0));
  assert.equal(pick(backends({ activeConns: 2 }, { activeConns: 1, inactiveConns: 300 }, { activeConns: 1, inactiveConns: 10 })), 'c');
  // One active connection weighs 256 inactive ones.
  assert.equal(pick(backends({ activeConns: 1 }, { inactiveConns: 255 })), 'b');
  assert.equal(pick(backends({ activeConns: 1 }, { inactiveConns: 256 })), 'a');
  assert.equal(pick(backends({ activeConns: 1, weight: 1 }, { activeConns: 50, weight: 100 })), 'a'); // weights ignored
  assert.equal(pick(backends({ weight: 0 }, { activeConns: 3, overloaded: true }, { activeConns: 5 })), 'c');
  assert.equal(pick(backends({ weight: 0 })), '-');
});

test('wlc: overhead/weight compared by cross-multiplication; weight 0 never wins', () => {
  const wlc = createScheduler('wlc');
  const pick = (bs: Backend[]) => letter(wlc.pick(bs, { ip: '10.0.0.1' }, 0));
  // a: 256/1, b: 512/3 -> b.
  assert.equal(pick(backends({ activeConns: 1, weight: 1 }, { activeConns: 2, weight: 3 })), 'b');
  // a: 256/1, b: 768/3 -> equal, the earlier one stays.
  assert.equal(pick(backends({ activeConns: 1, weight: 1 }, { activeConns: 3, weight: 3 })), 'a');
  assert.equal(pick(backends({ weight: 0 }, { activeConns: 4, weight: 1 }, { weight: 0 })), 'b');
  assert.equal(pick(backends({ activeConns: 9, weight: 1 }, { overloaded: true }, { activeConns: 10, weight: 1 })), 'a');
  assert.equal(pick(backends({ weight: 0 }, { overloaded: true })), '-');
});

test('sed and nq: they part ways when a slow server is idle', () => {
  const sed = createScheduler('sed');
  const nq = createScheduler('nq');
  const client = { ip: '10.0.0.1' };
  // fast: (1+1)/10 = 0.2; slow and idle: (0+1)/1 = 1.
  const bs = backends({ weight: 10, activeConns: 1 }, { weight: 1, activeConns: 0 });
  assert.equal(letter(sed.pick(bs, client, 0)), 'a');
  assert.equal(letter(nq.pick(bs, client, 0)), 'b');
  // Nobody idle: nq is sed. fast (5+1)/10 = 0.6 vs slow (1+1)/1 = 2.
  const busy = backends({ weight: 10, activeConns: 5 }, { weight: 1, activeConns: 1 });
  assert.equal(letter(sed.pick(busy, client, 0)), 'a');
  assert.equal(letter(nq.pick(busy, client, 0)), 'a');
  // sed counts the incoming job, wlc does not: both idle, wlc keeps the first, sed takes the heavier.
  const idle = backends({ weight: 1 }, { weight: 10 });
  assert.equal(letter(createScheduler('wlc').pick(idle, client, 0)), 'a');
  assert.equal(letter(sed.pick(idle, client, 0)), 'b');
  // Inactive connections do not count for sed.
  assert.equal(letter(sed.pick(backends({ inactiveConns: 1000 }, { activeConns: 1 }), client, 0)), 'a');
  // An idle but quiesced or overloaded server is not taken.
  assert.equal(letter(nq.pick(backends({ activeConns: 2 }, { weight: 0 }, { overloaded: true }), client, 0)), 'a');
});

test('hash functions: hash_32 and SipHash as the kernel computes them', () => {
  assert.equal(hash32(1, 8), 0x61);
  assert.equal(hash32(2, 8), 0xc3);
  // SipHash-2-4 reference vectors (key 00..0f).
  const key = { k0: 0x0706050403020100n, k1: 0x0f0e0d0c0b0a0908n };
  assert.equal(sipHash(key, new Uint8Array(0), 2, 4), 0x726fdb47dd0e0e31n);
  assert.equal(sipHash(key, Uint8Array.from({ length: 15 }, (_, i) => i), 2, 4), 0xa129ca6149be45e5n);
  // SipHash-1-3 with a zero key, as CPython's hash() of bytes with PYTHONHASHSEED=0.
  const zero = { k0: 0n, k1: 0n };
  assert.equal(sipHash(zero, Uint8Array.of(1, 2, 3, 4), 1, 3), 0xe7b1a066360ba9d4n);
  assert.equal(sipHash(zero, new TextEncoder().encode('hello world, kubesvc'), 1, 3), 0xbceba77b2972a306n);
  assert.equal(foldAddress('10.244.0.5'), 0x0af40005);
  assert.equal(foldAddress('::ffff:10.244.0.5'), 0x0af40005);
  assert.equal(foldAddress('fd00::1:0:0:2'), (0xfd000000 ^ 0x00010000 ^ 0x00000002) >>> 0);
});

test('sh: buckets dealt by weight, hashed by source address, kernel fallback', () => {
  // Weights 1:3 -> a b b b a b b b ...: 64 and 192 buckets.
  const table = shTable(backends({ weight: 1 }, { weight: 3 }));
  assert.deepEqual([...table.slice(0, 8)], [0, 1, 1, 1, 0, 1, 1, 1]);
  assert.equal(table.filter((i) => i === 0).length, 64);
  // A weight-0 backend still takes a bucket per round.
  assert.deepEqual([...shTable(backends({ weight: 0 }, { weight: 1 })).slice(0, 4)], [0, 1, 0, 1]);

  const sh = createScheduler('sh');
  const three = backends({}, {}, {});
  // bucket = hash_32(saddr, 8): 0.0.0.1 -> 0x61 = 97 -> 97 mod 3 = b; 0.0.0.2 -> 195 -> a.
  assert.equal(letter(sh.pick(three, { ip: '0.0.0.1' }, 0)), 'b');
  assert.equal(letter(sh.pick(three, { ip: '0.0.0.2' }, 0)), 'a');
  assert.equal(letter(sh.pick(three, { ip: '::1' }, 0)), 'b'); // IPv6 folds to 1
  for (let i = 0; i < 5; i++) assert.equal(letter(sh.pick(three, { ip: '10.7.3.9', port: 40000 + i }, 0)), letter(sh.pick(three, { ip: '10.7.3.9' }, 0)));

  // b overloaded: without fallback nothing; with it, the kernel probes bucket (97 + 97) & 255 = 194 -> c.
  const bOver = backends({}, { overloaded: true }, {});
  assert.equal(sh.pick(bOver, { ip: '0.0.0.1' }, 0), undefined);
  assert.equal(letter(createScheduler('sh', { fallback: true }).pick(bOver, { ip: '0.0.0.1' }, 0)), 'c');
  // 0.0.0.2 hashes to 195 (a); a overloaded: probe (195 + 195) & 255 = 134 -> c, not the next bucket's b.
  const aOver = backends({ overloaded: true }, {}, {});
  assert.equal(letter(createScheduler('sh', { fallback: true }).pick(aOver, { ip: '0.0.0.2' }, 0)), 'c');
  assert.equal(letter(createScheduler('sh', { fallback: true }).pick(backends({ weight: 0 }, {}), { ip: '0.0.0.0' }, 0)), 'b');

  // sh-port: the source port joins the hash.
  const two = backends({}, {});
  assert.equal(letter(createScheduler('sh').pick(two, { ip: '0.0.0.0', port: 1 }, 0)), 'a');
  assert.equal(letter(createScheduler('sh', { port: true }).pick(two, { ip: '0.0.0.0', port: 1 }, 0)), 'b');

  // 1000 clients spread roughly by weight 1:3.
  const weighted = backends({ weight: 1 }, { weight: 3 });
  const counts = { a: 0, b: 0 } as Record<string, number>;
  for (let i = 0; i < 1000; i++) counts[letter(sh.pick(weighted, { ip: `10.0.${i >> 8}.${i & 255}` }, 0))]!++;
  assert.ok(Math.abs(counts.a! - 250) <= 50, `a got ${counts.a}`);
  assert.ok(Math.abs(counts.b! - 750) <= 50, `b got ${counts.b}`);
});

test('dh: by destination address; the kernel keeps the low byte of the product', () => {
  const dh = createScheduler('dh', { destIp: '10.96.0.1' });
  const three = backends({}, {}, {});
  // bucket = (daddr * 2654435761) & 255 = (last octet * 0xb1) & 255; buckets dealt a b c a b c ...
  assert.equal(letter(dh.pick(three, { ip: '10.0.0.1' }, 0)), 'a'); // 177 mod 3 = 0
  assert.equal(letter(dh.pick(three, { ip: '10.0.0.99' }, 0)), 'a'); // any client
  assert.equal(letter(dh.pick(three, { ip: '10.0.0.1', destIp: '10.96.0.2' }, 0)), 'c'); // 98 mod 3 = 2
  assert.equal(letter(dh.pick(three, { ip: '10.0.0.1', destIp: '10.96.0.3' }, 0)), 'b'); // 19 mod 3 = 1
  assert.equal(letter(dh.pick(three, { ip: '10.0.0.1', destIp: '192.168.7.1' }, 0)), 'a'); // same low byte
  assert.equal(dh.pick(backends({ overloaded: true }, {}, {}), { ip: '10.0.0.1' }, 0), undefined); // no fallback
  assert.throws(() => createScheduler('dh').pick(three, { ip: '10.0.0.1' }, 0), /no destination address/);
});

test('lblc: sticks to the cached backend per destination until lblc-overloaded, gone or expired', () => {
  const lblc = createScheduler('lblc', { destIp: '10.96.0.10' });
  const client = { ip: '10.0.0.1' };
  const t0 = 1_000_000;
  assert.equal(letter(lblc.pick(backends({ weight: 10 }, { weight: 10 }), client, t0)), 'a'); // wlc, first on tie
  // b is now less loaded, but a is not overloaded in lblc's sense (5 <= weight 10): locality wins.
  assert.equal(letter(lblc.pick(backends({ weight: 10, activeConns: 5 }, { weight: 10 }), client, t0 + 1)), 'a');
  // The IPVS overload flag is not consulted for the cached backend.
  assert.equal(letter(lblc.pick(backends({ weight: 10, activeConns: 5, overloaded: true }, { weight: 10 }), client, t0 + 2)), 'a');
  // a has more active connections than its weight but nobody is under half of theirs: still a.
  assert.equal(letter(lblc.pick(backends({ weight: 10, activeConns: 11 }, { weight: 10, activeConns: 6 }), client, t0 + 3)), 'a');
  // ... and once b is under half its weight, a is overloaded: re-pick by wlc, and remember b.
  assert.equal(letter(lblc.pick(backends({ weight: 10, activeConns: 11 }, { weight: 10, activeConns: 4 }), client, t0 + 4)), 'b');
  assert.equal(letter(lblc.pick(backends({ weight: 10 }, { weight: 10, activeConns: 8 }), client, t0 + 5)), 'b');
  // Another destination has its own entry.
  assert.equal(letter(lblc.pick(backends({ weight: 10 }, { weight: 10, activeConns: 8 }), { ip: '10.0.0.1', destIp: '172.18.0.2' }, t0 + 6)), 'a');
  // b quiesced or removed: re-pick.
  assert.equal(letter(lblc.pick(backends({ weight: 10, activeConns: 3 }, { weight: 0 }), client, t0 + 7)), 'a');
  assert.equal(letter(lblc.pick(backends({ weight: 10, activeConns: 3 }, { weight: 10 }), client, t0 + 8)), 'a');

  // Expiry: unused for lblc_expiration (24 h) the entry goes and wlc decides afresh.
  const busyA = backends({ weight: 10, activeConns: 3 }, { weight: 10 });
  assert.equal(letter(lblc.pick(busyA, client, t0 + 24 * HOUR + 7)), 'a'); // used at t0 + 8, so still cached
  assert.equal(letter(lblc.pick(busyA, client, t0 + 48 * HOUR + 7)), 'b');
  const short = createScheduler('lblc', { destIp: '10.96.0.10', expirationSeconds: 60 });
  assert.equal(letter(short.pick(backends({}, {}), client, 0)), 'a');
  assert.equal(letter(short.pick(backends({ activeConns: 1 }, {}), client, 59_999)), 'a');
  assert.equal(letter(short.pick(backends({ activeConns: 1 }, {}), client, 59_999 + 60_000)), 'b');
});

test('mh: Maglev table by weight, consistent picks, minimal disruption, quiesce keeps the table', () => {
  const three = backends({}, {}, {});
  const counts = (t: Int32Array, n: number) => Array.from({ length: n }, (_, i) => t.filter((x) => x === i).length);
  const eq = counts(mhLookupTable(three), 3);
  assert.equal(eq.reduce((s, x) => s + x, 0), 4093); // default CONFIG_IP_VS_MH_TAB_INDEX=12 -> 4093
  assert.ok(Math.max(...eq) - Math.min(...eq) <= 1, String(eq));
  assert.deepEqual(counts(mhLookupTable(backends({ weight: 2 }, {}, {})), 3), [2047, 1023, 1023]);
  assert.equal(mhLookupTable(three, undefined, 8).length, 251);

  const five = backends({}, {}, {}, {}, {});
  const mh = createScheduler('mh');
  const clients = Array.from({ length: 1000 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
  const before = clients.map((ip) => letter(mh.pick(five, { ip }, 0)));
  assert.deepEqual(clients.map((ip) => letter(mh.pick(five, { ip }, 0))), before);
  for (const l of 'abcde') assert.ok(before.filter((x) => x === l).length > 120, `${l} underused`);

  // Remove c: its clients move; of the others at most ~1/N move.
  const withoutC = five.filter((b) => letter(b) !== 'c');
  const after = clients.map((ip) => letter(mh.pick(withoutC, { ip }, 0)));
  const moved = before.filter((l, i) => l !== 'c' && after[i] !== l).length;
  assert.ok(moved <= 1000 / 5, `${moved} clients of surviving backends remapped`);
  assert.ok(after.every((l) => l !== 'c' && l !== '-'));

  // Quiesce c (weight 0): its last weight keeps its positions, so nobody else moves.
  const quiesced = backends({}, {}, { weight: 0 }, {}, {});
  const mq = createScheduler('mh');
  mq.pick(five, { ip: '10.0.0.1' }, 0);
  const q = clients.map((ip) => letter(mq.pick(quiesced, { ip }, 0)));
  assert.ok(q.every((l, i) => (before[i] === 'c' ? l === '-' : l === before[i])));
  const fb = createScheduler('mh', { fallback: true });
  fb.pick(five, { ip: '10.0.0.1' }, 0);
  const qf = clients.map((ip) => letter(fb.pick(quiesced, { ip }, 0)));
  assert.ok(qf.every((l, i) => (before[i] === 'c' ? l !== 'c' && l !== '-' : l === before[i])));
  // Whereas a backend added with weight 0 (as c is here, after its removal above) gets no positions.
  assert.ok(clients.every((ip) => letter(mh.pick(quiesced, { ip }, 0)) !== 'c'));
  assert.deepEqual(counts(mhLookupTable(quiesced, [1, 1, 0, 1, 1]), 5)[2], 0);
});

test('random: uniform over available backends with a seeded RNG, deterministic per seed', () => {
  const r = createScheduler('random', { rng: createSeededRng(42) });
  const bs = backends({}, {}, {}, { weight: 0 }, { overloaded: true });
  const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
  for (let i = 0; i < 30000; i++) counts[letter(r.pick(bs, { ip: '10.0.0.1' }, 0))]!++;
  assert.deepEqual(Object.keys(counts).sort(), ['a', 'b', 'c']);
  for (const l of 'abc') assert.ok(Math.abs(counts[l]! - 10000) < 300, `${l}: ${counts[l]}`);
  const s1 = sequence(createScheduler('random', { rng: createSeededRng(1) }), bs, 50);
  assert.equal(sequence(createScheduler('random', { rng: createSeededRng(1) }), bs, 50), s1);
  assert.notEqual(sequence(createScheduler('random', { rng: createSeededRng(2) }), bs, 50), s1);
  assert.equal(r.pick([], { ip: '10.0.0.1' }, 0), undefined);
});

test('ClientIP affinity: sticky while used within the timeout, then re-picked; gone backends dropped', () => {
  const affinity = createAffinity(10);
  const s = withAffinity(createScheduler('rr'), affinity);
  const bs = backends({}, {}, {});
  const x = { ip: '10.0.0.1' };
  const y = { ip: '10.0.0.2' };
  assert.equal(letter(s.pick(bs, x, 0)), 'a');
  assert.equal(letter(s.pick(bs, y, 0)), 'b');
  assert.equal(letter(s.pick(bs, x, 5_000)), 'a');
  assert.equal(letter(s.pick(bs, x, 14_999)), 'a'); // 9.999 s after the last use: refreshed again
  assert.equal(letter(s.pick(bs, { ip: '::ffff:10.0.0.1' }, 20_000)), 'a'); // same client seen on a dual-stack socket
  assert.equal(letter(s.pick(bs, x, 30_000)), 'c'); // exactly timeoutSeconds since last use: expired, rr goes on
  assert.equal(letter(s.pick(bs, x, 31_000)), 'c');
  // A remembered backend that left the endpoints is dropped and replaced.
  const withoutB = bs.filter((b) => letter(b) !== 'b');
  assert.equal(letter(s.pick(withoutB, y, 1_000)), 'a');
  assert.equal(affinity.entries.get('10.0.0.2')?.backendId, '10.244.1.10:8080');
  // Quiesced but still an endpoint: stays sticky (IPVS persistence does the same).
  assert.equal(letter(s.pick(backends({}, {}, { weight: 0 }), x, 32_000)), 'c');

  affinity.prune(withoutB, 41_000); // y last used at 1 s: expired; x at 32 s: fresh
  assert.deepEqual([...affinity.entries.keys()], ['10.0.0.1']);
  affinity.prune(backends({}, {}), 41_000); // x's backend c is gone
  assert.equal(affinity.entries.size, 0);

  assert.equal(createAffinity(0).timeoutSeconds, DEFAULT_CLIENT_IP_AFFINITY_SECONDS);
  assert.throws(() => createAffinity(-1), RangeError);
});

test('createScheduler: every IPVS name plus random; unknown names refused', () => {
  assert.equal(SCHEDULER_NAMES.length, 11);
  for (const name of SCHEDULER_NAMES) {
    const s = createScheduler(name, { destIp: '10.96.0.10', rng: createSeededRng(1) });
    assert.equal(s.name, name);
    assert.equal(s.pick([], { ip: '10.0.0.1' }, 0), undefined, name);
    assert.equal(letter(s.pick(backends({}), { ip: '10.0.0.1' }, 0)), 'a', name);
  }
  assert.ok(isSchedulerName('mh') && !isSchedulerName('lblcr'));
  assert.throws(() => createScheduler('lblcr' as never), /unknown scheduler "lblcr"/);
  assert.equal(toBackend('fd00::5', 80).id, '[fd00::5]:80');
});
