// batch/v1 cronjobs (+status): upstream's CronJob strategy (defaults, spec
// and status kept apart, generation tracking); the controller lives in
// src/controllers/cronjob.
import { keepAllButStatus, validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, statusSubresource, type ResourceDef } from '../resource.js';
import { setCronJobDefaults, type CronJob } from './defaults.js';
import { table } from './table.js';
import { validateCronJob, validateCronJobUpdate } from './validation.js';

const ident = { group: 'batch', version: 'v1', kind: 'CronJob' };

export const cronJobsResource: ResourceDef = {
  ...ident,
  resource: 'cronjobs',
  singular: 'cronjob',
  shortNames: ['cj'],
  categories: ['all'],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [statusSubresource(ident)],
  table,
  validateName: validateDNS1123SubdomainName,
  strategy: {
    tracksGeneration: true,
    prepareForCreate(obj) {
      setCronJobDefaults(obj);
      obj.status = {};
    },
    prepareForUpdate: (obj) => setCronJobDefaults(obj),
    prepareForStatusUpdate: keepAllButStatus,
    validate: (obj) => validateCronJob(obj as unknown as CronJob),
    validateUpdate: (obj, old) => validateCronJobUpdate(obj as unknown as CronJob, old as unknown as CronJob),
  },
};
