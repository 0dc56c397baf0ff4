// Turns one question into the cluster zone's answer, from the record index
// (records.ts), the way CoreDNS's kubernetes plugin with `pods verified` and
// `fallthrough in-addr.arpa ip6.arpa` answers: names outside the zone, and
// reverse names of IPs the cluster does not know, are left to the forwarder;
// zone transfers are refused; names that do not exist are NXDOMAIN and names
// without the asked type are NODATA, both with the zone's SOA so resolvers
// can cache the miss.
// ANY is answered with the name's A/AAAA (or CNAME) records only (RFC 8482
// allows a subset; CoreDNS itself answers ANY with NODATA).
// This is the one place that decides what is the zone's (routeOf) and what it
// answers (answerQuery); the server (server.ts) only carries the result.
import type { DnsIndex } from './records.js';
import { Rcode, RRClass, RRType, type Question, type ResourceRecord } from './types.js';
import { ipFromReverseName, normalizeName } from './wire.js';

export const DEFAULT_TTL = 5;

export interface AnswerOptions {
  /** TTL of every record and the SOA minimum, seconds (CoreDNS default 5). */
  ttl?: number;
}

/** The zone's own response to a question: the sections and rcode of the reply. */
export interface ZoneResponse {
  rcode: number;
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
  authoritative: boolean;
}

/** What the cluster zone says about one question: its response, or "not ours: forward it". */
export type AnswerResult = ZoneResponse | { forward: true };

/** ExternalName chains longer than this (or looping) are SERVFAIL, as CoreDNS reports a loop. */
const maxCnameChain = 8;

const ipv4ReverseSuffix = '.in-addr.arpa';
const ipv6ReverseSuffix = '.ip6.arpa';

/** Whether a normalized name is the zone (normalized) or below it. */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** Where a question belongs (see routeOf). */
export type Route = 'transfer' | 'zone' | 'reverse' | 'elsewhere';

/**
 * Where a question belongs, by its name and type: a zone transfer (refused,
 * whatever the name), the cluster zone, the reverse zones (PTRs the cluster
 * may know), or elsewhere (forwarded). `zone` is normalized.
 */
export function routeOf(q: Question, zone: string): Route {
  if (q.type === RRType.AXFR || q.type === RRType.IXFR) return 'transfer';
  const name = normalizeName(q.name);
  if (inZone(name, zone)) return 'zone';
  return name.endsWith(ipv4ReverseSuffix) || name.endsWith(ipv6ReverseSuffix) ? 'reverse' : 'elsewhere';
}

/** The answer to a zone transfer (AXFR, IXFR): REFUSED, as CoreDNS without the transfer plugin. */
export function zoneTransferRefusal(): ZoneResponse {
  return { rcode: Rcode.REFUSED, answers: [], authorities: [], additionals: [], authoritative: false };
}

/** "4.3.2.1.in-addr.arpa" (normalized) → "1.2.3.4"; undefined unless it names exactly one address (wire.ts's ipFromReverseName decides). */
export function ipv4FromReverseName(name: string): string | undefined {
  return name.endsWith(ipv4ReverseSuffix) ? ipFromReverseName(name) : undefined;
}

/**
 * "1.0.0.0…8.b.d.0.1.0.0.2.ip6.arpa" (normalized, 32 nibbles) → "2001:0db8:…:0001",
 * every nibble written out; undefined unless it names exactly one address
 * (wire.ts's ipFromReverseName decides).
 */
export function ipv6FromReverseName(name: string): string | undefined {
  if (!name.endsWith(ipv6ReverseSuffix) || ipFromReverseName(name) === undefined) return undefined;
  const hex = name.slice(0, -ipv6ReverseSuffix.length).split('.').reverse().join('');
  return hex.match(/.{4}/g)!.join(':');
}

function record(name: string, type: number, ttl: number, data: ResourceRecord['data']): ResourceRecord {
  return { name, type, class: RRClass.IN, ttl, data };
}

/** CoreDNS's SOA for a zone it serves (plugin.SOA). */
function soaRecord(zone: string, serial: number, ttl: number, owner = zone): ResourceRecord {
  return record(owner, RRType.SOA, ttl, {
    kind: 'SOA',
    mname: `ns.dns.${zone}`,
    rname: `hostmaster.${zone}`,
    serial,
    refresh: 7200,
    retry: 1800,
    expire: 86400,
    minimum: ttl,
  });
}

/** A/AAAA records of a name in the index (for SRV additionals and CNAME chasing). */
function addressRecords(index: DnsIndex, owner: string, ttl: number, types: { a: boolean; aaaa: boolean }): ResourceRecord[] {
  const found = index.lookup(owner);
  if (!found) return [];
  return [
    ...(types.a ? found.ipv4.map((address) => record(owner, RRType.A, ttl, { kind: 'A', address })) : []),
    ...(types.aaaa ? found.ipv6.map((address) => record(owner, RRType.AAAA, ttl, { kind: 'AAAA', address })) : []),
  ];
}

