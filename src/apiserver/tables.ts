// Content negotiation for server-side printing: Table and
// PartialObjectMetadata(List), as kubectl asks for them.
import type { KubeObject } from '../api/object.js';
import type { ResourceDef } from '../registry/resource.js';

export type Rendering = 'object' | 'table' | 'partial';

export function renderingFor(accept: string | undefined): Rendering {
  if (!accept) return 'object';
  // The first acceptable alternative wins, as the server's negotiation does.
  for (const alt of accept.split(',')) {
    const a = alt.trim();
    if (/as=Table/.test(a) && /g=meta\.k8s\.io/.test(a)) return 'table';
    if (/as=PartialObjectMetadata/.test(a) && /g=meta\.k8s\.io/.test(a)) return 'partial';
    if (/^application\/(json|yaml|vnd\.kubernetes\.protobuf)\b/.test(a) && !/as=/.test(a)) return 'object';
    if (a.startsWith('*/*')) return 'object';
  }
  return 'object';
}

export function partialObject(obj: KubeObject) {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function toTable(
  def: ResourceDef,
  items: KubeObject[],
  opts: { resourceVersion?: string; includeObject?: IncludeObject; withColumns?: boolean; now?: Date },
) {
  const now = opts.now ?? new Date();
  const include = opts.includeObject ?? 'Metadata';
  const table: Record<string, unknown> = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {},
  };
  if (opts.withColumns !== false) table.columnDefinitions = def.table.columns;
  table.rows = items.map((obj) => {
    const row: Record<string, unknown> = { cells: def.table.cells(obj, now) };
    if (include === 'Object') row.object = obj;
    else if (include === 'Metadata') row.object = partialObject(obj);
    return row;
  });
  return table;
}
