// `kubectl get replicasets` columns and cells (printers.go printReplicaSet).
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, containerCells, containersDoc, convertor, formatLabelSelector, imagesDoc } from '../table-format.js';

// Upstream takes these descriptions from extensions/v1beta1.
export const table = convertor<ReplicaSet>(
  [
    nameColumn,
    column('Desired', 'integer', 0, 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller'),
    column('Current', 'integer', 0, 'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller'),
    column('Ready', 'integer', 0, 'readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.'),
    ageColumn,
    column('Containers', 'string', 1, containersDoc),
    column('Images', 'string', 1, imagesDoc),
    column('Selector', 'string', 1, 'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors'),
  ],
  (rs, now) => {
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return [
      rs.metadata?.name ?? '',
      // spec.replicas defaults to 1 at decode time, so upstream never sees it unset.
      rs.spec?.replicas ?? 1,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      age(rs, now),
      names,
      images,
      formatLabelSelector(rs.spec?.selector),
    ];
  },
);
