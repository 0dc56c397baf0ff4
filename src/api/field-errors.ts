// Field errors as apimachinery's util/validation/field renders them:
// "<path>: <Type string>[: <value>][: <detail>]".
import { goQuote } from './json.js';

export type FieldErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** Absent when the type never prints a value (Required, Forbidden, TooLong, Internal). */
  value?: unknown;
  hasValue: boolean;
  detail: string;
}

const typeStrings: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
};

/** A Go-flavoured value rendering: ints and bools bare, strings quoted, nil as null, arrays as []string{...}. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const elem = value.every((v) => typeof v === 'string') ? 'string' : value.every((v) => typeof v === 'number') ? 'int' : 'interface {}';
    return `[]${elem}{${value.map((v) => formatValue(v)).join(', ')}}`;
  }
  if (value instanceof GoLiteral) return value.text;
  return JSON.stringify(value);
}

/** A value that is already rendered the way Go's %#v would print it (e.g. a struct literal). */
export class GoLiteral {
  constructor(readonly text: string) {}
}

export function errorBody(e: FieldError): string {
  let s = typeStrings[e.type];
  if (e.type === 'FieldValueTooMany') {
    // "Too many: 1001: must have at most 1000 items"
    if (e.hasValue) s += `: ${formatValue(e.value)}`;
  } else if (e.hasValue) {
    s += `: ${formatValue(e.value)}`;
  }
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function errorString(e: FieldError): string {
  return `${e.field}: ${errorBody(e)}`;
}

export const fieldErrors = {
  required: (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, hasValue: false, detail }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, hasValue: true, detail }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value, hasValue: true, detail: '' }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, hasValue: false, detail }),
  notFound: (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, value, hasValue: true, detail: '' }),
  notSupported: (field: string, value: unknown, supported: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    hasValue: true,
    detail: supported.length ? `supported values: ${[...supported].sort().map((v) => JSON.stringify(v)).join(', ')}` : '',
  }),
  /** field.TooLong (v1.32): the value itself is never shown; a negative max says only that it is too long. */
  tooLong: (field: string, max: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    hasValue: false,
    detail: max >= 0 ? `may not be more than ${max} bytes` : 'value is too long',
  }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field,
    value: actual,
    hasValue: true,
    detail: `must have at most ${max} items`,
  }),
  internal: (field: string, detail: string): FieldError => ({ type: 'InternalError', field, hasValue: false, detail }),
};

/** Builds dotted/indexed field paths the way field.NewPath(...).Child(...).Index(...) does. */
export function path(...parts: (string | number)[]): string {
  let s = '';
  for (const p of parts) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (p.startsWith('[')) s += p;
    else s += s ? `.${p}` : p;
  }
  return s;
}

/** fieldPath[key] for map entries, e.g. metadata.annotations[foo]. */
export function key(field: string, k: string): string {
  return `${field}[${k}]`;
}
