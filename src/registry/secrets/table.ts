// `kubectl get secrets` columns and cells (printers.go printSecret).
import type { Secret } from 'kubernetes-types/core/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor } from '../table-format.js';

export const table = convertor<Secret>(
  [
    nameColumn,
    column('Type', 'string', 0, 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types'),
    column(
      'Data',
      'string',
      0,
      "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    ),
    ageColumn,
  ],
  // DATA is the number of keys, sent as a number as upstream does.
  (s, now) => [s.metadata?.name ?? '', s.type ?? '', Object.keys(s.data ?? {}).length, age(s, now)],
);
