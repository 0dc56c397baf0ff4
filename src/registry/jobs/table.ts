// `kubectl get jobs` columns and cells (printers.go printJob): the status
// from the conditions, completions as succeeded/wanted, and the duration from
// start to completion (or to now while running).
import type { Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, containerCells, containersDoc, convertor, formatLabelSelector, humanDuration, imagesDoc } from '../table-format.js';

const succeededDoc = 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.';
export const jobSelectorDoc =
  'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors';

/** hasJobCondition: present and True. */
const has = (conditions: JobCondition[] | undefined, type: string) => conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (has(conditions, 'Complete')) return 'Complete';
  if (has(conditions, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (has(conditions, 'Suspended')) return 'Suspended';
  if (has(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function completions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions != null) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function duration(job: Job, now: Date): string {
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime;
  return humanDuration((end ? Date.parse(end) : now.getTime()) - Date.parse(start));
}

export const table = convertor<Job>(
  [
    nameColumn,
    column('Status', 'string', 0, 'Status of the job.'),
    column('Completions', 'string', 0, succeededDoc),
    column('Duration', 'string', 0, 'Time required to complete the job.'),
    ageColumn,
    column('Containers', 'string', 1, containersDoc),
    column('Images', 'string', 1, imagesDoc),
    column('Selector', 'string', 1, jobSelectorDoc),
  ],
  (job, now) => {
    const [names, images] = containerCells(job.spec?.template?.spec?.containers);
    return [job.metadata?.name ?? '', jobStatus(job), completions(job), duration(job, now), age(job, now), names, images, formatLabelSelector(job.spec?.selector)];
  },
);
