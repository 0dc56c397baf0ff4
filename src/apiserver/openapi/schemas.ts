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

let gvkIndex: Map<string, string> | undefined;
/** Schema name of a kind (by its x-kubernetes-group-version-kind). */
export function schemaNameOf(gvk: GroupVersionKind): string | undefined {
  if (!gvkIndex) {
    gvkIndex = new Map();
    for (const [name, s] of Object.entries(schemas)) {
      for (const g of gvksOf(s)) gvkIndex.set(`${g.group}/${g.version}/${g.kind}`, name);
    }
  }
  return gvkIndex.get(`${gvk.group}/${gvk.version}/${gvk.kind}`);
}

/** The schema a property refers to (`$ref`, or `allOf: [{$ref}]` as upstream wraps refs with descriptions). */
export function refOf(s: Schema): string | undefined {
  const target: string | undefined = s.$ref ?? s.allOf?.[0]?.$ref;
  return target?.slice(SCHEMA_PREFIX.length);
}
