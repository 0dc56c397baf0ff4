// etcd's v3 API through its JSON gateway (the gRPC-gateway every etcd
// serves on its client URLs: POST /v3/kv/range, /v3/kv/txn,
// /v3/kv/compaction, and /v3/watch, a stream of newline-separated JSON
// messages), over node's http and https: no dependency, no native code.
// Keys and values travel base64-encoded, 64-bit numbers as decimal strings.
//
// Several endpoints: a request goes to the endpoint that answered last and
// moves on to the next when it cannot connect. A write is moved only when it
// cannot have reached etcd (the connection was refused or never came up); a
// read also when the connection broke mid-way.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { lineSplitter } from '../../util/line-splitter.js';

export interface EtcdClientOptions {
  /** Client URLs, as --etcd-servers lists them: https://a:2379, http://127.0.0.1:2379. */
  endpoints: string[];
  /** --etcd-cafile, --etcd-certfile, --etcd-keyfile: PEM files for https endpoints. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Per request (default 10s); connecting gives up sooner (3s) to try the next endpoint. */
  requestTimeoutMs?: number;
}

/** etcd answered with an error (gRPC status `code`, etcd's message). */
export class EtcdError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** No endpoint could be reached: the message names each with its reason. */
export class EtcdUnavailableError extends Error {}

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

/** A watch stream: stop() closes it; onEnd is not called for a stop. */
export interface WatchStream {
  stop(): void;
}

const connectErrors = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'connect-timeout']);
const brokenErrors = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'request-timeout']);
const connectTimeoutMs = 3000;
/** Pauses before another pass over the endpoints while the members have no leader. */
const unavailableRetriesMs = [250, 500, 1000, 2000];

export const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
export const num = (s: string | number | undefined) => Number(s ?? 0);

export function toKeyValue(kv: RawKeyValue): KeyValue {
  return { key: unb64(kv.key), value: unb64(kv.value), createRevision: num(kv.create_revision), modRevision: num(kv.mod_revision) };
}

export interface RawKeyValue {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
}
export interface ResponseHeader {
  revision?: string;
}

export interface EtcdClient {
  /** POST a unary call; `write` calls are moved to another endpoint only when they cannot have been applied. */
  call<T>(path: string, body: unknown, write?: boolean): Promise<T & { header?: ResponseHeader }>;
  /** POST /v3/watch with one create request; every message is handed to onMessage, the end (not by stop) to onEnd. */
  watch(createRequest: unknown, onMessage: (m: Record<string, unknown>) => void, onEnd: (why: Error) => void): WatchStream;
  /** The endpoint requests go to now. */
  current(): string;
  close(): void;
}

