// An API server for a test: real HTTPS on 127.0.0.1 port 0, a temporary data
// dir; the test acts as the cluster admin unless it asks to be someone else.
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApiServer, type ApiServer, type ApiServerConfig } from '../../src/apiserver/apiserver.js';
import { setQuiet } from '../../src/util/log.js';
import { componentUsers } from '../../src/auth/user.js';
import type { ClientIdentity } from '../../src/apiserver/pki/client-cert.js';
import type { TransportOptions } from '../../src/client/transport.js';
import { kubectlFor, type Kubectl } from './kubectl.js';

export interface TestApiServer {
  server: ApiServer;
  dataDir: string;
  kubectl: Kubectl;
  /** The admin's transport options over TCP (https URL, CA, client certificate). */
  admin: TransportOptions;
  /** Transport options over TCP for another identity (a client certificate from the cluster CA). */
  as(identity: ClientIdentity): TransportOptions;
  /** Raw HTTPS against the server, as the admin (or with `as`: other credentials, `{}` for none). */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    as?: Pick<TransportOptions, 'cert' | 'key'>,
  ): Promise<{ status: number; headers: Headers; text: string; json: any }>;
  stop(): Promise<void>;
}

export async function startTestApiServer(config: Partial<ApiServerConfig> = {}): Promise<TestApiServer> {
  setQuiet(true);
  const dataDir = config.dataDir ?? mkdtempSync(join(tmpdir(), 'kubesvc-test-'));
  const server = await runApiServer({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    serviceClusterIPRange: '10.96.0.0/12',
    serviceNodePortRange: '30000-32767',
    ...config,
  });
  const kubectl = kubectlFor(server.kubeconfigPath);
  const admin = server.transportFor(componentUsers.admin, 'tcp');
  return {
    server,
    dataDir,
    kubectl,
    admin,
    as: (identity) => server.transportFor(identity, 'tcp'),
    async request(method, path, body, headers = {}, as = admin) {
      const payload = body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
      const res = await httpsRaw(server.url + path, { method, headers: { 'Content-Type': 'application/json', ...headers }, ca: admin.ca, cert: as.cert, key: as.key }, payload);
      let json: any;
      try {
        json = JSON.parse(res.text);
      } catch {
        json = undefined;
      }
      return { ...res, json };
    },
    async stop() {
      await server.close();
      kubectl.cleanup();
      if (!config.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until check() returns a truthy value or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One HTTPS request, answered with its status, headers and text. */
export function httpsRaw(
  url: string,
  opts: { method: string; headers: Record<string, string>; ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer },
  body?: string | Uint8Array,
): Promise<{ status: number; headers: Headers; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: opts.method, headers: opts.headers, ca: opts.ca, cert: opts.cert, key: opts.key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.append(k, one);
        resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
