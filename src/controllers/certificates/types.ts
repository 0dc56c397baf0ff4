// The resource the certificate controllers work on, and the well-known signers.
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { KubeObject } from '../../api/object.js';
import type { ResourceType } from '../../client/client.js';

export const csrType: ResourceType = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', kind: 'CertificateSigningRequest', namespaced: false };

export const signerNames = {
  kubeAPIServerClient: 'kubernetes.io/kube-apiserver-client',
  kubeAPIServerClientKubelet: 'kubernetes.io/kube-apiserver-client-kubelet',
  kubeletServing: 'kubernetes.io/kubelet-serving',
} as const;

/** A CertificateSigningRequest as the controllers' caches hold it. */
export type CSR = KubeObject & { metadata: { name: string }; spec: CertificateSigningRequest['spec']; status?: CertificateSigningRequest['status'] };

/** The CA csrsigning signs with. */
export interface SigningCA {
  /** PEM of the signing certificate and key (--cluster-signing-cert-file, --cluster-signing-key-file). */
  cert: string;
  key: string;
  /** --cluster-signing-duration, ms (default 8760h). */
  durationMs: number;
}
