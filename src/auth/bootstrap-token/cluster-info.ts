// kube-public/cluster-info, as kubeadm's clusterinfo phase writes it: a
// kubeconfig with only the cluster (server and CA data), which anyone may
// read; the bootstrap signer adds a jws-kubeconfig-<id> signature per
// signing token. Also kubeadm's CA pin: sha256 of the CA's DER
// SubjectPublicKeyInfo (--discovery-token-ca-cert-hash sha256:<hex>).
import { createHash, X509Certificate } from 'node:crypto';
import { parse } from 'yaml';

/** The cluster-info kubeconfig of this server and CA, in kubeadm's (client-go's) YAML. */
export function clusterInfoKubeconfig(server: string, caCertPem: string): string {
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${Buffer.from(caCertPem).toString('base64')}
    server: ${server}
  name: ""
contexts: null
current-context: ""
kind: Config
preferences: {}
users: null
`;
}

/** The server and CA (PEM) of a cluster-info kubeconfig; throws when it has no cluster. */
export function readClusterInfoKubeconfig(text: string): { server: string; caCertPem: string } {
  const doc = parse(text) as { clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[] } | null;
  const cluster = doc?.clusters?.[0]?.cluster;
  if (!cluster?.server || !cluster['certificate-authority-data']) throw new Error('the cluster-info kubeconfig has no cluster with a server and certificate-authority-data');
  return { server: cluster.server, caCertPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') };
}

/** pubkeypin.Hash: "sha256:" + hex of sha256 over the certificate's DER SubjectPublicKeyInfo. */
export function caCertHash(caCertPem: string): string {
  const spki = new X509Certificate(caCertPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
