// apps/v1 deployments, replicasets, daemonsets and statefulsets: defaults,
// generation tracking, status and scale subresources. Their controllers come
// separately.
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { DaemonSet, Deployment, ReplicaSet } from '../../api/types.js';
import type { FieldError } from '../../api/field-errors.js';
import type { KubeObject } from '../../api/object.js';
import { keepAllButStatus, validateDNS1123LabelName, validateDNS1123SubdomainName } from '../common.js';
import { table as daemonSetTable } from '../daemonsets/table.js';
import { table as deploymentTable } from '../deployments/table.js';
import { setPodSpecDefaults } from '../pods/defaults.js';
import { table as replicaSetTable } from '../replicasets/table.js';
import { dropDisabledStatefulSetFields, setStatefulSetDefaults } from '../statefulsets/defaults.js';
import { table as statefulSetTable } from '../statefulsets/table.js';
import { validateStatefulSet, validateStatefulSetStatusUpdate, validateStatefulSetUpdate } from '../statefulsets/validation.js';
import { scaleSubresource, standardVerbs, statusSubresource, type ResourceDef } from '../resource.js';
import type { TableConvertor } from '../table.js';
import {
  validateDaemonSet,
  validateDaemonSetUpdate,
  validateDeployment,
  validateDeploymentUpdate,
  validateReplicaSet,
  validateReplicaSetUpdate,
} from './validation.js';

function setTemplateDefaults(obj: KubeObject) {
  const spec = obj.spec as { template?: { spec?: Parameters<typeof setPodSpecDefaults>[0] } } | undefined;
  if (spec?.template) setPodSpecDefaults((spec.template.spec ??= { containers: [] }));
}

function setDeploymentDefaults(obj: KubeObject) {
  const d = obj as unknown as Deployment;
  const spec = (d.spec ??= { selector: {}, template: {} });
  spec.replicas ??= 1;
  spec.strategy ??= { type: 'RollingUpdate' };
  spec.strategy.type ??= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  setTemplateDefaults(obj);
}

function setReplicaSetDefaults(obj: KubeObject) {
  const rs = obj as unknown as ReplicaSet;
  (rs.spec ??= { selector: {} }).replicas ??= 1;
  setTemplateDefaults(obj);
}

function setDaemonSetDefaults(obj: KubeObject) {
  const ds = obj as unknown as DaemonSet;
  const spec = (ds.spec ??= { selector: {}, template: {} });
  spec.updateStrategy ??= { type: 'RollingUpdate' };
  spec.updateStrategy.type ??= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  setTemplateDefaults(obj);
}

function workload(
  kind: string,
  resource: string,
  shortNames: string[],
  table: TableConvertor,
  setDefaults: (o: KubeObject) => void,
  validate: (o: KubeObject) => FieldError[],
  validateUpdate: (o: KubeObject, old: KubeObject) => FieldError[],
  scalable: boolean,
  validateName = validateDNS1123SubdomainName,
): ResourceDef {
  const ident = { group: 'apps', version: 'v1', kind };
  return {
    ...ident,
    resource,
    singular: kind.toLowerCase(),
    shortNames,
    categories: ['all'],
    namespaced: true,
    verbs: standardVerbs,
    subresources: scalable ? [statusSubresource(ident), scaleSubresource()] : [statusSubresource(ident)],
    table,
    validateName,
    strategy: {
      tracksGeneration: true,
      prepareForCreate(obj) {
        setDefaults(obj);
        obj.status = {};
      },
      prepareForUpdate: (obj) => setDefaults(obj),
      prepareForStatusUpdate: keepAllButStatus,
      validate,
      validateUpdate,
    },
  };
}

export const deploymentsResource = workload(
  'Deployment',
  'deployments',
  ['deploy'],
  deploymentTable,
  setDeploymentDefaults,
  (o) => validateDeployment(o as unknown as Deployment),
  (o, old) => validateDeploymentUpdate(o as unknown as Deployment, old as unknown as Deployment),
  true,
);
export const replicaSetsResource = workload(
  'ReplicaSet',
  'replicasets',
  ['rs'],
  replicaSetTable,
  setReplicaSetDefaults,
  (o) => validateReplicaSet(o as unknown as ReplicaSet),
  (o, old) => validateReplicaSetUpdate(o as unknown as ReplicaSet, old as unknown as ReplicaSet),
  true,
);
export const daemonSetsResource = workload(
  'DaemonSet',
  'daemonsets',
  ['ds'],
  daemonSetTable,
  setDaemonSetDefaults,
  (o) => validateDaemonSet(o as unknown as DaemonSet),
  (o, old) => validateDaemonSetUpdate(o as unknown as DaemonSet, old as unknown as DaemonSet),
  false,
);

// A StatefulSet's name is the stem of its pods' names and hostnames, hence a DNS label (ValidateStatefulSetName).
const statefulSets = workload(
  'StatefulSet',
  'statefulsets',
  ['sts'],
  statefulSetTable,
  setStatefulSetDefaults,
  (o) => validateStatefulSet(o as unknown as StatefulSet),
  (o, old) => validateStatefulSetUpdate(o as unknown as StatefulSet, old as unknown as StatefulSet),
  true,
  validateDNS1123LabelName,
);
export const statefulSetsResource: ResourceDef = {
  ...statefulSets,
  strategy: {
    ...statefulSets.strategy,
    prepareForCreate(obj, ctx) {
      statefulSets.strategy.prepareForCreate!(obj, ctx);
      dropDisabledStatefulSetFields(obj);
      // StatefulSetStatus has two counts without omitempty: Go writes them even for a new set.
      obj.status = { replicas: 0, availableReplicas: 0 };
    },
    prepareForUpdate(obj, old, ctx) {
      statefulSets.strategy.prepareForUpdate!(obj, old, ctx);
      dropDisabledStatefulSetFields(obj, old);
    },
    validateStatusUpdate: (o, old) => validateStatefulSetStatusUpdate(o as unknown as StatefulSet, old as unknown as StatefulSet),
  },
};
