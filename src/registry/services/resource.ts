// core/v1 services: defaults, validation and the cluster IP / node port
// allocation that makes them what they are.
import type { Service } from '../../api/types.js';
import type { KubeObject } from '../../api/object.js';
import { errors } from '../../api/status.js';
import { keepAllButStatus, validateDNS1035Name } from '../common.js';
import { standardVerbs, statusSubresource, type ResourceDef } from '../resource.js';
import type { ServiceAllocation } from './allocation.js';
import {
  initIPFamilyFields,
  normalizeServiceIPsAndPorts,
  prepareServiceForCreate,
  prepareServiceForUpdate,
  setServiceDefaults,
  type ServiceClusterConfig,
} from './defaults.js';
import { table } from './table.js';
import { validateService, validateServiceStatusUpdate, validateServiceUpdate } from './validation.js';

const svc = (o: KubeObject) => o as unknown as Service;

export interface ServiceResourceDeps {
  allocation: ServiceAllocation;
  cluster: ServiceClusterConfig;
  /** Deleting a Service deletes its Endpoints (registry afterDelete). */
  deleteEndpoints(namespace: string, name: string): Promise<void>;
}

export function servicesResource(deps: ServiceResourceDeps): ResourceDef {
  const ident = { group: '', version: 'v1', kind: 'Service' };
  // alloc.go allocateCreate/allocateUpdate: IP families are settled first, and
  // what the cluster cannot serve is refused before anything is allocated.
  const settleFamilies = (obj: KubeObject, old?: KubeObject) => {
    const errs = initIPFamilyFields(svc(obj), old && svc(old), deps.cluster);
    if (errs.length) throw errors.invalid('Service', '', obj.metadata.name ?? '', errs);
  };
  return {
    ...ident,
    resource: 'services',
    singular: 'service',
    shortNames: ['svc'],
    categories: ['all'],
    namespaced: true,
    verbs: standardVerbs,
    subresources: [statusSubresource(ident)],
    table,
    validateName: validateDNS1035Name,
    strategy: {
      prepareForCreate(obj) {
        setServiceDefaults(svc(obj));
        prepareServiceForCreate(svc(obj));
        normalizeServiceIPsAndPorts(svc(obj), undefined);
      },
      prepareForUpdate(obj, old) {
        setServiceDefaults(svc(obj));
        prepareServiceForUpdate(svc(obj), svc(old));
        normalizeServiceIPsAndPorts(svc(obj), svc(old));
      },
      prepareForStatusUpdate(obj, old) {
        keepAllButStatus(obj, old);
        setServiceDefaults(svc(obj));
      },
      validate: (obj) => validateService(svc(obj), deps.cluster),
      validateUpdate: (obj, old) => validateServiceUpdate(svc(obj), svc(old), deps.cluster),
      validateStatusUpdate: (obj, old) => validateServiceStatusUpdate(svc(obj), svc(old)),
      beginCreate(obj, ctx) {
        settleFamilies(obj);
        return deps.allocation.beginCreate(svc(obj), ctx.dryRun);
      },
      beginUpdate(obj, old, ctx) {
        settleFamilies(obj, old);
        return deps.allocation.beginUpdate(svc(obj), svc(old), ctx.dryRun);
      },
      // The addresses and ports are released in the delete's own transaction.
      beginDelete: (obj) => deps.allocation.beginDelete(svc(obj)),
      async afterDelete(obj) {
        await deps.deleteEndpoints(obj.metadata.namespace!, obj.metadata.name!);
      },
      decorate(obj) {
        if (svc(obj).spec?.type === 'ExternalName') delete svc(obj).spec!.internalTrafficPolicy;
      },
    },
  };
}
