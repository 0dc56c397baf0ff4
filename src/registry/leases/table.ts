// `kubectl get leases` columns and cells (printers.go printLease).
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor } from '../table-format.js';

/** coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]. */
const holderIdentityDoc =
  'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.';

export const table = convertor<Lease>([nameColumn, column('Holder', 'string', 0, holderIdentityDoc), ageColumn], (lease, now) => [
  lease.metadata?.name ?? '',
  // An unset holder prints as an empty cell.
  lease.spec?.holderIdentity ?? '',
  age(lease, now),
]);
