// The DisruptionAllowed condition of a budget's status, as upstream's
// component-helpers/apps/poddisruptionbudget: both the eviction subresource
// (when it spends the last allowed disruption) and the disruption controller
// set it, with apimeta.SetStatusCondition's rule that the transition time
// moves only when the status does.
import type { Condition } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { nowTimestamp } from '../../api/object.js';

export const disruptionAllowedCondition = 'DisruptionAllowed';
export const sufficientPodsReason = 'SufficientPods';
export const insufficientPodsReason = 'InsufficientPods';
export const syncFailedReason = 'SyncFailed';

/** apimeta.SetStatusCondition: replaces the condition of that type, keeping its transition time unless the status changed. */
export function setStatusCondition(conditions: Condition[], wanted: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const existing = conditions.find((c) => c.type === wanted.type);
  const lastTransitionTime = existing && existing.status === wanted.status ? existing.lastTransitionTime : nowTimestamp(now);
  const next: Condition = { ...wanted, lastTransitionTime };
  if (next.observedGeneration === 0 || next.observedGeneration == null) delete next.observedGeneration;
  return existing ? conditions.map((c) => (c === existing ? next : c)) : [...conditions, next];
}

/** UpdateDisruptionAllowedCondition: True/SufficientPods while a disruption is allowed, else False/InsufficientPods. */
export function updateDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, now: Date): void {
  const allowed = status.disruptionsAllowed > 0;
  status.conditions = setStatusCondition(
    status.conditions ?? [],
    {
      type: disruptionAllowedCondition,
      status: allowed ? 'True' : 'False',
      reason: allowed ? sufficientPodsReason : insufficientPodsReason,
      message: '',
      observedGeneration: status.observedGeneration,
    },
    now,
  );
}

/** ConditionsAreUpToDate: the condition exists, the generation was observed, and the condition says what disruptionsAllowed says. */
export function conditionsAreUpToDate(status: PodDisruptionBudgetStatus, generation: number | undefined): boolean {
  const cond = status.conditions?.find((c) => c.type === disruptionAllowedCondition);
  if (!cond) return false;
  if ((status.observedGeneration ?? 0) !== (generation ?? 0)) return false;
  if (status.disruptionsAllowed > 0) return cond.status === 'True' && cond.reason === sufficientPodsReason;
  return cond.status === 'False' && cond.reason === insufficientPodsReason;
}
