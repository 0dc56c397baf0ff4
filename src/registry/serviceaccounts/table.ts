// `kubectl get serviceaccounts` columns and cells (printers.go printServiceAccount).
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor } from '../table-format.js';

export const table = convertor<ServiceAccount>(
  [
    nameColumn,
    column(
      'Secrets',
      'string',
      0,
      'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret',
    ),
    ageColumn,
  ],
  // SECRETS is the count, sent as a number as upstream does.
  (sa, now) => [sa.metadata?.name ?? '', (sa.secrets ?? []).length, age(sa, now)],
);
