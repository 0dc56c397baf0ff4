// Job validation after upstream's pkg/apis/batch/validation (ValidateJob,
// ValidateJobSpec, ValidateJobSpecUpdate, ValidateJobUpdateStatus and the
// JobTemplateSpec check CronJobs use), with the options the 1.32 strategy
// turns on for new objects (prefixed generated labels, the status rules the
// controller's writes obey).
//
// Not validated here: the rules inside podFailurePolicy and successPolicy
// (their presence and the restartPolicy they require are checked), which the
// controller does not act on either.
import type { JobStatus } from 'kubernetes-types/batch/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { fieldErrors, GoLiteral, key, type FieldError } from '../../api/field-errors.js';
import { canonicalJSON } from '../../controllers/workloads/hash.js';
import { isDNS1123Label } from '../validation/names.js';
import { fieldImmutableErrorMsg, goLabelSelector, goStringMap, validateNonnegativeField } from '../validation/object-meta.js';
import { labelSelectorMatches, notSupportedInOrder, validateLabelSelector, validatePodTemplateSpec } from '../workloads/validation.js';
import type { Job } from './defaults.js';
import { controllerUidLabel, jobNameLabel, legacyControllerUidLabel, legacyJobNameLabel } from './labels.js';

type Spec = NonNullable<Job['spec']>;

/** maxParallelismForIndexedJob: caps the length of status.completedIndexes. */
const maxParallelismForIndexedJob = 100000;
const maxManagedByLength = 63;

/** Go %#v of a PodTemplateSpec is pages long; the struct is named and its body elided. */
const templateLiteral = new GoLiteral('core.PodTemplateSpec{…}');

/** ValidateHasLabel: the generated label must be there with exactly this value (both errors when it is missing). */
function validateHasLabel(labels: Record<string, string> | undefined, name: string, expected: string): FieldError[] {
  const p = key('spec.template.metadata.labels', name);
  const errs: FieldError[] = [];
  if (!labels || !(name in labels)) errs.push(fieldErrors.required(p, `must be '${expected}'`));
  if (labels?.[name] !== expected) errs.push(fieldErrors.invalid(p, goStringMap(labels), `must be '${expected}'`));
  return errs;
}

