// Kubeconfigs the way kubeadm writes them (admin.conf, kubelet.conf, ...):
// the server's https URL with the cluster CA inline, and a user with a
// client certificate and key inline, so kubectl, @kubernetes/client-node and
// the Python client all read it unchanged.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { ClientCredentials } from './pki/client-cert.js';

export interface KubeconfigSpec {
  server: string;
  caCert: string;
  user: string;
  credentials: ClientCredentials;
  cluster?: string;
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

export function kubeconfigText(spec: KubeconfigSpec): string {
  const cluster = spec.cluster ?? 'kubesvc';
  const context = `${spec.user}@${cluster}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { 'certificate-authority-data': b64(spec.caCert), server: spec.server } }],
    contexts: [{ name: context, context: { cluster, user: spec.user, namespace: 'default' } }],
    'current-context': context,
    preferences: {},
    users: [{ name: spec.user, user: { 'client-certificate-data': b64(spec.credentials.cert), 'client-key-data': b64(spec.credentials.key) } }],
  });
}

/** Written owner-only: the key in it is the user's identity. */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): void {
  writeFileSync(path, kubeconfigText(spec), { mode: 0o600 });
}
