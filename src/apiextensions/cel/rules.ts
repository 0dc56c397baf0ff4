// The x-kubernetes-validations of a schema compiled once into a tree that
// parallels it (only the nodes whose subtree has rules), cached per schema
// object: each rule with `self` (and `oldSelf`, optional when the rule sets
// optionalOldSelf) typed as the node's values, its messageExpression and its
// normalized fieldPath. Compilation results carry upstream's details
// ("compilation failed: ...", "cel expression must evaluate to a bool").
import type { JSONSchemaProps } from '../types.js';
import { validFieldPath } from './field-path.js';
import { compile, type Program } from './program.js';
import { schemaType, T, withTypeAndObjectMeta, type CelType } from './types.js';

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface CompiledRule {
  rule: ValidationRule;
  program?: Program;
  /** Why the rule does not compile. */
  error?: string;
  message?: Program;
  messageError?: string;
  usesOldSelf: boolean;
  /** The fieldPath normalized, when valid. */
  fieldPath?: string;
}

export interface RuleNode {
  schema: JSONSchemaProps;
  rules: CompiledRule[];
  /** Set when the node's values have no CEL type ("failed to convert to declType"). */
  typeError?: string;
  properties: Map<string, RuleNode>;
  items?: RuleNode;
  additionalProperties?: RuleNode;
  allOf: RuleNode[];
}

/** A schema's rules, compiled with the types of `declType` (the schema's own type when omitted). */
export function compileRules(schema: JSONSchemaProps, type: CelType | undefined): CompiledRule[] {
  const vars = new Map<string, CelType>();
  const optionalVars = new Map<string, CelType>();
  if (type) {
    vars.set('self', type).set('oldSelf', type);
    optionalVars.set('self', type).set('oldSelf', T.optional(type));
  }
  return (schema['x-kubernetes-validations'] ?? []).map((rule) => compileRule(rule as ValidationRule, rule.optionalOldSelf ? optionalVars : vars, schema));
}

function compileRule(rule: ValidationRule, vars: Map<string, CelType>, schema: JSONSchemaProps): CompiledRule {
  const out: CompiledRule = { rule, usesOldSelf: false };
  if (!rule.rule?.trim()) return out;
  const c = compile(rule.rule, vars);
  if (!c.program) {
    out.error = `compilation failed: ${c.issues}`;
    return out;
  }
  if (c.program.type.kind !== 'bool') {
    out.error = 'cel expression must evaluate to a bool';
    return out;
  }
  out.program = c.program;
  out.usesOldSelf = c.program.references('oldSelf');
  if (rule.messageExpression) {
    const m = compile(rule.messageExpression, vars);
    if (!m.program) out.messageError = `messageExpression compilation failed: ${m.issues}`;
    else if (m.program.type.kind !== 'string') out.messageError = 'messageExpression must evaluate to a string';
    else out.message = m.program;
  }
  if (rule.fieldPath) {
    const p = validFieldPath(rule.fieldPath, schema);
    if ('path' in p) out.fieldPath = p.path;
  }
  return out;
}

const bySchema = new WeakMap<JSONSchemaProps, RuleNode | null>();
/** By the schema's text too: a CRD re-read from storage (a status write) brings new objects of the same schema. */
const byText = new Map<string, RuleNode | null>();
const MAX_TEXTS = 256;

/** The rule tree of a version's schema (its root is a resource root), compiled once per schema. */
export function rulesOf(schema: JSONSchemaProps): RuleNode | undefined {
  let node = bySchema.get(schema);
  if (node === undefined) {
    const text = JSON.stringify(schema);
    node = byText.get(text);
    if (node === undefined) {
      node = build(schema, schema, true, schemaType(schema, true)) ?? null;
      if (byText.size >= MAX_TEXTS) byText.delete(byText.keys().next().value!);
      byText.set(text, node);
    }
    bySchema.set(schema, node);
  }
  return node ?? undefined;
}

function hasRules(s: JSONSchemaProps | undefined): boolean {
  if (!s) return false;
  if (s['x-kubernetes-validations']?.length) return true;
  if (hasRules(s.items)) return true;
  if (typeof s.additionalProperties === 'object' && hasRules(s.additionalProperties)) return true;
  if (Object.values(s.properties ?? {}).some(hasRules)) return true;
  return (s.allOf ?? []).some(hasRules);
}

/**
 * The node for `validation` (whose rules and children are compiled) at a
 * place whose values are described by `node` (allOf branches validate the
 * same values as their parent).
 */
function build(validation: JSONSchemaProps, node: JSONSchemaProps, isRoot: boolean, type: CelType | undefined): RuleNode | undefined {
  if (!hasRules(validation)) return undefined;
  const typeSchema = isRoot ? withTypeAndObjectMeta(node) : node;
  const out: RuleNode = { schema: node, rules: [], properties: new Map(), allOf: [] };
  if (validation['x-kubernetes-validations']?.length) {
    if (!type) out.typeError = 'failed to convert to declType for CEL validation rules';
    else out.rules = compileRules({ ...typeSchema, 'x-kubernetes-validations': validation['x-kubernetes-validations'] }, type);
  }
  const elem = type && (type.kind === 'list' || type.kind === 'map') ? (type.kind === 'list' ? type.elem : type.value) : undefined;
  if (validation.items && node.items) out.items = build(validation.items, node.items, !!node.items['x-kubernetes-embedded-resource'], elem);
  for (const [k, v] of Object.entries(validation.properties ?? {})) {
    const ps = node.properties?.[k];
    if (!ps) continue;
    const field = type?.kind === 'object' ? [...type.fields.values()].find((f) => f.schema === ps) : undefined;
    const ft = field?.type ?? schemaType(ps, !!ps['x-kubernetes-embedded-resource']);
    const child = ft && build(v, ps, !!ps['x-kubernetes-embedded-resource'], ft);
    if (child) out.properties.set(k, child);
  }
  const vap = validation.additionalProperties;
  const nap = node.additionalProperties;
  if (typeof vap === 'object' && typeof nap === 'object') out.additionalProperties = build(vap, nap, !!nap['x-kubernetes-embedded-resource'], elem);
  for (const sub of validation.allOf ?? []) {
    const child = build(sub, node, isRoot, type);
    if (child) out.allOf.push(child);
  }
  return out;
}
