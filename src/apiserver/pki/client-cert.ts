// Client certificates signed by the cluster CA: how kubeadm gives the admin
// (kubernetes-admin in system:masters), the controller manager and each
// kubelet (system:node:<name> in system:nodes) their identities. The API
// server reads the subject's CN as the user name and its O values as groups.
import type { ClusterCA } from './ca.js';
import { newKeyPair, pem, validity } from './ca.js';
import { createCertificate } from './x509.js';

export interface ClientIdentity {
  name: string;
  groups?: string[];
}

export interface ClientCredentials {
  /** PEM certificate and key. */
  cert: string;
  key: string;
}

/** A fresh key and a certificate for `identity`, valid a year as kubeadm's. */
export function issueClientCertificate(ca: ClusterCA, identity: ClientIdentity, days = 365): ClientCredentials {
  const pair = newKeyPair();
  const cert = createCertificate({
    ...validity(days),
    commonName: identity.name,
    organizations: identity.groups ?? [],
    isCA: false,
    usage: 'client',
    publicKey: pair.publicKey,
    issuer: { commonName: ca.commonName, privateKey: ca.key },
  });
  return { cert, key: pem(pair.privateKey) };
}
