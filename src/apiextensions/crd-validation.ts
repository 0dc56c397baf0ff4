// Defaults and validation of CustomResourceDefinitions, as upstream's
// apiextensions v1 defaults (SetDefaults_*) and
// pkg/apis/apiextensions/validation, with its messages; the
// x-kubernetes-validations rules are checked and compiled (cel/crd-rules.ts).
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { GoLiteral } from '../api/field-errors.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../registry/validation/names.js';
import { fieldImmutableErrorMsg } from '../registry/validation/object-meta.js';
import type { CRDNames, CustomResourceDefinition } from './types.js';
import { isEstablished } from './types.js';
import { validateStructuralSchema } from './structural.js';
import { validateRuleDefinitions } from './cel/crd-rules.js';

/** v1 defaulting: singular is the lowercased kind, listKind is kind+"List", conversion strategy None. */
export function defaultCRD(crd: CustomResourceDefinition): void {
  const spec = (crd.spec ??= {} as CustomResourceDefinition['spec']);
  const names = (spec.names ??= {});
  if (!names.singular && names.kind) names.singular = names.kind.toLowerCase();
  if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
  spec.conversion ??= {};
  spec.conversion.strategy ??= 'None';
}

/**
 * The versions list as upstream's Invalid errors print it (Go's %#v of the
 * internal []CustomResourceDefinitionVersion). Go prints a set pointer as
 * its address, which means nothing outside that process: it is printed as
 * `(*T)(set)` here, nil pointers as Go prints them.
 */
function versionsValue(crd: CustomResourceDefinition): GoLiteral {
  const pointer = (type: string, value: unknown) => `(*apiextensions.${type})(${value === undefined || value === null ? 'nil' : 'set'})`;
  const list = (type: string, value: unknown[] | undefined) => (value ? `[]apiextensions.${type}{...${value.length}}` : `[]apiextensions.${type}(nil)`);
  const versions = (crd.spec.versions ?? []).map(
    (v) =>
      `apiextensions.CustomResourceDefinitionVersion{Name:${JSON.stringify(v.name ?? '')}, Served:${!!v.served}, Storage:${!!v.storage}, ` +
      `Deprecated:${!!v.deprecated}, DeprecationWarning:(*string)(${v.deprecationWarning === undefined ? 'nil' : 'set'}), ` +
      `Schema:${pointer('CustomResourceValidation', v.schema)}, Subresources:${pointer('CustomResourceSubresources', v.subresources)}, ` +
      `AdditionalPrinterColumns:${list('CustomResourceColumnDefinition', v.additionalPrinterColumns)}, ` +
      `SelectableFields:${list('SelectableField', (v as { selectableFields?: unknown[] }).selectableFields)}}`,
  );
  return new GoLiteral(crd.spec.versions ? `[]apiextensions.CustomResourceDefinitionVersion{${versions.join(', ')}}` : '[]apiextensions.CustomResourceDefinitionVersion(nil)');
}

function validateNames(names: CRDNames | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!names) return errs;
  const check = (field: 'plural' | 'singular', value: string | undefined) => {
    const e = value ? isDNS1035Label(value) : [];
    if (e.length) errs.push(fieldErrors.invalid(`${path}.${field}`, value, e.join(',')));
  };
  check('plural', names.plural);
  check('singular', names.singular);
  for (const field of ['kind', 'listKind'] as const) {
    const value = names[field];
    const e = value ? isDNS1035Label(value.toLowerCase()) : [];
    if (e.length) errs.push(fieldErrors.invalid(`${path}.${field}`, value, `may have mixed case, but should otherwise match: ${e.join(',')}`));
  }
  (names.shortNames ?? []).forEach((s, i) => {
    const e = isDNS1035Label(s);
    if (e.length) errs.push(fieldErrors.invalid(`${path}.shortNames[${i}]`, s, e.join(',')));
  });
  if (names.kind && names.kind === names.listKind) errs.push(fieldErrors.invalid(`${path}.listKind`, names.listKind, 'kind and listKind may not be the same'));
  (names.categories ?? []).forEach((c, i) => {
    const e = isDNS1035Label(c);
    if (e.length) errs.push(fieldErrors.invalid(`${path}.categories[${i}]`, c, e.join(',')));
  });
  return errs;
}

/** metadata.name must be <plural>.<group> (on top of the DNS subdomain rule the registry checks). */
export function crdNameErrors(crd: CustomResourceDefinition): string[] {
  const required = `${crd.spec?.names?.plural ?? ''}.${crd.spec?.group ?? ''}`;
  return crd.metadata.name === required ? [] : ['must be spec.names.plural+"."+spec.group'];
}

