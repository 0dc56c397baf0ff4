// Storage keys, etcd style: /registry/<resource>/<namespace>/<name> for
// namespaced resources and /registry/<resource>/<name> for cluster ones.
import type { ResourceDef } from './resource.js';

export function collectionPrefix(def: ResourceDef, namespace?: string): string {
  const base = `/registry/${def.group ? `${def.group}/` : ''}${def.resource}/`;
  return def.namespaced && namespace ? `${base}${namespace}/` : base;
}

export function objectKey(def: ResourceDef, namespace: string | undefined, name: string): string {
  return `${collectionPrefix(def, def.namespaced ? namespace : undefined)}${name}`;
}
