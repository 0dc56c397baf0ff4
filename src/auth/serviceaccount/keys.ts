// The service account signing key pair, laid out as kubeadm does:
// <pki>/sa.key (RSA 2048, PKCS#1 PEM, 0600) signs tokens and <pki>/sa.pub
// (SubjectPublicKeyInfo PEM) verifies them. Made on first use and reused
// ever after: kubeadm keeps an existing sa.key and so do we, writing sa.pub
// again only if it went missing. A new key (RSA generation takes ~100 ms)
// is made on the thread pool, so a first start does other work meanwhile.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../util/errors.js';
import { writePkiFile } from '../../apiserver/pki/ca.js';

export interface ServiceAccountKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The "kid" of the tokens it signs and of its JWK. */
  keyId: string;
}

export const serviceAccountKeyFile = 'sa.key';
export const serviceAccountPublicKeyFile = 'sa.pub';

/** The public half of a key pair (a public key as it is), as upstream takes either for verification. */
export function publicKeyOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

/** Upstream's keyIDFromPublicKey: the unpadded base64url SHA-256 of the DER SubjectPublicKeyInfo. */
export function keyId(key: KeyObject): string {
  return createHash('sha256').update(publicKeyOf(key).export({ type: 'spki', format: 'der' })).digest('base64url');
}

/** Only RSA keys sign and verify RS256. */
export function assertRSA(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`${what} is a ${key.asymmetricKeyType ?? key.type} key, want RSA`);
}

/** A PEM file that exists, parsed; kubeadm's words when it does not parse. */
function readKey(path: string, parse: (pem: Buffer) => KeyObject): KeyObject {
  try {
    return parse(readFileSync(path));
  } catch (e) {
    throw new Error(`file ${path} existed but it could not be loaded properly: ${errorMessage(e)}`, { cause: e });
  }
}

function loadPrivateKey(path: string): KeyObject {
  const key = readKey(path, createPrivateKey);
  assertRSA(key, path);
  return key;
}

async function newPrivateKey(pki: string): Promise<KeyObject> {
  const privateKey = await new Promise<KeyObject>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv))),
  );
  writePkiFile(pki, serviceAccountKeyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
  return privateKey;
}

/** The pair in `pki`, made (with the directory, 0700) if sa.key does not exist. */
export async function ensureServiceAccountKeys(pki: string): Promise<ServiceAccountKeys> {
  const keyPath = join(pki, serviceAccountKeyFile);
  const pubPath = join(pki, serviceAccountPublicKeyFile);
  const privateKey = existsSync(keyPath) ? loadPrivateKey(keyPath) : await newPrivateKey(pki);
  const publicKey = createPublicKey(privateKey);
  if (!existsSync(pubPath)) writePkiFile(pki, serviceAccountPublicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }) as string);
  else if (!readKey(pubPath, createPublicKey).equals(publicKey)) throw new Error(`${pubPath} is not the public key of ${keyPath}`);
  return { privateKey, publicKey, keyId: keyId(publicKey) };
}
