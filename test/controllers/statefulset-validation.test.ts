// StatefulSet and ControllerRevision defaults and validation, checked against
// upstream's exact renderings (pkg/apis/apps/validation, apps/v1 defaults).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import { errorString } from '../../src/api/field-errors.js';
import type { KubeObject } from '../../src/api/object.js';
import { controllerRevisionsResource } from '../../src/registry/controllerrevisions/resource.js';
import { dropDisabledStatefulSetFields, setStatefulSetDefaults } from '../../src/registry/statefulsets/defaults.js';
import { validateStatefulSet, validateStatefulSetStatusUpdate, validateStatefulSetUpdate } from '../../src/registry/statefulsets/validation.js';
import { statefulSetsResource } from '../../src/registry/workloads/resources.js';

type Sts = StatefulSet & KubeObject;

function sts(spec: Record<string, unknown> = {}): Sts {
  const obj = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } },
      ...spec,
    },
  } as unknown as Sts;
  setStatefulSetDefaults(obj);
  return obj;
}

const errs = (s: Sts) => validateStatefulSet(s).map(errorString);

describe('StatefulSet defaults', () => {
  it('OrderedReady, RollingUpdate from partition 0, claims retained, 1 replica, 10 revisions, template defaults', () => {
    const s = sts();
    assert.equal(s.spec!.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(s.spec!.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.deepEqual(s.spec!.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    assert.equal(s.spec!.replicas, 1);
    assert.equal(s.spec!.revisionHistoryLimit, 10);
    assert.equal(s.spec!.minReadySeconds, undefined);
    assert.equal(s.spec!.template.spec!.restartPolicy, 'Always');
    assert.equal(s.spec!.template.spec!.containers[0]!.imagePullPolicy, 'IfNotPresent');
  });

  it('a strategy given a type keeps its own rollingUpdate (none for OnDelete, none added to a bare RollingUpdate)', () => {
    assert.deepEqual(sts({ updateStrategy: { type: 'OnDelete' } }).spec!.updateStrategy, { type: 'OnDelete' });
    assert.deepEqual(sts({ updateStrategy: { type: 'RollingUpdate' } }).spec!.updateStrategy, { type: 'RollingUpdate' });
  });

  it('volume claim templates are typed, Filesystem and Pending', () => {
    const s = sts({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] });
    assert.deepEqual(s.spec!.volumeClaimTemplates, [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'www' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
        status: { phase: 'Pending' },
      },
    ]);
  });

  it('rollingUpdate.maxUnavailable is dropped (MaxUnavailableStatefulSet is off) unless already stored', () => {
    const s = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1, maxUnavailable: 2 } } });
    const kept = structuredClone(s);
    dropDisabledStatefulSetFields(s);
    assert.deepEqual(s.spec!.updateStrategy!.rollingUpdate, { partition: 1 });
    dropDisabledStatefulSetFields(kept, kept);
    assert.equal(kept.spec!.updateStrategy!.rollingUpdate!.maxUnavailable, 2);
  });
});

