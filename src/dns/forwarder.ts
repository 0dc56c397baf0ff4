// Forwarding of names outside the cluster zone to upstream resolvers, as
// CoreDNS's forward + cache plugins: UDP first, TCP when the answer is
// truncated, the next upstream on timeout or error, answers cached. A query
// that comes back to this server is a forwarding loop: it is detected,
// reported once and forwarding stops, rather than crashlooping (CoreDNS's
// loop plugin exits the process).
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP, connect } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { logger } from '../util/log.js';
import { createAnswerCache, type AnswerCache } from './cache.js';
import { parseMessage, serializeMessage } from './wire.js';
import { Opcode, RRClass, type Message, type Question } from './types.js';
import { errorMessage } from '../util/errors.js';

const log = logger('dns');

export interface Upstream {
  host: string;
  port: number;
}

/** "1.1.1.1", "1.1.1.1:5353", "[::1]:53", "::1" → host and port (53 by default). */
export function parseUpstream(text: string): Upstream {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed && isIP(bracketed[1]) === 6) return { host: bracketed[1], port: Number(bracketed[2] ?? 53) };
  if (isIP(text)) return { host: text, port: 53 };
  const m = /^([^:]+):(\d+)$/.exec(text);
  if (m && isIP(m[1]) === 4 && Number(m[2]) > 0 && Number(m[2]) < 65536) return { host: m[1], port: Number(m[2]) };
  throw new Error(`invalid upstream "${text}": want an IP address, optionally with :port`);
}

/** The nameservers of a resolv.conf (the host's by default), as CoreDNS's `forward . /etc/resolv.conf`. */
export function upstreamsFromResolvConf(path = '/etc/resolv.conf'): Upstream[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => !!s && isIP(s.replace(/%.*$/, '')) !== 0)
    .map((s) => ({ host: s.replace(/%.*$/, ''), port: 53 }));
}

export interface ForwarderOptions {
  upstreams: Upstream[];
  /** Per-upstream try, ms (CoreDNS's read timeout is 2 s). */
  timeoutMs?: number;
  cache?: AnswerCache;
  /** Each upstream try: the answer's rcode name, or 'error' (timeout, refused), and how long it took. */
  onForward?: (to: string, outcome: number | 'error', seconds: number) => void;
}

export interface Forwarder {
  /** The upstream's answer (possibly from cache), or undefined when no upstream answered or forwarding is off. */
  resolve(q: Question, opts: { rd: boolean; dnssecOk: boolean }): Promise<Message | undefined>;
  /** A probe name that, if this server is ever asked it, proves a loop. */
  readonly probeName: string;
  /** Sends the probe through the upstreams once (call after the server listens). */
  probe(): Promise<void>;
  /** The server saw its own probe: stop forwarding and say so. */
  loopDetected(from: string): void;
  isLooping(): boolean;
  cache: AnswerCache;
}

function queryFor(q: Question, opts: { rd: boolean; dnssecOk: boolean }): { id: number; buf: Buffer } {
  const id = randomInt(0, 65536);
  const msg: Message = {
    header: { id, qr: false, opcode: Opcode.QUERY, aa: false, tc: false, rd: opts.rd, ra: false, ad: false, cd: false, rcode: 0 },
    questions: [q],
    answers: [],
    authorities: [],
    additionals: [],
    edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: opts.dnssecOk, options: [] },
  };
  return { id, buf: serializeMessage(msg).buf };
}

function overUdp(u: Upstream, id: number, query: Buffer, timeoutMs: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIP(u.host) === 6 ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done(new Error(`no answer from ${u.host}:${u.port} in ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error, m?: Message) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(m!);
    };
    sock.on('error', (e) => done(e));
    sock.on('message', (buf) => {
      try {
        const m = parseMessage(buf);
        if (m.header.id === id && m.header.qr) done(undefined, m);
      } catch {
        // Not a valid answer: keep waiting for one until the timeout.
      }
    });
    sock.connect(u.port, u.host, () => sock.send(query));
  });
}

function overTcp(u: Upstream, id: number, query: Buffer, timeoutMs: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.host, port: u.port });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`no TCP answer from ${u.host}:${u.port} in ${timeoutMs} ms`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    };
    s.on('error', fail);
    s.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      s.write(Buffer.concat([len, query]));
    });
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length < 2 || got.length < 2 + got.readUInt16BE(0)) return;
      clearTimeout(timer);
      s.destroy();
      try {
        const m = parseMessage(got.subarray(2, 2 + got.readUInt16BE(0)));
        if (m.header.id !== id) throw new Error('answer for another query');
        resolve(m);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const cache = opts.cache ?? createAnswerCache();
  const probeName = `${randomBytes(6).toString('hex')}.${randomBytes(6).toString('hex')}.kubesvc-loop-probe`;
  let looping = false;
  const lastWarned = new Map<string, number>();

  async function ask(q: Question, o: { rd: boolean; dnssecOk: boolean }): Promise<Message | undefined> {
    for (const u of opts.upstreams) {
      const to = `${u.host}:${u.port}`;
      const started = performance.now();
      try {
        const { id, buf } = queryFor(q, o);
        let m = await overUdp(u, id, buf, timeoutMs);
        if (m.header.tc) m = await overTcp(u, id, buf, timeoutMs);
        opts.onForward?.(to, m.header.rcode, (performance.now() - started) / 1000);
        return m;
      } catch (e) {
        opts.onForward?.(to, 'error', (performance.now() - started) / 1000);
        // At most one line a minute per upstream: a dead upstream must not flood the log.
        if (Date.now() - (lastWarned.get(to) ?? 0) > 60_000) {
          lastWarned.set(to, Date.now());
          log.warn('upstream failed', { upstream: to, name: q.name, error: errorMessage(e) });
        }
      }
    }
    return undefined;
  }

  return {
    probeName,
    cache,
    async resolve(q, o) {
      if (looping || opts.upstreams.length === 0) return undefined;
      const cached = cache.get(q, o.dnssecOk);
      if (cached) return cached;
      const m = await ask(q, o);
      if (m) cache.put(q, o.dnssecOk, m);
      return m;
    },
    async probe() {
      if (opts.upstreams.length === 0) return;
      await ask({ name: probeName, type: 13 /* HINFO, as CoreDNS's loop plugin */, class: RRClass.IN }, { rd: true, dnssecOk: false });
    },
    loopDetected(from) {
      if (looping) return;
      looping = true;
      log.error('forwarding loop detected: a query this server forwarded came back to it; forwarding is off (names outside the cluster get SERVFAIL). Point --upstream at a resolver that does not forward to this server.', {
        probe: probeName,
        from,
        upstreams: opts.upstreams.map((u) => `${u.host}:${u.port}`),
      });
    },
    isLooping: () => looping,
  };
}
