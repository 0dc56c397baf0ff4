// Evaluating a version's x-kubernetes-validations against a custom object,
// as upstream's schema/cel Validator: every rule at the node declaring it
// with `self` bound to the (non-null) value there; transition rules (those
// using oldSelf) only where an old value correlates (through object
// properties, maps and map-keyed lists, not atomic or set lists) unless
// optionalOldSelf; a budget of cost per object; errors worded as upstream's
// (`spec: Invalid value: "object": <message>`, `failed rule: <rule>`).
// Errors of rules without oldSelf on values unchanged since the old object
// are ratcheted (dropped; upstream turns them into warnings).
import { deepEqual, isPlainObject } from '../../api/object.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import type { JSONSchemaProps } from '../types.js';
import { CostLimitError } from './evaluator.js';
import { CelError, Optional, type CelValue } from './values.js';
import { rulesOf, type CompiledRule, type RuleNode } from './rules.js';
import { schemaType, withTypeAndObjectMeta, type CelType } from './types.js';
import { toCel } from './unstructured.js';

/** The cost budget of one object's validation (celconfig.RuntimeCELCostBudget). */
export const RUNTIME_COST_BUDGET = 10_000_000;
const MAX_MESSAGE_BYTES = 5 * 1024;

class OutOfBudget extends Error {}

interface Walk {
  errs: FieldError[];
  budget: number;
}

/** The rule errors of `obj` (the whole object, metadata included) against the version's schema; `old` on update. */
export function validateRules(schema: JSONSchemaProps | undefined, obj: unknown, old?: unknown): FieldError[] {
  const root = schema && rulesOf(schema);
  if (!root) return [];
  const walk: Walk = { errs: [], budget: RUNTIME_COST_BUDGET };
  try {
    validateNode(walk, root, '', obj, old, true, old !== undefined && deepEqual(obj, old));
  } catch (e) {
    if (!(e instanceof OutOfBudget)) throw e;
  }
  return walk.errs;
}

function validateNode(walk: Walk, node: RuleNode, path: string, value: unknown, old: unknown, isRoot: boolean, unchanged: boolean): void {
  if (value === null || value === undefined) return;
  if (old === null) old = undefined;
  runRules(walk, node, path, value, old, isRoot, unchanged);
  for (const sub of node.allOf) runRules(walk, sub, path, value, old, isRoot, unchanged);
  for (const sub of node.allOf) validateChildren(walk, sub, path, value, old, unchanged);
  validateChildren(walk, node, path, value, old, unchanged);
}

function childUnchanged(value: unknown, old: unknown, parentUnchanged: boolean): boolean {
  return old === undefined ? parentUnchanged : deepEqual(value, old);
}

function validateChildren(walk: Walk, node: RuleNode, path: string, value: unknown, old: unknown, unchanged: boolean): void {
  if (Array.isArray(value) && node.items) {
    const oldItems = correlateMapList(node.schema, Array.isArray(old) ? old : undefined);
    value.forEach((item, i) => {
      const o = oldItems(item);
      validateNode(walk, node.items!, `${path}[${i}]`, item, o, false, childUnchanged(item, o, unchanged));
    });
  } else if (isPlainObject(value)) {
    const oldMap = isPlainObject(old) ? old : {};
    for (const [k, v] of Object.entries(value)) {
      const o = oldMap[k];
      if (node.additionalProperties) validateNode(walk, node.additionalProperties, `${path}[${k}]`, v, o, false, childUnchanged(v, o, unchanged));
      const p = node.properties.get(k);
      if (p) validateNode(walk, p, path ? `${path}.${k}` : k, v, o, false, childUnchanged(v, o, unchanged));
    }
  }
}

/** The old item a new list item correlates with: by its keys in a map-keyed list, none otherwise. */
function correlateMapList(schema: JSONSchemaProps, old: unknown[] | undefined): (item: unknown) => unknown {
  const keys = schema['x-kubernetes-list-map-keys'];
  if (!old || schema['x-kubernetes-list-type'] !== 'map' || !keys?.length) return () => undefined;
  const keyOf = (x: unknown) => (isPlainObject(x) ? JSON.stringify(keys.map((k) => x[k] ?? null)) : undefined);
  const byKey = new Map(old.map((x) => [keyOf(x), x]));
  return (item) => byKey.get(keyOf(item));
}

function ruleText(c: CompiledRule): string {
  return c.rule.message ? c.rule.message.trim() : c.rule.rule.trim();
}

