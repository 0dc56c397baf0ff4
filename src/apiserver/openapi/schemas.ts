// The component schemas of the kinds kubesvc serves (schemas.json, generated
// by scripts/gen-openapi.ts), and the kind → schema index. The published
// OpenAPI documents and the typed decoding of request bodies both read them.
import schemasJson from './schemas.json' with { type: 'json' };

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export type Schema = Record<string, any>;

export const schemas = schemasJson as unknown as Record<string, Schema>;

export const SCHEMA_PREFIX = '#/components/schemas/';
export const GVK_EXTENSION = 'x-kubernetes-group-version-kind';

export function gvksOf(s: Schema): GroupVersionKind[] {
  return (s[GVK_EXTENSION] as GroupVersionKind[] | undefined) ?? [];
}

interface KindIndex {
  /** group/version/kind → schema name. */
  byGvk: Map<string, string>;
  /** kind → the schema names registering it (in any group-version). */
  byKind: Map<string, Set<string>>;
}

let kindIndex: KindIndex | undefined;
function kindIndexOf(): KindIndex {
  if (!kindIndex) {
    kindIndex = { byGvk: new Map(), byKind: new Map() };
    for (const [name, s] of Object.entries(schemas)) {
      for (const g of gvksOf(s)) {
        kindIndex.byGvk.set(`${g.group}/${g.version}/${g.kind}`, name);
        const names = kindIndex.byKind.get(g.kind) ?? new Set();
        kindIndex.byKind.set(g.kind, names.add(name));
      }
    }
  }
  return kindIndex;
}

/** Schema name of a kind (by its x-kubernetes-group-version-kind). */
export function schemaNameOf(gvk: GroupVersionKind): string | undefined {
  return kindIndexOf().byGvk.get(`${gvk.group}/${gvk.version}/${gvk.kind}`);
}

/**
 * Schema name of a kind known only by its name, as the patch code knows it; undefined when no
 * schema registers the kind, or when schemas of different groups both do (DeleteOptions, one schema
 * registered in every group-version, is not ambiguous).
 */
export function schemaNameOfKind(kind: string): string | undefined {
  const names = kindIndexOf().byKind.get(kind);
  return names?.size === 1 ? [...names][0] : undefined;
}

/** The schema a property refers to (`$ref`, or `allOf: [{$ref}]` as upstream wraps refs with descriptions). */
export function refOf(s: Schema): string | undefined {
  const target: string | undefined = s.$ref ?? s.allOf?.[0]?.$ref;
  return target?.slice(SCHEMA_PREFIX.length);
}
