// `kubectl get controllerrevisions` columns and cells (printers.go printControllerRevision).
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor } from '../table-format.js';

/**
 * formatResourceName with the kind: `<kind>.<group>/<name>` lowercased in
 * the kind part (`statefulset.apps/web`), a core kind without the group.
 */
function controllerName(rev: ControllerRevision): string {
  const ref = rev.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (!ref) return '<none>';
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  const groupKind = group ? `${ref.kind}.${group}` : ref.kind;
  return groupKind ? `${groupKind.toLowerCase()}/${ref.name}` : ref.name;
}

// The Revision column is declared a string upstream although its cell is the int64 revision.
export const table = convertor<ControllerRevision>(
  [
    nameColumn,
    column('Controller', 'string', 0, 'Controller of the object'),
    column('Revision', 'string', 0, 'Revision indicates the revision of the state represented by Data.'),
    ageColumn,
  ],
  (rev, now) => [rev.metadata?.name ?? '', controllerName(rev), rev.revision ?? 0, age(rev, now)],
);
