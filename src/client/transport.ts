// HTTP to an API server: over TCP (https, with the TLS material and
// credentials a kubeconfig gives) or over the API server's unix socket
// (TLS there too). A bearer token may come from a file that is re-read as it
// rotates (projected service account tokens), as client-go does.
//
// The TLS material is parsed once into a secure context shared by every
// transport with the same material (each controller's client, each watch's
// connection), not once per connection.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

export interface TransportOptions {
  /** http(s)://host:port, or http://localhost when socketPath is used. */
  server: string;
  socketPath?: string;
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  insecureSkipTLSVerify?: boolean;
  headers?: Record<string, string>;
  /** A file holding the bearer token, re-read at most once a minute (client-go's cachingTokenSource). */
  tokenFile?: string;
  /** The bearer token, asked for on every request (a token that is refreshed elsewhere). */
  token?: () => string;
  userAgent?: string;
}

export interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body as UTF-8 text. */
  readonly body: string;
  /** The body's bytes (a protobuf answer). */
  bytes: Buffer;
}

export interface RequestOptions {
  /** Bytes as given, a string as UTF-8, anything else as JSON. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Abort after this many milliseconds (default 60 s; streams: none). */
  timeoutMs?: number;
}

export interface StreamHandlers {
  /** The stream is answered (200): its Content-Type, before any data. */
  onStart?(contentType: string | undefined): void;
  /** The body's bytes as they arrive. */
  onData(chunk: Buffer): void;
  /** The stream ended: with an error, or refused (a status other than 200, with its answer). */
  onEnd(err?: Error, refused?: Omit<Response, 'body'>): void;
}

export interface Transport {
  request(method: string, path: string, opts?: RequestOptions): Promise<Response>;
  /** A streaming GET (watch) asking for `accept`; close() ends it. */
  stream(path: string, accept: string, handlers: StreamHandlers): { close(): void };
  close(): void;
}

const secureContexts = new Map<string, SecureContext>();

/** The secure context of this CA and client certificate, made once. */
function secureContextFor(opts: Pick<TransportOptions, 'ca' | 'cert' | 'key'>): SecureContext {
  const h = createHash('sha256');
  for (const part of [opts.ca, opts.cert, opts.key]) h.update(part === undefined ? '-' : `${part.length}:`).update(part ?? '');
  const id = h.digest('hex');
  let ctx = secureContexts.get(id);
  if (!ctx) {
    ctx = createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key });
    secureContexts.set(id, ctx);
  }
  return ctx;
}

/**
 * A new connection not made within this time is given up (the request fails and its caller retries), where
 * client-go's dialer waits 30 s. A pod's first connection to the `kubernetes` Service can leave before its node's
 * proxy has programmed the Service: the SYN's conntrack entry then keeps the un-translated path for every
 * retransmission, and the attempt is lost however long it waits — a new connection is translated.
 */
const connectTimeoutMs = 3_000;

export function createTransport(opts: TransportOptions): Transport {
  const url = new URL(opts.server);
  const tls = url.protocol === 'https:';
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, secureContext: secureContextFor(opts), rejectUnauthorized: !opts.insecureSkipTLSVerify })
    : new HttpAgent({ keepAlive: true });
  const send = tls ? httpsRequest : httpRequest;
  const base = url.pathname.replace(/\/$/, '');
  const baseHeaders = { 'User-Agent': opts.userAgent ?? 'kubesvc', ...opts.headers };
  const token = opts.token ?? (opts.tokenFile ? fileToken(opts.tokenFile) : undefined);

  function start(method: string, path: string, headers: Record<string, string>, timeoutMs?: number) {
    const auth: Record<string, string> = token ? { Authorization: `Bearer ${token()}` } : {};
    const req = send({
      method,
      agent,
      socketPath: opts.socketPath,
      host: opts.socketPath ? 'localhost' : url.hostname,
      port: opts.socketPath ? undefined : url.port || (tls ? 443 : 80),
      path: base + path,
      headers: { ...baseHeaders, ...auth, ...headers },
      timeout: timeoutMs,
    });
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => req.destroy(new Error(`connecting to ${opts.socketPath ?? url.host} timed out after ${connectTimeoutMs} ms`)), connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    return req;
  }

  return {
    request(method, path, ro = {}) {
      return new Promise((resolve, reject) => {
        const body = ro.body === undefined ? undefined : Buffer.isBuffer(ro.body) ? ro.body : Buffer.from(typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body));
        const headers: Record<string, string> = { Accept: ro.accept ?? 'application/json' };
        if (body !== undefined) {
          headers['Content-Type'] = ro.contentType ?? 'application/json';
          headers['Content-Length'] = String(body.length);
        }
        const req = start(method, path, headers, ro.timeoutMs ?? 60_000);
        req.on('timeout', () => req.destroy(new Error(`request ${method} ${path} timed out`)));
        req.on('error', reject);
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const bytes = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              bytes,
              get body() {
                return bytes.toString('utf8');
              },
            });
          });
          res.on('error', reject);
        });
        req.end(body);
      });
    },
    stream(path, accept, handlers) {
      let ended = false;
      const finish = (err?: Error, refused?: Omit<Response, 'body'>) => {
        if (ended) return;
        ended = true;
        handlers.onEnd(err, refused);
      };
      const req = start('GET', path, { Accept: accept });
      req.on('error', (e) => finish(e));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
          return;
        }
        handlers.onStart?.(res.headers['content-type']);
        res.on('data', (d: Buffer) => {
          if (!ended) handlers.onData(d);
        });
        res.on('end', () => finish());
        res.on('error', (e) => finish(e));
        res.on('close', () => finish());
      });
      req.end();
      return {
        close() {
          ended = true;
          req.destroy();
        },
      };
    },
    close() {
      agent.destroy();
    },
  };
}

/** The token in a file, read again when the last read is a minute old (or failed). */
function fileToken(path: string): () => string {
  let value = '';
  let readAt = 0;
  return () => {
    if (Date.now() - readAt > 60_000 || !value) {
      try {
        value = readFileSync(path, 'utf8').trim();
        readAt = Date.now();
      } catch {
        // keep the last token; the server says 401 if it is no good
      }
    }
    return value;
  };
}
