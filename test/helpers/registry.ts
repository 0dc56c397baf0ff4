// A real OCI registry on loopback for the image tests: Debian's
// docker-registry (the distribution project's registry 2.x) on a free
// 127.0.0.1 port with a temporary storage dir and config file; optionally
// with htpasswd (Basic) auth, or with token auth backed by a small token
// server here that signs ES256 JWTs as Docker's token specification has
// them. It dies with the test process (setpriv --pdeathsig) and its files
// go when the process exits, whatever way.
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newKeyPair, validity } from '../../src/apiserver/pki/ca.js';
import { createCertificate } from '../../src/apiserver/pki/x509.js';
import { toolSkipReason } from './root.js';
import { freePort } from './ports.js';

export const TEST_USER = 'kubesvc';
export const TEST_PASSWORD = 's3cret-pass';
/** `htpasswd -Bbn kubesvc s3cret-pass` (bcrypt, cost 5), made once: no apache2-utils needed. */
const HTPASSWD = `${TEST_USER}:$2y$05$wEu5CH9Oqidj6gBxfRNnSuaobyHVxn5BRLoneZWN1ST6brIwSDGIC\n`;

export interface TestRegistry {
  /** host:port, as image references name it: 127.0.0.1:PORT. */
  host: string;
  url: string;
  storageDir: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** htpasswd: Basic auth; token: Bearer tokens from a token server (anonymous pulls of `publicRepos` only). */
  auth?: 'htpasswd' | 'token';
  publicRepos?: string[];
}

const live = new Set<{ child?: ChildProcess; server?: Server; dir: string }>();
function cleanUp(): void {
  for (const r of live) {
    r.child?.kill('SIGKILL');
    rmSync(r.dir, { recursive: true, force: true });
  }
  live.clear();
}
process.on('exit', cleanUp);
// A signal's default action skips 'exit': clean up, then let the signal end the process as it would have.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp();
    process.kill(process.pid, signal);
  });
}

/** Why the registry tests cannot run here, or false (under CI a missing tool fails instead). */
export function registrySkipReason(): string | false {
  return toolSkipReason(['docker-registry', 'setpriv']);
}


const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A token server for `service`: anonymous tokens grant pull on public repositories only, TEST_USER's grant pull and push. */
async function startTokenServer(dir: string, service: string, issuer: string, publicRepos: string[]): Promise<{ server: Server; realm: string; certFile: string }> {
  const { publicKey, privateKey } = newKeyPair();
  const certPem = createCertificate({ ...validity(1), commonName: 'kubesvc-test-token-signer', isCA: true, publicKey, privateKey });
  const certFile = join(dir, 'token-signer.crt');
  writeFileSync(certFile, certPem);
  const x5c = [new X509Certificate(certPem).raw.toString('base64')];
  const key = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    let user = '';
    if (basic) {
      const [u, p] = Buffer.from(basic, 'base64').toString().split(/:(.*)/s);
      if (u !== TEST_USER || p !== TEST_PASSWORD) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      user = u;
    }
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':') as [string, string, string];
      const allowed = user ? ['pull', 'push'] : publicRepos.includes(name) ? ['pull'] : [];
      return [{ type, name, actions: actions.split(',').filter((a) => allowed.includes(a)) }];
    });
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c }))}.${b64url(JSON.stringify({ iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, realm: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`, certFile };
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}):\n${output()}`);
    try {
      await fetch(`${url}/v2/`);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${url}:\n${output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-registry-'));
  const entry: { child?: ChildProcess; server?: Server; dir: string } = { dir };
  live.add(entry);
  const port = await freePort();
  const storageDir = join(dir, 'storage');
  let auth = '';
  if (opts.auth === 'htpasswd') {
    writeFileSync(join(dir, 'htpasswd'), HTPASSWD);
    auth = `auth:\n  htpasswd:\n    realm: kubesvc-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.auth === 'token') {
    const service = 'kubesvc-test-registry';
    const issuer = 'kubesvc-test-issuer';
    const tokens = await startTokenServer(dir, service, issuer, opts.publicRepos ?? []);
    entry.server = tokens.server;
    auth = `auth:\n  token:\n    realm: ${tokens.realm}\n    service: ${service}\n    issuer: ${issuer}\n    rootcertbundle: ${tokens.certFile}\n`;
  }
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storageDir}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(16).toString('hex')}\n${auth}`,
  );
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'docker-registry', 'serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  entry.child = child;
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    if (entry.server) await new Promise((r) => entry.server!.close(r));
    rmSync(dir, { recursive: true, force: true });
    live.delete(entry);
  };
  try {
    await waitReady(url, child, () => out);
  } catch (e) {
    await stop();
    throw e;
  }
  return { host: `127.0.0.1:${port}`, url, storageDir, stop };
}

/** The file in the registry's storage that holds blob `digest` (to corrupt it). */
export function registryBlobPath(registry: TestRegistry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
