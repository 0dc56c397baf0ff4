// `kubectl get poddisruptionbudgets` columns and cells (printers.go printPodDisruptionBudget).
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor } from '../table-format.js';

/** An unset bound prints as N/A; a set one as intstr's String(): the int or the percentage. */
const bound = (v: number | string | undefined) => (v == null ? 'N/A' : String(v));

export const table = convertor<PodDisruptionBudget>(
  [
    nameColumn,
    column('Min Available', 'string', 0, 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 0, 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 0, 'Calculated number of pods that may be disrupted at this time.'),
    ageColumn,
  ],
  (pdb, now) => [pdb.metadata?.name ?? '', bound(pdb.spec?.minAvailable), bound(pdb.spec?.maxUnavailable), pdb.status?.disruptionsAllowed ?? 0, age(pdb, now)],
);
