// Strategic merge patch metadata, read from the OpenAPI schemas kubesvc serves (openapi/schemas.json):
// a property's x-kubernetes-patch-strategy and x-kubernetes-patch-merge-key are upstream's
// patchStrategy / patchMergeKey struct tags, so the patch and the published document cannot disagree.
// A struct's metadata is compiled on first use and kept per schema name (schemas may refer to
// themselves), as typed decoding compiles its field tables.
import { refOf, schemaNameOfKind, schemas, type Schema } from '../openapi/schemas.js';

/** One field's patch metadata, as LookupPatchMetadataForStruct returns it. */
export interface FieldPatchMeta {
  /** 'merge' for lists that merge (no strategy: lists are replaced, maps merged). */
  readonly strategy?: 'merge' | 'replace';
  /** The key identifying elements of a merged list of objects (absent for scalar lists). */
  readonly mergeKey?: string;
  /** The schema name of the field's struct type, or of the list's elements. */
  readonly struct?: string;
}

const PATCH_STRATEGY = 'x-kubernetes-patch-strategy';
const PATCH_MERGE_KEY = 'x-kubernetes-patch-merge-key';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** A struct's fields that have patch metadata or a struct type, by JSON name. */
const structTables = new Map<string, ReadonlyMap<string, FieldPatchMeta>>();

function structMeta(struct: string): ReadonlyMap<string, FieldPatchMeta> {
  let fields = structTables.get(struct);
  if (!fields) {
    const compiled = new Map<string, FieldPatchMeta>();
    for (const [name, prop] of Object.entries((schemas[struct]?.properties ?? {}) as Record<string, Schema>)) {
      const meta = fieldPatchMetaOf(prop);
      if (meta) compiled.set(name, meta);
    }
    fields = compiled;
    structTables.set(struct, fields);
  }
  return fields;
}

function fieldPatchMetaOf(prop: Schema): FieldPatchMeta | undefined {
  // "merge,retainKeys" merges; retainKeys alone only shapes the patches clients compute (the server
  // obeys the patch's own $retainKeys directive).
  const strategies = typeof prop[PATCH_STRATEGY] === 'string' ? (prop[PATCH_STRATEGY] as string).split(',') : [];
  const strategy = strategies.includes('merge') ? 'merge' : strategies.includes('replace') ? 'replace' : undefined;
  const mergeKey = typeof prop[PATCH_MERGE_KEY] === 'string' ? (prop[PATCH_MERGE_KEY] as string) : undefined;
  // Only named schemas with properties are structs with fields to look up (not Quantity, Time, FieldsV1).
  // Maps of structs would apply the value's struct to every key; the served schemas have none.
  const target = refOf(prop.type === 'array' && prop.items ? prop.items : prop);
  const struct = target && schemas[target]?.properties ? target : undefined;
  return strategy || mergeKey || struct ? { strategy, mergeKey, struct } : undefined;
}

/** A field's patch metadata within a struct (none outside typed structs, e.g. in maps). */
export function fieldPatchMeta(struct: string | undefined, field: string): FieldPatchMeta | undefined {
  return struct === undefined ? undefined : structMeta(struct).get(field);
}

/**
 * The schema name of a kind strategic merge patch applies to: a served object kind (one with
 * ObjectMeta metadata), so not lists, options or Status. Other kinds, such as custom resources,
 * have none.
 */
export function patchSchemaOf(kind: string): string | undefined {
  const name = schemaNameOfKind(kind);
  const metadata = name === undefined ? undefined : (schemas[name]?.properties as Record<string, Schema> | undefined)?.metadata;
  return metadata && refOf(metadata) === OBJECT_META ? name : undefined;
}

/** The kinds applyStrategicMergePatch accepts. */
export function supportsStrategicMergePatch(kind: string): boolean {
  return patchSchemaOf(kind) !== undefined;
}

/**
 * Every merged list of a kind as `dotted.path → merge key` ('' for scalar sets), for inspection and
 * documentation: e.g. Deployment's 'spec.template.spec.containers' → 'name'. A struct is not entered
 * again below itself, so recursive schemas list their first level only.
 */
export function mergeKeysOf(kind: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (struct: string, prefix: string, enclosing: ReadonlySet<string>) => {
    for (const [field, meta] of structMeta(struct)) {
      const path = prefix + field;
      if (meta.strategy === 'merge') out[path] = meta.mergeKey ?? '';
      if (meta.struct && !enclosing.has(meta.struct)) walk(meta.struct, path + '.', new Set(enclosing).add(meta.struct));
    }
  };
  const root = patchSchemaOf(kind);
  if (root) walk(root, '', new Set([root]));
  return out;
}
