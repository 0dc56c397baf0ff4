// CertificateSigningRequest validation (pkg/apis/certificates/validation, as of
// v1.32): the request must be a signed PKCS#10 PEM block, usages known and
// unique, signerName a qualified `domain/path`, expirationSeconds at least
// 600, conditions well-formed, status.certificate PEM certificates; updates
// may not remove Approved/Denied/Failed conditions, and only the approval
// subresource may add or change Approved/Denied, only status may set the
// certificate (once). The tolerances for data stored before a rule existed
// are kept (getValidationOptions).
import { X509Certificate } from 'node:crypto';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { deepEqual } from '../../api/object.js';
import { fieldErrors, GoLiteral, type FieldError } from '../../api/field-errors.js';
import { CertificateRequestError, parseCertificateRequest } from '../../apiserver/pki/pkcs10.js';
import { DNS1123LabelMaxLength, DNS1123SubdomainMaxLength, isDNS1123Label, isDNS1123Subdomain } from '../validation/names.js';
import { conditionTypes } from './conditions.js';

type CSR = CertificateSigningRequest;

export const legacyUnknownSignerName = 'kubernetes.io/legacy-unknown';

export const allValidUsages = [
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
];

const trueConditionTypes = [conditionTypes.approved, conditionTypes.denied, conditionTypes.failed] as string[];

interface Options {
  allowSettingApprovalConditions: boolean;
  allowSettingCertificate: boolean;
  allowBothApprovedAndDenied: boolean;
  allowLegacySignerName: boolean;
  allowDuplicateConditionTypes: boolean;
  allowEmptyConditionType: boolean;
  allowArbitraryCertificate: boolean;
  allowUnknownUsages: boolean;
  allowDuplicateUsages: boolean;
}

/** Go's %#v of a []byte. */
function goBytes(b: Buffer): GoLiteral {
  return new GoLiteral(`[]byte{${[...b].map((x) => `0x${x.toString(16)}`).join(', ')}}`);
}

const bytesOf = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64');

/** validateCSR: parse and signature check; the error text, or undefined. */
function requestError(csr: CSR): string | undefined {
  try {
    parseCertificateRequest(bytesOf(csr.spec?.request)).checkSignature();
    return undefined;
  } catch (e) {
    return e instanceof CertificateRequestError ? e.message : (e as Error).message;
  }
}

