// batch/v1 jobs (+status): upstream's Job strategy. A new Job gets the
// defaults and a selector generated from its uid (unless manualSelector);
// spec writes keep the status, status writes keep the spec; the controller
// lives in src/controllers/job.
import { keepAllButStatus, validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, statusSubresource, type ResourceDef } from '../resource.js';
import { generateJobSelector, setJobDefaults, type Job } from './defaults.js';
import { table } from './table.js';
import { validateJob, validateJobStatusUpdate, validateJobUpdate } from './validation.js';

const ident = { group: 'batch', version: 'v1', kind: 'Job' };

export const jobsResource: ResourceDef = {
  ...ident,
  resource: 'jobs',
  singular: 'job',
  shortNames: [],
  categories: ['all'],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [statusSubresource(ident)],
  table,
  validateName: validateDNS1123SubdomainName,
  strategy: {
    tracksGeneration: true,
    prepareForCreate(obj) {
      setJobDefaults(obj);
      generateJobSelector(obj);
      obj.status = {};
    },
    prepareForUpdate: (obj) => setJobDefaults(obj),
    prepareForStatusUpdate: keepAllButStatus,
    validate: (obj) => validateJob(obj as unknown as Job),
    validateUpdate: (obj, old) => validateJobUpdate(obj as unknown as Job, old as unknown as Job),
    validateStatusUpdate: (obj, old) => validateJobStatusUpdate(obj as unknown as Job, old as unknown as Job),
  },
};
