// The API server's TLS identity for its in-cluster endpoint, laid out as
// kubeadm does (<data dir>/pki/ca.{crt,key}, apiserver.{crt,key}): a cluster
// CA "kubernetes" and a serving certificate "kube-apiserver" whose SANs are
// the names and addresses pods use to reach the API (kubernetes.default.svc,
// 10.96.0.1, ...). Made once per data dir; the serving certificate is made
// again when the wanted SANs change. Keys come from node:crypto (native,
// off the event loop) and so do the signatures; node-forge lays out the
// certificates, which node:crypto cannot.
import { X509Certificate, generateKeyPair, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';

export interface ServingCert {
  cert: string;
  key: string;
  caCert: string;
}

export interface ServingNames {
  dnsNames: string[];
  ips: string[];
}

const generateRsa = promisify(generateKeyPair);

/** The SANs of upstream's apiserver certificate for a cluster domain, service IP and advertise addresses. */
export function apiServerNames(clusterDomain: string, serviceIP: string, addresses: string[]): ServingNames {
  return {
    dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${clusterDomain}`, 'localhost'],
    ips: [serviceIP, ...addresses, '127.0.0.1'],
  };
}

export async function ensureServingCert(dataDir: string, names: ServingNames): Promise<ServingCert> {
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (n: string) => join(dir, n);
  const read = (n: string) => readFileSync(file(n), 'utf8');
  const write = (n: string, text: string) => writeFileSync(file(n), text, { mode: n.endsWith('.key') ? 0o600 : 0o644 });

  const needCA = !existsSync(file('ca.crt')) || !existsSync(file('ca.key'));
  if (!needCA && existsSync(file('apiserver.crt')) && existsSync(file('apiserver.key')) && coversNames(read('apiserver.crt'), names)) {
    return { cert: read('apiserver.crt'), key: read('apiserver.key'), caCert: read('ca.crt') };
  }
  // Both keys at once: RSA key generation is the slow part and runs off the event loop.
  const [caKeys, servingKeys] = await Promise.all([needCA ? newKeyPair() : undefined, newKeyPair()]);
  if (caKeys) {
    const ca = issue({ commonName: 'kubernetes', isCA: true }, caKeys);
    write('ca.key', caKeys.privateKey);
    write('ca.crt', ca);
  }
  const caCert = read('ca.crt');
  const serving = { cert: issue({ commonName: 'kube-apiserver', isCA: false, names, issuer: { cert: caCert, key: read('ca.key') } }, servingKeys), key: servingKeys.privateKey };
  write('apiserver.key', serving.key);
  write('apiserver.crt', serving.cert);
  return { cert: serving.cert, key: serving.key, caCert };
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

interface IssueRequest {
  commonName: string;
  isCA: boolean;
  names?: ServingNames;
  /** Signer; self-signed without. */
  issuer?: { cert: string; key: string };
}

function newKeyPair(): Promise<{ publicKey: string; privateKey: string }> {
  return generateRsa('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** A certificate (PEM) for the key pair, signed by the issuer or by itself. */
function issue(req: IssueRequest, { publicKey, privateKey }: { publicKey: string; privateKey: string }): string {
  const { pki, asn1 } = forge;
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(publicKey);
  // A positive 128-bit serial, as crypto/x509 users make them.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + (req.isCA ? 3650 : 365) * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: req.commonName }];
  cert.setSubject(subject);
  const issuerCert = req.issuer ? pki.certificateFromPem(req.issuer.cert) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  cert.setExtensions(
    req.isCA
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'subjectKeyIdentifier' },
        ]
      : [
          { name: 'basicConstraints', cA: false, critical: true },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            altNames: [...(req.names?.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(req.names?.ips ?? []).map((ip) => ({ type: 7, ip }))],
          },
        ],
  );
  // What cert.sign does, with the RSA signature made natively (forge's takes ~100 ms).
  cert.signatureOid = cert.siginfo.algorithmOid = pki.oids.sha256WithRSAEncryption;
  // getTBSCertificate is public in node-forge but missing from its types.
  cert.tbsCertificate = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbs = Buffer.from(asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign('sha256', tbs, req.issuer?.key ?? privateKey).toString('binary');
  return pki.certificateToPem(cert);
}
