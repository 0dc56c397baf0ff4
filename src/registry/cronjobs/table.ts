// `kubectl get cronjobs` columns and cells (printers.go printCronJob).
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, containerCells, containersDoc, convertor, formatLabelSelector, imagesDoc, timestampSince } from '../table-format.js';
import { jobSelectorDoc } from '../jobs/table.js';

const timeZoneDoc =
  'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones';

export const table = convertor<CronJob>(
  [
    nameColumn,
    column('Schedule', 'string', 0, 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    column('Timezone', 'string', 0, timeZoneDoc),
    column('Suspend', 'boolean', 0, 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
    column('Active', 'integer', 0, 'A list of pointers to currently running jobs.'),
    column('Last Schedule', 'string', 0, 'Information when was the last time the job was successfully scheduled.'),
    ageColumn,
    column('Containers', 'string', 1, containersDoc),
    column('Images', 'string', 1, imagesDoc),
    column('Selector', 'string', 1, jobSelectorDoc),
  ],
  (cj, now) => {
    const [names, images] = containerCells(cj.spec?.jobTemplate?.spec?.template?.spec?.containers);
    const last = cj.status?.lastScheduleTime ? timestampSince(cj.status.lastScheduleTime, now) : '<none>';
    // printBoolPtr: True/False, `<unset>` for nil (defaulting makes that rare).
    const suspend = cj.spec?.suspend == null ? '<unset>' : cj.spec.suspend ? 'True' : 'False';
    return [
      cj.metadata?.name ?? '',
      cj.spec?.schedule ?? '',
      cj.spec?.timeZone ?? '<none>',
      suspend,
      cj.status?.active?.length ?? 0,
      last,
      age(cj, now),
      names,
      images,
      formatLabelSelector(cj.spec?.jobTemplate?.spec?.selector),
    ];
  },
);
