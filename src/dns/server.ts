// The cluster DNS server: UDP and TCP on one address, answers for the cluster
// zone from the record index, everything else forwarded (to clients inside
// the cluster ranges only: no open resolver). EDNS0 buffer sizes, truncation
// with the TC bit (clients retry over TCP), many queries per TCP connection,
// FORMERR for malformed queries that still carry an id, silence for garbage,
// SERVFAIL while the API has never synced. What is the zone's and what it
// answers is decided in answer.ts (routeOf, the answer option); this file
// carries questions and answers, forwards, and completes search paths.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { BlockList, createServer as createTcpServer, isIPv6, type Server as TcpServer, type Socket } from 'node:net';
import { logger } from '../util/log.js';
import { routeOf, zoneTransferRefusal, type AnswerResult, type ZoneResponse } from './answer.js';
import type { Forwarder } from './forwarder.js';
import type { DnsMetrics, QueryLabels, QuerySeries } from './metrics.js';
import { rcodeName, typeName } from './metrics.js';
import { Rcode, RRClass, RRType, type Message, type Question, type ResourceRecord } from './types.js';
import { normalizeName, parseMessage, serializeMessage, WireError } from './wire.js';
import { createWireCache } from './wire-cache.js';
import { errorMessage } from '../util/errors.js';
import type { RecentQueries } from './recent.js';

const log = logger('dns');

export interface DnsServerOptions {
  /** Address to listen on, e.g. "0.0.0.0:53" or "127.0.0.1:0". */
  host: string;
  port: number;
  zone: string;
  /**
   * The cluster zone's answer to a question of any class (or "forward"):
   * answerQuery (answer.ts) over the record index. Not asked for zone
   * transfers, nor for cluster names before synced().
   */
  answer(q: Question): AnswerResult;
  /** False until the API has been listed once: cluster names get SERVFAIL meanwhile. */
  synced(): boolean;
  /** Where names outside the zone go; undefined: they are REFUSED. */
  forwarder?: Forwarder;
  /** CIDRs whose clients may have names outside the zone resolved (recursion); default: everyone. */
  recursionFrom?: string[];
  /**
   * Server-side search-path completion (the autopath idea): the namespace of
   * the pod at an IP, so "name.<ns>.svc.<zone>" misses can be finished here.
   * Undefined: off.
   */
  podNamespace?: (ip: string) => string | undefined;
  metrics?: DnsMetrics;
  /** TCP connections idle longer than this are closed (CoreDNS: 10 s read timeout). */
  tcpIdleMs?: number;
  /**
   * The record index's generation (DnsIndex.generation): given, the zone's
   * answers are kept as finished bytes until it moves (wire-cache.ts).
   */
  generation?: () => number;
  /** Where every answer sent is noted (recent.ts): the last few questions and answers, for people watching. */
  recent?: RecentQueries;
}

