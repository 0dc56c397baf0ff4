// An API server for a test: real HTTP on 127.0.0.1 port 0, a temporary data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApiServer, type ApiServer, type ApiServerConfig } from '../../src/apiserver/apiserver.js';
import { setQuiet } from '../../src/util/log.js';
import { kubectlFor, type Kubectl } from './kubectl.js';

export interface TestApiServer {
  server: ApiServer;
  dataDir: string;
  kubectl: Kubectl;
  /** Raw HTTP against the server. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; text: string; json: any }>;
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
  return {
    server,
    dataDir,
    kubectl,
    async request(method, path, body, headers = {}) {
      const res = await fetch(server.url + path, {
        method,
        headers: { 'Content-Type': 'application/json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
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
