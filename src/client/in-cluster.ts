// The in-cluster configuration client-go's rest.InClusterConfig builds: the
// API at $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, trusting the CA
// and sending the (rotating) token of the pod's service account volume.
import { existsSync, readFileSync } from 'node:fs';
import type { TransportOptions } from './transport.js';

export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Transport options from inside a pod, or undefined when not running in one. */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env): TransportOptions | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = `${serviceAccountDir}/token`;
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return { server: `https://${hostPart}:${port}`, ca: readFileSync(`${serviceAccountDir}/ca.crt`), tokenFile };
}