/** validateGeneratedSelector: a generated selector and the template labels name this job (by uid and name). */
function validateGeneratedSelector(job: Job, prefixedLabels: boolean): FieldError[] {
  const spec = job.spec;
  if (spec?.manualSelector || spec?.selector == null) return [];
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  const errs: FieldError[] = [];
  if (!uid) errs.push(fieldErrors.required('metadata.uid'));
  const labels = spec.template?.metadata?.labels;
  errs.push(...validateHasLabel(labels, legacyControllerUidLabel, uid), ...validateHasLabel(labels, legacyJobNameLabel, name));
  const expected: Record<string, string> = { [legacyControllerUidLabel]: uid, [legacyJobNameLabel]: name };
  if (prefixedLabels) {
    errs.push(...validateHasLabel(labels, controllerUidLabel, uid), ...validateHasLabel(labels, jobNameLabel, name));
    expected[controllerUidLabel] = uid;
    expected[jobNameLabel] = name;
  }
  if (!validateLabelSelector(spec.selector, 'spec.selector').length && !labelSelectorMatches(spec.selector, expected)) {
    errs.push(fieldErrors.invalid('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
  }
  return errs;
}

/** validateJobSpec: the checks a Job and a CronJob's job template share. */
export function validateJobSpecFields(spec: Spec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes'] as const) {
    if (spec[f] != null) errs.push(...validateNonnegativeField(spec[f]!, `${path}.${f}`));
  }
  if (spec.maxFailedIndexes != null && spec.backoffLimitPerIndex == null) errs.push(fieldErrors.required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
  if (spec.managedBy != null && spec.managedBy.length > maxManagedByLength) {
    errs.push({ ...fieldErrors.tooLong(`${path}.managedBy`, maxManagedByLength), detail: `may not be more than ${maxManagedByLength} bytes` });
  }
  const mode = spec.completionMode;
  if (mode != null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupportedInOrder(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (spec.completions == null) errs.push(fieldErrors.required(`${path}.completions`, 'when completion mode is Indexed'));
      if (spec.parallelism != null && spec.parallelism > maxParallelismForIndexedJob) {
        errs.push(fieldErrors.invalid(`${path}.parallelism`, spec.parallelism, `must be less than or equal to ${maxParallelismForIndexedJob} when completion mode is Indexed`));
      }
      if (spec.completions != null && spec.maxFailedIndexes != null && spec.maxFailedIndexes > spec.completions) {
        errs.push(fieldErrors.invalid(`${path}.maxFailedIndexes`, spec.maxFailedIndexes, 'must be less than or equal to completions'));
      }
    }
  }
  if (mode == null || mode === 'NonIndexed') {
    if (spec.backoffLimitPerIndex != null) errs.push(fieldErrors.invalid(`${path}.backoffLimitPerIndex`, spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (spec.maxFailedIndexes != null) errs.push(fieldErrors.invalid(`${path}.maxFailedIndexes`, spec.maxFailedIndexes, 'requires indexed completion mode'));
  }
  if (spec.successPolicy != null && mode !== 'Indexed') {
    errs.push(fieldErrors.invalid(`${path}.successPolicy`, new GoLiteral('batch.SuccessPolicy{…}'), 'requires indexed completion mode'));
  }
  const replacement = spec.podReplacementPolicy;
  if (replacement != null) {
    if (spec.podFailurePolicy != null) {
      if (replacement !== 'Failed') errs.push(notSupportedInOrder(`${path}.podReplacementPolicy`, replacement, ['Failed']));
    } else if (replacement !== 'Failed' && replacement !== 'TerminatingOrFailed') {
      errs.push(fieldErrors.notSupported(`${path}.podReplacementPolicy`, replacement, ['Failed', 'TerminatingOrFailed']));
    }
  }
  errs.push(...validatePodTemplateSpec(spec.template, `${path}.template`));
  // An unset restartPolicy was defaulted to Always, so both mean "not chosen".
  const restartPolicy = spec.template?.spec?.restartPolicy ?? '';
  const restartPath = `${path}.template.spec.restartPolicy`;
  if (restartPolicy === 'Always' || restartPolicy === '') errs.push(fieldErrors.required(restartPath, 'valid values: "OnFailure", "Never"'));
  else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') errs.push(notSupportedInOrder(restartPath, restartPolicy, ['OnFailure', 'Never']));
  else if (spec.podFailurePolicy != null && restartPolicy !== 'Never') errs.push(fieldErrors.invalid(restartPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

/** ValidateJobSpec: the shared checks, a selector, and a template the selector matches. */
function validateJobSpec(spec: Spec): FieldError[] {
  const errs = validateJobSpecFields(spec, 'spec');
  const selector: LabelSelector | undefined = spec.selector;
  const selectorErrs = selector == null ? [] : validateLabelSelector(selector, 'spec.selector');
  if (selector == null) errs.push(fieldErrors.required('spec.selector'));
  else errs.push(...selectorErrs);
  // LabelSelectorAsSelector of nil is Nothing, which matches no labels.
  if (!selectorErrs.length && !labelSelectorMatches(selector, spec.template?.metadata?.labels)) {
    errs.push(fieldErrors.invalid('spec.template.metadata.labels', goStringMap(spec.template?.metadata?.labels), '`selector` does not match template `labels`'));
  }
  return errs;
}

/** ValidateJob (the name itself is checked as a DNS subdomain by the registry). */
export function validateJob(job: Job, prefixedLabels = true): FieldError[] {
  const spec: Spec = job.spec ?? ({ template: {} } as Spec);
  const errs = [...validateGeneratedSelector(job, prefixedLabels), ...validateJobSpec(spec)];
  if (spec.completionMode === 'Indexed' && spec.completions != null && spec.completions > 0) {
    // Pod hostnames are `<job>-<index>`: the largest must be a DNS label.
    const hostname = `${job.metadata?.name ?? ''}-${spec.completions - 1}`;
    if (isDNS1123Label(hostname).length) errs.push(fieldErrors.invalid('metadata.name', job.metadata?.name ?? '', `will not able to create pod with invalid DNS label: ${hostname}`));
  }
  return errs;
}

const immutable = (path: string, now: unknown, before: unknown, shown: unknown): FieldError[] =>
  canonicalJSON(now ?? null) === canonicalJSON(before ?? null) ? [] : [fieldErrors.invalid(path, shown, fieldImmutableErrorMsg)];

/** ValidateJobSpecUpdate: completions, selector, template, completionMode, podFailurePolicy, backoffLimitPerIndex, managedBy and successPolicy are fixed. */
export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  // The prefixed labels are only required of jobs that were created with them.
  const oldLabels = old.spec?.template?.metadata?.labels ?? {};
  const errs = validateJob(job, controllerUidLabel in oldLabels && jobNameLabel in oldLabels);
  const spec: Spec = job.spec ?? ({ template: {} } as Spec);
  const was: Spec = old.spec ?? ({ template: {} } as Spec);
  errs.push(...immutable('spec.completions', spec.completions, was.completions, spec.completions ?? null));
  errs.push(...immutable('spec.selector', spec.selector, was.selector, spec.selector ? goLabelSelector(spec.selector) : null));
  errs.push(...immutable('spec.template', spec.template, was.template, templateLiteral));
  errs.push(...immutable('spec.completionMode', spec.completionMode, was.completionMode, spec.completionMode ?? null));
  errs.push(...immutable('spec.podFailurePolicy', spec.podFailurePolicy, was.podFailurePolicy, new GoLiteral('&batch.PodFailurePolicy{…}')));
  errs.push(...immutable('spec.backoffLimitPerIndex', spec.backoffLimitPerIndex, was.backoffLimitPerIndex, spec.backoffLimitPerIndex ?? null));
  errs.push(...immutable('spec.managedBy', spec.managedBy, was.managedBy, spec.managedBy ?? null));
  errs.push(...immutable('spec.successPolicy', spec.successPolicy, was.successPolicy, new GoLiteral('&batch.SuccessPolicy{…}')));
  return errs;
}

/** field.Invalid with field.OmitValueType: no value printed. */
const conditionsError = (detail: string): FieldError => ({ ...fieldErrors.invalid('status.conditions', undefined, detail), hasValue: false });

const conditionTrue = (s: JobStatus | undefined, type: string) => s?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

/** validateJobStatus and ValidateJobStatusUpdate with the rules 1.32 enforces for jobs the controller manages. */
export function validateJobStatusUpdate(job: Job, old: Job): FieldError[] {
  const s: JobStatus = job.status ?? {};
  const errs: FieldError[] = [];
  for (const f of ['active', 'succeeded', 'failed', 'ready', 'terminating'] as const) if (s[f] != null) errs.push(...validateNonnegativeField(s[f]!, `status.${f}`));
  const seen = new Set<string>();
  for (const list of ['succeeded', 'failed'] as const) {
    (s.uncountedTerminatedPods?.[list] ?? []).forEach((uid, i) => {
      const p = `status.uncountedTerminatedPods.${list}[${i}]`;
      if (!uid) errs.push(fieldErrors.invalid(p, uid, 'must not be empty'));
      else if (seen.has(uid)) errs.push(fieldErrors.duplicate(p, uid));
      else seen.add(uid);
    });
  }
  const complete = conditionTrue(s, 'Complete');
  const failed = conditionTrue(s, 'Failed');
  const finished = complete || failed;
  if (complete && failed) errs.push(conditionsError('cannot set Complete=True and Failed=true conditions'));
  if (s.completionTime != null && !complete) errs.push(fieldErrors.invalid('status.completionTime', s.completionTime, 'cannot set completionTime when there is no Complete=True condition'));
  if (complete && s.completionTime == null) errs.push(fieldErrors.required('status.completionTime', 'completionTime is required for Complete jobs'));
  if (finished && (s.active ?? 0) > 0) errs.push(fieldErrors.invalid('status.active', s.active, 'active>0 is invalid for finished job'));
  if (finished && s.startTime == null) errs.push(fieldErrors.required('status.startTime', 'startTime is required for finished job'));
  if (s.ready != null && s.ready > (s.active ?? 0)) errs.push(fieldErrors.invalid('status.ready', s.ready, 'cannot set more ready pods than active'));
  for (const type of ['Failed', 'Complete', 'FailureTarget']) {
    if (conditionTrue(old.status, type) && !conditionTrue(s, type)) errs.push(conditionsError(`cannot disable the terminal ${type}=True condition`));
  }
  if ((s.failed ?? 0) < (old.status?.failed ?? 0)) errs.push(fieldErrors.invalid('status.failed', s.failed ?? 0, 'cannot decrease the failed counter'));
  if ((s.succeeded ?? 0) < (old.status?.succeeded ?? 0)) errs.push(fieldErrors.invalid('status.succeeded', s.succeeded ?? 0, 'cannot decrease the succeeded counter'));
  return errs;
}
