// The fieldValidation of the request being served, for custom resources:
// their unknown fields are found by pruning with the CRD's schema, which
// happens in the strategy (after decoding), so the server hands the
// request's directive down through the async context.
import { AsyncLocalStorage } from 'node:async_hooks';

export type FieldValidationDirective = 'Strict' | 'Warn' | 'Ignore';

const current = new AsyncLocalStorage<FieldValidationDirective>();

/** Runs `serve` with the request's fieldValidation (query value; Warn when unset, as upstream's default). */
export function withFieldValidation<T>(query: string | null, serve: () => T): T {
  const directive: FieldValidationDirective = query === 'Strict' || query === 'Ignore' ? query : 'Warn';
  return current.run(directive, serve);
}

/** The directive of the request in progress; Warn outside of one (internal writes). */
export function fieldValidationDirective(): FieldValidationDirective {
  return current.getStore() ?? 'Warn';
}
