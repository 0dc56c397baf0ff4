// apiextensions.k8s.io/v1 customresourcedefinitions: cluster-scoped, with a
// status subresource the establishing controller writes. Deleting a CRD
// only marks it (the customresourcecleanup finalizer and a Terminating
// condition) until its custom objects are gone, as upstream's CRD registry.
import { deepClone, nowTimestamp, type KubeObject } from '../api/object.js';
import { fieldErrors } from '../api/field-errors.js';
import { nameIsDNSSubdomain } from '../registry/validation/object-meta.js';
import { standardVerbs, statusSubresource, type ResourceDef } from '../registry/resource.js';
import { column, nameColumn } from '../registry/table.js';
import { creationTimestampDoc } from '../registry/table-format.js';
import { defaultCRD, validateCRD, validateCRDUpdate } from './crd-validation.js';
import { cleanupFinalizer, type CRDCondition, type CustomResourceDefinition } from './types.js';

const asCRD = (obj: KubeObject) => obj as CustomResourceDefinition;

/** Sets (or replaces) a condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(crd: CustomResourceDefinition, condition: CRDCondition): void {
  const status = (crd.status ??= {});
  const conditions = (status.conditions ??= []);
  const i = conditions.findIndex((c) => c.type === condition.type);
  const existing = conditions[i];
  const next = { ...condition, lastTransitionTime: existing && existing.status === condition.status ? existing.lastTransitionTime : nowTimestamp() };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
}

export interface CRDHooks {
  /** After deletion was requested: the cleanup of the custom objects starts. */
  deletionRequested(crd: CustomResourceDefinition): void;
}

export function crdResource(hooks: CRDHooks): ResourceDef {
  const def: ResourceDef = {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    resource: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    namespaced: false,
    verbs: standardVerbs,
    subresources: [],
    // The default table convertor's: Name and the creation time in RFC 3339.
    table: {
      columns: [nameColumn, column('Created At', 'date', 0, creationTimestampDoc)],
      cells: (obj) => [obj.metadata.name, obj.metadata.creationTimestamp ?? null],
    },
    validateName: nameIsDNSSubdomain,
    strategy: {
      tracksGeneration: true,
      prepareForCreate(obj) {
        const crd = asCRD(obj);
        defaultCRD(crd);
        const storage = crd.spec.versions?.find((v) => v.storage)?.name;
        crd.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: storage ? [storage] : [] };
      },
      prepareForUpdate(obj, old) {
        const crd = asCRD(obj);
        defaultCRD(crd);
        crd.status = deepClone(asCRD(old).status);
        const storage = crd.spec.versions?.find((v) => v.storage)?.name;
        const stored = (crd.status ??= {}).storedVersions ?? [];
        if (storage && !stored.includes(storage)) crd.status.storedVersions = [...stored, storage];
      },
      prepareForStatusUpdate(obj, old) {
        obj.spec = deepClone(old.spec);
      },
      validate: (obj) => validateCRD(asCRD(obj)),
      validateUpdate: (obj, old) => validateCRDUpdate(asCRD(obj), asCRD(old)),
      validateStatusUpdate: (obj) => {
        const crd = asCRD(obj);
        const errs = validateCRD(crd).filter((e) => e.field.startsWith('status.'));
        (crd.status?.storedVersions ?? []).forEach((v, i) => {
          if (!crd.spec.versions.some((sv) => sv.name === v)) errs.push(fieldErrors.invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
        });
        return errs;
      },
      // Deleting always goes through the cleanup finalizer: the request marks the CRD, the controller finishes.
      gracefulDelete: () => 0,
      prepareForDelete(obj) {
        const crd = asCRD(obj);
        if (!crd.metadata.finalizers?.includes(cleanupFinalizer)) crd.metadata.finalizers = [...(crd.metadata.finalizers ?? []), cleanupFinalizer];
        setCondition(crd, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' });
      },
      afterDeleteRequested: (obj) => hooks.deletionRequested(asCRD(obj)),
    },
  };
  def.subresources = [statusSubresource(def)];
  return def;
}
