// coordination.k8s.io/v1 leases: the heartbeats of nodes (kube-node-lease)
// and the locks of leader election. No status, no generation; the
// CoordinatedLeaderElection fields (strategy, preferredHolder) are alpha and
// off in 1.32, so they are dropped as upstream's dropDisabledFields does.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeObject } from '../../api/object.js';
import { errors } from '../../api/status.js';
import { nodeNameOf } from '../../auth/user.js';
import { validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, type ResourceDef } from '../resource.js';
import { table } from './table.js';
import { validateLease } from './validation.js';
import { nodeLeaseNamespace } from '../../api/node-lease.js';

const lease = (o: KubeObject) => o as unknown as Lease;

function dropDisabledFields(obj: KubeObject, old?: KubeObject) {
  const spec = lease(obj).spec as (Lease['spec'] & { strategy?: string; preferredHolder?: string }) | undefined;
  const oldSpec = old ? (lease(old).spec as { strategy?: string; preferredHolder?: string } | undefined) : undefined;
  if (!spec) return;
  if (!oldSpec?.strategy) delete spec.strategy;
  if (!oldSpec?.preferredHolder) delete spec.preferredHolder;
}

export const leasesResource: ResourceDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  resource: 'leases',
  singular: 'lease',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [],
  table,
  validateName: validateDNS1123SubdomainName,
  strategy: {
    prepareForCreate: (obj) => dropDisabledFields(obj),
    /**
     * NodeRestriction's admitLease: the Node authorizer cannot see the name of
     * an object being created, so a node's create is checked here — only its
     * own lease, only in kube-node-lease.
     */
    async admitCreate(obj, ctx) {
      const node = ctx.user ? nodeNameOf(ctx.user) : undefined;
      if (!node) return;
      const gr = { group: 'coordination.k8s.io', resource: 'leases' };
      if (obj.metadata.namespace !== nodeLeaseNamespace) {
        throw errors.forbidden(gr, obj.metadata.name ?? '', `can only access leases in the "${nodeLeaseNamespace}" system namespace`);
      }
      if (obj.metadata.name !== node) throw errors.forbidden(gr, obj.metadata.name ?? '', 'can only access node lease with the same name as the requesting node');
    },
    prepareForUpdate: (obj, old) => dropDisabledFields(obj, old),
    validate: (obj) => validateLease(lease(obj)),
    validateUpdate: (obj) => validateLease(lease(obj)),
  },
};
