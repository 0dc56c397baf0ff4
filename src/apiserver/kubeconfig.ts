// The kubeconfig kubectl and the other components use to reach the server.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export function kubeconfigText(server: string, name = 'kubesvc'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server } }],
    users: [{ name, user: {} }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

export function writeKubeconfig(path: string, server: string): void {
  writeFileSync(path, kubeconfigText(server), { mode: 0o600 });
}
