// core/v1 serviceaccounts: the identities pods run as. The serviceaccount
// controller keeps "default" in every namespace; the ServiceAccount admission
// of pods checks the account exists and honours its automountServiceAccountToken.
import { validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, type ResourceDef } from '../resource.js';
import { table } from './table.js';

export const serviceAccountsResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  resource: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  categories: [],
  namespaced: true,
  verbs: standardVerbs,
  // TokenRequest (`kubectl create token`), served by the API server with the service account signing key.
  subresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
  table,
  validateName: validateDNS1123SubdomainName,
  strategy: {},
};
