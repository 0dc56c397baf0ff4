// A throwaway etcd for tests and benches: one member on loopback, random
// ports, a temporary data dir, gone (process and directory) on stop. With
// tls, it serves https only to clients with a certificate of its own fresh CA
// (as kubeadm's etcd: --client-cert-auth), and hands out that CA and a
// client certificate as files. Its serving certificate is for client
// authentication too, as kubeadm's etcd/server.crt: etcd's JSON gateway
// calls etcd's gRPC side with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, toolSkipReason, type RunResult } from './root.js';
import { waitFor } from './apiserver.js';
import { newKeyPair, pem, validity } from '../../src/apiserver/pki/ca.js';
import { createCertificate } from '../../src/apiserver/pki/x509.js';
import { freePort } from './ports.js';

export interface TestEtcd {
  /** http(s)://127.0.0.1:PORT, the client URL. */
  url: string;
  /** With tls: the CA's certificate and a client's certificate and key (PEM files). */
  tls?: { caFile: string; certFile: string; keyFile: string };
  /** `etcdctl --endpoints URL ARGS` (API v3). */
  etcdctl(args: string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

/** Why the etcd tests cannot run here, or false (under CI a missing tool fails instead). */
export function etcdSkipReason(): string | false {
  return toolSkipReason(['etcd', 'etcdctl']);
}


/** A CA, etcd's serving certificate for 127.0.0.1 and a client certificate, as files in dir. */
function writeTlsFiles(dir: string) {
  const ca = newKeyPair();
  const caCert = createCertificate({ ...validity(1), commonName: 'etcd-ca', isCA: true, publicKey: ca.publicKey, privateKey: ca.privateKey });
  const issuer = { commonName: 'etcd-ca', privateKey: ca.privateKey };
  const files = { caFile: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key'), certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key') };
  writeFileSync(files.caFile, caCert);
  const server = newKeyPair();
  writeFileSync(files.serverCert, createCertificate({ ...validity(1), commonName: 'etcd', isCA: false, usage: 'server+client', publicKey: server.publicKey, ips: ['127.0.0.1'], issuer }));
  writeFileSync(files.serverKey, pem(server.privateKey), { mode: 0o600 });
  const client = newKeyPair();
  writeFileSync(files.certFile, createCertificate({ ...validity(1), commonName: 'kube-apiserver-etcd-client', isCA: false, usage: 'client', publicKey: client.publicKey, issuer }));
  writeFileSync(files.keyFile, pem(client.privateKey), { mode: 0o600 });
  return files;
}

export async function startEtcd(opts: { tls?: boolean } = {}): Promise<TestEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const files = opts.tls ? writeTlsFiles(dir) : undefined;
  const url = `${files ? 'https' : 'http'}://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  let output = '';
  const proc: ChildProcess = spawn(
    'etcd',
    [
      '--name', 'test',
      '--data-dir', join(dir, 'data'),
      '--listen-client-urls', url,
      '--advertise-client-urls', url,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `test=${peerUrl}`,
      '--log-level', 'warn',
      '--logger', 'zap',
      ...(files ? ['--cert-file', files.serverCert, '--key-file', files.serverKey, '--trusted-ca-file', files.caFile, '--client-cert-auth'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const tlsArgs = files ? ['--cacert', files.caFile, '--cert', files.certFile, '--key', files.keyFile] : [];
  const etcdctl = (args: string[]) => run('etcdctl', ['--endpoints', url, ...tlsArgs, ...args]);
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('etcd to answer', async () => proc.exitCode === null && (await etcdctl(['endpoint', 'health'])).code === 0, 20_000);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${output}`, { cause: e });
  }
  return { url, tls: files && { caFile: files.caFile, certFile: files.certFile, keyFile: files.keyFile }, etcdctl, stop };
}