describe('StatefulSet validation', () => {
  it('accepts a valid set, an invalid pod spec included (upstream validates only the template metadata)', () => {
    assert.deepEqual(errs(sts()), []);
    assert.deepEqual(errs(sts({ template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [] } } })), []);
  });

  it('selector and template labels', () => {
    assert.deepEqual(errs(sts({ selector: { matchLabels: { app: 'other' } } })), [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`',
    ]);
    assert.deepEqual(errs(sts({ selector: {} })), ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset']);
    assert.deepEqual(errs(sts({ selector: undefined })), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`',
    ]);
  });

  it('policies, strategies and counts', () => {
    assert.deepEqual(errs(sts({ podManagementPolicy: 'Fast' })), ["spec.podManagementPolicy: Invalid value: \"Fast\": must be 'OrderedReady' or 'Parallel'"]);
    assert.deepEqual(errs(sts({ updateStrategy: { type: 'Replace' } })), [
      'spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:"Replace", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be \'RollingUpdate\' or \'OnDelete\'',
    ]);
    assert.deepEqual(errs(sts({ updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } })), [
      "spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:1, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'",
    ]);
    assert.deepEqual(errs(sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } })), [
      'spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0',
    ]);
    assert.deepEqual(errs(sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep', whenScaled: 'Delete' } })), [
      'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"',
    ]);
    assert.deepEqual(errs(sts({ replicas: -1, minReadySeconds: -2, revisionHistoryLimit: -3, ordinals: { start: -4 } })), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.minReadySeconds: Invalid value: -2: must be greater than or equal to 0',
      'spec.revisionHistoryLimit: Invalid value: -3: must be greater than or equal to 0',
      'spec.ordinals.start: Invalid value: -4: must be greater than or equal to 0',
    ]);
  });

  it('the template restarts always and has no deadline', () => {
    const s = sts();
    s.spec!.template.spec!.restartPolicy = 'Never';
    s.spec!.template.spec!.activeDeadlineSeconds = 10;
    assert.deepEqual(errs(s), [
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
      'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported',
    ]);
  });

  it('updates may change replicas, ordinals, template, updateStrategy, revisionHistoryLimit, the retention policy and minReadySeconds only', () => {
    const old = sts();
    const ok = sts({ replicas: 5, minReadySeconds: 3, revisionHistoryLimit: 2, ordinals: { start: 1 }, updateStrategy: { type: 'OnDelete' } });
    ok.spec!.template.spec!.containers[0]!.image = 'nginx:1.26';
    assert.deepEqual(validateStatefulSetUpdate(ok, old).map(errorString), []);
    assert.deepEqual(validateStatefulSetUpdate(sts({ serviceName: 'other' }), old).map(errorString), [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
    // Semantic equality: an empty list is no list.
    assert.deepEqual(validateStatefulSetUpdate(sts({ volumeClaimTemplates: [] }), old).map(errorString), []);
  });

  it('status counts stay consistent and collisionCount never goes down', () => {
    const old = sts();
    old.status = { replicas: 2, collisionCount: 2 };
    const next = sts();
    next.status = { replicas: 1, readyReplicas: 2, availableReplicas: 2, collisionCount: 1 };
    assert.deepEqual(validateStatefulSetStatusUpdate(next, old).map(errorString), [
      'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
      'status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas',
      'status.collisionCount: Invalid value: 1: cannot be decremented',
    ]);
  });

  it('a StatefulSet name is a DNS label (it names the pods and their hostnames)', () => {
    assert.deepEqual(statefulSetsResource.validateName('web.v1', false), ['must not contain dots']);
    assert.deepEqual(statefulSetsResource.shortNames, ['sts']);
  });
});

describe('ControllerRevision validation', () => {
  const rev = (data: unknown, revision = 1) => ({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'web-1', namespace: 'default' }, data, revision }) as KubeObject;
  const validate = (o: KubeObject) => controllerRevisionsResource.strategy.validate!(o).map(errorString);
  const validateUpdate = (o: KubeObject, old: KubeObject) => controllerRevisionsResource.strategy.validateUpdate!(o, old).map(errorString);

  it('data is mandatory and the revision non-negative', () => {
    assert.deepEqual(validate(rev({ a: 1 })), []);
    assert.deepEqual(validate(rev(undefined, -1)), ['data: Required value: data is mandatory', 'revision: Invalid value: -1: must be greater than or equal to 0']);
  });

  it('the revision number may change, the data may not', () => {
    assert.deepEqual(validateUpdate(rev({ a: 1 }, 5), rev({ a: 1 })), []);
    assert.deepEqual(validateUpdate(rev({ a: 2 }), rev({ a: 1 })), [
      'data: Invalid value: runtime.Unknown{TypeMeta:runtime.TypeMeta{APIVersion:"", Kind:""}, Raw:[]uint8{0x7b, 0x22, 0x61, 0x22, 0x3a, 0x32, 0x7d}, ContentEncoding:"", ContentType:"application/json"}: field is immutable',
    ]);
  });
});
