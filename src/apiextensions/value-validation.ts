// Validation of a custom object against its version's structural schema, as
// kube-openapi's validator does for upstream and apiextensions turns its
// results into field errors: the type first (a wrong type stops the checks
// of that value), then enum, string/number/array limits, format, required
// and the nested schemas. Messages are go-openapi's
// ("spec.replicas in body must be of type integer: \"string\""), wrapped as
// upstream's field errors. The x-kubernetes-validations (CEL rules) run
// after them (cel/validator.ts) unless an error already blocks them.
import { deepEqual, isPlainObject } from '../api/object.js';
import { fieldErrors, GoLiteral, type FieldError } from '../api/field-errors.js';
import type { JSONSchemaProps } from './types.js';
import { checkFormat } from './formats.js';
import { validateRules } from './cel/validator.js';

/** go-openapi's names of JSON value types, as its "must be of type" errors print them. */
export function jsonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return 'object';
}

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

/** Go's %v of a JSON number in the limits' messages: integers bare, others as Go prints a float64. */
function goNumber(n: number): string {
  return String(n);
}

/** What a "must be of type" error shows after the colon: go-openapi's %q of the actual type's name. */
function quotedValue(value: unknown): string {
  return JSON.stringify(jsonTypeName(value));
}

/** Go's %#v of an unstructured value, as the Invalid errors of custom objects print lists and maps. */
function goValue(value: unknown): unknown {
  const literal = (v: unknown): string => {
    if (Array.isArray(v)) return `[]interface {}{${v.map(literal).join(', ')}}`;
    if (isPlainObject(v)) {
      const entries = Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${literal(v[k])}`);
      return `map[string]interface {}{${entries.join(', ')}}`;
    }
    if (typeof v === 'number' && !Number.isInteger(v)) return String(v);
    return v === null || v === undefined ? 'interface {}(nil)' : typeof v === 'string' ? JSON.stringify(v) : String(v);
  };
  return Array.isArray(value) || isPlainObject(value) ? new GoLiteral(literal(value)) : value;
}

function child(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function unsupported(path: string, value: unknown, allowed: unknown[]): FieldError {
  // Upstream lists the enum in its declared order, each value quoted.
  const values = allowed.map((v) => JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v)));
  return { type: 'FieldValueNotSupported', field: path, value, hasValue: true, detail: `supported values: ${values.join(', ')}` };
}

/**
 * The errors of `value` at `path` (e.g. "spec.replicas"). The root of a
 * resource is validated with its apiVersion, kind and metadata left out, as
 * upstream strips them from the validation schema.
 */
export function validateValue(schema: JSONSchemaProps | undefined, value: unknown, path: string): FieldError[] {
  if (!schema) return [];
  const errs: FieldError[] = [];
  const where = path || '<root>';
  if (value === null) {
    if (schema.nullable || !schema.type) return [];
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))) {
      errs.push(fieldErrors.invalid(path, jsonTypeName(value), `${where} in body must be of type integer,string: ${quotedValue(value)}`));
      return errs;
    }
  } else if (schema.type && !typeMatches(schema.type, value)) {
    errs.push(fieldErrors.invalid(path, jsonTypeName(value), `${where} in body must be of type ${schema.type}: ${quotedValue(value)}`));
    return errs;
  }
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) errs.push(unsupported(path, value, schema.enum));

  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      errs.push(fieldErrors.tooLong(path, schema.maxLength));
    }
    if (schema.minLength !== undefined && length < schema.minLength) {
      errs.push(fieldErrors.invalid(path, value, `${where} in body should be at least ${schema.minLength} chars long`));
    }
    if (schema.pattern !== undefined && !patternOf(schema.pattern)?.test(value)) {
      errs.push(fieldErrors.invalid(path, value, `${where} in body should match '${schema.pattern}'`));
    }
    if (schema.format && !checkFormat(schema.format, value)) {
      errs.push(fieldErrors.invalid(path, value, `${where} in body must be of type ${schema.format}: ${JSON.stringify(value)}`));
    }
  }
  if (typeof value === 'number') {
    if (schema.multipleOf !== undefined && schema.multipleOf !== 0 && !Number.isInteger(value / schema.multipleOf)) {
      errs.push(fieldErrors.invalid(path, value, `${where} in body should be a multiple of ${goNumber(schema.multipleOf)}`));
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      const how = schema.exclusiveMaximum ? 'less than' : 'less than or equal to';
      errs.push(fieldErrors.invalid(path, value, `${where} in body should be ${how} ${goNumber(schema.maximum)}`));
    }
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      const how = schema.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
      errs.push(fieldErrors.invalid(path, value, `${where} in body should be ${how} ${goNumber(schema.minimum)}`));
    }
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push(fieldErrors.tooMany(path, value.length, schema.maxItems));
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      errs.push(fieldErrors.invalid(path, goValue(value), `${where} in body should have at least ${schema.minItems} items`));
    }
    value.forEach((item, i) => errs.push(...validateValue(schema.items, item, `${path}[${i}]`)));
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) errs.push(fieldErrors.tooMany(path, keys.length, schema.maxProperties));
    if (schema.minProperties !== undefined && keys.length < schema.minProperties) {
      errs.push(fieldErrors.invalid(path, keys.length, `${where} in body should have at least ${schema.minProperties} properties`));
    }
    for (const name of schema.required ?? []) {
      if (!(name in value)) errs.push(fieldErrors.required(child(path, name)));
    }
    if (schema['x-kubernetes-embedded-resource']) errs.push(...validateEmbedded(value, path));
    for (const [key, v] of Object.entries(value)) {
      const prop = schema.properties?.[key];
      if (prop) errs.push(...validateValue(prop, v, child(path, key)));
      else if (isPlainObject(schema.additionalProperties)) errs.push(...validateValue(schema.additionalProperties, v, child(path, key)));
    }
  }
  for (const sub of schema.allOf ?? []) errs.push(...validateValue(sub, value, path));
  if (schema.anyOf?.length && !schema.anyOf.some((s) => validateValue(s, value, path).length === 0)) {
    errs.push(fieldErrors.invalid(path, goValue(value), `${where} in body must validate at least one schema (anyOf)`));
  }
  if (schema.oneOf?.length && schema.oneOf.filter((s) => validateValue(s, value, path).length === 0).length !== 1) {
    errs.push(fieldErrors.invalid(path, goValue(value), `${where} in body must validate one and only one schema (oneOf)`));
  }
  if (schema.not && validateValue(schema.not, value, path).length === 0) {
    errs.push(fieldErrors.invalid(path, goValue(value), `${where} in body should not validate the schema (not)`));
  }
  return errs;
}

/**
 * The schema's errors (`errs`, from validateValue) followed by the errors of
 * its x-kubernetes-validations rules, evaluated against the whole object
 * (`old` on update) unless an error of a blocking kind (unsupported value,
 * required, too long, too many, wrong type) means they were not checked, as
 * upstream's custom resource strategy does.
 */
export function withRuleErrors(errs: FieldError[], schema: JSONSchemaProps | undefined, obj: unknown, old?: unknown): FieldError[] {
  const blocking = errs.some(
    (e) =>
      ['FieldValueNotSupported', 'FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany'].includes(e.type) ||
      (e.type === 'FieldValueInvalid' && e.detail.includes(' in body must be of type ')),
  );
  if (!blocking) return [...errs, ...validateRules(schema, obj, old)];
  if (!schema || !hasRules(schema)) return errs;
  // Go prints the nil value of this error as "null", quoted.
  return [...errs, fieldErrors.invalid('<nil>', 'null', 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation')];
}

function hasRules(s: JSONSchemaProps): boolean {
  if (s['x-kubernetes-validations']?.length) return true;
  const children = [s.items, typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined, ...Object.values(s.properties ?? {}), ...(s.allOf ?? [])];
  return children.some((c) => c !== undefined && hasRules(c));
}

/** An embedded object (x-kubernetes-embedded-resource) must name its apiVersion and kind, as upstream's objectmeta validation requires. */
function validateEmbedded(value: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['apiVersion', 'kind']) {
    if (typeof value[key] !== 'string' || !value[key]) errs.push(fieldErrors.required(child(path, key), 'must not be empty'));
  }
  return errs;
}

const patterns = new Map<string, RegExp | string>();

/**
 * A schema pattern compiled, or why it does not compile. Upstream's are Go
 * (RE2) regexes; most compile as ECMAScript ones with the u flag, and those
 * that need legacy escapes (`\_`) without it.
 */
export function compilePattern(pattern: string): RegExp | string {
  let compiled = patterns.get(pattern);
  if (compiled === undefined) {
    try {
      compiled = new RegExp(pattern, 'u');
    } catch {
      try {
        compiled = new RegExp(pattern);
      } catch (e) {
        compiled = (e as Error).message;
      }
    }
    patterns.set(pattern, compiled);
  }
  return compiled;
}

function patternOf(pattern: string): RegExp | undefined {
  const compiled = compilePattern(pattern);
  return typeof compiled === 'string' ? undefined : compiled;
}
