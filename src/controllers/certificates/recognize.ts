// What the certificate controllers check of a request before approving or
// signing it (pkg/apis/certificates helpers, signer.go): a kubelet client
// request is O=system:nodes, no SANs, CN system:node:…, usages digital
// signature + client auth (+ key encipherment); a kube-apiserver client
// request has client auth and at most digital signature and key
// encipherment besides. The errors are upstream's words.
import type { ParsedCertificateRequest } from '../../apiserver/pki/pkcs10.js';

const sameSet = (a: string[], b: string[]) => new Set(a).size === b.length && b.every((x) => a.includes(x));

const kubeletClientRequiredUsages = ['client auth', 'digital signature', 'key encipherment'];
const kubeletClientRequiredUsagesNoRSA = ['client auth', 'digital signature'];

/** ValidateKubeletClientCSR: undefined when it is one, else why not. */
export function kubeletClientError(req: ParsedCertificateRequest, usages: string[]): string | undefined {
  if (req.organizations.length !== 1 || req.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (req.dnsNames.length) return 'DNS subjectAltNames are not allowed';
  if (req.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (req.ipAddresses.length) return 'IP subjectAltNames are not allowed';
  if (req.uris.length) return 'URI subjectAltNames are not allowed';
  if (!req.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  const set = [...new Set(usages)];
  if (!sameSet(set, kubeletClientRequiredUsages) && !sameSet(set, kubeletClientRequiredUsagesNoRSA)) {
    return `usages did not match [${kubeletClientRequiredUsages.join(' ')}]`;
  }
  return undefined;
}

/** validAPIServerClientUsages. */
export function apiServerClientError(usages: string[]): string | undefined {
  let clientAuth = false;
  for (const u of usages) {
    if (u === 'digital signature' || u === 'key encipherment') continue;
    if (u === 'client auth') clientAuth = true;
    else return `invalid usage for client certificate: ${u}`;
  }
  return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
}
