// The certificates admission plugins of kube-apiserver (on by default):
// CertificateApproval (the approval subresource needs `approve` on the
// request's signer), CertificateSigning (changing status.certificate or the
// conditions through /status needs `sign` on it) and CertificateSubjectRestriction (no system:masters
// certificates from kubernetes.io/kube-apiserver-client). Signer
// permissions are on resource `signers` of certificates.k8s.io, named by the
// signerName or its `<domain>/*` wildcard (IsAuthorizedForSignerName).
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { Authorizer } from '../../auth/attributes.js';
import type { UserInfo } from '../../auth/user.js';
import { errors } from '../../api/status.js';
import { deepEqual } from '../../api/object.js';
import { parseCertificateRequest } from '../../apiserver/pki/pkcs10.js';
import type { RequestContext } from '../resource.js';

const gr = { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' };
export const kubeAPIServerClientSignerName = 'kubernetes.io/kube-apiserver-client';

/** IsAuthorizedForSignerName: the verb on signers/<signerName>, else on signers/<domain>/*. */
export function authorizedForSigner(authorizer: Authorizer, user: UserInfo, verb: string, signerName: string): boolean {
  const ask = (name: string) =>
    authorizer.authorize({ user, verb, resourceRequest: true, apiGroup: 'certificates.k8s.io', resource: 'signers', name }).decision === 'allow';
  if (ask(signerName)) return true;
  const domain = signerName.split('/')[0];
  return ask(`${domain}/*`);
}

function checkSigner(ctx: RequestContext, csr: CertificateSigningRequest, verb: 'approve' | 'sign') {
  if (!ctx.user || !ctx.authorizer) return; // the server's own writes
  const signerName = csr.spec?.signerName ?? '';
  if (!authorizedForSigner(ctx.authorizer, ctx.user, verb, signerName)) {
    throw errors.forbidden(gr, csr.metadata?.name ?? '', `user not permitted to ${verb} requests with signerName ${JSON.stringify(signerName)}`);
  }
}

/** CertificateApproval, on updates of the approval subresource. */
export async function admitApproval(csr: CertificateSigningRequest, ctx: RequestContext): Promise<void> {
  checkSigner(ctx, csr, 'approve');
}

/** CertificateSigning, on status updates that change the certificate or the conditions. */
export async function admitSigning(csr: CertificateSigningRequest, old: CertificateSigningRequest, ctx: RequestContext): Promise<void> {
  if ((csr.status?.certificate ?? '') === (old.status?.certificate ?? '') && deepEqual(csr.status?.conditions ?? [], old.status?.conditions ?? [])) return;
  checkSigner(ctx, csr, 'sign');
}

/** CertificateSubjectRestriction, on create. */
export async function admitSubject(csr: CertificateSigningRequest): Promise<void> {
  if (csr.spec?.signerName !== kubeAPIServerClientSignerName) return;
  let organizations: string[];
  try {
    organizations = parseCertificateRequest(Buffer.from(csr.spec.request ?? '', 'base64')).organizations;
  } catch {
    // Upstream validates before its validating admission: an unparseable request is validation's Invalid error.
    return;
  }
  if (organizations.includes('system:masters')) {
    throw errors.forbidden(gr, csr.metadata?.name ?? '', `use of ${kubeAPIServerClientSignerName} signer with system:masters group is not allowed`);
  }
}
