// The API server's serving certificate, laid out as kubeadm does
// (<data dir>/pki/apiserver.{crt,key}): "kube-apiserver", signed by the
// cluster CA, whose SANs are the names and addresses clients use to reach
// the API (kubernetes.default.svc, 10.96.0.1, 127.0.0.1, ...). Made again
// when the wanted SANs change or the CA was replaced.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureClusterCA, newKeyPair, pem, pkiDir, validity, writePkiFile } from './ca.js';
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

/** The SANs of upstream's apiserver certificate for a cluster domain, service IP and advertise addresses. */
export function apiServerNames(clusterDomain: string, serviceIP: string, addresses: string[]): ServingNames {
  return {
    dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${clusterDomain}`, 'localhost'],
    ips: [...new Set([serviceIP, ...addresses, '127.0.0.1'])],
  };
}

export function ensureServingCert(dataDir: string, names: ServingNames): ServingCert {
  const ca = ensureClusterCA(dataDir);
  const dir = pkiDir(dataDir);
  const crt = join(dir, 'apiserver.crt');
  const key = join(dir, 'apiserver.key');
  if (existsSync(crt) && existsSync(key) && stillGood(readFileSync(crt, 'utf8'), ca.cert, names)) {
    return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8'), caCert: ca.cert };
  }
  const serving = newKeyPair();
  const cert = createCertificate({
    ...validity(365),
    commonName: 'kube-apiserver',
    isCA: false,
    publicKey: serving.publicKey,
    dnsNames: names.dnsNames,
    ips: names.ips,
    issuer: { commonName: ca.commonName, privateKey: ca.key },
  });
  writePkiFile(dir, 'apiserver.key', pem(serving.privateKey));
  writePkiFile(dir, 'apiserver.crt', cert);
  return { cert, key: pem(serving.privateKey), caCert: ca.cert };
}

/** Signed by this CA, covering every wanted name, and not within 30 days of expiry. */
function stillGood(certPem: string, caPem: string, names: ServingNames): boolean {
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkIssued(new X509Certificate(caPem)) || !cert.verify(new X509Certificate(caPem).publicKey)) return false;
    if (Date.parse(cert.validTo) - Date.now() < 30 * 24 * 3600_000) return false;
    const have = new Set((cert.subjectAltName ?? '').split(', '));
    return names.dnsNames.every((n) => have.has(`DNS:${n}`)) && names.ips.every((ip) => have.has(`IP Address:${ip}`));
  } catch {
    return false;
  }
}
