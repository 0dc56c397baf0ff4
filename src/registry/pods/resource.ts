// core/v1 pods: defaults, graceful deletion, and the subresources the
// scheduler (binding) and the node agent (status, log, exec) use.
import type { Pod } from '../../api/types.js';
import type { KubeObject } from '../../api/object.js';
import { keepAllButStatus, validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, statusSubresource, type ResourceDef } from '../resource.js';
import { validatePod } from '../workloads/validation.js';
import { validatePodUpdate } from './update-validation.js';
import { setPodSpecDefaults } from './defaults.js';
import { admitServiceAccount, podServiceAccountName } from './service-account.js';
import { errors } from '../../api/status.js';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { table } from './table.js';

const pod = (o: KubeObject) => o as unknown as Pod;

export interface PodsOptions {
  /**
   * The ServiceAccount admission plugin: the account a pod names must exist
   * (looked up here, undefined when missing), and its token volume is mounted
   * (the cluster has a CA to put in it).
   */
  serviceAccounts?: (namespace: string, name: string) => Promise<ServiceAccount | undefined>;
}

export const podsResource = (opts: PodsOptions = {}): ResourceDef => ({
  group: '',
  version: 'v1',
  kind: 'Pod',
  resource: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [
    statusSubresource({ group: '', version: 'v1', kind: 'Pod' }),
    { name: 'binding', group: '', version: 'v1', kind: 'Binding', verbs: ['create'] },
    // policy/v1 Evictions (src/apiserver/eviction.ts); kubectl drain looks for this entry in discovery.
    { name: 'eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
    { name: 'log', group: '', version: 'v1', kind: 'Pod', verbs: ['get'] },
    { name: 'exec', group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] },
  ],
  table,
  validateName: validateDNS1123SubdomainName,
  fields: (obj) => ({
    'spec.nodeName': pod(obj).spec?.nodeName ?? '',
    'spec.restartPolicy': pod(obj).spec?.restartPolicy ?? '',
    'spec.schedulerName': pod(obj).spec?.schedulerName ?? '',
    'spec.serviceAccountName': pod(obj).spec?.serviceAccountName ?? '',
    'spec.hostNetwork': String(pod(obj).spec?.hostNetwork ?? false),
    'status.phase': pod(obj).status?.phase ?? '',
    'status.podIP': pod(obj).status?.podIP ?? '',
    'status.nominatedNodeName': pod(obj).status?.nominatedNodeName ?? '',
  }),
  strategy: {
    prepareForCreate(obj) {
      const p = pod(obj);
      setPodSpecDefaults((p.spec ??= { containers: [] }));
      p.status = { phase: 'Pending', qosClass: 'BestEffort' };
    },
    async admitCreate(obj) {
      if (!opts.serviceAccounts) return;
      const p = pod(obj);
      const namespace = obj.metadata.namespace ?? 'default';
      const name = podServiceAccountName(p);
      const account = await opts.serviceAccounts(namespace, name);
      if (!account) {
        throw errors.forbidden({ group: '', resource: 'pods' }, obj.metadata.name ?? '', `error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`);
      }
      admitServiceAccount(p, account);
    },
    prepareForUpdate(obj) {
      setPodSpecDefaults((pod(obj).spec ??= { containers: [] }));
    },
    prepareForStatusUpdate: keepAllButStatus,
    validate: (obj) => validatePod(pod(obj)),
    validateUpdate: (obj, old) => validatePodUpdate(pod(obj), pod(old)),
    /**
     * A pod bound to a node is deleted gracefully: marked with a deletion
     * timestamp, and its node's agent removes it once the containers stopped.
     * Unbound or finished pods go at once, as upstream.
     */
    gracefulDelete(obj, requested) {
      const p = pod(obj);
      const grace = requested ?? p.spec?.terminationGracePeriodSeconds ?? 30;
      if (!p.spec?.nodeName || grace <= 0) return undefined;
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return undefined;
      return grace;
    },
  },
});