export function validateCRD(crd: CustomResourceDefinition): FieldError[] {
  const errs: FieldError[] = [];
  if (crd.metadata.name) for (const m of crdNameErrors(crd)) errs.push(fieldErrors.invalid('metadata.name', crd.metadata.name, m));
  const spec = crd.spec;
  if (!spec.group) errs.push(fieldErrors.required('spec.group', ''));
  else if (isDNS1123Subdomain(spec.group).length) errs.push(fieldErrors.invalid('spec.group', spec.group, isDNS1123Subdomain(spec.group).join(',')));
  else if (spec.group.split('.').length < 2) errs.push(fieldErrors.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));

  if (!spec.scope) errs.push(fieldErrors.required('spec.scope', ''));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errs.push(fieldErrors.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));

  const versions = spec.versions ?? [];
  let storage = 0;
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    const vp = `spec.versions[${i}]`;
    if (v.storage) storage++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const e = isDNS1035Label(v.name ?? '');
    if (e.length) errs.push(fieldErrors.invalid(`${vp}.name`, v.name ?? '', e.join(',')));
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) {
      if (!spec.preserveUnknownFields) errs.push(fieldErrors.required(`${vp}.schema.openAPIV3Schema`, 'schemas are required'));
    } else {
      const structural = validateStructuralSchema(schema, `${vp}.schema.openAPIV3Schema`);
      errs.push(...structural, ...validateRuleDefinitions(schema, `${vp}.schema.openAPIV3Schema`, structural.length === 0));
    }
    const scale = v.subresources?.scale;
    if (scale) {
      if (!scale.specReplicasPath) errs.push(fieldErrors.required(`${vp}.subresources.scale.specReplicasPath`, ''));
      else if (!scale.specReplicasPath.startsWith('.spec.')) {
        errs.push(fieldErrors.invalid(`${vp}.subresources.scale.specReplicasPath`, scale.specReplicasPath, 'should be a json path under .spec'));
      }
      if (!scale.statusReplicasPath) errs.push(fieldErrors.required(`${vp}.subresources.scale.statusReplicasPath`, ''));
      else if (!scale.statusReplicasPath.startsWith('.status.')) {
        errs.push(fieldErrors.invalid(`${vp}.subresources.scale.statusReplicasPath`, scale.statusReplicasPath, 'should be a json path under .status'));
      }
      if (scale.labelSelectorPath && !/^\.(spec|status)\./.test(scale.labelSelectorPath)) {
        errs.push(fieldErrors.invalid(`${vp}.subresources.scale.labelSelectorPath`, scale.labelSelectorPath, 'should be a json path under either .spec or .status'));
      }
    }
    (v.additionalPrinterColumns ?? []).forEach((c, j) => {
      const cp = `${vp}.additionalPrinterColumns[${j}]`;
      if (!c.name) errs.push(fieldErrors.required(`${cp}.name`, ''));
      if (!['integer', 'number', 'string', 'boolean', 'date'].includes(c.type)) {
        errs.push(fieldErrors.notSupported(`${cp}.type`, c.type ?? '', ['boolean', 'date', 'integer', 'number', 'string']));
      }
      if (c.format && !['int32', 'int64', 'float', 'double', 'byte', 'date', 'date-time', 'password'].includes(c.format)) {
        errs.push(fieldErrors.notSupported(`${cp}.format`, c.format, ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password']));
      }
      if (!c.jsonPath) errs.push(fieldErrors.required(`${cp}.JSONPath`, ''));
      if ((c.priority ?? 0) < 0) errs.push(fieldErrors.invalid(`${cp}.priority`, c.priority, 'must be greater than or equal to 0'));
    });
  });
  if (!unique) errs.push(fieldErrors.invalid('spec.versions', versionsValue(crd), 'must contain unique version names'));
  if (storage !== 1) errs.push(fieldErrors.invalid('spec.versions', versionsValue(crd), 'must have exactly one version marked as storage version'));

  const names = spec.names ?? {};
  if (!names.plural) errs.push(fieldErrors.required('spec.names.plural', ''));
  if (!names.singular) errs.push(fieldErrors.required('spec.names.singular', ''));
  if (!names.kind) errs.push(fieldErrors.required('spec.names.kind', ''));
  if (!names.listKind) errs.push(fieldErrors.required('spec.names.listKind', ''));
  errs.push(...validateNames(names, 'spec.names'));
  if (spec.conversion?.strategy && spec.conversion.strategy !== 'None' && spec.conversion.strategy !== 'Webhook') {
    errs.push(fieldErrors.notSupported('spec.conversion.strategy', spec.conversion.strategy, ['None', 'Webhook']));
  }
  errs.push(...validateNames(crd.status?.acceptedNames, 'status.acceptedNames'));
  return errs;
}

export function validateCRDUpdate(crd: CustomResourceDefinition, old: CustomResourceDefinition): FieldError[] {
  const errs = validateCRD(crd);
  if (isEstablished(old)) {
    if (crd.spec.scope !== old.spec.scope) errs.push(fieldErrors.invalid('spec.scope', crd.spec.scope, fieldImmutableErrorMsg));
    if (crd.spec.names?.kind !== old.spec.names?.kind) errs.push(fieldErrors.invalid('spec.names.kind', crd.spec.names?.kind, fieldImmutableErrorMsg));
  }
  if (crd.spec.group !== old.spec.group) errs.push(fieldErrors.invalid('spec.group', crd.spec.group, fieldImmutableErrorMsg));
  if (crd.spec.names?.plural !== old.spec.names?.plural) errs.push(fieldErrors.invalid('spec.names.plural', crd.spec.names?.plural, fieldImmutableErrorMsg));
  (crd.status?.storedVersions ?? []).forEach((v, i) => {
    if (!crd.spec.versions.some((sv) => sv.name === v)) errs.push(fieldErrors.invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  });
  return errs;
}
