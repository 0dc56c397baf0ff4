// Values encrypted at rest as kube-apiserver's aesgcm provider stores them:
//
//   k8s:enc:aesgcm:v1:<key name>:<nonce (12 bytes)><ciphertext><GCM tag (16 bytes)>
//
// with a random nonce per write and the storage key (/registry/secrets/ns/name)
// as additional authenticated data, so a value moved to another key does not
// decrypt. kube-apiserver stores the part after the key name as raw bytes;
// kubesvc's store holds text (SQLite TEXT columns), so that part is base64
// (standard alphabet, padded): the same bytes, one encoding step apart.
//
// Reading picks the provider by the value's prefix: an aesgcm value by its key
// name among all aesgcm keys configured for the resource (so a key list whose
// first, writing key is new still reads values written with the older ones);
// a value without the k8s:enc: prefix (stored before encryption was turned on)
// is read as it is when the resource lists the identity provider.
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import type { AesGcmKey, EncryptionConfig, ResourceEncryption } from './encryption-config.js';

export const encryptedPrefix = 'k8s:enc:';
export const aesgcmPrefix = `${encryptedPrefix}aesgcm:v1:`;
const nonceBytes = 12;
const tagBytes = 16;

/** A stored value that cannot be read with the configuration: unknown key, wrong key, or changed bytes. */
export class DecryptionError extends Error {}

export interface ValueTransformer {
  /** The value as stored under `key`. */
  toStorage(key: string, value: string): string;
  /** The value stored under `key` as it was written; DecryptionError when it cannot be read. */
  fromStorage(key: string, stored: string): string;
  /**
   * A value stored under `from` as it must be stored under `to` (the key
   * moved): an aesgcm value is sealed again, with the same key, for its new
   * key (the storage key is its additional authenticated data); other values
   * are unchanged. DecryptionError when it cannot be opened.
   */
  moveKey(from: string, to: string, stored: string): string;
}

const cipherName = (secret: Buffer) => `aes-${secret.length * 8}-gcm` as CipherGCMTypes;

function seal(key: AesGcmKey, storageKey: string, value: string): string {
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv(cipherName(key.secret), key.secret, nonce);
  cipher.setAAD(Buffer.from(storageKey));
  const sealed = Buffer.concat([nonce, cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${aesgcmPrefix}${key.name}:${sealed.toString('base64')}`;
}

function open(key: AesGcmKey, storageKey: string, body: string): string {
  const sealed = Buffer.from(body, 'base64');
  const where = `${storageKey} (aesgcm key "${key.name}")`;
  if (sealed.length < nonceBytes + tagBytes || sealed.toString('base64') !== body) {
    throw new DecryptionError(`cannot decrypt ${where}: the stored value is malformed`);
  }
  const decipher = createDecipheriv(cipherName(key.secret), key.secret, sealed.subarray(0, nonceBytes));
  decipher.setAAD(Buffer.from(storageKey));
  decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(nonceBytes, sealed.length - tagBytes)), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError(`cannot decrypt ${where}: message authentication failed (the value was altered, or the key is not the one it was written with)`);
  }
}

export function createTransformer(config: EncryptionConfig): ValueTransformer {
  const entryFor = (key: string): ResourceEncryption | undefined => config.resources.find((r) => r.prefixes.some((p) => key.startsWith(p)));
  const aesKeys = (entry: ResourceEncryption) => entry.providers.flatMap((p) => (p.type === 'aesgcm' ? p.keys : []));

  return {
    toStorage(key, value) {
      const writer = entryFor(key)?.providers[0];
      return writer?.type === 'aesgcm' ? seal(writer.keys[0]!, key, value) : value;
    },
    fromStorage(key, stored) {
      const entry = entryFor(key);
      if (!stored.startsWith(encryptedPrefix)) {
        if (!entry || entry.providers.some((p) => p.type === 'identity')) return stored;
        throw new DecryptionError(`cannot read ${key}: it is stored unencrypted and the encryption configuration lists no identity provider for ${entry.resources.join(', ')}`);
      }
      if (!stored.startsWith(aesgcmPrefix)) {
        throw new DecryptionError(`cannot read ${key}: it is stored with the provider "${stored.slice(encryptedPrefix.length).split(':')[0]}", which kubesvc does not implement`);
      }
      const rest = stored.slice(aesgcmPrefix.length);
      const colon = rest.indexOf(':');
      const name = colon < 0 ? '' : rest.slice(0, colon);
      const aesKey = entry && aesKeys(entry).find((k) => k.name === name);
      if (!aesKey) throw new DecryptionError(`cannot decrypt ${key}: it was written with the aesgcm key "${name}", which the encryption configuration does not list for it`);
      return open(aesKey, key, rest.slice(colon + 1));
    },
    moveKey(from, to, stored) {
      if (!stored.startsWith(aesgcmPrefix)) return stored;
      const rest = stored.slice(aesgcmPrefix.length);
      const colon = rest.indexOf(':');
      const name = colon < 0 ? '' : rest.slice(0, colon);
      const entry = entryFor(to) ?? entryFor(from);
      const aesKey = entry && aesKeys(entry).find((k) => k.name === name);
      if (!aesKey) throw new DecryptionError(`cannot move ${from} to ${to}: it was written with the aesgcm key "${name}", which the encryption configuration does not list for it`);
      return seal(aesKey, to, open(aesKey, from, rest.slice(colon + 1)));
    },
  };
}
