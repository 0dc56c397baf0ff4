// apps/v1 controllerrevisions: the immutable snapshots of a StatefulSet's or
// DaemonSet's template that their controllers keep as revision history
// (kubectl rollout history / undo read them). Validation as upstream's
// ValidateControllerRevision and ValidateControllerRevisionUpdate.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import { fieldErrors, GoLiteral, type FieldError } from '../../api/field-errors.js';
import { validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, type ResourceDef } from '../resource.js';
import { validateNonnegativeField } from '../validation/object-meta.js';
import { table } from './table.js';

function validateControllerRevision(rev: ControllerRevision): FieldError[] {
  const errs: FieldError[] = [];
  // A null or absent RawExtension converts to a nil runtime.Object.
  if (rev.data == null) errs.push(fieldErrors.required('data', 'data is mandatory'));
  errs.push(...validateNonnegativeField(rev.revision ?? 0, 'revision'));
  return errs;
}

/** Go %#v of the runtime.Unknown a RawExtension converts to: the JSON bytes, one hex literal each. */
function unknownLiteral(data: unknown): GoLiteral {
  const raw = [...Buffer.from(JSON.stringify(data) ?? '', 'utf8')].map((b) => `0x${b.toString(16)}`).join(', ');
  return new GoLiteral(`runtime.Unknown{TypeMeta:runtime.TypeMeta{APIVersion:"", Kind:""}, Raw:[]uint8{${raw}}, ContentEncoding:"", ContentType:"application/json"}`);
}

/** Only metadata and the revision number may change; the snapshot itself is immutable (compared as written, as its raw bytes are). */
function validateControllerRevisionUpdate(rev: ControllerRevision, old: ControllerRevision): FieldError[] {
  const errs = validateControllerRevision(rev);
  if (JSON.stringify(rev.data) !== JSON.stringify(old.data)) errs.push(fieldErrors.invalid('data', rev.data == null ? null : unknownLiteral(rev.data), 'field is immutable'));
  return errs;
}

export const controllerRevisionsResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  resource: 'controllerrevisions',
  singular: 'controllerrevision',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [],
  table,
  validateName: validateDNS1123SubdomainName,
  strategy: {
    validate: (obj) => validateControllerRevision(obj as unknown as ControllerRevision),
    validateUpdate: (obj, old) => validateControllerRevisionUpdate(obj as unknown as ControllerRevision, old as unknown as ControllerRevision),
  },
};
