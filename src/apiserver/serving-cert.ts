// The API server's TLS identity for its in-cluster endpoint, laid out as
// kubeadm does (<data dir>/pki/ca.{crt,key}, apiserver.{crt,key}): a cluster
// CA "kubernetes" and a serving certificate "kube-apiserver" whose SANs are
// the names and addresses pods use to reach the API (kubernetes.default.svc,
// 10.96.0.1, ...). Made once per data dir; the serving certificate is made
// again when the wanted SANs change. ECDSA P-256 keys (kubeadm's
// EncryptionAlgorithm ECDSA-P256): made in a millisecond, where RSA takes
// ~150 ms per key on the first `up`.
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificate } from './x509.js';

export interface ServingCert {
  cert: string;
  key: string;
  caCert: string;
}

export interface ServingNames {
  dnsNames: string[];
  ips: string[];
}

const day = 24 * 3600_000;

/** The SANs of upstream's apiserver certificate for a cluster domain, service IP and advertise addresses. */
export function apiServerNames(clusterDomain: string, serviceIP: string, addresses: string[]): ServingNames {
  return {
    dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${clusterDomain}`, 'localhost'],
    ips: [serviceIP, ...addresses, '127.0.0.1'],
  };
}

export function ensureServingCert(dataDir: string, names: ServingNames): ServingCert {
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (n: string) => join(dir, n);
  const read = (n: string) => readFileSync(file(n), 'utf8');
  const write = (n: string, text: string) => writeFileSync(file(n), text, { mode: n.endsWith('.key') ? 0o600 : 0o644 });

  const needCA = !existsSync(file('ca.crt')) || !existsSync(file('ca.key'));
  if (!needCA && existsSync(file('apiserver.crt')) && existsSync(file('apiserver.key')) && coversNames(read('apiserver.crt'), names)) {
    return { cert: read('apiserver.crt'), key: read('apiserver.key'), caCert: read('ca.crt') };
  }
  if (needCA) {
    const ca = newKeyPair();
    write('ca.key', pem(ca.privateKey));
    write('ca.crt', createCertificate({ ...validity(3650), commonName: 'kubernetes', isCA: true, publicKey: ca.publicKey, privateKey: ca.privateKey }));
  }
  const caKey = createPrivateKey(read('ca.key'));
  const serving = newKeyPair();
  const cert = createCertificate({
    ...validity(365),
    commonName: 'kube-apiserver',
    isCA: false,
    publicKey: serving.publicKey,
    dnsNames: names.dnsNames,
    ips: names.ips,
    issuer: { commonName: 'kubernetes', privateKey: caKey },
  });
  write('apiserver.key', pem(serving.privateKey));
  write('apiserver.crt', cert);
  return { cert, key: pem(serving.privateKey), caCert: read('ca.crt') };
}

function coversNames(certPem: string, names: ServingNames): boolean {
  try {
    const san = new X509Certificate(certPem).subjectAltName ?? '';
    const have = new Set(san.split(', '));
    return names.dnsNames.every((n) => have.has(`DNS:${n}`)) && names.ips.every((ip) => have.has(`IP Address:${ip}`));
  } catch {
    return false;
  }
}

function newKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;

/** A positive serial of 128 random bits, valid from five minutes ago (clock skew) for `days`. */
function validity(days: number) {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const now = Date.now();
  return { serial, notBefore: new Date(now - 5 * 60_000), notAfter: new Date(now + days * day) };
}
