// Every resource the API server serves, wired to its dependencies.
import type { ResourceDef } from '../registry/resource.js';
import type { Registry } from '../registry/registry.js';
import type { ServiceAllocation } from '../registry/services/allocation.js';
import type { ServiceClusterConfig } from '../registry/services/defaults.js';
import { servicesResource } from '../registry/services/resource.js';
import { endpointsResource } from '../registry/endpoints/resource.js';
import { endpointSlicesResource } from '../registry/endpointslices/resource.js';
import { podsResource } from '../registry/pods/resource.js';
import { serviceAccountsResource } from '../registry/serviceaccounts/resource.js';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { nodesResource } from '../registry/nodes/resource.js';
import { namespacesResource } from '../registry/namespaces/resource.js';
import { eventsResource } from '../registry/events/resource.js';
import { configMapsResource } from '../registry/configmaps/resource.js';
import { secretsResource } from '../registry/secrets/resource.js';
import { daemonSetsResource, deploymentsResource, replicaSetsResource, statefulSetsResource } from '../registry/workloads/resources.js';
import { controllerRevisionsResource } from '../registry/controllerrevisions/resource.js';
import { jobsResource } from '../registry/jobs/resource.js';
import { cronJobsResource } from '../registry/cronjobs/resource.js';
import { podDisruptionBudgetsResource } from '../registry/poddisruptionbudgets/resource.js';
import { leasesResource } from '../registry/leases/resource.js';
import { certificateSigningRequestsResource } from '../registry/certificates/resource.js';
import { logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

const log = logger('apiserver');

export interface ResourceDeps {
  /** Late-bound: the registry is built after the definitions. */
  registry: () => Registry;
  allocation: ServiceAllocation;
  cluster: ServiceClusterConfig;
  /** The ServiceAccount admission of pods: the account must exist; its token volume is mounted. */
  serviceAccountTokens?: boolean;
  /** Everything served now (custom resources included), for the namespace cleanup; the built-in list when unset. */
  served?: () => ResourceDef[];
}

export function buildResources(deps: ResourceDeps): ResourceDef[] {
  const defs: ResourceDef[] = [];
  const namespaces = namespacesResource({
    async terminate(name) {
      const registry = deps.registry();
      try {
        const namespaced = (deps.served?.() ?? defs).filter((d) => d.namespaced);
        for (const def of namespaced) {
          const { items } = await registry.list(def, name);
          for (const item of items) {
            await registry.delete(def, name, item.metadata.name!).catch((e: { code?: number }) => {
              if (e.code !== 404) throw e;
            });
          }
        }
        const remaining = (await Promise.all(namespaced.map((d) => registry.list(d, name)))).reduce(
          (n, l) => n + l.items.length,
          0,
        );
        if (remaining > 0) {
          // Pods still terminating on their nodes: try again shortly, as the namespace controller requeues.
          setTimeout(() => void namespaces.strategy.afterDeleteRequested?.({ metadata: { name } }), 1000).unref();
          return;
        }
        await registry.update(namespaces, undefined, name, (n) => ({ ...n, spec: { finalizers: [] } }), { subresource: 'finalize' });
        await registry.delete(namespaces, undefined, name);
      } catch (e) {
        if ((e as { code?: number }).code === 404) return;
        log.error('namespace cleanup failed', { namespace: name, error: errorMessage(e) });
      }
    },
  });
  defs.push(
    podsResource({
      serviceAccounts: deps.serviceAccountTokens
        ? (namespace, name) =>
            deps
              .registry()
              .get(serviceAccountsResource, namespace, name)
              .then(
                (sa) => sa as ServiceAccount,
                (e: { code?: number }) => {
                  if (e.code === 404) return undefined;
                  throw e;
                },
              )
        : undefined,
    }),
    serviceAccountsResource,
    servicesResource({
      allocation: deps.allocation,
      cluster: deps.cluster,
      async deleteEndpoints(namespace, name) {
        await deps
          .registry()
          .delete(endpointsResource, namespace, name)
          .catch((e: { code?: number }) => {
            if (e.code !== 404) throw e;
          });
      },
    }),
    endpointsResource,
    namespaces,
    nodesResource,
    eventsResource,
    configMapsResource,
    secretsResource,
    deploymentsResource,
    replicaSetsResource,
    daemonSetsResource,
    statefulSetsResource,
    controllerRevisionsResource,
    jobsResource,
    cronJobsResource,
    podDisruptionBudgetsResource,
    leasesResource,
    endpointSlicesResource,
    certificateSigningRequestsResource,
  );
  return defs;
}
