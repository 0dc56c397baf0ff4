// What the eviction subresource decides about one pod, as upstream's
// EvictionREST (pkg/registry/core/pod/storage/eviction.go): which budgets
// guard the pod, whether it may go without asking them, and whether the one
// budget has a disruption to spend (then spent: disruptionsAllowed less one,
// the pod noted in disruptedPods until the controller sees it go).
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { nowTimestamp } from '../../api/object.js';
import { errors, StatusError } from '../../api/status.js';
import { isEmptySelector, labelSelectorMatches } from '../workloads/validation.js';
import { updateDisruptionAllowedCondition } from './conditions.js';
import { emptyPodDisruptionBudgetStatus } from './resource.js';

/**
 * MaxDisruptedPodSize: evictions approved but not yet seen by the controller;
 * past this many the budget refuses more until the controller catches up.
 */
export const maxDisruptedPodSize = 2000;

export const violatesBudgetMessage = "Cannot evict pod as it would violate the pod's disruption budget.";
export const multipleBudgetsMessage = 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';

/** apierrors.NewTooManyRequests with a DisruptionBudget cause (policyv1.DisruptionBudgetCause). */
export function tooManyRequests(retryAfterSeconds: number, cause: string): StatusError {
  const details: NonNullable<StatusError['status']['details']> = { causes: [{ reason: 'DisruptionBudget', message: cause }] };
  if (retryAfterSeconds > 0) details.retryAfterSeconds = retryAfterSeconds;
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: violatesBudgetMessage, reason: 'TooManyRequests', details, code: 429 });
}

/** Terminal, pending or already deleting pods have caused (or cause) no disruption a budget counts: deleted directly. */
export function canIgnoreBudgets(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
}

/** Whether the delete should be pinned to the resourceVersion read: not for terminal or deleting pods. */
export function shouldEnforceResourceVersion(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp);
}

/** getPodDisruptionBudgets: the budgets of the pod's namespace whose selector matches it; a nil or empty selector matches nothing. */
export function budgetsForPod(budgets: PodDisruptionBudget[], pod: Pod): PodDisruptionBudget[] {
  return budgets.filter((b) => {
    if (b.metadata?.namespace !== pod.metadata?.namespace) return false;
    const selector = b.spec?.selector;
    if (!selector || isEmptySelector(selector)) return false;
    return labelSelectorMatches(selector, pod.metadata?.labels);
  });
}

const isPodReady = (pod: Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * A pod that is running but not ready counts toward no budget: it may go
 * without spending a disruption when the policy is AlwaysAllow, or (the
 * default, IfHealthyBudget) while the budget is met anyway.
 */
export function unhealthyPodMayGo(pod: Pod, budget: PodDisruptionBudget): boolean {
  if (isPodReady(pod)) return false;
  if (budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
  const status = budget.status ?? emptyPodDisruptionBudgetStatus();
  return status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0;
}

/**
 * checkAndDecrement: the budget's status after spending one disruption on
 * `podName`, or the error that refuses it. A dry run spends in memory only
 * (nothing is written, the pod is not recorded).
 */
export function spendDisruption(budget: PodDisruptionBudget, podName: string, dryRun: boolean, now: Date): PodDisruptionBudgetStatus {
  const name = budget.metadata?.name ?? '';
  const status: PodDisruptionBudgetStatus = structuredClone(budget.status ?? emptyPodDisruptionBudgetStatus());
  if ((status.observedGeneration ?? 0) < (budget.metadata?.generation ?? 0)) {
    throw tooManyRequests(10, `The disruption budget ${name} is still being processed by the server.`);
  }
  const gr = { group: 'policy', resource: 'poddisruptionbudget' };
  if (status.disruptionsAllowed < 0) throw errors.forbidden(gr, name, 'pdb disruptions allowed is negative');
  if (Object.keys(status.disruptedPods ?? {}).length > maxDisruptedPodSize) {
    throw errors.forbidden(gr, name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  }
  if (status.disruptionsAllowed === 0) {
    throw tooManyRequests(0, `The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`);
  }
  status.disruptionsAllowed--;
  if (status.disruptionsAllowed === 0) updateDisruptionAllowedCondition(status, now);
  if (!dryRun) status.disruptedPods = { ...(status.disruptedPods ?? {}), [podName]: nowTimestamp(now) };
  return status;
}
