// The pod failure back-off of the job controller (pkg/controller/job/backoff_utils.go):
// after failures with no success since, new pods wait 10s doubled per further
// failure, at most 10 minutes, counted from the last failure's finish.
import type { PodObject } from '../workloads/types.js';

export const defaultPodFailureBackoffMs = 10_000;
export const maxPodFailureBackoffMs = 10 * 60_000;

/** getFinishedTime: the last container to finish, else when the pod stopped being Ready, else its deletion, else now. */
export function podFinishedAt(pod: PodObject, now: number): number {
  const ends = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
    .map((s) => s.state?.terminated?.finishedAt)
    .filter((t): t is string => !!t)
    .map((t) => Date.parse(t));
  if (ends.length) return Math.max(...ends);
  const notReady = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False')?.lastTransitionTime;
  if (notReady) return Date.parse(notReady);
  if (pod.metadata.deletionTimestamp) return Date.parse(pod.metadata.deletionTimestamp);
  return now;
}

/** A pod deleted before it succeeded failed too, as the controller counts it. */
const failedPod = (p: PodObject) => p.status?.phase === 'Failed' || (!!p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded');

/** The back-off record from the job's finished pods: failures after the last success, and the last failure's time. */
export function backoffRecord(pods: PodObject[], now: number): { failuresAfterLastSuccess: number; lastFailureTime?: number } {
  const finished = pods
    .filter((p) => p.status?.phase === 'Succeeded' || failedPod(p))
    .map((p) => ({ failed: failedPod(p), at: podFinishedAt(p, now) }))
    .sort((a, b) => a.at - b.at);
  let failures = 0;
  let lastFailureTime: number | undefined;
  for (const f of finished) {
    if (f.failed) {
      failures++;
      lastFailureTime = f.at;
    } else failures = 0;
  }
  return { failuresAfterLastSuccess: failures, lastFailureTime };
}

/** getRemainingTime: how long new pods must still wait (0 when they need not). */
export function remainingBackoffMs(record: { failuresAfterLastSuccess: number; lastFailureTime?: number }, now: number): number {
  if (record.failuresAfterLastSuccess === 0 || record.lastFailureTime === undefined) return 0;
  let backoff = defaultPodFailureBackoffMs;
  for (let i = 1; i < record.failuresAfterLastSuccess && backoff < maxPodFailureBackoffMs; i++) backoff = Math.min(backoff * 2, maxPodFailureBackoffMs);
  const elapsed = now - record.lastFailureTime;
  return backoff < elapsed ? 0 : backoff - elapsed;
}
