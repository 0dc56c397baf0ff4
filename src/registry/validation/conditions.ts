// metav1 Condition validation, as apimachinery's metav1validation
// ValidateConditions: each type once and a qualified name, a status of True,
// False or Unknown, a non-negative observedGeneration, a lastTransitionTime,
// a reason in CamelCase-ish form of at most 1024 bytes, a message of at most
// 32768 bytes.
import type { Condition } from 'kubernetes-types/meta/v1.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { regexError } from './names.js';
import { validateLabelName } from './object-meta.js';

const validConditionStatuses = ['False', 'True', 'Unknown'];
const maxReasonLen = 1 * 1024;
const maxMessageLen = 32 * 1024;

const conditionReasonFmt = '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?';
const conditionReasonErrMsg =
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'";
const conditionReasonRegexp = new RegExp(`^${conditionReasonFmt}$`);

/** Whether a metav1.Time is the zero time: absent, null, empty, or January 1 of year 1. */
function isZeroTime(t: unknown): boolean {
  if (t === undefined || t === null || t === '') return true;
  return typeof t === 'string' && Date.parse(t) === Date.parse('0001-01-01T00:00:00Z');
}

/** metav1validation.ValidateCondition at `fldPath` (…conditions[i]). */
export function validateCondition(condition: Partial<Condition>, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateLabelName(condition.type ?? '', `${fldPath}.type`));
  const status = condition.status ?? '';
  if (!validConditionStatuses.includes(status)) errs.push(fieldErrors.notSupported(`${fldPath}.status`, status, validConditionStatuses));
  const observedGeneration = condition.observedGeneration ?? 0;
  if (observedGeneration < 0) errs.push(fieldErrors.invalid(`${fldPath}.observedGeneration`, observedGeneration, 'must be greater than or equal to zero'));
  if (isZeroTime(condition.lastTransitionTime)) errs.push(fieldErrors.required(`${fldPath}.lastTransitionTime`, 'must be set'));
  const reason = condition.reason ?? '';
  if (reason.length === 0) errs.push(fieldErrors.required(`${fldPath}.reason`, 'must be set'));
  else {
    if (!conditionReasonRegexp.test(reason)) {
      errs.push(
        fieldErrors.invalid(
          `${fldPath}.reason`,
          reason,
          regexError(conditionReasonErrMsg, conditionReasonFmt, 'my_name', 'MY_NAME', 'MyName', 'ReasonA,ReasonB', 'ReasonA:ReasonB'),
        ),
      );
    }
    if (Buffer.byteLength(reason) > maxReasonLen) errs.push(fieldErrors.tooLong(`${fldPath}.reason`, maxReasonLen));
  }
  if (Buffer.byteLength(condition.message ?? '') > maxMessageLen) errs.push(fieldErrors.tooLong(`${fldPath}.message`, maxMessageLen));
  return errs;
}

/** metav1validation.ValidateConditions: a type seen before is a duplicate at its own index; every condition is validated. */
export function validateConditions(conditions: readonly Partial<Condition>[] | undefined, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (conditions ?? []).forEach((condition, i) => {
    const type = condition.type ?? '';
    if (seen.has(type)) errs.push(fieldErrors.duplicate(`${fldPath}[${i}].type`, type));
    else seen.add(type);
    errs.push(...validateCondition(condition, `${fldPath}[${i}]`));
  });
  return errs;
}
