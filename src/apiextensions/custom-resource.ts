// The ResourceDef of one served version of a CRD: its names from the
// accepted names, the version's schema for pruning, defaulting and
// validation, its status and scale subresources and printer columns. Every
// version of a CRD stores under the same key (conversion None: only
// apiVersion differs between versions).
import { deepClone, isPlainObject, type KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';
import type { FieldError } from '../api/field-errors.js';
import { nameIsDNSSubdomain } from '../registry/validation/object-meta.js';
import { scaleSubresource, standardVerbs, statusSubresource, type RequestContext, type ResourceDef } from '../registry/resource.js';
import { typeOfStructuralSchema } from '../apiserver/fieldmanager/structural-type.js';
import type { TypeRef } from '../apiserver/fieldmanager/typed.js';
import { applyDefaults, prune } from './pruning.js';
import { printerColumnsTable } from './printer-columns.js';
import { fieldValidationDirective } from './request-field-validation.js';
import type { CRDVersion, CustomResourceDefinition, JSONSchemaProps } from './types.js';
import { validateValue, withRuleErrors } from './value-validation.js';

/** A served custom resource: the def and the CRD version it serves. */
export interface CustomResourceDef extends ResourceDef {
  crdName: string;
  crdVersion: CRDVersion;
  /** The field manager's type of the version's objects, from its structural schema. */
  fieldManagerType(): TypeRef;
}

/** Field manager types by CRD uid and version, kept while the CRD's generation (its spec) stays the same. */
const fieldManagerTypes = new Map<string, { generation: number | undefined; type: TypeRef }>();

/** The version's type, converted once per CRD generation rather than per request or per re-served def. */
function cachedFieldManagerType(crd: CustomResourceDefinition, version: CRDVersion): TypeRef {
  const key = `${crd.metadata.uid ?? crd.metadata.name}/${version.name}`;
  const cached = fieldManagerTypes.get(key);
  if (cached && cached.generation !== undefined && cached.generation === crd.metadata.generation) return cached.type;
  const type = typeOfStructuralSchema(version.schema?.openAPIV3Schema, !!crd.spec.preserveUnknownFields);
  fieldManagerTypes.set(key, { generation: crd.metadata.generation, type });
  return type;
}

/** Forgets a deleted CRD's types. */
export function forgetFieldManagerTypes(crd: CustomResourceDefinition): void {
  const prefix = `${crd.metadata.uid ?? crd.metadata.name}/`;
  for (const key of [...fieldManagerTypes.keys()]) if (key.startsWith(prefix)) fieldManagerTypes.delete(key);
}

export function isCustomResourceDef(def: ResourceDef): def is CustomResourceDef {
  return 'crdName' in def;
}

/** The schema validated against: the root without apiVersion, kind and metadata, which the server owns. */
function bodySchema(schema: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  if (!schema) return undefined;
  const properties = { ...schema.properties };
  delete properties.apiVersion;
  delete properties.kind;
  delete properties.metadata;
  return { ...schema, properties };
}

export function customResourceDef(crd: CustomResourceDefinition, version: CRDVersion, servedUntil?: AbortSignal): CustomResourceDef {
  const names = crd.status?.acceptedNames?.plural ? crd.status.acceptedNames : crd.spec.names;
  const schema = version.schema?.openAPIV3Schema;
  const validationSchema = bodySchema(schema);
  const hasStatus = !!version.subresources?.status;
  const kind = names.kind!;

  /** Pruning with fieldValidation: Strict refuses unknown fields, Warn reports them, Ignore drops them silently. */
  const pruneAndDefault = (obj: KubeObject, ctx: RequestContext) => {
    if (!crd.spec.preserveUnknownFields) {
      const unknown = prune(obj, schema);
      const directive = fieldValidationDirective();
      if (unknown.length && directive === 'Strict') {
        const problems = unknown.map((f) => `unknown field "${f}"`).join(', ');
        throw errors.badRequest(`${kind} in version "${version.name}" cannot be handled as a ${kind}: strict decoding error: ${problems}`);
      }
      if (directive === 'Warn') ctx.warnings.push(...unknown.map((f) => `unknown field "${f}"`));
    }
    applyDefaults(obj, schema);
  };
  const validate = (obj: KubeObject, old?: KubeObject): FieldError[] =>
    withRuleErrors(validateValue(validationSchema, withoutServerFields(obj), ''), schema, obj, old);

  let fieldType: TypeRef | undefined;
  const def: CustomResourceDef = {
    crdName: crd.metadata.name!,
    crdVersion: version,
    fieldManagerType: () => (fieldType ??= cachedFieldManagerType(crd, version)),
    servedUntil,
    group: crd.spec.group,
    version: version.name,
    resource: names.plural!,
    kind,
    singular: names.singular ?? kind.toLowerCase(),
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    namespaced: crd.spec.scope === 'Namespaced',
    verbs: standardVerbs,
    subresources: [],
    table: printerColumnsTable(version.additionalPrinterColumns),
    validateName: nameIsDNSSubdomain,
    strategy: {
      tracksGeneration: true,
      prepareForCreate(obj, ctx) {
        // With a status subresource, status is written only through it.
        if (hasStatus) delete obj.status;
        pruneAndDefault(obj, ctx);
      },
      prepareForUpdate(obj, old, ctx) {
        // The registry keeps a stored status; one the object never had is not set here either.
        if (hasStatus && !('status' in old)) delete obj.status;
        pruneAndDefault(obj, ctx);
      },
      prepareForStatusUpdate(obj, old) {
        // The status endpoint changes status only: everything else is the stored object's.
        for (const key of Object.keys(obj)) if (key !== 'metadata' && key !== 'status') delete obj[key];
        for (const [key, value] of Object.entries(old)) if (key !== 'metadata' && key !== 'status') obj[key] = deepClone(value);
        const ctx: RequestContext = { dryRun: false, warnings: [] };
        pruneAndDefault(obj, ctx);
      },
      validate: (obj) => validate(obj),
      validateUpdate: (obj, old) => validate(obj, old),
      validateStatusUpdate: (obj, old) => validate(obj, old),
    },
  };
  if (hasStatus) def.subresources.push(statusSubresource(def));
  if (version.subresources?.scale) def.subresources.push(scaleSubresource());
  return def;
}

function withoutServerFields(obj: KubeObject): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== 'apiVersion' && k !== 'kind' && k !== 'metadata') rest[k] = v;
  return isPlainObject(rest) ? rest : {};
}