/** validateCertificate: every PEM block a CERTIFICATE without headers holding a certificate, at least one. */
function certificateError(b64: string | undefined): string | undefined {
  const data = bytesOf(b64).toString('latin1');
  if (!data) return undefined;
  const blocks = [...data.matchAll(/-----BEGIN ([^-\r\n]*)-----\r?\n([\s\S]*?)-----END \1-----/g)];
  if (!blocks.length) return 'must contain at least one CERTIFICATE PEM block';
  for (const [, type, body] of blocks) {
    if (type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(type)}`;
    if (/^[^\s:]+:/m.test(body!)) return 'no PEM block headers are permitted';
    try {
      new X509Certificate(Buffer.from(body!.replace(/\s+/g, ''), 'base64'));
    } catch {
      return 'x509: malformed certificate';
    }
  }
  return undefined;
}

/** ValidateCertificateSigningRequestSignerName. */
export function validateSignerName(field: string, signerName: string | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (!signerName) return [fieldErrors.required(field, 'signerName must be provided')];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [fieldErrors.invalid(field, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, path] = segments as [string, string];
  if (domain.length > DNS1123SubdomainMaxLength) errs.push(fieldErrors.tooLong(field, DNS1123SubdomainMaxLength));
  const domainLabels = domain.split('.');
  for (const label of domainLabels) {
    const labelErrs = isDNS1123Label(label);
    if (labelErrs.length) {
      for (const e of labelErrs) errs.push(fieldErrors.invalid(field, domain, `validating label ${JSON.stringify(label)}: ${e}`));
      break;
    }
  }
  if (domainLabels.length < 2) errs.push(fieldErrors.invalid(field, domain, 'should be a domain with at least two segments separated by dots'));
  for (const label of path.split('.')) {
    const labelErrs = isDNS1123Subdomain(label);
    if (labelErrs.length) {
      for (const e of labelErrs) errs.push(fieldErrors.invalid(field, path, `validating label ${JSON.stringify(label)}: ${e}`));
      break;
    }
  }
  const maxSignerNameLength = DNS1123SubdomainMaxLength + (DNS1123SubdomainMaxLength + DNS1123LabelMaxLength + 1) + 1;
  if (signerName.length > maxSignerNameLength) errs.push(fieldErrors.tooLong(field, maxSignerNameLength));
  return errs;
}

function validate(csr: CSR, opts: Options): FieldError[] {
  const errs: FieldError[] = [];
  const spec = csr.spec ?? ({} as CSR['spec']);
  const reqErr = requestError(csr);
  if (reqErr) errs.push(fieldErrors.invalid('spec.request', goBytes(bytesOf(spec.request)), reqErr));
  const usages = spec.usages ?? [];
  if (!usages.length) errs.push(fieldErrors.required('spec.usages', 'usages must be provided'));
  if (!opts.allowUnknownUsages) {
    usages.forEach((u, i) => {
      if (!allValidUsages.includes(u)) errs.push(fieldErrors.notSupported(`spec.usages[${i}]`, u, allValidUsages));
    });
  }
  if (!opts.allowDuplicateUsages) {
    const seen = new Set<string>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errs.push(fieldErrors.duplicate(`spec.usages[${i}]`, u));
      seen.add(u);
    });
  }
  if (!opts.allowLegacySignerName && spec.signerName === legacyUnknownSignerName) {
    errs.push(fieldErrors.invalid('spec.signerName', spec.signerName, 'the legacy signerName is not allowed via this API version'));
  } else {
    errs.push(...validateSignerName('spec.signerName', spec.signerName));
  }
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null && spec.expirationSeconds < 600) {
    errs.push(fieldErrors.invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr, opts));
  if (!opts.allowArbitraryCertificate) {
    const certErr = certificateError(csr.status?.certificate);
    if (certErr) errs.push(fieldErrors.invalid('status.certificate', '<certificate data>', certErr));
  }
  return errs;
}

function validateConditions(csr: CSR, opts: Options): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let hasApproved = false;
  let hasDenied = false;
  (csr.status?.conditions ?? []).forEach((c, i) => {
    const at = `status.conditions[${i}]`;
    if (!opts.allowEmptyConditionType && !c.type) errs.push(fieldErrors.required(`${at}.type`));
    const allowed = trueConditionTypes.includes(c.type) ? ['True'] : ['False', 'True', 'Unknown'];
    if (!c.status) errs.push(fieldErrors.required(`${at}.status`));
    else if (!allowed.includes(c.status)) errs.push(fieldErrors.notSupported(`${at}.status`, c.status, allowed));
    if (!opts.allowBothApprovedAndDenied) {
      if (c.type === conditionTypes.approved) {
        hasApproved = true;
        if (hasDenied) errs.push(fieldErrors.invalid(`${at}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (c.type === conditionTypes.denied) {
        hasDenied = true;
        if (hasApproved) errs.push(fieldErrors.invalid(`${at}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!opts.allowDuplicateConditionTypes) {
      if (seen.has(c.type)) errs.push(fieldErrors.duplicate(`${at}.type`, c.type));
      seen.add(c.type);
    }
  });
  return errs;
}

const conditionsOf = (csr: CSR, type: string) => (csr.status?.conditions ?? []).filter((c) => c.type === type);

/** getValidationOptions: what existing data is tolerated; the subresource capabilities are off. */
function options(next: CSR, old: CSR | undefined): Options {
  const oldTypes = (old?.status?.conditions ?? []).map((c) => c.type);
  const oldUsages = old?.spec?.usages ?? [];
  return {
    allowSettingApprovalConditions: false,
    allowSettingCertificate: false,
    allowBothApprovedAndDenied: !!old && oldTypes.includes(conditionTypes.approved) && oldTypes.includes(conditionTypes.denied),
    allowLegacySignerName: !!old && old.spec?.signerName === legacyUnknownSignerName,
    allowDuplicateConditionTypes: !!old && new Set(oldTypes).size !== oldTypes.length,
    allowEmptyConditionType: !!old && oldTypes.includes(''),
    allowArbitraryCertificate: !!old && ((next.status?.certificate ?? '') === (old.status?.certificate ?? '') || certificateError(old.status?.certificate) !== undefined),
    allowUnknownUsages: !!old && oldUsages.some((u) => !allValidUsages.includes(u)),
    allowDuplicateUsages: !!old && new Set(oldUsages).size !== oldUsages.length,
  };
}

export function validateCreate(csr: CSR): FieldError[] {
  return validate(csr, options(csr, undefined));
}

function validateUpdateWith(next: CSR, old: CSR, opts: Options): FieldError[] {
  const errs = validate(next, opts);
  for (const t of [conditionTypes.approved, conditionTypes.denied, conditionTypes.failed]) {
    if (conditionsOf(next, t).length < conditionsOf(old, t).length) errs.push(fieldErrors.forbidden('status.conditions', `updates may not remove a condition of type ${JSON.stringify(t)}`));
  }
  if (!opts.allowSettingApprovalConditions) {
    for (const t of [conditionTypes.approved, conditionTypes.denied]) {
      const before = conditionsOf(old, t);
      const after = conditionsOf(next, t);
      if (after.length > before.length) errs.push(fieldErrors.forbidden('status.conditions', `updates may not add a condition of type ${JSON.stringify(t)}`));
      else if (after.length === before.length && !deepEqual(before, after)) {
        errs.push(fieldErrors.forbidden('status.conditions', `updates may not modify a condition of type ${JSON.stringify(t)}`));
      }
    }
  }
  if ((next.status?.certificate ?? '') !== (old.status?.certificate ?? '')) {
    if (!opts.allowSettingCertificate) errs.push(fieldErrors.forbidden('status.certificate', 'updates may not set certificate content'));
    else if (old.status?.certificate) errs.push(fieldErrors.forbidden('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errs;
}

export const validateUpdate = (next: CSR, old: CSR) => validateUpdateWith(next, old, options(next, old));
export const validateStatusUpdate = (next: CSR, old: CSR) => validateUpdateWith(next, old, { ...options(next, old), allowSettingCertificate: true });
export const validateApprovalUpdate = (next: CSR, old: CSR) => validateUpdateWith(next, old, { ...options(next, old), allowSettingApprovalConditions: true });
