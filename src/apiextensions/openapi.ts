// The CRDs' schemas in the OpenAPI v3 documents of their group-versions, as
// upstream's CRD OpenAPI builder publishes them: the kind's schema under the
// reversed-group name (stable.example.com/v1 CronTab →
// com.example.stable.v1.CronTab) with metadata as ObjectMeta and its
// x-kubernetes-group-version-kind, and its List. `kubectl explain` reads them.
import { createHash } from 'node:crypto';
import { deepClone } from '../api/object.js';
import { GVK_EXTENSION, schemas, SCHEMA_PREFIX, type Schema } from '../apiserver/openapi/schemas.js';
import type { CustomResourceDef } from './custom-resource.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

const apiVersionDoc =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const kindDoc =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const metadataDoc = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const listMetadataDoc = 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#lists-and-slices';

/** Upstream's schema name of a custom kind: the group's labels reversed, then version and kind. */
export function customSchemaName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

function ref(name: string) {
  return { $ref: `${SCHEMA_PREFIX}${name}` };
}

/** The named meta schemas a custom kind's schema reaches (ObjectMeta, ListMeta and what they reference). */
function metaSchemas(): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const add = (name: string) => {
    if (out[name] || !schemas[name]) return;
    out[name] = schemas[name];
    JSON.stringify(schemas[name], (k, v: unknown) => {
      if (k === '$ref' && typeof v === 'string') add(v.slice(SCHEMA_PREFIX.length));
      return v;
    });
  };
  add(`${META}.ObjectMeta`);
  add(`${META}.ListMeta`);
  return out;
}

function kindSchemas(def: CustomResourceDef): Record<string, Schema> {
  const gvk = { group: def.group, kind: def.kind, version: def.version };
  const name = customSchemaName(def.group, def.version, def.kind);
  const body: Schema = deepClone(def.crdVersion.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  body.properties = {
    ...(body.properties ?? {}),
    apiVersion: { description: apiVersionDoc, type: 'string' },
    kind: { description: kindDoc, type: 'string' },
    metadata: { allOf: [ref(`${META}.ObjectMeta`)], description: metadataDoc },
  };
  body[GVK_EXTENSION] = [gvk];
  const list: Schema = {
    description: `${def.kind}List is a list of ${def.kind}`,
    properties: {
      apiVersion: { description: apiVersionDoc, type: 'string' },
      items: { description: `List of ${def.resource}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, items: ref(name), type: 'array' },
      kind: { description: kindDoc, type: 'string' },
      metadata: { allOf: [ref(`${META}.ListMeta`)], description: listMetadataDoc },
    },
    required: ['items'],
    type: 'object',
    [GVK_EXTENSION]: [{ ...gvk, kind: `${def.kind}List` }],
  };
  return { [name]: body, [`${name}List`]: list };
}

/** The group-version document (built by the caller for the paths) with the custom kinds' schemas added. */
export function withCustomSchemas(doc: object, defs: CustomResourceDef[]): object {
  if (!defs.length) return doc;
  const base = doc as { components?: { schemas?: Record<string, Schema> } };
  const all: Record<string, Schema> = { ...base.components?.schemas, ...metaSchemas() };
  for (const d of defs) Object.assign(all, kindSchemas(d));
  const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { ...base, components: { ...base.components, schemas: sorted } };
}

/** The index's hash of a document, upstream's form (hex SHA-512, uppercase). */
export function documentHash(doc: object): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
}
