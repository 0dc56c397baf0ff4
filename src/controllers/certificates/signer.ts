// kube-controller-manager's csrsigning controller (pkg/controller/
// certificates/signer) for the client signers: an approved, not failed
// request for kubernetes.io/kube-apiserver-client-kubelet or
// kubernetes.io/kube-apiserver-client is checked against its signer's rules
// (a violation is a Failed condition, reason SignerValidationFailure) and
// signed with the cluster signing CA (--cluster-signing-cert-file/-key-file):
// subject and SANs from the request, key usages from spec.usages, valid
// from five minutes ago for spec.expirationSeconds (at least 10 minutes),
// at most --cluster-signing-duration (8760h), never past the CA.
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { nowTimestamp } from '../../api/object.js';
import { createCertificate } from '../../apiserver/pki/x509.js';
import { parseCertificateRequest } from '../../apiserver/pki/pkcs10.js';
import { conditionTypes, hasTrueCondition, isApproved } from '../../registry/certificates/conditions.js';
import type { Controller, ControllerContext } from '../controller.js';
import { csrController } from './csr-controller.js';
import { apiServerClientError, kubeletClientError } from './recognize.js';
import { csrType, signerNames, type CSR, type SigningCA } from './types.js';


export const defaultSigningDurationMs = 8760 * 3600_000;
const backdateMs = 5 * 60_000;
const shortMs = 8 * 3600_000;
const minimumMs = 10 * 60_000;

/** keyUsageDict bits (x509.KeyUsage order) and the extended usages the certificate layout knows. */
const keyUsageBits: Record<string, number> = {
  signing: 0,
  'digital signature': 0,
  'content commitment': 1,
  'key encipherment': 2,
  'key agreement': 4,
  'data encipherment': 3,
  'cert sign': 5,
  'crl sign': 6,
};

/** signer.duration: the requested duration within [10m, the configured maximum]. */
export function certificateDuration(expirationSeconds: number | undefined, maxMs: number): number {
  if (expirationSeconds === undefined) return maxMs;
  const requested = expirationSeconds * 1000;
  return requested > maxMs ? maxMs : requested < minimumMs ? minimumMs : requested;
}

/** The signer's verdict on one request: a PEM certificate, a Failed reason, or nothing (not this signer's). */
export function signRequest(csr: Pick<CertificateSigningRequest, 'spec'>, ca: SigningCA, now = new Date()): { certificate: string } | { failed: string } | undefined {
  const signerName = csr.spec?.signerName;
  if (signerName !== signerNames.kubeAPIServerClientKubelet && signerName !== signerNames.kubeAPIServerClient) return undefined;
  const req = parseCertificateRequest(Buffer.from(csr.spec.request ?? '', 'base64'));
  const usages = csr.spec.usages ?? [];
  const invalid = signerName === signerNames.kubeAPIServerClientKubelet ? kubeletClientError(req, usages) : apiServerClientError(usages);
  if (invalid) return { failed: invalid };
  const ttl = certificateDuration(csr.spec.expirationSeconds, ca.durationMs);
  const caCert = new X509Certificate(ca.cert);
  const notBefore = new Date(now.getTime() - backdateMs);
  let notAfter = new Date(ttl < shortMs ? notBefore.getTime() + ttl : now.getTime() + ttl);
  const caNotAfter = new Date(caCert.validTo);
  if (notAfter > caNotAfter) notAfter = caNotAfter;
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const client = usages.includes('client auth');
  const server = usages.includes('server auth');
  const issuerCN = /CN=([^\n,]+)/.exec(caCert.subject)?.[1] ?? 'kubernetes';
  const certificate = createCertificate({
    commonName: req.commonName,
    organizations: req.organizations,
    isCA: false,
    usage: client && server ? 'server+client' : server ? 'server' : 'client',
    keyUsageBits: [...new Set(usages.flatMap((u) => (u in keyUsageBits ? [keyUsageBits[u]!] : [])))].sort(),
    serial,
    notBefore,
    notAfter,
    publicKey: req.publicKey,
    dnsNames: req.dnsNames,
    ips: req.ipAddresses.filter((ip) => ip.includes('.')),
    issuer: { commonName: issuerCN, privateKey: createPrivateKey(ca.key) },
  });
  return { certificate };
}

export function createCSRSigningController(ctx: ControllerContext): Controller {
  const ca = ctx.options.clusterSigning!;
  const client = ctx.client.resource<CSR>(csrType);
  return csrController('csrsigning', ctx, async (csr) => {
    if (csr.status?.certificate) return;
    // Ignore unapproved or failed requests.
    if (!isApproved(csr.status) || hasTrueCondition(csr.status, conditionTypes.failed)) return;
    const verdict = signRequest(csr, ca);
    if (!verdict) return;
    const status = structuredClone(csr.status ?? {});
    if ('failed' in verdict) {
      status.conditions = [...(status.conditions ?? []), { type: conditionTypes.failed, status: 'True', reason: 'SignerValidationFailure', message: verdict.failed, lastUpdateTime: nowTimestamp() }];
    } else {
      status.certificate = Buffer.from(verdict.certificate).toString('base64');
    }
    await client.updateStatus({ ...csr, status });
  });
}
