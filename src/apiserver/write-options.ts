// The write options' checks (apimachinery's ValidateCreateOptions,
// ValidateUpdateOptions, ValidatePatchOptions): fieldManager at most 128
// bytes of printable characters and required for apply, force only for
// apply, dryRun only "All"; failures are one 422 naming the options kind,
// e.g. `PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be
// specified for non-apply patch`.
import { errors } from '../api/status.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';

export type WriteOptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

/** upstream's FieldManagerMaxLength. */
const fieldManagerMaxLength = 128;

/** Go's %#U of a rune that is not printable: U+0007. */
const codePoint = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

function fieldManagerErrors(manager: string): FieldError[] {
  const errs: FieldError[] = [];
  if (Buffer.byteLength(manager) > fieldManagerMaxLength) errs.push(fieldErrors.tooLong('fieldManager', fieldManagerMaxLength));
  let at = 0;
  for (const ch of manager) {
    // unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) errs.push(fieldErrors.invalid('fieldManager', manager, `invalid character ${codePoint(ch.codePointAt(0)!)} (at position ${at})`));
    at += Buffer.byteLength(ch);
  }
  return errs;
}

/** Throws the 422 of options that may not be used as given. `apply`: the patch is server-side apply. */
export function validateWriteOptions(kind: WriteOptionsKind, q: URLSearchParams, apply = false): void {
  const errs: FieldError[] = [];
  const manager = q.get('fieldManager') ?? '';
  if (kind === 'PatchOptions') {
    if (!apply && q.has('force')) errs.push(fieldErrors.forbidden('force', 'may not be specified for non-apply patch'));
    if (apply && !manager) errs.push(fieldErrors.required('fieldManager', 'is required for apply patch'));
  }
  errs.push(...fieldManagerErrors(manager));
  const dryRun = q.getAll('dryRun').filter((v) => v !== '');
  if (dryRun.some((v) => v !== 'All')) errs.push(fieldErrors.notSupported('dryRun', dryRun, ['All']));
  if (errs.length) throw errors.invalid(kind, 'meta.k8s.io', '', errs);
}
