// `kubectl get statefulsets` columns and cells (printers.go printStatefulSet).
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, containerCells, containersDoc, convertor, imagesDoc } from '../table-format.js';

export const table = convertor<StatefulSet>(
  [nameColumn, column('Ready', 'string', 0, 'Number of the pod with ready state'), ageColumn, column('Containers', 'string', 1, containersDoc), column('Images', 'string', 1, imagesDoc)],
  (sts, now) => {
    const [names, images] = containerCells(sts.spec?.template?.spec?.containers);
    // spec.replicas defaults to 1 at decode time, so upstream never sees it unset.
    return [sts.metadata?.name ?? '', `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}`, age(sts, now), names, images];
  },
);
