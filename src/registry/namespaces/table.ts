// `kubectl get namespaces` columns and cells (printers.go printNamespace).
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor } from '../table-format.js';

export const table = convertor<Namespace>(
  [nameColumn, column('Status', 'string', 0, 'The status of the namespace'), ageColumn],
  (ns, now) => [ns.metadata?.name ?? '', ns.status?.phase ?? '', age(ns, now)],
);
