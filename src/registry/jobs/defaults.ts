// Job defaults (pkg/apis/batch/v1 SetDefaults_Job) and the selector the
// Job strategy generates on create (pkg/registry/batch/job generateSelector).
//
// Defaults: one completion and one pod at a time when neither is set, else
// parallelism 1; six retries; NonIndexed; not suspended; pods replaced once
// terminating or failed (Failed only with a podFailurePolicy); the selector
// generated unless manualSelector; a Job without labels takes its template's.
import type { Job as ApiJob, JobSpec as ApiJobSpec } from 'kubernetes-types/batch/v1.js';
import type { DeepMutable } from '../../api/types.js';
import type { KubeObject } from '../../api/object.js';
import { setPodSpecDefaults } from '../pods/defaults.js';
import { controllerUidLabel, jobNameLabel, legacyControllerUidLabel, legacyJobNameLabel } from './labels.js';

export type Job = DeepMutable<ApiJob>;
type JobSpec = DeepMutable<ApiJobSpec>;

/** The defaults a Job template inside a CronJob gets too: only its pod template's (SetDefaults_Job takes a Job, not a JobSpec). */
export function setJobTemplatePodDefaults(spec: JobSpec | undefined): void {
  if (spec?.template) setPodSpecDefaults((spec.template.spec ??= { containers: [] }));
}

export function setJobDefaults(obj: KubeObject): void {
  const job = obj as unknown as Job;
  const spec = (job.spec ??= { template: {} });
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  // With backoffLimitPerIndex the global limit is effectively off.
  spec.backoffLimit ??= spec.backoffLimitPerIndex != null ? 2147483647 : 6;
  const templateLabels = spec.template?.metadata?.labels;
  if (templateLabels && !Object.keys(job.metadata?.labels ?? {}).length) (job.metadata ??= {}).labels = { ...templateLabels };
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  for (const rule of spec.podFailurePolicy?.rules ?? []) for (const pattern of rule.onPodConditions ?? []) pattern.status ??= 'True';
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.manualSelector ??= false;
  setJobTemplatePodDefaults(spec);
}

/**
 * generateSelector: the template carries the job's name and uid (prefixed and
 * legacy keys), and the selector matches the uid. Labels the user set are left
 * as they are; validation refuses them when they do not match.
 */
export function generateJobSelector(obj: KubeObject): void {
  const job = obj as unknown as Job;
  const spec = job.spec!;
  if (spec.manualSelector) return;
  const template = (spec.template ??= {});
  const labels = ((template.metadata ??= {}).labels ??= {});
  const name = obj.metadata.name ?? '';
  const uid = obj.metadata.uid ?? '';
  for (const key of [legacyJobNameLabel, jobNameLabel]) if (!(key in labels)) labels[key] = name;
  for (const key of [legacyControllerUidLabel, controllerUidLabel]) if (!(key in labels)) labels[key] = uid;
  const matchLabels = ((spec.selector ??= {}).matchLabels ??= {});
  if (!(controllerUidLabel in matchLabels)) matchLabels[controllerUidLabel] = uid;
}
