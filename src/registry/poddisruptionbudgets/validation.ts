// policy/v1 PodDisruptionBudget validation, as upstream's
// ValidatePodDisruptionBudget(Spec) and ValidatePodDisruptionBudgetStatusUpdate
// (pkg/apis/policy/validation).
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { fieldErrors, GoLiteral, type FieldError } from '../../api/field-errors.js';
import { isNotMoreThan100Percent, validateLabelSelector, validatePositiveIntOrPercent } from '../workloads/validation.js';
import { validateConditions } from '../validation/conditions.js';
import { validateNonnegativeField } from '../validation/object-meta.js';

export const unhealthyPodEvictionPolicies = ['AlwaysAllow', 'IfHealthyBudget'];

/**
 * Go's %#v of the internal PodDisruptionBudgetSpec, the value of the "both
 * set" error: its pointer fields print as addresses, shown here as (…).
 */
function specLiteral(spec: NonNullable<PodDisruptionBudget['spec']>): GoLiteral {
  const ptr = (type: string, v: unknown) => `(*${type})(${v == null ? 'nil' : '…'})`;
  return new GoLiteral(
    `policy.PodDisruptionBudgetSpec{MinAvailable:${ptr('intstr.IntOrString', spec.minAvailable)}, Selector:${ptr('v1.LabelSelector', spec.selector)}, ` +
      `MaxUnavailable:${ptr('intstr.IntOrString', spec.maxUnavailable)}, UnhealthyPodEvictionPolicy:${ptr('policy.UnhealthyPodEvictionPolicyType', spec.unhealthyPodEvictionPolicy)}}`,
  );
}

export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  const spec = pdb.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.minAvailable != null && spec.maxUnavailable != null) {
    errs.push(fieldErrors.invalid('spec', specLiteral(spec), 'minAvailable and maxUnavailable cannot be both set'));
  }
  if (spec.minAvailable != null) {
    errs.push(...validatePositiveIntOrPercent(spec.minAvailable, 'spec.minAvailable'), ...isNotMoreThan100Percent(spec.minAvailable, 'spec.minAvailable'));
  }
  if (spec.maxUnavailable != null) {
    errs.push(...validatePositiveIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable'), ...isNotMoreThan100Percent(spec.maxUnavailable, 'spec.maxUnavailable'));
  }
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (spec.unhealthyPodEvictionPolicy != null && !unhealthyPodEvictionPolicies.includes(spec.unhealthyPodEvictionPolicy)) {
    errs.push(fieldErrors.notSupported('spec.unhealthyPodEvictionPolicy', spec.unhealthyPodEvictionPolicy, unhealthyPodEvictionPolicies));
  }
  return errs;
}

/**
 * ValidatePodDisruptionBudgetStatusUpdate: the conditions are valid metav1 Conditions, and the counts a status
 * write may carry are never negative (policy/v1). Upstream checks nothing more of disruptedPods than its decoding
 * (pod name to timestamp).
 */
export function validatePodDisruptionBudgetStatus(status: PodDisruptionBudgetStatus | undefined): FieldError[] {
  const s = status ?? ({} as Partial<PodDisruptionBudgetStatus>);
  return [
    ...validateConditions(s.conditions, 'status.conditions'),
    ...validateNonnegativeField(s.disruptionsAllowed ?? 0, 'status.disruptionsAllowed'),
    ...validateNonnegativeField(s.currentHealthy ?? 0, 'status.currentHealthy'),
    ...validateNonnegativeField(s.desiredHealthy ?? 0, 'status.desiredHealthy'),
    ...validateNonnegativeField(s.expectedPods ?? 0, 'status.expectedPods'),
  ];
}
