// The field manager's type of a custom resource version, from the CRD
// version's structural schema, as apiextensions-apiserver builds its type
// converter: the schema as the CRD's OpenAPI (apiVersion and kind strings,
// metadata an ObjectMeta, the same for every x-kubernetes-embedded-resource)
// read by kube-openapi's schemaconv. Lists are atomic unless
// x-kubernetes-list-type says map (merged by x-kubernetes-list-map-keys) or
// set (merged by value); objects are granular unless x-kubernetes-map-type is
// atomic; x-kubernetes-preserve-unknown-fields makes the unknown entries of
// its node and of everything below deduced (granular objects, atomic lists);
// a node without a type (x-kubernetes-int-or-string, preserved fields) takes
// the value's own shape; an object with properties and neither
// additionalProperties nor preserved fields takes no other field. Without a
// schema everything is deduced.
import type { JSONSchemaProps } from '../../apiextensions/types.js';
import { SCHEMA_PREFIX, type Schema } from '../openapi/schemas.js';
import { DEDUCED, listType, mapType, namedType, SCALAR, type TypeRef } from './typed.js';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const METADATA: Schema = { $ref: `${SCHEMA_PREFIX}${OBJECT_META}` };
const TYPE_META_STRING: Schema = { type: 'string' };

function convert(s: JSONSchemaProps, preserveUnknownFields: boolean, resource: boolean): TypeRef {
  if (s === METADATA) return namedType(OBJECT_META);
  const preserve = preserveUnknownFields || s['x-kubernetes-preserve-unknown-fields'] === true;
  switch (s.type) {
    case 'array':
      // A list with no items is untyped: owned whole.
      return listType(s, s.items ? convert(s.items, preserve, !!s.items['x-kubernetes-embedded-resource']) : SCALAR, false);
    case 'integer':
    case 'number':
    case 'string':
    case 'boolean':
      return SCALAR;
    default: {
      // "object", or no type: a value that is an object is this map, anything else is owned whole.
      const fields: Record<string, Schema> = { ...s.properties };
      if (resource) Object.assign(fields, { apiVersion: TYPE_META_STRING, kind: TYPE_META_STRING, metadata: METADATA });
      const ap = s.additionalProperties;
      let elem: TypeRef | undefined;
      if (ap !== undefined && typeof ap === 'object') elem = convert(ap, preserve, !!ap['x-kubernetes-embedded-resource']);
      else if (ap === true) elem = DEDUCED;
      else if (ap === false) elem = undefined;
      // An object without properties is free-form; one with properties takes no others unless unknown fields are preserved.
      else elem = preserve || Object.keys(fields).length === 0 ? DEDUCED : undefined;
      return mapType({
        atomic: s['x-kubernetes-map-type'] === 'atomic',
        fields,
        fieldType: (f) => convert(f as JSONSchemaProps, preserve, !!f['x-kubernetes-embedded-resource']),
        elem,
      });
    }
  }
}

/**
 * The type of a custom resource version's objects: `schema` is the version's openAPIV3Schema,
 * `preserveUnknownFields` the CRD's spec.preserveUnknownFields.
 */
export function typeOfStructuralSchema(schema: JSONSchemaProps | undefined, preserveUnknownFields: boolean): TypeRef {
  if (!schema) return DEDUCED;
  return convert(schema, preserveUnknownFields, true);
}
