// StatefulSet defaults (pkg/apis/apps/v1 SetDefaults_StatefulSet and the
// generated object defaults): OrderedReady pods, RollingUpdate from
// partition 0, claims retained, one replica, ten revisions; the pod template
// and the volume claim templates get their own kinds' defaults.
//
// MaxUnavailableStatefulSet is an alpha gate (off) at the version this server
// reports, so rollingUpdate.maxUnavailable is dropped as upstream's strategy
// drops disabled fields, unless the stored object already used it.
import type { StatefulSet as ApiStatefulSet } from 'kubernetes-types/apps/v1.js';
import type { DeepMutable } from '../../api/types.js';
import type { KubeObject } from '../../api/object.js';
import { setPodSpecDefaults } from '../pods/defaults.js';

type StatefulSet = DeepMutable<ApiStatefulSet>;
type Spec = NonNullable<StatefulSet['spec']>;
type ClaimTemplate = NonNullable<Spec['volumeClaimTemplates']>[number];

/**
 * A claim template as the API returns it: typed (v1 PersistentVolumeClaim),
 * Filesystem mode and the Pending phase of a claim not yet bound.
 */
function setClaimTemplateDefaults(claim: ClaimTemplate): void {
  claim.apiVersion = 'v1';
  claim.kind = 'PersistentVolumeClaim';
  (claim.spec ??= {}).volumeMode ??= 'Filesystem';
  const status = (claim.status ??= {});
  if (!status.phase) status.phase = 'Pending';
}

export function setStatefulSetDefaults(obj: KubeObject): void {
  const sts = obj as unknown as StatefulSet;
  const spec = (sts.spec ??= { selector: {}, serviceName: '', template: {} } as Spec);
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) {
    strategy.type = 'RollingUpdate';
    strategy.rollingUpdate ??= {};
  }
  if (strategy.type === 'RollingUpdate' && strategy.rollingUpdate) strategy.rollingUpdate.partition ??= 0;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  if (!retention.whenDeleted) retention.whenDeleted = 'Retain';
  if (!retention.whenScaled) retention.whenScaled = 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  if (spec.template) setPodSpecDefaults((spec.template.spec ??= { containers: [] }));
  for (const claim of spec.volumeClaimTemplates ?? []) setClaimTemplateDefaults(claim);
}

/** dropDisabledFields: maxUnavailable only survives where the stored object already had it. */
export function dropDisabledStatefulSetFields(obj: KubeObject, old?: KubeObject): void {
  const rollingUpdate = (obj as unknown as StatefulSet).spec?.updateStrategy?.rollingUpdate;
  const inUse = (old as unknown as StatefulSet | undefined)?.spec?.updateStrategy?.rollingUpdate?.maxUnavailable != null;
  if (rollingUpdate && !inUse) delete rollingUpdate.maxUnavailable;
}
