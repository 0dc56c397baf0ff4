// The service accounts controller (pkg/controller/serviceaccount): every
// active namespace has the ServiceAccount "default", made again if deleted,
// so pods that name no account can be admitted.
import type { KubeObject } from '../api/object.js';
import type { Namespace as NamespaceType } from '../api/types.js';
import type { ServiceAccount as ServiceAccountType } from 'kubernetes-types/core/v1.js';
import { isNotFound, resourceTypes } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';

type Namespace = NamespaceType & KubeObject;
type ServiceAccount = ServiceAccountType & KubeObject;

const accountsToEnsure = ['default'];

export function createServiceAccountsController(ctx: ControllerContext): Controller {
  const accounts = ctx.factory.client.resource<ServiceAccount>(resourceTypes.serviceaccounts);
  let namespaces: Informer<Namespace>;
  let serviceAccounts: Informer<ServiceAccount>;
  const { queue } = queueFor('serviceaccount', syncNamespace, 2);

  async function syncNamespace(name: string): Promise<void> {
    const ns = namespaces.get(name);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const account of accountsToEnsure) {
      if (serviceAccounts.get(`${name}/${account}`)) continue;
      try {
        await accounts.create(name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: name } });
      } catch (e) {
        // Made meanwhile (the cache is behind), or the namespace went or is terminating: nothing to do.
        const code = (e as { code?: number }).code;
        if (isNotFound(e) || code === 403 || code === 409) continue;
        throw e;
      }
    }
  }

  return {
    name: 'serviceaccount',
    setup() {
      namespaces = ctx.factory.informer<Namespace>(resourceTypes.namespaces);
      serviceAccounts = ctx.factory.informer<ServiceAccount>(resourceTypes.serviceaccounts);
      namespaces.on({ add: (ns) => queue.add(ns.metadata.name!), update: (_old, ns) => queue.add(ns.metadata.name!) });
      serviceAccounts.on({ delete: (sa) => accountsToEnsure.includes(sa.metadata.name!) && queue.add(sa.metadata.namespace!) });
    },
    run() {
      for (const ns of namespaces.list()) queue.add(ns.metadata.name!);
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
