// Pruning and defaulting of custom objects by their structural schema, as
// upstream's pkg/apiserver/schema/pruning and defaulting: fields the schema
// does not specify are dropped (and reported, for fieldValidation) unless
// x-kubernetes-preserve-unknown-fields keeps them; apiVersion, kind and
// metadata of the object and of embedded resources are never pruned here.
// Defaults fill absent fields (and nulls of non-nullable ones) top-down.
import { deepClone, isPlainObject } from '../api/object.js';
import type { JSONSchemaProps } from './types.js';

const objectRootFields = new Set(['apiVersion', 'kind', 'metadata']);

/** Drops unknown fields of `value` in place; returns their paths ("spec.foo", "spec.items[0].bar"). */
export function prune(value: unknown, schema: JSONSchemaProps | undefined, isResourceRoot = true): string[] {
  const pruned: string[] = [];
  walk(value, schema, '', isResourceRoot, pruned);
  return pruned;
}

function walk(value: unknown, schema: JSONSchemaProps | undefined, path: string, resourceRoot: boolean, pruned: string[]): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, schema.items, `${path}[${i}]`, false, pruned));
    return;
  }
  if (!isPlainObject(value)) return;
  const embedded = resourceRoot || !!schema['x-kubernetes-embedded-resource'];
  const preserve = !!schema['x-kubernetes-preserve-unknown-fields'];
  for (const key of Object.keys(value)) {
    const keyPath = path ? `${path}.${key}` : key;
    if (embedded && objectRootFields.has(key)) {
      // Embedded metadata is object metadata, not pruned by the schema.
      if (key !== 'metadata' && schema.properties?.[key]) walk(value[key], schema.properties[key], keyPath, false, pruned);
      continue;
    }
    const prop = schema.properties?.[key];
    if (prop) {
      walk(value[key], prop, keyPath, false, pruned);
    } else if (isPlainObject(schema.additionalProperties)) {
      walk(value[key], schema.additionalProperties, keyPath, false, pruned);
    } else if (schema.additionalProperties === true || preserve) {
      continue;
    } else {
      delete value[key];
      pruned.push(keyPath);
    }
  }
}

/** Sets the schema's defaults on absent (or null, non-nullable) fields of `value`, in place. */
export function applyDefaults(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.default !== undefined && (!(key in value) || (value[key] === null && !prop.nullable))) value[key] = deepClone(prop.default);
    if (key in value) applyDefaults(value[key], prop);
  }
  if (isPlainObject(schema.additionalProperties)) {
    for (const key of Object.keys(value)) {
      if (!schema.properties?.[key]) applyDefaults(value[key], schema.additionalProperties);
    }
  }
}
