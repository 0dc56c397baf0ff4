// The warning upstream's secret strategy gives for a kubernetes.io/tls
// secret whose certificate and key do not make a pair: the error of Go's
// tls.X509KeyPair(data["tls.crt"], data["tls.key"]), in its words. The
// certificate and key parsing is node:crypto's; where Go's x509 would name a
// finer parse error, any certificate that does not parse is
// "x509: malformed certificate".
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

interface PemBlock {
  type: string;
  bytes: Buffer;
}

/** The PEM blocks in `data`, as successive pem.Decode calls find them (text around and between blocks is skipped). */
function pemBlocks(data: Buffer): PemBlock[] {
  const blocks: PemBlock[] = [];
  const re = /(?:^|\n)-----BEGIN ([^\n-]*)-----[ \t\r]*\n([A-Za-z0-9+/=\s]*?)\n?-----END \1-----/g;
  for (const m of data.toString('latin1').matchAll(re)) blocks.push({ type: m[1]!, bytes: Buffer.from(m[2]!.replace(/\s/g, ''), 'base64') });
  return blocks;
}

/** tls.parsePrivateKey: PKCS #1, then PKCS #8, then SEC 1. */
function parsePrivateKey(der: Buffer): KeyObject | undefined {
  for (const type of ['pkcs1', 'pkcs8', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch {
      // the next encoding
    }
  }
  return undefined;
}

/** The public numbers Go compares per algorithm: N for RSA, X and Y for ECDSA, the key for Ed25519. */
const comparedParts: Record<string, string[]> = { rsa: ['n'], ec: ['x', 'y'], ed25519: ['x'] };

/** Why tls.X509KeyPair(certPEM, keyPEM) fails, or undefined when the two make a pair. */
export function x509KeyPairError(certPEM: Buffer, keyPEM: Buffer): string | undefined {
  const certBlocks = pemBlocks(certPEM);
  const certs = certBlocks.filter((b) => b.type === 'CERTIFICATE');
  if (!certs.length) {
    const skipped = certBlocks.map((b) => b.type);
    if (!skipped.length) return 'tls: failed to find any PEM data in certificate input';
    if (skipped.length === 1 && skipped[0]!.endsWith('PRIVATE KEY')) {
      return 'tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched';
    }
    return `tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [${skipped.join(' ')}]`;
  }
  const keyBlocks = pemBlocks(keyPEM);
  const keyAt = keyBlocks.findIndex((b) => b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY'));
  if (keyAt < 0) {
    const skipped = keyBlocks.map((b) => b.type);
    if (!skipped.length) return 'tls: failed to find any PEM data in key input';
    if (skipped.length === 1 && skipped[0] === 'CERTIFICATE') return 'tls: found a certificate rather than a key in the PEM for the private key';
    return `tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: [${skipped.join(' ')}]`;
  }
  let publicKey: KeyObject;
  try {
    publicKey = new X509Certificate(certs[0]!.bytes).publicKey;
  } catch {
    return 'x509: malformed certificate';
  }
  const privateKey = parsePrivateKey(keyBlocks[keyAt]!.bytes);
  if (!privateKey) return 'tls: failed to parse private key';
  const parts = comparedParts[publicKey.asymmetricKeyType ?? ''];
  if (!parts) return 'tls: unknown public key algorithm';
  if (privateKey.asymmetricKeyType !== publicKey.asymmetricKeyType) return 'tls: private key type does not match public key type';
  const pub = publicKey.export({ format: 'jwk' });
  const priv = privateKey.export({ format: 'jwk' });
  if (parts.some((p) => pub[p as keyof typeof pub] !== priv[p as keyof typeof priv])) return 'tls: private key does not match public key';
  return undefined;
}
