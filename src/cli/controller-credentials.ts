// Each controller's own credentials, as kube-controller-manager runs with
// --use-service-account-credentials (kubeadm's default): the shared
// informers read as system:kube-controller-manager, and every controller
// writes with a token of its own ServiceAccount in kube-system, so the
// bootstrap system:controller:* roles bound to those accounts are all it may
// do. The scheduler is its own component: system:kube-scheduler.
import { componentUsers } from '../auth/user.js';
import { createClient, type Client } from '../client/client.js';
import { serviceAccountTokenSource, type TokenSource } from '../client/service-account-token-source.js';
import { createTransport, type TransportOptions } from '../client/transport.js';
import type { ClientIdentity } from '../apiserver/pki/client-cert.js';
import { controllerAccounts, type ControllerName } from '../controllers/manager.js';

export interface ControllerCredentials {
  /** The controller manager's own client (shared informers, making the accounts). */
  manager: Client;
  clientFor(name: ControllerName): Promise<Client>;
  close(): void;
}

/** `transportFor` gives transport options (certificate) for an identity. */
export function controllerCredentials(transportFor: (identity: ClientIdentity) => TransportOptions): ControllerCredentials {
  const manager = createClient(createTransport(transportFor(componentUsers.controllerManager)), 'kube-controller-manager');
  const clients: Client[] = [];
  const sources: TokenSource[] = [];
  return {
    manager,
    async clientFor(name) {
      let client: Client;
      if (name === 'scheduler') {
        client = createClient(createTransport(transportFor(componentUsers.scheduler)), 'kube-scheduler');
      } else {
        const source = await serviceAccountTokenSource(manager, 'kube-system', controllerAccounts[name]);
        sources.push(source);
        const { cert: _c, key: _k, ...server } = transportFor(componentUsers.controllerManager);
        client = createClient(createTransport({ ...server, token: source.token }), `kube-controller-manager/${controllerAccounts[name]}`);
      }
      clients.push(client);
      return client;
    },
    close() {
      for (const s of sources) s.stop();
      for (const c of clients) c.close();
      manager.close();
    },
  };
}
