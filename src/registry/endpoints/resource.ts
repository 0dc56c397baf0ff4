// core/v1 endpoints: hand-made or controller-made address lists per Service.
import type { Endpoints } from '../../api/types.js';
import type { KubeObject } from '../../api/object.js';
import { validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, type ResourceDef } from '../resource.js';
import { table } from './table.js';
import { validateEndpoints, validateEndpointsUpdate } from './validation.js';

function setDefaults(obj: KubeObject) {
  for (const s of (obj as unknown as Endpoints).subsets ?? []) for (const p of s.ports ?? []) p.protocol ??= 'TCP';
}

export const endpointsResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  resource: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  categories: [],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [],
  table,
  validateName: validateDNS1123SubdomainName,
  strategy: {
    prepareForCreate: setDefaults,
    prepareForUpdate: setDefaults,
    validate: (obj) => validateEndpoints(obj as unknown as Endpoints),
    validateUpdate: (obj, old) => validateEndpointsUpdate(obj as unknown as Endpoints, old as unknown as Endpoints),
  },
};
