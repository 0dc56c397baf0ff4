// `kubectl get deployments` columns and cells (printers.go printDeployment).
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, containerCells, containersDoc, convertor, imagesDoc, labelSelectorAsString } from '../table-format.js';

// Upstream takes these descriptions from extensions/v1beta1.
export const table = convertor<Deployment>(
  [
    nameColumn,
    column('Ready', 'string', 0, 'Number of the pod with ready state'),
    column('Up-to-date', 'string', 0, 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    column('Available', 'string', 0, 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageColumn,
    column('Containers', 'string', 1, containersDoc),
    column('Images', 'string', 1, imagesDoc),
    column('Selector', 'string', 1, 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
  ],
  (d, now) => {
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    // spec.replicas defaults to 1 at decode time, so upstream never sees it unset.
    const desired = d.spec?.replicas ?? 1;
    const status = d.status ?? {};
    return [
      d.metadata?.name ?? '',
      `${status.readyReplicas ?? 0}/${desired}`,
      status.updatedReplicas ?? 0,
      status.availableReplicas ?? 0,
      age(d, now),
      names,
      images,
      // Unlike the other workloads, printDeployment prints selector.String() as is: "" rather than <none>.
      labelSelectorAsString(d.spec?.selector) ?? '<invalid>',
    ];
  },
);
