// discovery.k8s.io/v1 endpointslices: the scalable endpoint lists proxies read.
import type { EndpointSlice } from '../../api/types.js';
import type { KubeObject } from '../../api/object.js';
import { validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, type ResourceDef } from '../resource.js';
import { table } from './table.js';
import { validateEndpointSlice, validateEndpointSliceUpdate } from './validation.js';

const slice = (o: KubeObject) => o as unknown as EndpointSlice;

function setDefaults(obj: KubeObject) {
  for (const p of slice(obj).ports ?? []) {
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
}

export const endpointSlicesResource: ResourceDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  resource: 'endpointslices',
  singular: 'endpointslice',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [],
  table,
  validateName: validateDNS1123SubdomainName,
  strategy: {
    prepareForCreate: setDefaults,
    prepareForUpdate: setDefaults,
    validate: (obj) => validateEndpointSlice(slice(obj)),
    validateUpdate: (obj, old) => validateEndpointSliceUpdate(slice(obj), slice(old)),
  },
};
