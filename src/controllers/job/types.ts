// The batch/v1 Job as stored, for the informer, the client and the job
// controller's decisions.
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { DeepMutable, Stored } from '../../api/types.js';

export type JobObject = Stored<DeepMutable<Job>>;
export type JobSpec = NonNullable<JobObject['spec']>;
export type JobStatus = NonNullable<JobObject['status']>;
export type JobCondition = NonNullable<JobStatus['conditions']>[number];

export const jobGVK = { apiVersion: 'batch/v1', kind: 'Job' };
