// The cluster CA, laid out as kubeadm does (<data dir>/pki/ca.{crt,key}):
// made once per data dir and the signer of every certificate the cluster
// uses, serving and client alike. ECDSA P-256 keys (kubeadm's
// EncryptionAlgorithm ECDSA-P256): made in a millisecond, where RSA takes
// ~150 ms per key.
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificate } from './x509.js';

export interface ClusterCA {
  /** PEM of ca.crt. */
  cert: string;
  key: KeyObject;
  commonName: string;
}

const day = 24 * 3600_000;
const caCommonName = 'kubernetes';

export function pkiDir(dataDir: string): string {
  return join(dataDir, 'pki');
}

/** A PEM file in the pki dir: keys 0600, certificates 0644. */
export function writePkiFile(dir: string, name: string, text: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, name), text, { mode: name.endsWith('.key') ? 0o600 : 0o644 });
}

/** The data dir's CA, made on first use. */
export function ensureClusterCA(dataDir: string): ClusterCA {
  const dir = pkiDir(dataDir);
  const crt = join(dir, 'ca.crt');
  const key = join(dir, 'ca.key');
  if (!existsSync(crt) || !existsSync(key)) {
    const ca = newKeyPair();
    writePkiFile(dir, 'ca.key', pem(ca.privateKey));
    writePkiFile(dir, 'ca.crt', createCertificate({ ...validity(3650), commonName: caCommonName, isCA: true, publicKey: ca.publicKey, privateKey: ca.privateKey }));
  }
  return { cert: readFileSync(crt, 'utf8'), key: createPrivateKey(readFileSync(key, 'utf8')), commonName: caCommonName };
}

export function newKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

export const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;

/** A positive serial of 128 random bits, valid from five minutes ago (clock skew) for `days`. */
export function validity(days: number) {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const now = Date.now();
  return { serial, notBefore: new Date(now - 5 * 60_000), notAfter: new Date(now + days * day) };
}
