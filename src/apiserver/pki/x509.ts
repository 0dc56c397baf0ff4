// X.509 v3 certificates in DER (RFC 5280), just the fields a cluster CA and an
// API serving certificate need. node:crypto makes the keys, exports the
// SubjectPublicKeyInfo and signs, but cannot lay out a certificate; a library
// that can (node-forge) costs the API server process ~11 MB and ~45 ms to load
// for two certificates, so the layout is written here: a few DER encoders,
// checked against node:crypto's X509Certificate and openssl in the tests.
import { createHash, createPublicKey, sign, type KeyObject } from 'node:crypto';

export interface CertificateRequest {
  commonName: string;
  /** Subject organizations (O=): Kubernetes reads them as the user's groups. */
  organizations?: string[];
  isCA: boolean;
  /** Extended key usage of a leaf certificate: serving (default), client authentication, or both (as kubeadm's etcd server and peer certificates). */
  usage?: 'server' | 'client' | 'server+client';
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  /** keyUsage bits (digitalSignature 0, keyEncipherment 2, ...) of a leaf; digitalSignature and keyEncipherment when unset. */
  keyUsageBits?: number[];
  /** Subject alternative names: DNS names and IPv4 addresses. */
  dnsNames?: string[];
  ips?: string[];
  /** The signer's name and key; self-signed when absent. */
  issuer?: { commonName: string; privateKey: KeyObject };
  /** The key to sign with when self-signed. */
  privateKey?: KeyObject;
}

// --- DER ----------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const sequence = (...c: Buffer[]) => tlv(0x30, ...c);
export const set = (...c: Buffer[]) => tlv(0x31, ...c);
const octetString = (b: Buffer) => tlv(0x04, b);
export const bitString = (b: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), b);
const boolean = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const explicit = (n: number, c: Buffer) => tlv(0xa0 + n, c);

export function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && (b[i + 1]! & 0x80) === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}

// --- certificate -------------------------------------------------------------

const OID = {
  commonName: '2.5.4.3',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  organizationName: '2.5.4.10',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
};

/** A distinguished name: the organizations (one RDN each, so no DER SET ordering to mind), then the common name. */
export const name = (commonName: string, organizations: string[] = []) =>
  sequence(
    ...organizations.map((o) => set(sequence(oid(OID.organizationName), utf8String(o)))),
    set(sequence(oid(OID.commonName), utf8String(commonName))),
  );

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** keyUsage bits (digitalSignature 0, keyEncipherment 2, keyCertSign 5) as a DER named-bit BIT STRING. */
function keyUsage(bits: number[]): Buffer {
  let byte = 0;
  for (const b of bits) byte |= 0x80 >> b;
  const highest = Math.max(...bits);
  return bitString(Buffer.from([byte]), 7 - highest);
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value. */
function keyIdentifier(key: KeyObject): Buffer {
  const spki = key.export({ type: 'spki', format: 'der' });
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }
  const skipHeader = (buf: Buffer, at: number) => {
    const lenByte = buf[at + 1]!;
    const lenBytes = lenByte & 0x80 ? lenByte & 0x7f : 0;
    let len = lenBytes ? 0 : lenByte;
    for (let i = 0; i < lenBytes; i++) len = len * 256 + buf[at + 2 + i]!;
    return { body: at + 2 + lenBytes, end: at + 2 + lenBytes + len };
  };
  const outer = skipHeader(spki, 0);
  const algorithm = skipHeader(spki, outer.body);
  const bits = skipHeader(spki, algorithm.end);
  return createHash('sha1').update(spki.subarray(bits.body + 1, bits.end)).digest();
}

export function signatureAlgorithm(key: KeyObject): { id: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'rsa') return { id: sequence(oid(OID.sha256WithRSAEncryption), tlv(0x05)), hash: 'sha256' };
  if (key.asymmetricKeyType === 'ec') return { id: sequence(oid(OID.ecdsaWithSHA256)), hash: 'sha256' };
  throw new Error(`cannot sign certificates with a ${key.asymmetricKeyType} key`);
}

function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

/** A signed certificate, PEM-encoded. */
export function createCertificate(req: CertificateRequest): string {
  const signer = req.issuer?.privateKey ?? req.privateKey;
  if (!signer) throw new Error('a self-signed certificate needs its private key');
  const alg = signatureAlgorithm(signer);
  const issuerKeyId = keyIdentifier(createPublicKey(signer));
  const extensions = [
    extension(OID.basicConstraints, true, req.isCA ? sequence(boolean(true)) : sequence()),
    ...(req.isCA || req.keyUsageBits?.length !== 0 ? [extension(OID.keyUsage, true, keyUsage(req.isCA ? [0, 2, 5] : (req.keyUsageBits ?? [0, 2])))] : []),
    ...(req.isCA ? [] : [extension(OID.extKeyUsage, false, sequence(...(req.usage === 'server+client' ? [oid(OID.serverAuth), oid(OID.clientAuth)] : [oid(req.usage === 'client' ? OID.clientAuth : OID.serverAuth)])))]),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(req.publicKey))),
    ...(req.issuer ? [extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, issuerKeyId)))] : []),
  ];
  const altNames = [...(req.dnsNames ?? []).map((n) => tlv(0x82, Buffer.from(n, 'ascii'))), ...(req.ips ?? []).map((ip) => tlv(0x87, ipv4Bytes(ip)))];
  if (altNames.length) extensions.push(extension(OID.subjectAltName, false, sequence(...altNames)));
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(req.serial),
    alg.id,
    name(req.issuer?.commonName ?? req.commonName),
    sequence(time(req.notBefore), time(req.notAfter)),
    name(req.commonName, req.organizations),
    req.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign(alg.hash, tbs, signer);
  const der = sequence(tbs, alg.id, bitString(signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}
