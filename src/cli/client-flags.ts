// The API client a command gets from its --kubeconfig / --data-dir flags
// (shared by every command that talks to an API server; kept light so
// components started inside pods load nothing else).
import { resolve } from 'node:path';
import { apiServerSocketPath } from '../util/data-dir.js';
import { createClient, type Client } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { createTransport } from '../client/transport.js';
import { UsageError } from './args.js';

/** A client from --kubeconfig FILE, or from --data-dir DIR (its apiserver.sock); `userAgent` names the component. */
export function clientFor(values: { kubeconfig?: string; 'data-dir'?: string }, userAgent = 'kubesvc-controllers'): Client {
  if (values.kubeconfig) return createClient(createTransport(loadKubeconfig(resolve(values.kubeconfig))), userAgent);
  if (values['data-dir']) {
    return createClient(createTransport({ server: 'http://localhost', socketPath: apiServerSocketPath(resolve(values['data-dir'])) }), userAgent);
  }
  throw new UsageError('--kubeconfig or --data-dir is required');
}
