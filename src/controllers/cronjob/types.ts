// The batch/v1 CronJob as stored, for the informer, the client and the
// cronjob controller's decisions.
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import type { DeepMutable, Stored } from '../../api/types.js';

export type CronJobObject = Stored<DeepMutable<CronJob>>;
export type CronJobStatus = NonNullable<CronJobObject['status']>;
export type ObjectReference = NonNullable<CronJobStatus['active']>[number];

export const cronJobGVK = { apiVersion: 'batch/v1', kind: 'CronJob' };

/** The annotation a scheduled Job carries: its nominal start, RFC 3339 in the CronJob's zone. */
export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
