// CronJob defaults (pkg/apis/batch/v1 SetDefaults_CronJob): concurrent runs
// allowed, not suspended, three successful and one failed Job kept. The job
// template gets only its pod template's defaults.
import type { CronJob as ApiCronJob } from 'kubernetes-types/batch/v1.js';
import type { DeepMutable } from '../../api/types.js';
import type { KubeObject } from '../../api/object.js';
import { setJobTemplatePodDefaults } from '../jobs/defaults.js';

export type CronJob = DeepMutable<ApiCronJob>;

export function setCronJobDefaults(obj: KubeObject): void {
  const cj = obj as unknown as CronJob;
  const spec = (cj.spec ??= { schedule: '', jobTemplate: {} });
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  setJobTemplatePodDefaults(spec.jobTemplate?.spec);
}
