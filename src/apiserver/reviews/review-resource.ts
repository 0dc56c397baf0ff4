// The shape every create-only review resource shares: one verb (create), no
// table beyond the name, names not checked (reviews carry none), and a
// handler that answers with the object and its computed status.
import type { KubeObject } from '../../api/object.js';
import { nameColumn } from '../../registry/table.js';
import type { CreateOnlyScope, ResourceDef } from '../../registry/resource.js';

export function reviewResource(def: {
  group: string;
  kind: string;
  resource: string;
  namespaced?: boolean;
  answer: (obj: KubeObject, scope: CreateOnlyScope) => Promise<KubeObject> | KubeObject;
}): ResourceDef {
  return {
    group: def.group,
    version: 'v1',
    kind: def.kind,
    resource: def.resource,
    singular: def.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    namespaced: def.namespaced ?? false,
    verbs: ['create'],
    subresources: [],
    table: { columns: [nameColumn], cells: (obj) => [obj.metadata.name ?? ''] },
    strategy: {},
    validateName: () => [],
    createOnly: def.answer,
  };
}

/** The review as sent, with its computed status (and, as upstream's, a null creationTimestamp: reviews are never stored). */
export function answered(obj: KubeObject, status: Record<string, unknown>): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, creationTimestamp: null } as unknown as KubeObject['metadata'], status };
}