function runRules(walk: Walk, node: RuleNode, path: string, value: unknown, old: unknown, isRoot: boolean, unchanged: boolean): void {
  if (!node.rules.length && !node.typeError) return;
  const field = path || '<nil>';
  const typeName = node.schema.type ?? '';
  if (node.typeError) {
    walk.errs.push(fieldErrors.invalid(field, typeName, `rule compiler initialization error: ${node.typeError}`));
    return;
  }
  if (walk.budget <= 0) {
    walk.errs.push(fieldErrors.invalid(field, typeName, 'validation failed due to running out of cost budget, no further validation rules will be run'));
    throw new OutOfBudget();
  }
  const type = schemaType(isRoot ? withTypeAndObjectMeta(node.schema) : node.schema, false);
  let self: CelValue | CelError;
  let oldSelf: CelValue | CelError | undefined;
  try {
    self = convert(value, type);
    oldSelf = old === undefined ? undefined : convert(old, type);
  } catch (e) {
    if (!(e instanceof CelError)) throw e;
    self = e;
  }
  for (const c of node.rules) {
    if (c.error) {
      walk.errs.push(fieldErrors.invalid(field, typeName, `rule compile error: ${c.error}`));
      continue;
    }
    if (!c.program) continue;
    if (c.usesOldSelf && oldSelf === undefined && !c.rule.optionalOldSelf) continue;
    const vars = new Map<string, CelValue>();
    const optionalOld = c.rule.optionalOldSelf ? new Optional(oldSelf as CelValue | undefined) : oldSelf;
    let result: CelValue | CelError;
    let cost = 0;
    try {
      if (self instanceof CelError) throw self;
      vars.set('self', self);
      if (optionalOld !== undefined) vars.set('oldSelf', optionalOld as CelValue);
      ({ value: result, cost } = c.program.eval(vars, Math.min(walk.budget + 1, 1_000_000)));
    } catch (e) {
      // An unexpected failure of the evaluator is this rule's error, never the request's.
      result = e instanceof CelError ? e : new CelError(String((e as Error)?.message ?? e));
    }
    if (result instanceof CostLimitError) {
      if (walk.budget < 1_000_000) walk.errs.push(fieldErrors.invalid(field, typeName, 'validation failed due to running out of cost budget, no further validation rules will be run'));
      else walk.errs.push(fieldErrors.invalid(field, typeName, `'${result.message}': no further validation rules will be run due to call cost exceeds limit for rule: ${ruleText(c)}`));
      throw new OutOfBudget();
    }
    walk.budget -= cost;
    if (result instanceof CelError) {
      const msg = result.message.startsWith('no such overload')
        ? `'${result.message}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleText(c)}`
        : `${result.message} evaluating rule: ${ruleText(c)}`;
      walk.errs.push(fieldErrors.invalid(field, typeName, msg));
      continue;
    }
    if (result === true) continue;
    if (!c.usesOldSelf && unchanged) continue;
    const at = c.fieldPath ? (path ? `${path}.${c.fieldPath}` : c.fieldPath) : field;
    let detail = c.rule.message?.trim() || `failed rule: ${c.rule.rule.trim()}`;
    if (c.message) {
      const m = messageOf(c.message, vars, walk);
      if ('fatal' in m) {
        walk.errs.push(fieldErrors.invalid(at, typeName, m.fatal));
        throw new OutOfBudget();
      }
      if (m.message !== undefined) detail = m.message;
    }
    walk.errs.push(errorForReason(c.rule.reason, at, typeName, detail));
  }
}

function convert(value: unknown, type: CelType | undefined): CelValue {
  if (!type) throw new CelError('failed to convert to declType for CEL validation rules');
  return toCel(value, type);
}

function messageOf(p: NonNullable<CompiledRule['message']>, vars: Map<string, CelValue>, walk: Walk): { message?: string } | { fatal: string } {
  try {
    const { value, cost } = p.eval(vars, Math.min(walk.budget + 1, 1_000_000));
    if (cost > walk.budget) return { fatal: 'messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run' };
    walk.budget -= cost;
    const s = typeof value === 'string' ? value.trim() : '';
    if (!s || s.includes('\n') || Buffer.byteLength(s) > MAX_MESSAGE_BYTES) return {};
    return { message: s };
  } catch (e) {
    if (!(e instanceof CelError)) throw e;
    if (e instanceof CostLimitError) return { fatal: 'messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run' };
    return {};
  }
}

function errorForReason(reason: string | undefined, field: string, typeName: string, detail: string): FieldError {
  switch (reason) {
    case 'FieldValueForbidden':
      return fieldErrors.forbidden(field, detail);
    case 'FieldValueRequired':
      return fieldErrors.required(field, detail);
    case 'FieldValueDuplicate':
      return fieldErrors.duplicate(field, typeName);
    default:
      return fieldErrors.invalid(field, typeName, detail);
  }
}