interface NameAnswer {
  rcode: number;
  answers: ResourceRecord[];
  additionals: ResourceRecord[];
  /** NXDOMAIN, or NOERROR without data of the asked type (after any CNAMEs): the SOA goes in the authority section. */
  negative: boolean;
}

/** Records of one in-zone name for the type; CNAMEs are followed while the target stays in the zone. */
function answerName(index: DnsIndex, owner: string, type: number, ttl: number, chain: string[]): NameAnswer {
  const name = normalizeName(owner);
  const none = (rcode: number): NameAnswer => ({ rcode, answers: [], additionals: [], negative: rcode !== Rcode.SERVFAIL });
  const data = (answers: ResourceRecord[], additionals: ResourceRecord[] = []): NameAnswer => ({
    rcode: Rcode.NOERROR,
    answers,
    additionals,
    negative: answers.length === 0,
  });
  const found = index.lookup(name);
  if (!found) return none(Rcode.NXDOMAIN);
  const zone = index.zone;

  if (found.cname !== undefined) {
    const cname = record(owner, RRType.CNAME, ttl, { kind: 'name', target: found.cname });
    const target = found.cname;
    if (type === RRType.CNAME || !inZone(target, zone)) {
      return data([cname]);
    }
    if (chain.includes(target) || chain.length >= maxCnameChain) return none(Rcode.SERVFAIL);
    // RFC 6604: the rcode is the last name's in the chain.
    const next = answerName(index, found.cname, type, ttl, [...chain, name]);
    if (next.rcode === Rcode.SERVFAIL) return next;
    return { ...next, answers: [cname, ...next.answers] };
  }

  switch (type) {
    case RRType.A:
    case RRType.AAAA:
    case RRType.ANY:
      return data(addressRecords(index, owner, ttl, { a: type !== RRType.AAAA, aaaa: type !== RRType.A }));
    case RRType.SRV: {
      // CoreDNS: priority 0, the weight 100 shared evenly, each target's addresses in the additional section.
      const weight = Math.max(1, Math.floor(100 / Math.max(1, found.srv.length)));
      const answers = found.srv.map((s) => record(owner, RRType.SRV, ttl, { kind: 'SRV', priority: 0, weight, port: s.port, target: s.target }));
      const targets = [...new Set(found.srv.map((s) => s.target))];
      const additionals = targets.flatMap((t) => addressRecords(index, t, ttl, { a: true, aaaa: true }));
      return data(answers, additionals);
    }
    case RRType.TXT:
      return data(found.txt.map((text) => record(owner, RRType.TXT, ttl, { kind: 'TXT', texts: [text] })));
    case RRType.SOA:
      return data(name === zone ? [soaRecord(zone, index.serial(), ttl, owner)] : []);
    case RRType.NS:
      return data(name === zone ? [record(owner, RRType.NS, ttl, { kind: 'name', target: `ns.dns.${zone}` })] : []);
    default:
      return none(Rcode.NOERROR);
  }
}

/** PTR for a reverse name the index knows; undefined (forward) otherwise, as `fallthrough in-addr.arpa ip6.arpa`. */
function answerReverse(index: DnsIndex, q: Question, ttl: number): ZoneResponse | undefined {
  if (q.type !== RRType.PTR) return undefined;
  const name = normalizeName(q.name);
  const ip = ipv4FromReverseName(name) ?? ipv6FromReverseName(name);
  const targets = ip ? index.lookupPtr(ip) : [];
  if (targets.length === 0) return undefined;
  const answers = targets.map((target) => record(q.name, RRType.PTR, ttl, { kind: 'name', target }));
  return { rcode: Rcode.NOERROR, answers, authorities: [], additionals: [], authoritative: true };
}

/** The cluster zone's answer to one question: only class IN is the zone's, other classes are forwarded. */
export function answerQuery(index: DnsIndex, q: Question, opts: AnswerOptions = {}): AnswerResult {
  const ttl = opts.ttl ?? DEFAULT_TTL;
  const route = routeOf(q, index.zone);
  if (route === 'transfer') return zoneTransferRefusal();
  if (q.class !== RRClass.IN || route === 'elsewhere') return { forward: true };
  if (route === 'reverse') return answerReverse(index, q, ttl) ?? { forward: true };
  const result = answerName(index, q.name, q.type, ttl, []);
  return {
    rcode: result.rcode,
    answers: result.answers,
    authorities: result.negative ? [soaRecord(index.zone, index.serial(), ttl)] : [],
    additionals: result.additionals,
    authoritative: true,
  };
}