export function createEtcdClient(options: EtcdClientOptions): EtcdClient {
  if (!options.endpoints.length) throw new Error('no etcd endpoints given');
  const urls = options.endpoints.map((e) => {
    const u = new URL(e);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`etcd endpoint ${e}: only http:// and https:// URLs are supported`);
    return u;
  });
  const tls = {
    ca: options.caFile ? readFileSync(options.caFile) : undefined,
    cert: options.certFile ? readFileSync(options.certFile) : undefined,
    key: options.keyFile ? readFileSync(options.keyFile) : undefined,
  };
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, ...tls });
  // Watches hold their connection for as long as they last: their own agents, so they never queue behind each other or the calls.
  const watchAgents = { http: new http.Agent({ maxSockets: Infinity }), https: new https.Agent({ maxSockets: Infinity, ...tls }) };
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  let preferred = 0;
  const streams = new Set<http.ClientRequest>();

  function post(url: URL, path: string, body: string, timeoutMs: number | undefined, stream: boolean, onResponse: (res: http.IncomingMessage) => void, onError: (code: string, e: Error) => void): http.ClientRequest {
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (secure ? 443 : 80),
      method: 'POST',
      path: `${url.pathname.replace(/\/$/, '')}${path}`,
      agent: stream ? watchAgents[secure ? 'https' : 'http'] : secure ? httpsAgent : httpAgent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    });
    let connected = false;
    const connectTimer = setTimeout(() => {
      if (!connected) req.destroy(Object.assign(new Error(`no connection within ${connectTimeoutMs / 1000}s`), { code: 'connect-timeout' }));
    }, connectTimeoutMs);
    req.on('socket', (socket) => {
      const up = () => ((connected = true), clearTimeout(connectTimer));
      if (!socket.connecting) up();
      else socket.once(secure ? 'secureConnect' : 'connect', up);
    });
    if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000}s`), { code: 'request-timeout' })));
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      onResponse(res);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      onError(connected && e.code === 'connect-timeout' ? 'ETIMEDOUT' : (e.code ?? 'ECONNRESET'), e);
    });
    req.end(body);
    return req;
  }

  function errorOf(status: number, text: string): EtcdError {
    try {
      const e = JSON.parse(text) as { error?: string; message?: string; code?: number };
      return new EtcdError(e.message ?? e.error ?? text, e.code ?? 2);
    } catch {
      return new EtcdError(`HTTP ${status}: ${text.slice(0, 200)}`, 2);
    }
  }

  function callAt<T>(url: URL, path: string, body: string): Promise<T> {
    return new Promise((resolve, reject) => {
      post(
        url,
        path,
        body,
        requestTimeoutMs,
        false,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(Object.assign(e, { etcdCode: 'ECONNRESET' })));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) return reject(errorOf(res.statusCode ?? 0, text));
            try {
              resolve(JSON.parse(text) as T);
            } catch {
              reject(new EtcdError(`not JSON: ${text.slice(0, 200)}`, 2));
            }
          });
        },
        (code, e) => reject(Object.assign(e, { etcdCode: code })),
      );
    });
  }

  /** Unavailable (14): etcd's "no leader" and the like; another member may serve. */
  const unavailable = (e: unknown) => e instanceof EtcdError && e.code === 14;

  return {
    async call<T>(path: string, body: unknown, write = false) {
      const text = JSON.stringify(body);
      // No endpoint could serve and some member said it is unavailable (no leader while the members
      // elect a new one after one died, about a second): tried again after a pause, as etcd's client
      // retries unavailable calls. Every endpoint refusing fails at once: etcd is down.
      for (let round = 0; ; round++) {
        const failures: string[] = [];
        let electing = false;
        for (let i = 0; i < urls.length; i++) {
          const at = (preferred + i) % urls.length;
          try {
            const result = await callAt<T & { header?: ResponseHeader }>(urls[at]!, path, text);
            preferred = at;
            return result;
          } catch (e) {
            const code = (e as { etcdCode?: string }).etcdCode;
            const movable = code !== undefined && (connectErrors.has(code) || (!write && brokenErrors.has(code)));
            if (!movable && !unavailable(e)) {
              if (code !== undefined) throw new EtcdUnavailableError(`etcd ${urls[at]!.origin}: ${(e as Error).message}`);
              throw e;
            }
            if (unavailable(e)) electing = true;
            failures.push(`${urls[at]!.origin} (${(e as Error).message})`);
          }
        }
        if (!electing || round >= unavailableRetriesMs.length) throw new EtcdUnavailableError(`cannot reach etcd: ${failures.join('; ')}`);
        await new Promise((r) => setTimeout(r, unavailableRetriesMs[round]));
      }
    },
    watch(createRequest, onMessage, onEnd) {
      let stopped = false;
      const url = urls[preferred]!;
      const end = (why: Error) => {
        if (stopped) return;
        stopped = true;
        streams.delete(req);
        onEnd(why);
      };
      const req = post(
        url,
        '/v3/watch',
        JSON.stringify({ create_request: createRequest }),
        undefined,
        true,
        (res) => {
          if (res.statusCode !== 200) {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => end(errorOf(res.statusCode ?? 0, text)));
            return;
          }
          res.setEncoding('utf8');
          const lines = lineSplitter((line) => {
            if (stopped || !line.trim()) return;
            const m = JSON.parse(line) as { result?: Record<string, unknown>; error?: { message?: string; code?: number } };
            if (m.error) return end(new EtcdError(m.error.message ?? 'watch error', m.error.code ?? 2));
            if (m.result) onMessage(m.result);
          });
          res.on('data', (chunk: string) => lines.push(chunk));
          res.on('end', () => end(new EtcdUnavailableError(`etcd ${url.origin} closed the watch stream`)));
          res.on('error', (e) => end(new EtcdUnavailableError(`etcd ${url.origin}: ${e.message}`)));
        },
        (code, e) => {
          // The next watch (a resumption) tries the next endpoint.
          if (connectErrors.has(code) || brokenErrors.has(code)) preferred = (urls.indexOf(url) + 1) % urls.length;
          end(new EtcdUnavailableError(`etcd ${url.origin}: ${e.message}`));
        },
      );
      streams.add(req);
      return {
        stop() {
          if (stopped) return;
          stopped = true;
          streams.delete(req);
          req.destroy();
        },
      };
    },
    current: () => urls[preferred]!.origin,
    close() {
      for (const s of streams) s.destroy();
      streams.clear();
      for (const agent of [httpAgent, httpsAgent, watchAgents.http, watchAgents.https]) agent.destroy();
    },
  };
}
