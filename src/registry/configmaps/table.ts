// `kubectl get configmaps` columns and cells (printers.go printConfigMap).
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor } from '../table-format.js';

export const table = convertor<ConfigMap>(
  [
    nameColumn,
    column('Data', 'string', 0, "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."),
    ageColumn,
  ],
  // DATA counts text and binary keys together; upstream sends the count as a number.
  (cm, now) => [cm.metadata?.name ?? '', Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, now)],
);
