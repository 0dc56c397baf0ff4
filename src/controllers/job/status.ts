// JobStatus as Go serialises it: the counters omitted when zero, ready and
// terminating (pointers) always written, uncountedTerminatedPods present
// with its empty lists left out.
import { canonicalJSON } from '../workloads/hash.js';
import type { JobStatus } from './types.js';

export function compactJobStatus(s: JobStatus): JobStatus {
  const out: JobStatus = {};
  if (s.conditions?.length) out.conditions = s.conditions;
  if (s.startTime) out.startTime = s.startTime;
  if (s.completionTime) out.completionTime = s.completionTime;
  if (s.active) out.active = s.active;
  if (s.succeeded) out.succeeded = s.succeeded;
  if (s.failed) out.failed = s.failed;
  if (s.completedIndexes) out.completedIndexes = s.completedIndexes;
  if (s.failedIndexes != null) out.failedIndexes = s.failedIndexes;
  if (s.uncountedTerminatedPods) {
    const u: NonNullable<JobStatus['uncountedTerminatedPods']> = {};
    if (s.uncountedTerminatedPods.succeeded?.length) u.succeeded = s.uncountedTerminatedPods.succeeded;
    if (s.uncountedTerminatedPods.failed?.length) u.failed = s.uncountedTerminatedPods.failed;
    out.uncountedTerminatedPods = u;
  }
  if (s.ready != null) out.ready = s.ready;
  if (s.terminating != null) out.terminating = s.terminating;
  return out;
}

export const sameJobStatus = (a: JobStatus | undefined, b: JobStatus) => canonicalJSON(compactJobStatus(a ?? {})) === canonicalJSON(compactJobStatus(b));
