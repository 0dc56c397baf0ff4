// The service accounts controller (pkg/controller/serviceaccount): every
// active namespace has the ServiceAccount "default", made again if deleted,
// so pods that name no account can be admitted.
import { resourceTypes } from '../client/client.js';
import type { Controller, ControllerContext } from './controller.js';
import { createPerNamespaceController, createUnlessGone } from './per-namespace.js';
import type { ServiceAccountObject as ServiceAccount } from '../api/types.js';


const accountsToEnsure = ['default'];

export function createServiceAccountsController(ctx: ControllerContext): Controller {
  return createPerNamespaceController<ServiceAccount>(ctx, {
    name: 'serviceaccount',
    type: resourceTypes.serviceaccounts,
    keeps: accountsToEnsure,
    watchUpdates: false,
    async sync(namespace, cached, client) {
      for (const name of accountsToEnsure) {
        if (!cached(name)) await createUnlessGone(client, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
      }
    },
  });
}
