// kube-controller-manager's csrapproving controller (pkg/controller/
// certificates/approver/sarapprove.go): a pending kubelet client request
// (kubernetes.io/kube-apiserver-client-kubelet, a valid kubelet client CSR)
// is approved when a SubjectAccessReview says its requester may create
// certificatesigningrequests/selfnodeclient (a node renewing its own
// certificate: the requester is the CN) or certificatesigningrequests/
// nodeclient (a new node, e.g. a bootstrap token's user, via kubeadm's
// kubeadm:node-autoapprove-bootstrap). Nothing else is approved or denied.
import { parseCertificateRequest, type ParsedCertificateRequest } from '../../apiserver/pki/pkcs10.js';
import { approval } from '../../registry/certificates/conditions.js';
import type { ResourceType } from '../../client/client.js';
import type { Controller, ControllerContext } from '../controller.js';
import { csrController } from './csr-controller.js';
import { kubeletClientError } from './recognize.js';
import { signerNames, type CSR } from './types.js';


const sarType: ResourceType = { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false };

interface Recognizer {
  recognize(csr: CSR, req: ParsedCertificateRequest): boolean;
  subresource: string;
  successMessage: string;
}

const isNodeClientCert = (csr: CSR, req: ParsedCertificateRequest) =>
  csr.spec.signerName === signerNames.kubeAPIServerClientKubelet && kubeletClientError(req, csr.spec.usages ?? []) === undefined;

export const recognizers: Recognizer[] = [
  {
    recognize: (csr, req) => csr.spec.username === req.commonName && isNodeClientCert(csr, req),
    subresource: 'selfnodeclient',
    successMessage: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
  },
  { recognize: isNodeClientCert, subresource: 'nodeclient', successMessage: 'Auto approving kubelet client certificate after SubjectAccessReview.' },
];

export function createCSRApprovingController(ctx: ControllerContext): Controller {
  const reviews = ctx.client.resource(sarType);
  const authorize = async (csr: CSR, subresource: string) => {
    const review = await reviews.create(undefined, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: {},
      spec: {
        user: csr.spec.username,
        uid: csr.spec.uid,
        groups: csr.spec.groups,
        extra: csr.spec.extra,
        resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource },
      },
    });
    return (review.status as { allowed?: boolean } | undefined)?.allowed === true;
  };
  return csrController('csrapproving', ctx, async (csr, log) => {
    const name = csr.metadata.name!;
    if (csr.status?.certificate) return;
    const { approved, denied } = approval(csr.status);
    if (approved || denied) return;
    let req: ParsedCertificateRequest;
    try {
      req = parseCertificateRequest(Buffer.from(csr.spec.request ?? '', 'base64'));
    } catch (e) {
      throw new Error(`unable to parse csr ${JSON.stringify(name)}: ${(e as Error).message}`, { cause: e });
    }
    const tried: string[] = [];
    for (const r of recognizers) {
      if (!r.recognize(csr, req)) continue;
      tried.push(r.subresource);
      if (!(await authorize(csr, r.subresource))) continue;
      const conditions = [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: r.successMessage }];
      await ctx.client.transport
        .request('PUT', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${encodeURIComponent(name)}/approval`, { body: { ...csr, status: { ...csr.status, conditions } } })
        .then((res) => {
          if (res.status >= 300) throw new Error(`error updating approval for csr: ${res.body.trim()}`);
        });
      return;
    }
    // IgnorableError: logged, not retried.
    if (tried.length) log.v(2).info(`recognized csr ${JSON.stringify(name)} as [${tried.join(' ')}] but subject access review was not approved`);
  });
}