export interface DnsServer {
  /** The bound port (useful with port 0). */
  port: number;
  /** Answers one query as the network path would (tests, benchmarks). */
  handle(query: Buffer, client: { address: string; proto: 'udp' | 'tcp' }): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

/** Largest UDP answer without EDNS (RFC 1035) and the size this server advertises (the DNS flag day value). */
const classicUdpSize = 512;
const advertisedUdpSize = 1232;

function blockListOf(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    list.addSubnet(addr, Number(bits ?? (isIPv6(addr) ? 128 : 32)), isIPv6(addr) ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** A bare reply header for a request we could only read the id (and opcode) of. */
function errorOnly(buf: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(buf.readUInt16BE(0), 0);
  // QR=1, keep OPCODE and RD from the request, the rcode in the low bits.
  out[2] = 0x80 | (buf[2] & 0x79);
  out[3] = rcode & 0x0f;
  return out;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const zone = normalizeName(opts.zone);
  const recursion = opts.recursionFrom ? blockListOf(opts.recursionFrom) : undefined;
  const mayRecurse = (ip: string) => !recursion || recursion.check(ip.replace(/^::ffff:/, ''), isIPv6(ip.replace(/^::ffff:/, '')) ? 'ipv6' : 'ipv4');
  const label = (port: number) => `dns://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  let serverLabel = label(opts.port);

  function reply(req: Message, rcode: number, sections: Partial<Pick<Message, 'answers' | 'authorities' | 'additionals'>> = {}, aa = false): Message {
    return {
      header: { id: req.header.id, qr: true, opcode: req.header.opcode, aa, tc: false, rd: req.header.rd, ra: true, ad: false, cd: req.header.cd, rcode },
      questions: req.questions,
      answers: sections.answers ?? [],
      authorities: sections.authorities ?? [],
      additionals: sections.additionals ?? [],
      edns: req.edns ? { udpSize: advertisedUdpSize, extendedRcode: 0, version: 0, dnssecOk: req.edns.dnssecOk, options: [] } : undefined,
    };
  }

  /** The zone's response as this client's reply. */
  function local(req: Message, a: ZoneResponse): Message {
    return reply(req, a.rcode, a, a.authoritative);
  }

  /** A forwarded answer, re-addressed to this client. */
  function relayed(req: Message, m: Message): Message {
    return { ...reply(req, m.header.rcode, m), header: { ...m.header, id: req.header.id, rd: req.header.rd, ra: true, aa: false, tc: false } };
  }

  async function forward(req: Message, q: Question, client: string): Promise<{ msg: Message; plugin: string }> {
    // No upstreams, or a client outside the cluster: REFUSED, as CoreDNS answers names no plugin serves.
    if (!opts.forwarder || !mayRecurse(client)) return { msg: reply(req, Rcode.REFUSED), plugin: '' };
    const m = await opts.forwarder.resolve(q, { rd: req.header.rd, dnssecOk: req.edns?.dnssecOk ?? false });
    return { msg: m ? relayed(req, m) : reply(req, Rcode.SERVFAIL), plugin: 'forward' };
  }

  /** autopath: a miss for "base.<ns>.svc.<zone>" from a pod of <ns> is retried along the pod's search path; a hit is a CNAME to it. */
  async function completeSearchPath(req: Message, q: Question, client: string): Promise<Message | undefined> {
    const ns = opts.podNamespace?.(client.replace(/^::ffff:/, ''));
    const name = normalizeName(q.name);
    const suffix = ns ? `.${ns}.svc.${zone}` : undefined;
    if (!suffix || !name.endsWith(suffix) || name === suffix.slice(1)) return undefined;
    const base = q.name.slice(0, q.name.length - suffix.length);
    for (const candidate of [`${base}.svc.${zone}`, `${base}.${zone}`, base]) {
      const cq = { ...q, name: candidate };
      const a = routeOf(cq, zone) === 'zone' ? opts.answer(cq) : ({ forward: true } as const);
      let answers: ResourceRecord[] | undefined;
      if (!('forward' in a)) {
        if (a.rcode === Rcode.NOERROR && a.answers.length) answers = a.answers;
      } else if (mayRecurse(client)) {
        const m = await opts.forwarder?.resolve(cq, { rd: true, dnssecOk: false });
        if (m && m.header.rcode === Rcode.NOERROR && m.answers.length) answers = m.answers;
      }
      if (answers) {
        const cname: ResourceRecord = { name: q.name, type: RRType.CNAME, class: RRClass.IN, ttl: answers[0].ttl, data: { kind: 'name', target: candidate } };
        return reply(req, Rcode.NOERROR, { answers: [cname, ...answers] });
      }
    }
    return undefined;
  }

  type Result = { msg: Message; zone: string; plugin: string };

  /** The answer; a Promise only when it needs an upstream (forwarding, autopath): cluster names are answered synchronously. */
  function respond(req: Message, client: string): Result | Promise<Result> {
    if (req.header.opcode !== 0) return { msg: reply(req, Rcode.NOTIMP), zone: '.', plugin: '' };
    if (req.questions.length !== 1) return { msg: reply(req, Rcode.FORMERR), zone: '.', plugin: '' };
    if (req.edns && req.edns.version > 0) {
      // BADVERS (16): extended rcode 1, header rcode 0.
      const m = reply(req, 0);
      m.edns = { ...m.edns!, extendedRcode: 1 };
      return { msg: m, zone: '.', plugin: '' };
    }
    const q = req.questions[0];
    if (opts.forwarder && normalizeName(q.name) === normalizeName(opts.forwarder.probeName)) {
      opts.forwarder.loopDetected(client);
      return { msg: reply(req, Rcode.SERVFAIL), zone: '.', plugin: 'loop' };
    }
    const route = routeOf(q, zone);
    if (route === 'transfer') return { msg: local(req, zoneTransferRefusal()), zone: '.', plugin: '' };
    if (route !== 'elsewhere' && !opts.synced()) return { msg: reply(req, Rcode.SERVFAIL), zone: route === 'zone' ? zone : '.', plugin: 'kubernetes' };
    const a = opts.answer(q);
    if ('forward' in a) return forward(req, q, client).then((f) => ({ ...f, zone: '.' }));
    const answered: Result = { msg: local(req, a), zone, plugin: 'kubernetes' };
    if (a.rcode === Rcode.NXDOMAIN && opts.podNamespace) {
      return completeSearchPath(req, q, client).then((completed) => (completed ? { msg: completed, zone, plugin: 'autopath' } : answered));
    }
    return answered;
  }

  const wireCache = opts.generation ? createWireCache(opts.generation) : undefined;
  /** The metric labels of one kind of query and its series per client family ('1' IPv4, '2' IPv6), resolved on first use. */
  interface Kind {
    labels: Omit<QueryLabels, 'family'>;
    series: [QuerySeries | undefined, QuerySeries | undefined];
  }
  /**
   * Kept responses of one kind of query (the same labels) share one Kind, which they keep as its index (their
   * tag in the wire cache): a handful of kinds for thousands of entries.
   */
  const kinds: Kind[] = [];
  const kindIndexes = new Map<string, number>();
  const kindOf = (labels: Kind['labels']): number => {
    const key = `${labels.server}|${labels.zone}|${labels.proto}|${labels.type}|${labels.rcode}|${labels.plugin}`;
    let i = kindIndexes.get(key);
    if (i === undefined) {
      i = kinds.push({ labels, series: [undefined, undefined] }) - 1;
      kindIndexes.set(key, i);
    }
    return i;
  };
  const familyOf = (address: string): '1' | '2' => (address.includes(':') && !address.startsWith('::ffff:') ? '2' : '1');

  function finish(req: Message, r: Result, client: { address: string; proto: 'udp' | 'tcp' }, started: number): { out: Buffer; labels: Omit<QueryLabels, 'family'>; requestSize: number } {
    const maxSize = client.proto === 'tcp' ? 65535 : req.edns ? Math.max(classicUdpSize, Math.min(req.edns.udpSize, 65535)) : classicUdpSize;
    const out = serializeMessage(r.msg, { maxSize }).buf;
    const q = req.questions[0];
    const labels = {
      server: serverLabel,
      zone: r.zone === '.' ? '.' : `${r.zone}.`,
      proto: client.proto,
      type: q ? typeName(q.type) : 'other',
      rcode: rcodeName(r.msg.header.rcode),
      plugin: r.plugin,
    };
    const requestSize = client.proto === 'tcp' ? 65535 : (req.edns?.udpSize ?? classicUdpSize);
    opts.metrics?.observe({ ...labels, family: familyOf(client.address), seconds: (performance.now() - started) / 1000, requestSize, responseSize: out.length });
    return { out, labels, requestSize };
  }

  /** A repeat of a query whose response is kept: its bytes with this query's ID, counted in the metrics without building anything. */
  function fromCache(buf: Buffer, entry: number, client: { address: string }, started: number): Buffer {
    const out = wireCache!.reply(buf, entry);
    if (opts.metrics) {
      const kind = kinds[wireCache!.tagOf(entry)];
      const family = familyOf(client.address);
      const i = family === '1' ? 0 : 1;
      const series = (kind.series[i] ??= opts.metrics.series({ ...kind.labels, family }));
      series.observe((performance.now() - started) / 1000, wireCache!.requestSizeOf(entry), out.length);
    }
    return out;
  }

  function handle(buf: Buffer, client: { address: string; proto: 'udp' | 'tcp' }): Buffer | undefined | Promise<Buffer | undefined> {
    const started = performance.now();
    const hit = wireCache ? wireCache.get(buf, client.proto) : -1;
    if (hit >= 0) return fromCache(buf, hit, client, started);
    let req: Message;
    try {
      req = parseMessage(buf);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      // Something with a header gets FORMERR (unless it claims to be a response); garbage is dropped.
      return buf.length >= 12 && !(buf[2] & 0x80) ? errorOnly(buf, Rcode.FORMERR) : undefined;
    }
    if (req.header.qr) return undefined;
    const generation = opts.generation?.();
    const r = respond(req, client.address);
    if (r instanceof Promise) return r.then((x) => finish(req, x, client, started).out);
    const done = finish(req, r, client, started);
    // Kept: answers from the index alone (synchronous, the kubernetes plugin, after the first listing).
    // Forwarded, autopath and loop answers depend on the client or an upstream, and are never synchronous or the kubernetes plugin's.
    if (wireCache && generation !== undefined && r.plugin === 'kubernetes' && opts.synced()) {
      wireCache.set(buf, client.proto, generation, done.out, kindOf(done.labels), done.requestSize);
    }
    return done.out;
  }

  const failed = (buf: Buffer, client: { address: string }, e: unknown) => {
    // A bug must cost one answer (SERVFAIL), never the server.
    log.error('query failed', { client: client.address, error: errorMessage(e) });
    return buf.length >= 12 ? errorOnly(buf, Rcode.SERVFAIL) : undefined;
  };
  const noted = (out: Buffer | undefined, client: { address: string; proto: 'udp' | 'tcp' }) => {
    if (out) opts.recent?.add(client.address, client.proto, out);
    return out;
  };
  const safeHandle = (buf: Buffer, client: { address: string; proto: 'udp' | 'tcp' }): Buffer | undefined | Promise<Buffer | undefined> => {
    try {
      const r = handle(buf, client);
      return r instanceof Promise ? r.catch((e: unknown) => failed(buf, client, e)).then((out) => noted(out, client)) : noted(r, client);
    } catch (e) {
      return failed(buf, client, e);
    }
  };

  // Replies go to the address a query came from, always an IP: resolve it to itself instead of through dns.lookup
  // (which send() otherwise calls for every datagram).
  const family = isIPv6(opts.host) ? 6 : 4;
  const openUdp = (): UdpSocket => {
    const socket: UdpSocket = createSocket({
      type: family === 6 ? 'udp6' : 'udp4',
      lookup: (address: string, _options: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void) => callback(null, address, family),
    } as Parameters<typeof createSocket>[0]);
    socket.on('message', (buf, rinfo) => {
      const r = safeHandle(buf, { address: rinfo.address, proto: 'udp' });
      if (r instanceof Promise) {
        void r.then((out) => {
          if (out) socket.send(out, rinfo.port, rinfo.address);
        });
      } else if (r) socket.send(r, rinfo.port, rinfo.address);
    });
    socket.on('error', (e) => log.error('udp socket error', { error: e.message }));
    return socket;
  };
  let udp = openUdp();

  const tcpIdleMs = opts.tcpIdleMs ?? 10_000;
  const connections = new Set<Socket>();
  const tcp: TcpServer = createTcpServer((conn) => {
    connections.add(conn);
    conn.setTimeout(tcpIdleMs, () => conn.destroy());
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => conn.destroy());
    let pending = Buffer.alloc(0);
    // Answers go back in order, one query after another (RFC 7766 allows either; in order keeps it simple).
    let chain = Promise.resolve();
    conn.on('data', (d) => {
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const frame = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + frame.length);
        chain = chain.then(async () => {
          const out = await safeHandle(frame, { address: conn.remoteAddress ?? '', proto: 'tcp' });
          if (!out) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          if (!conn.destroyed) conn.write(Buffer.concat([len, out]));
        });
      }
    });
  });

  // UDP and TCP on one port. Asked for any port (0), the kernel picks UDP's, which TCP may already have in use
  // elsewhere: then another pick, a few times.
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(opts.port, opts.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    port = udp.address().port;
    const failure = await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, opts.host, () => {
        tcp.off('error', reject);
        resolve();
      });
    }).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    if (!failure) break;
    udp.close();
    if (opts.port !== 0 || failure.code !== 'EADDRINUSE' || attempt === 5) throw failure;
    udp = openUdp();
  }
  serverLabel = label(port);
  if (opts.forwarder) opts.metrics?.watchCache(serverLabel, opts.forwarder.cache);
  return {
    port,
    handle: async (buf, client) => safeHandle(buf, client),
    async close() {
      for (const c of connections) c.destroy();
      // A cluster worker's sockets are already closed when its primary disconnects it (workers.ts): then there is nothing to wait for.
      const udpClosed = new Promise<void>((r) => {
        try {
          udp.close(() => r());
        } catch {
          r();
        }
      });
      await Promise.all([udpClosed, new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}
