// CronJob validation after upstream's pkg/apis/batch/validation
// (ValidateCronJobCreate, ValidateCronJobUpdate, validateCronJobSpec,
// validateScheduleFormat, validateTimeZone, ValidateJobTemplateSpec): the
// schedule must parse as robfig/cron's ParseStandard does (its message is the
// detail), time zones are given in timeZone and never in the schedule, and
// the job template's selector is always generated.
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { parseCronSchedule } from '../../util/cron.js';
import { isLoadableTimeZone } from '../../util/cron-time-zone.js';
import { goLabelSelector, validateNonnegativeField } from '../validation/object-meta.js';
import { notSupportedInOrder } from '../workloads/validation.js';
import { validateJobSpecFields } from '../jobs/validation.js';
import type { CronJob } from './defaults.js';

type Spec = NonNullable<CronJob['spec']>;
type JobSpec = Parameters<typeof validateJobSpecFields>[0];

/** The cronjob controller names Jobs `<cronjob>-<11 digits at most>`, and a Job name must stay a 63-character label. */
const maxCronJobNameLength = 63 - 11;

function validateScheduleFormat(schedule: string, allowTZInSchedule: boolean, timeZone: string | undefined): FieldError[] {
  const errs: FieldError[] = [];
  try {
    parseCronSchedule(schedule, 'UTC');
  } catch (e) {
    errs.push(fieldErrors.invalid('spec.schedule', schedule, (e as Error).message));
  }
  if (allowTZInSchedule && schedule.includes('TZ') && timeZone != null) {
    errs.push(fieldErrors.invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  } else if (!allowTZInSchedule && schedule.includes('TZ')) {
    errs.push(fieldErrors.invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  return errs;
}

/** IANA naming rules per component (digits and `+` tolerated for legacy names). */
const validTimeZoneCharacters = /^[A-Za-z.\-_0-9+]{1,14}$/;

function validateTimeZone(timeZone: string | undefined): FieldError[] {
  if (timeZone == null) return [];
  const p = 'spec.timeZone';
  if (timeZone.length === 0) return [fieldErrors.invalid(p, timeZone, 'timeZone must be nil or non-empty string')];
  for (const part of timeZone.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !validTimeZoneCharacters.test(part)) return [fieldErrors.invalid(p, timeZone, `unknown time zone ${timeZone}`)];
  }
  const errs: FieldError[] = [];
  if (timeZone.toLowerCase() === 'local') errs.push(fieldErrors.invalid(p, timeZone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  if (!isLoadableTimeZone(timeZone)) errs.push(fieldErrors.invalid(p, timeZone, `unknown time zone ${timeZone}`));
  return errs;
}

/** ValidateJobTemplateSpec: a Job spec whose selector the Job strategy generates. */
function validateJobTemplateSpec(spec: JobSpec | undefined): FieldError[] {
  const s: JobSpec = spec ?? ({ template: {} } as JobSpec);
  const errs = validateJobSpecFields(s, 'spec.jobTemplate.spec');
  if (s.selector != null) errs.push(fieldErrors.invalid('spec.jobTemplate.spec.selector', goLabelSelector(s.selector), '`selector` will be auto-generated'));
  if (s.manualSelector) errs.push(notSupportedInOrder('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  return errs;
}

function validateCronJobSpec(spec: Spec, old: Spec | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec.schedule) errs.push(fieldErrors.required('spec.schedule'));
  else errs.push(...validateScheduleFormat(spec.schedule, old?.schedule.includes('TZ') ?? false, spec.timeZone));
  if (spec.startingDeadlineSeconds != null) errs.push(...validateNonnegativeField(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (old == null || old.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone));
  const policy = spec.concurrencyPolicy ?? '';
  if (policy === '') errs.push(fieldErrors.required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(policy)) errs.push(notSupportedInOrder('spec.concurrencyPolicy', policy, ['Allow', 'Forbid', 'Replace']));
  errs.push(...validateJobTemplateSpec(spec.jobTemplate?.spec));
  // Zero is a valid limit for both.
  if (spec.successfulJobsHistoryLimit != null) errs.push(...validateNonnegativeField(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  if (spec.failedJobsHistoryLimit != null) errs.push(...validateNonnegativeField(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

const specOf = (cj: CronJob): Spec => cj.spec ?? ({ schedule: '', jobTemplate: {} } as Spec);

export function validateCronJob(cj: CronJob): FieldError[] {
  const errs = validateCronJobSpec(specOf(cj), undefined);
  const name = cj.metadata?.name ?? '';
  if (name.length > maxCronJobNameLength) errs.push(fieldErrors.invalid('metadata.name', name, 'must be no more than 52 characters'));
  return errs;
}

/** Updates skip the name length check, so that older, longer-named CronJobs can still be changed and deleted. */
export function validateCronJobUpdate(cj: CronJob, old: CronJob): FieldError[] {
  return validateCronJobSpec(specOf(cj), specOf(old));
}
