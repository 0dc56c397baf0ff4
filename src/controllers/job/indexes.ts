// Completion indexes of Indexed Jobs (pkg/controller/job/indexed_job_utils.go):
// a pod's index from its annotation, the compressed interval text of
// status.completedIndexes ("1,3-5,7"), the lowest indexes still wanting a pod,
// and what a pod of an index carries (annotation, label, hostname, the
// JOB_COMPLETION_INDEX variable through the downward API, and its name prefix).
import { jobCompletionIndexAnnotation } from '../../registry/jobs/labels.js';
import type { PodObject } from '../workloads/types.js';

/** getCompletionIndex: the annotation's non-negative integer, or undefined. */
export function completionIndexOf(pod: PodObject): number | undefined {
  const v = pod.metadata.annotations?.[jobCompletionIndexAnnotation];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** parseIndexesFromString: the indexes in "1,3-5" below `completions` (anything malformed is skipped). */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    for (let i = lo; i <= hi && i < completions; i++) out.add(i);
  }
  return out;
}

/** orderedIntervals.String: sorted, consecutive runs as "a-b", joined by commas. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    runs.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return runs.join(',');
}

/** firstPendingIndexes: the lowest `count` indexes neither completed nor held by an active pod. */
export function firstPendingIndexes(completed: Set<number>, active: PodObject[], count: number, completions: number): number[] {
  const taken = new Set(completed);
  for (const pod of active) {
    const ix = completionIndexOf(pod);
    if (ix !== undefined) taken.add(ix);
  }
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

/** The longest generateName prefix the API server leaves room for a random suffix after. */
const maxGeneratedNameLength = 58;

/** podGenerateNameWithIndex: `<job>-<index>-`, the job name cut short if need be. */
export function generateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  return prefix.length > maxGeneratedNameLength ? jobName.slice(0, maxGeneratedNameLength - suffix.length) + suffix : prefix;
}

const indexEnvName = 'JOB_COMPLETION_INDEX';

/**
 * addCompletionIndexAnnotation, the label, the hostname `<job>-<index>` and
 * the JOB_COMPLETION_INDEX variable on every container that does not set it,
 * read from the annotation through the downward API as upstream injects it.
 */
export function stampCompletionIndex(pod: PodObject, jobName: string, index: number): void {
  (pod.metadata.annotations ??= {})[jobCompletionIndexAnnotation] = String(index);
  (pod.metadata.labels ??= {})[jobCompletionIndexAnnotation] = String(index);
  pod.metadata.generateName = generateNameWithIndex(jobName, index);
  const spec = pod.spec!;
  spec.hostname = `${jobName}-${index}`;
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    if (c.env?.some((e) => e.name === indexEnvName)) continue;
    (c.env ??= []).push({ name: indexEnvName, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${jobCompletionIndexAnnotation}']` } } });
  }
}
