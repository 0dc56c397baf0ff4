// HTTPS to a server on loopback, for the benchmarks that drive the API server
// (and its echo peer): a client is one identity over one keep-alive agent —
// the CA that verifies the server, and a client certificate, a bearer token
// or neither (anonymous) — and answers each call with its status and body
// text. concurrentLoad runs N requests from a number of such clients at once.
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';

export interface Credentials {
  /** PEM of the CA that signed the server's certificate. */
  ca: string | Buffer;
  /** A client certificate and its key. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** A bearer token (sent as Authorization: Bearer). */
  token?: string;
}

export interface HttpsClient {
  readonly port: number;
  /** One request and its whole answer. */
  call(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<{ status: number; text: string }>;
  /** One request whose answer is streamed to onResponse (watches); end() it to send. */
  open(method: string, path: string, headers: Record<string, string>, onResponse: (res: IncomingMessage) => void): ClientRequest;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** A client of the server at `url` (https://127.0.0.1:port) over up to `maxSockets` kept-alive connections. */
export function httpsClient(url: string, creds: Credentials, maxSockets: number): HttpsClient {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets, ca: creds.ca, cert: creds.cert, key: creds.key });
  const auth: Record<string, string> = creds.token ? { Authorization: `Bearer ${creds.token}` } : {};
  const open: HttpsClient['open'] = (method, path, headers, onResponse) =>
    request({ host: hostname, port: Number(port), method, path, agent, headers: { ...auth, ...headers } }, onResponse);
  return {
    port: Number(port),
    open,
    call(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const req = open(method, path, { 'Content-Type': 'application/json', ...headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/**
 * `total` calls of `one(i)` from `clients` concurrent workers (each awaits its
 * answer before the next): every call's latency, sorted, and the wall time.
 */
export async function concurrentLoad(clients: number, total: number, one: (i: number) => Promise<void>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await one(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), seconds: (performance.now() - started) / 1000 };
}
