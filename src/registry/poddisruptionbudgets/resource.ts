// policy/v1 poddisruptionbudgets (+status): the budgets the eviction
// subresource honours and the disruption controller keeps the status of.
// As upstream's strategy: a create starts with an empty status at
// generation 1, spec changes bump the generation, status writes keep the spec.
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KubeObject } from '../../api/object.js';
import { keepAllButStatus, validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, statusSubresource, type ResourceDef } from '../resource.js';
import { table } from './table.js';
import { validatePodDisruptionBudget, validatePodDisruptionBudgetStatus } from './validation.js';

const pdb = (o: KubeObject) => o as unknown as PodDisruptionBudget;

/** PodDisruptionBudgetStatus's four counts have no omitempty: Go writes them even when zero. */
export function emptyPodDisruptionBudgetStatus() {
  return { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
}

const ident = { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' };

export const podDisruptionBudgetsResource: ResourceDef = {
  ...ident,
  resource: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  shortNames: ['pdb'],
  categories: [],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [statusSubresource(ident)],
  table,
  validateName: validateDNS1123SubdomainName,
  strategy: {
    tracksGeneration: true,
    prepareForCreate(obj) {
      obj.status = emptyPodDisruptionBudgetStatus();
    },
    prepareForStatusUpdate: keepAllButStatus,
    validate: (obj) => validatePodDisruptionBudget(pdb(obj)),
    validateUpdate: (obj) => validatePodDisruptionBudget(pdb(obj)),
    validateStatusUpdate: (obj) => validatePodDisruptionBudgetStatus(pdb(obj).status),
  },
};
