// Secret validation after upstream's pkg/apis/core/validation ValidateSecret
// and ValidateSecretUpdate: data keys are config keys, 1 MiB of values in
// total, and each well-known type requires the keys its consumers read.
// ObjectMeta and the name (a DNS-1123 subdomain) are validated by the registry.
import type * as core from 'kubernetes-types/core/v1.js';
import { fieldErrors, key, type FieldError } from '../../api/field-errors.js';
import { deepEqual } from '../../api/object.js';
import { jsonKind, parseJson } from '../../api/json.js';
import type { DeepMutable } from '../../api/types.js';
import { isConfigMapKey } from '../validation/names.js';
import { fieldImmutableErrorMsg } from '../validation/object-meta.js';
import { maxConfigMapSize } from '../workloads/validation.js';

export type Secret = DeepMutable<core.Secret>;

/** core.SecretType* and the keys they require (pkg/apis/core/types.go). */
export const secretTypes = {
  opaque: 'Opaque',
  serviceAccountToken: 'kubernetes.io/service-account-token',
  dockercfg: 'kubernetes.io/dockercfg',
  dockerConfigJson: 'kubernetes.io/dockerconfigjson',
  basicAuth: 'kubernetes.io/basic-auth',
  sshAuth: 'kubernetes.io/ssh-auth',
  tls: 'kubernetes.io/tls',
} as const;

export const serviceAccountNameKey = 'kubernetes.io/service-account.name';
export const tlsCertKey = 'tls.crt';
export const tlsPrivateKeyKey = 'tls.key';

/** The bytes of a data value (stored base64, as the JSON form of []byte). */
export function secretBytes(secret: Secret, k: string): Buffer | undefined {
  const v = secret.data?.[k];
  return v === undefined ? undefined : Buffer.from(v, 'base64');
}

/** json.Unmarshal(b, &map[string]interface{}{}): its error, or undefined. */
function unmarshalMapError(b: Buffer): string | undefined {
  let value: unknown;
  try {
    value = parseJson(b.toString('utf8')).value;
  } catch (e) {
    return (e as Error).message;
  }
  if (value === null || jsonKind(value) === 'object') return undefined;
  return `json: cannot unmarshal ${jsonKind(value)} into Go value of type map[string]interface {}`;
}

/** A docker config key: present, and a JSON object. */
function validateDockerConfig(secret: Secret, dataKey: string): FieldError[] {
  const b = secretBytes(secret, dataKey);
  if (b === undefined) return [fieldErrors.required(key('data', dataKey))];
  const why = unmarshalMapError(b);
  return why === undefined ? [] : [fieldErrors.invalid(key('data', dataKey), '<secret contents redacted>', why)];
}

/** What a secret of each known type must carry; unknown types (and Opaque) carry anything. */
function validateSecretType(secret: Secret): FieldError[] {
  const has = (k: string) => secret.data !== undefined && Object.hasOwn(secret.data, k);
  switch (secret.type) {
    case secretTypes.serviceAccountToken:
      // The name only: the uid and the token are filled in later by a controller.
      return secret.metadata?.annotations?.[serviceAccountNameKey] ? [] : [fieldErrors.required(key('metadata.annotations', serviceAccountNameKey))];
    case secretTypes.dockercfg:
      return validateDockerConfig(secret, '.dockercfg');
    case secretTypes.dockerConfigJson:
      return validateDockerConfig(secret, '.dockerconfigjson');
    case secretTypes.basicAuth:
      // Either may be empty, but one of the two must be there.
      return has('username') || has('password') ? [] : [fieldErrors.required(key('data', 'username')), fieldErrors.required(key('data', 'password'))];
    case secretTypes.sshAuth:
      return secretBytes(secret, 'ssh-privatekey')?.length ? [] : [fieldErrors.required(key('data', 'ssh-privatekey'))];
    case secretTypes.tls:
      return [tlsCertKey, tlsPrivateKeyKey].filter((k) => !has(k)).map((k) => fieldErrors.required(key('data', k)));
    default:
      return [];
  }
}

/** ValidateSecret (without ObjectMeta). */
export function validateSecret(secret: Secret): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const k of Object.keys(secret.data ?? {})) {
    errs.push(...isConfigMapKey(k).map((msg) => fieldErrors.invalid(key('data', k), k, msg)));
    total += secretBytes(secret, k)!.length;
  }
  // core.MaxSecretSize, the cap ConfigMaps share.
  if (total > maxConfigMapSize) errs.push(fieldErrors.tooLong('data', maxConfigMapSize));
  return [...errs, ...validateSecretType(secret)];
}

/** ValidateSecretUpdate (without ObjectMeta): the type never changes; an immutable secret keeps its data and its immutability. */
export function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errs: FieldError[] = [];
  if ((secret.type ?? '') !== (old.type ?? '')) errs.push(fieldErrors.invalid('type', secret.type ?? '', fieldImmutableErrorMsg));
  if (old.immutable) {
    if (!secret.immutable) errs.push(fieldErrors.forbidden('immutable', 'field is immutable when `immutable` is set'));
    // stringData needs no check: it was merged into data before validation.
    if (!deepEqual(secret.data ?? {}, old.data ?? {})) errs.push(fieldErrors.forbidden('data', 'field is immutable when `immutable` is set'));
  }
  return [...errs, ...validateSecret(secret)];
}
