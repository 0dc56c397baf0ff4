// core/v1 configmaps (the kube-proxy configuration lives in one).
import type { ConfigMap } from '../../api/types.js';
import { validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, type ResourceDef } from '../resource.js';
import { validateConfigMap, validateConfigMapUpdate } from '../workloads/validation.js';
import { table } from './table.js';

export const configMapsResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  resource: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  categories: [],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [],
  table,
  validateName: validateDNS1123SubdomainName,
  strategy: {
    validate: (obj) => validateConfigMap(obj as unknown as ConfigMap),
    validateUpdate: (obj, old) => validateConfigMapUpdate(obj as unknown as ConfigMap, old as unknown as ConfigMap),
  },
};
