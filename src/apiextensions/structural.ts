// Whether a CRD version's openAPIV3Schema is structural, with upstream's
// messages (pkg/apiserver/schema ValidateStructural and the v1 API
// validation of JSONSchemaProps): every specified field has a type, arrays
// have items, the logic junctors (allOf/anyOf/oneOf/not) only restrict
// values and never specify types or defaults, metadata at the root may only
// restrict name and generateName. Errors come sorted, as upstream sorts them.
import { errorString, fieldErrors, type FieldError } from '../api/field-errors.js';
import { isPlainObject } from '../api/object.js';
import type { JSONSchemaProps } from './types.js';
import { compilePattern, validateValue } from './value-validation.js';

type Level = 'root' | 'item' | 'field';

const emptyTypeDetail: Record<Level, string> = {
  root: 'must not be empty at the root',
  item: 'must not be empty for specified array items',
  field: 'must not be empty for specified object fields',
};

/** API-level checks of the schema (apiextensions validation): $ref, uniqueItems, properties with additionalProperties, list types, bad patterns, defaults. */
function validateSchemaProps(s: JSONSchemaProps, path: string, errs: FieldError[]): void {
  if (s.$ref !== undefined) errs.push(fieldErrors.forbidden(`${path}.$ref`, '$ref is not supported'));
  if (s.uniqueItems) errs.push(fieldErrors.forbidden(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (s.additionalProperties !== undefined && s.properties && Object.keys(s.properties).length) {
    if (s.additionalProperties === false || isPlainObject(s.additionalProperties)) {
      errs.push(fieldErrors.forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    }
  }
  const compiled = s.pattern === undefined ? undefined : compilePattern(s.pattern);
  if (typeof compiled === 'string') errs.push(fieldErrors.invalid(`${path}.pattern`, s.pattern, `must be a valid regular expression, but isn't: ${compiled}`));
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined && !['atomic', 'set', 'map'].includes(listType)) {
    errs.push(fieldErrors.notSupported(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
  }
  if (listType === 'map' && !s['x-kubernetes-list-map-keys']?.length) {
    errs.push(fieldErrors.required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
  }
  if (s.default !== undefined && s.type) {
    // A default must itself be valid by its schema; the errors are reported at the default, as upstream's.
    errs.push(...validateValue({ ...s, default: undefined }, s.default, `${path}.default`));
  }
}

function validateNode(s: JSONSchemaProps, level: Level, path: string, errs: FieldError[]): void {
  validateSchemaProps(s, path, errs);
  if (s.type === 'array' && !s.items) errs.push(fieldErrors.required(`${path}.items`, 'must be specified'));
  if (s.items) validateNode(s.items, 'item', `${path}.items`, errs);
  for (const [k, v] of Object.entries(s.properties ?? {})) validateNode(v, 'field', `${path}.properties[${k}]`, errs);
  if (isPlainObject(s.additionalProperties)) {
    if (level === 'root') errs.push(fieldErrors.forbidden(`${path}.additionalProperties`, 'must not be used at the root'));
    validateNode(s.additionalProperties, 'field', `${path}.additionalProperties`, errs);
  }
  const intOrString = !!s['x-kubernetes-int-or-string'];
  const preserve = !!s['x-kubernetes-preserve-unknown-fields'];
  const embedded = !!s['x-kubernetes-embedded-resource'];
  if (intOrString && preserve) {
    errs.push(fieldErrors.invalid(`${path}.x-kubernetes-preserve-unknown-fields`, true, 'must be false if x-kubernetes-int-or-string is true'));
  }
  if (intOrString && embedded) errs.push(fieldErrors.invalid(`${path}.x-kubernetes-embedded-resource`, true, 'must be false if x-kubernetes-int-or-string is true'));
  const skipAnyOf = intOrString && isIntOrStringAnyOf(s.anyOf);
  const skipFirstAllOf = intOrString && isIntOrStringAnyOf(s.allOf?.[0]?.anyOf);
  if (!skipAnyOf) s.anyOf?.forEach((n, i) => validateNested(n, false, level, `${path}.anyOf[${i}]`, errs));
  s.allOf?.forEach((n, i) => validateNested(n, skipFirstAllOf && i === 0, level, `${path}.allOf[${i}]`, errs));
  s.oneOf?.forEach((n, i) => validateNested(n, false, level, `${path}.oneOf[${i}]`, errs));
  if (s.not) validateNested(s.not, false, level, `${path}.not`, errs);

  if (embedded && s.type !== 'object') {
    if (!s.type) errs.push(fieldErrors.required(`${path}.type`, 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(fieldErrors.invalid(`${path}.type`, s.type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!s.type && !intOrString && !preserve) {
    errs.push(fieldErrors.required(`${path}.type`, emptyTypeDetail[level]));
  }
  if (embedded && s.additionalProperties !== undefined) {
    errs.push(fieldErrors.forbidden(`${path}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'));
  }
  if (level === 'root' && s.type && s.type !== 'object') errs.push(fieldErrors.invalid(`${path}.type`, s.type, 'must be object at the root'));
  const checkMetadata = level === 'root' || embedded;
  const props = s.properties ?? {};
  if (checkMetadata && props.kind && props.kind.type !== 'string') {
    errs.push(fieldErrors.invalid(`${path}.properties[kind].type`, props.kind.type ?? '', 'must be string'));
  }
  if (checkMetadata && props.apiVersion && props.apiVersion.type !== 'string') {
    errs.push(fieldErrors.invalid(`${path}.properties[apiVersion].type`, props.apiVersion.type ?? '', 'must be string'));
  }
  if (checkMetadata && props.metadata && props.metadata.type !== 'object') {
    errs.push(fieldErrors.invalid(`${path}.properties[metadata].type`, props.metadata.type ?? '', 'must be object'));
  }
  if (level === 'root' && props.metadata) {
    const { type: _type, properties, ...rest } = props.metadata;
    const extra = Object.keys(properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName');
    const others = Object.keys(rest).filter((k) => k !== 'default' && k !== 'description');
    if (extra.length || others.length) {
      errs.push(
        fieldErrors.forbidden(`${path}.properties[metadata]`, 'must not specify anything other than name and generateName, but metadata is implicitly specified'),
      );
    }
  }
  if (embedded && !preserve && !Object.keys(props).length) {
    errs.push(fieldErrors.required(`${path}.properties`, 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
}

function isIntOrStringAnyOf(anyOf: JSONSchemaProps[] | undefined): boolean {
  return anyOf?.length === 2 && anyOf[0].type === 'integer' && anyOf[1].type === 'string' && Object.keys(anyOf[0]).length === 1 && Object.keys(anyOf[1]).length === 1;
}

/** A schema under allOf/anyOf/oneOf/not: may restrict values, may not specify types, defaults or extensions. */
function validateNested(s: JSONSchemaProps, skipAnyOf: boolean, level: Level, path: string, errs: FieldError[]): void {
  validateSchemaProps(s, path, errs);
  if (!skipAnyOf) s.anyOf?.forEach((n, i) => validateNested(n, false, level, `${path}.anyOf[${i}]`, errs));
  s.allOf?.forEach((n, i) => validateNested(n, false, level, `${path}.allOf[${i}]`, errs));
  s.oneOf?.forEach((n, i) => validateNested(n, false, level, `${path}.oneOf[${i}]`, errs));
  if (s.not) validateNested(s.not, false, level, `${path}.not`, errs);
  if (s.items) validateNested(s.items, false, level, `${path}.items`, errs);
  for (const [k, v] of Object.entries(s.properties ?? {})) validateNested(v, false, 'field', `${path}.properties[${k}]`, errs);
  if (s.type) errs.push(fieldErrors.forbidden(`${path}.type`, 'must be empty to be structural'));
  if (s.additionalProperties !== undefined) errs.push(fieldErrors.forbidden(`${path}.additionalProperties`, 'must be undefined to be structural'));
  if (s.default !== undefined) errs.push(fieldErrors.forbidden(`${path}.default`, 'must be undefined to be structural'));
  if (s.title) errs.push(fieldErrors.forbidden(`${path}.title`, 'must be empty to be structural'));
  if (s.description) errs.push(fieldErrors.forbidden(`${path}.description`, 'must be empty to be structural'));
  if (s.nullable) errs.push(fieldErrors.forbidden(`${path}.nullable`, 'must be false to be structural'));
  if (s['x-kubernetes-preserve-unknown-fields']) errs.push(fieldErrors.forbidden(`${path}.x-kubernetes-preserve-unknown-fields`, 'must be false to be structural'));
  if (s['x-kubernetes-embedded-resource']) errs.push(fieldErrors.forbidden(`${path}.x-kubernetes-embedded-resource`, 'must be false to be structural'));
  if (s['x-kubernetes-int-or-string']) errs.push(fieldErrors.forbidden(`${path}.x-kubernetes-int-or-string`, 'must be false to be structural'));
  if (s['x-kubernetes-list-map-keys']?.length) errs.push(fieldErrors.forbidden(`${path}.x-kubernetes-list-map-keys`, 'must be empty to be structural'));
  if (s['x-kubernetes-list-type'] !== undefined) errs.push(fieldErrors.forbidden(`${path}.x-kubernetes-list-type`, 'must be undefined to be structural'));
  if (s.properties?.metadata) errs.push(fieldErrors.forbidden(`${path}.properties[metadata]`, 'must not be specified in a nested context'));
}

/** The errors of a version's openAPIV3Schema at `path` (spec.versions[i].schema.openAPIV3Schema), sorted as upstream sorts them. */
export function validateStructuralSchema(schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  validateNode(schema, 'root', path, errs);
  return errs.sort((a, b) => (errorString(a) < errorString(b) ? -1 : errorString(a) > errorString(b) ? 1 : 0));
}
