// coordination.k8s.io/v1 Lease validation, as upstream's ValidateLease and
// ValidateLeaseSpec (pkg/apis/coordination/validation).
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { isNegativeErrorMsg } from '../validation/object-meta.js';

export function validateLease(lease: Lease): FieldError[] {
  const errs: FieldError[] = [];
  const spec = lease.spec ?? {};
  if (spec.leaseDurationSeconds != null && spec.leaseDurationSeconds <= 0) {
    errs.push(fieldErrors.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (spec.leaseTransitions != null && spec.leaseTransitions < 0) {
    errs.push(fieldErrors.invalid('spec.leaseTransitions', spec.leaseTransitions, isNegativeErrorMsg));
  }
  return errs;
}
