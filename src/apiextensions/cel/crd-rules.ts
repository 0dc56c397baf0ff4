// The checks a CRD's x-kubernetes-validations get when the CRD is created
// or updated, as upstream's apiextensions validation: each rule's own
// fields (rule, message, messageExpression, reason, fieldPath), then, when
// those are fine, the rules compiled against the types of the values they
// validate ("...x-kubernetes-validations[0].rule: Invalid value:
// apiextensions.ValidationRule{...}: compilation failed: ERROR: ..."), and
// oldSelf refused where no old value can correlate (below atomic/set lists).
import { fieldErrors, GoLiteral, type FieldError } from '../../api/field-errors.js';
import { goQuote } from '../../api/json.js';
import type { JSONSchemaProps } from '../types.js';
import { validFieldPath } from './field-path.js';
import { compileRules, type ValidationRule } from './rules.js';
import { schemaType } from './types.js';

const reasons = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

/** Go's %#v of the internal apiextensions.ValidationRule (set pointers as "(set)"; Go prints their address). */
function ruleValue(r: ValidationRule): GoLiteral {
  const ptr = (type: string, v: unknown) => `(*${type})(${v === undefined || v === null ? 'nil' : 'set'})`;
  return new GoLiteral(
    `apiextensions.ValidationRule{Rule:${goQuote(r.rule ?? '')}, Message:${goQuote(r.message ?? '')}, MessageExpression:${goQuote(r.messageExpression ?? '')}, ` +
      `Reason:${ptr('apiextensions.FieldValueErrorReason', r.reason)}, FieldPath:${goQuote(r.fieldPath ?? '')}, OptionalOldSelf:${ptr('bool', r.optionalOldSelf)}}`,
  );
}

/** The errors of the rules in `schema` (a version's openAPIV3Schema at `path`); compiled only when `compile` (a structural schema). */
export function validateRuleDefinitions(schema: JSONSchemaProps, path: string, compile: boolean): FieldError[] {
  return walk(schema, path, true, compile, undefined).errs;
}

function walk(s: JSONSchemaProps, path: string, isRoot: boolean, compileHere: boolean, forbidOldSelf: string | undefined): { errs: FieldError[]; schemaErrs: number } {
  const errs: FieldError[] = [];
  let schemaErrs = 0;
  const add = (r: { errs: FieldError[]; schemaErrs: number }) => {
    errs.push(...r.errs);
    schemaErrs += r.schemaErrs;
  };
  const ap = s.additionalProperties;
  if (typeof ap === 'object') add(walk(ap, `${path}.additionalProperties`, !!ap['x-kubernetes-embedded-resource'], compileHere, forbidOldSelf));
  for (const [k, p] of Object.entries(s.properties ?? {})) add(walk(p, `${path}.properties[${k}]`, !!p['x-kubernetes-embedded-resource'], compileHere, forbidOldSelf));
  if (s.not) add(walk(s.not, `${path}.not`, false, false, forbidOldSelf));
  for (const [kw, list] of [['allOf', s.allOf], ['oneOf', s.oneOf], ['anyOf', s.anyOf]] as const) {
    (list ?? []).forEach((sub, i) => add(walk(sub, `${path}.${kw}[${i}]`, false, false, forbidOldSelf)));
  }
  if (s.items) {
    const forbid = forbidOldSelf ?? (s['x-kubernetes-list-type'] !== 'map' ? path : undefined);
    add(walk(s.items, `${path}.items`, !!s.items['x-kubernetes-embedded-resource'], compileHere, forbid));
  }
  const rules = (s['x-kubernetes-validations'] ?? []) as ValidationRule[];
  if (!rules.length) return { errs, schemaErrs };
  const own: FieldError[] = [];
  rules.forEach((r, i) => {
    const at = `${path}.x-kubernetes-validations[${i}]`;
    const rule = (r.rule ?? '').trim();
    const message = (r.message ?? '').trim();
    if (!rule) own.push(fieldErrors.required(`${at}.rule`, 'rule is not specified'));
    else if (r.message && !message) own.push(fieldErrors.invalid(`${at}.message`, r.message, 'message must be non-empty if specified'));
    else if (message.includes('\n')) own.push(fieldErrors.invalid(`${at}.message`, r.message, 'message must not contain line breaks'));
    else if (rule.includes('\n') && !message) own.push(fieldErrors.required(`${at}.message`, 'message must be specified if rule contains line breaks'));
    if (r.messageExpression && !r.messageExpression.trim()) own.push(fieldErrors.required(`${at}.messageExpression`, 'messageExpression must be non-empty if specified'));
    if (r.reason !== undefined && !reasons.includes(r.reason)) own.push(fieldErrors.notSupported(`${at}.reason`, r.reason, reasons));
    if (r.fieldPath && !r.fieldPath.trim()) own.push(fieldErrors.invalid(`${at}.fieldPath`, r.fieldPath, 'fieldPath must be non-empty if specified'));
    if (r.fieldPath?.includes('\n')) own.push(fieldErrors.invalid(`${at}.fieldPath`, r.fieldPath, 'fieldPath must not contain line breaks'));
    if (r.fieldPath && 'error' in validFieldPath(r.fieldPath, s)) own.push(fieldErrors.invalid(`${at}.fieldPath`, r.fieldPath, 'fieldPath must be a valid path'));
  });
  errs.push(...own);
  schemaErrs += own.length;
  if (schemaErrs || !compileHere) return { errs, schemaErrs };
  const type = schemaType(s, isRoot);
  if (!type) {
    errs.push(fieldErrors.internal(`${path}.x-kubernetes-validations`, 'failed to convert to declType for CEL validation rules'));
    return { errs, schemaErrs };
  }
  compileRules(s, type).forEach((c, i) => {
    const at = `${path}.x-kubernetes-validations[${i}]`;
    if (c.error) errs.push(fieldErrors.invalid(`${at}.rule`, ruleValue(c.rule), c.error));
    if (c.messageError) errs.push(fieldErrors.invalid(`${at}.messageExpression`, ruleValue(c.rule), c.messageError));
    if (c.usesOldSelf) {
      if (forbidOldSelf !== undefined) errs.push(fieldErrors.invalid(`${at}.rule`, c.rule.rule, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${forbidOldSelf}`));
    } else if (c.rule.optionalOldSelf !== undefined) {
      errs.push(fieldErrors.invalid(`${at}.optionalOldSelf`, c.rule.optionalOldSelf, 'may not be set if oldSelf is not used in rule'));
    }
  });
  return { errs, schemaErrs };
}
