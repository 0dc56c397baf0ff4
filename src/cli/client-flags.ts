// The API client a command gets from its --kubeconfig / --data-dir flags, or
// from inside a pod (in-cluster config). With --data-dir the command is on
// the control-plane machine with the cluster's CA at hand (root, the data
// dir is 0700): it gets a client certificate for its own identity, as
// kubeadm writes one kubeconfig per component, and talks over the data dir's
// socket. Kept light: components started inside pods load nothing else.
import { resolve } from 'node:path';
import { apiServerSocketPath } from '../util/data-dir.js';
import { createClient, type Client } from '../client/client.js';
import { inClusterConfig } from '../client/in-cluster.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { createTransport, type TransportOptions } from '../client/transport.js';
import { ensureClusterCA } from '../apiserver/pki/ca.js';
import { issueClientCertificate, type ClientIdentity } from '../apiserver/pki/client-cert.js';
import { UsageError } from './args.js';

/** Transport options for `identity` over the data dir's socket, with a fresh certificate from its CA. */
export function dataDirTransport(dataDir: string, identity: ClientIdentity): TransportOptions {
  const ca = ensureClusterCA(dataDir);
  const creds = issueClientCertificate(ca, identity);
  return { server: 'https://localhost', socketPath: apiServerSocketPath(dataDir), ca: ca.cert, cert: creds.cert, key: creds.key };
}

/**
 * A client from --kubeconfig FILE, from --data-dir DIR as `identity`, or
 * in-cluster; `userAgent` names the component.
 */
export function clientFor(values: { kubeconfig?: string; 'data-dir'?: string }, identity: ClientIdentity, userAgent: string): Client {
  if (values.kubeconfig) return createClient(createTransport(loadKubeconfig(resolve(values.kubeconfig))), userAgent);
  if (values['data-dir']) return createClient(createTransport(dataDirTransport(resolve(values['data-dir']), identity)), userAgent);
  const inCluster = inClusterConfig();
  if (inCluster) return createClient(createTransport(inCluster), userAgent);
  throw new UsageError('--kubeconfig or --data-dir is required (or run inside a pod)');
}
