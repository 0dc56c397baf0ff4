// PKCS#10 certificate signing requests (RFC 2986): made by a node for its
// client certificate (TLS bootstrap) and read by the API server (validation of
// spec.request), the approver and the signer. As x509.ts, a few DER rules
// instead of a library: node:crypto checks the signature with the request's
// own SubjectPublicKeyInfo. What is read is what Go's x509.CertificateRequest
// gives the certificates code: subject CN and O, the SANs, the public key.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { bitString, integer, name, sequence, signatureAlgorithm, tlv } from './x509.js';

export interface ParsedCertificateRequest {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  emailAddresses: string[];
  ipAddresses: string[];
  uris: string[];
  publicKey: KeyObject;
  /** 'rsa', 'ec', 'ed25519'. */
  publicKeyAlgorithm: string;
  /** The whole request, DER. */
  raw: Buffer;
}

/** Why a request does not parse or verify; the messages are Go's (encoding/pem, crypto/x509). */
export class CertificateRequestError extends Error {}

interface Node {
  tag: number;
  /** Content bytes. */
  body: Buffer;
  /** The whole TLV. */
  raw: Buffer;
}

/** One DER TLV at `at`; throws on truncation. */
function read(buf: Buffer, at: number): Node & { end: number } {
  if (at + 2 > buf.length) throw new CertificateRequestError('x509: malformed certificate request');
  const tag = buf[at]!;
  const first = buf[at + 1]!;
  let len = first;
  let header = 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || at + 2 + n > buf.length) throw new CertificateRequestError('x509: malformed certificate request');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
    header += n;
  }
  const end = at + header + len;
  if (end > buf.length) throw new CertificateRequestError('x509: malformed certificate request');
  return { tag, body: buf.subarray(at + header, end), raw: buf.subarray(at, end), end };
}

function children(n: Node): Node[] {
  const out: Node[] = [];
  for (let at = 0; at < n.body.length; ) {
    const c = read(n.body, at);
    out.push(c);
    at = c.end;
  }
  return out;
}

function oidString(n: Node): string {
  const b = n.body;
  if (!b.length) return '';
  const arcs = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (const byte of b.subarray(1)) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
};

/** Signature algorithms Go's x509 verifies on a request, with their hash. */
const signatureHashes: Record<string, { hash: string | null; key: string }> = {
  '1.2.840.113549.1.1.11': { hash: 'sha256', key: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', key: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec' },
  '1.3.101.112': { hash: null, key: 'ed25519' },
};

/** The DER of the one PEM block of a request; Go's ParseCSR words when it is not one. */
export function requestDER(pemText: string | Buffer): Buffer {
  const text = Buffer.isBuffer(pemText) ? pemText.toString('latin1') : pemText;
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m || m[1] !== 'CERTIFICATE REQUEST') throw new CertificateRequestError('PEM block type must be CERTIFICATE REQUEST');
  return Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
}

/** Parses a PEM request (x509.ParseCertificateRequest after ParseCSR). */
export function parseCertificateRequest(pemText: string | Buffer): ParsedCertificateRequest & { checkSignature(): void } {
  const der = requestDER(pemText);
  let top: Node[];
  try {
    top = children(read(der, 0));
  } catch (e) {
    if (e instanceof CertificateRequestError) throw e;
    throw new CertificateRequestError('x509: malformed certificate request');
  }
  const [info, algorithm, signature] = top;
  if (!info || !algorithm || !signature || info.tag !== 0x30 || signature.tag !== 0x03) throw new CertificateRequestError('x509: malformed certificate request');
  const [version, subject, spki, attributes] = children(info);
  if (!version || !subject || !spki) throw new CertificateRequestError('x509: malformed certificate request');
  const out: ParsedCertificateRequest = { commonName: '', organizations: [], dnsNames: [], emailAddresses: [], ipAddresses: [], uris: [], raw: der } as unknown as ParsedCertificateRequest;
  for (const rdn of children(subject)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (!type || !value) continue;
      const id = oidString(type);
      const text = value.body.toString('utf8');
      if (id === OID.commonName) out.commonName = text;
      else if (id === OID.organization) out.organizations.push(text);
    }
  }
  try {
    out.publicKey = createPublicKey({ key: spki.raw, format: 'der', type: 'spki' });
  } catch {
    throw new CertificateRequestError('x509: unsupported public key algorithm');
  }
  out.publicKeyAlgorithm = out.publicKey.asymmetricKeyType ?? '';
  if (attributes && attributes.tag === 0xa0) {
    for (const attr of children(attributes)) {
      const [type, values] = children(attr);
      if (!type || !values || oidString(type) !== OID.extensionRequest) continue;
      for (const exts of children(values)) {
        for (const ext of children(exts)) {
          const parts = children(ext);
          if (oidString(parts[0]!) !== OID.subjectAltName) continue;
          const value = parts[parts.length - 1]!;
          for (const gn of children(read(value.body, 0))) {
            if (gn.tag === 0x81) out.emailAddresses.push(gn.body.toString('ascii'));
            else if (gn.tag === 0x82) out.dnsNames.push(gn.body.toString('ascii'));
            else if (gn.tag === 0x86) out.uris.push(gn.body.toString('ascii'));
            else if (gn.tag === 0x87) out.ipAddresses.push(gn.body.length === 4 ? [...gn.body].join('.') : gn.body.toString('hex'));
          }
        }
      }
    }
  }
  const algId = oidString(children(algorithm)[0]!);
  return {
    ...out,
    checkSignature() {
      const alg = signatureHashes[algId];
      if (!alg || alg.key !== out.publicKeyAlgorithm) throw new CertificateRequestError('x509: cannot verify signature: algorithm unimplemented');
      const sig = signature.body.subarray(1);
      if (!verify(alg.hash, info.raw, out.publicKey, sig)) {
        throw new CertificateRequestError(alg.key === 'ec' ? 'x509: ECDSA verification failure' : alg.key === 'rsa' ? 'crypto/rsa: verification error' : 'x509: Ed25519 verification failure');
      }
    },
  };
}

/** A PEM request for `commonName` in `organizations`, signed with `privateKey` (what the kubelet's bootstrap makes). */
export function createCertificateRequest(req: { commonName: string; organizations?: string[]; privateKey: KeyObject }): string {
  const publicKey = createPublicKey(req.privateKey);
  const alg = signatureAlgorithm(req.privateKey);
  const info = sequence(integer(Buffer.from([0])), name(req.commonName, req.organizations), publicKey.export({ type: 'spki', format: 'der' }), tlv(0xa0));
  const der = sequence(info, alg.id, bitString(sign(alg.hash, info, req.privateKey)));
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE REQUEST-----\n`;
}
