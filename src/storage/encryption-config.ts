// The encryption-at-rest configuration, in kube-apiserver's
// --encryption-provider-config format (apiserver.config.k8s.io/v1
// EncryptionConfiguration):
//
//   apiVersion: apiserver.config.k8s.io/v1
//   kind: EncryptionConfiguration
//   resources:
//     - resources: [secrets]
//       providers:
//         - aesgcm: { keys: [{ name: key1, secret: <base64 of 16, 24 or 32 bytes> }] }
//         - identity: {}
//
// Each entry's resources are stored under key prefixes (src/registry/keys.ts,
// upstream's layout): `secrets` under /registry/secrets/, `deployments.apps`
// under /registry/deployments/, `*.apps` under each apps resource's prefix,
// `*.example.com` under /registry/example.com/, `*.*` everything. The first entry naming a
// key's resource applies. Its first provider encrypts what is written (its
// first key, for aesgcm); every provider listed decrypts what it wrote, and
// identity reads values stored in clear. kubesvc implements the aesgcm and
// identity providers; others (aescbc, secretbox, kms) are refused by name.
// The data dir's file, <data dir>/pki/encryption-config.yaml, is made on
// first start with one fresh 32-byte key (owner-only, as a key file).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { builtinGroupResources, registryRoot, resourcePrefix } from '../registry/keys.js';

export const encryptionConfigFileName = 'encryption-config.yaml';

export interface AesGcmKey {
  name: string;
  secret: Buffer;
}

export type EncryptionProvider = { type: 'aesgcm'; keys: AesGcmKey[] } | { type: 'identity' };

export interface ResourceEncryption {
  /** The resources as written in the file. */
  resources: string[];
  /** The storage key prefixes they live under. */
  prefixes: string[];
  /** In order: the first writes, all read. */
  providers: EncryptionProvider[];
}

export interface EncryptionConfig {
  resources: ResourceEncryption[];
}

/** A configuration kubesvc cannot use; the message names the file and the field. */
export class EncryptionConfigError extends Error {}

const apiVersion = 'apiserver.config.k8s.io/v1';
const kind = 'EncryptionConfiguration';
const aesKeyLengths = [16, 24, 32];
const unsupportedProviders = ['aescbc', 'secretbox', 'kms'];

/** The data dir's configuration file: made (mode 0600, one new aesgcm key, identity to read what was stored before) when missing. Returns its path. */
export function ensureEncryptionConfig(pkiDir: string): string {
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const path = join(pkiDir, encryptionConfigFileName);
  if (!existsSync(path)) {
    const config = {
      apiVersion,
      kind,
      resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'key1', secret: randomBytes(32).toString('base64') }] } }, { identity: {} }] }],
    };
    try {
      writeFileSync(path, stringifyYaml(config), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another process made it first: theirs is the one.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  chmodSync(path, 0o600);
  return path;
}

/** Reads and checks the configuration file. */
export function loadEncryptionConfig(path: string): EncryptionConfig {
  return parseEncryptionConfig(readFileSync(path, 'utf8'), path);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A resource name as the file writes it → the prefixes of its storage keys (src/registry/keys.ts's mapping). */
function prefixesOf(resource: string, field: string): string[] {
  if (resource === '*.*') return [registryRoot];
  const dot = resource.indexOf('.');
  const [name, group] = dot < 0 ? [resource, ''] : [resource.slice(0, dot), resource.slice(dot + 1)];
  if (!name || /[/\s]/.test(resource)) throw new EncryptionConfigError(`${field}: Invalid value: "${resource}": resource names are lower-case plurals, as "secrets" or "deployments.apps"`);
  if (name === '*') {
    if (!group) throw new EncryptionConfigError(`${field}: Invalid value: "${resource}": kubesvc cannot select every resource of the core group ("*."); name them`);
    // A built-in group's resources are stored without the group: each has its own prefix. A custom group's share one.
    const builtin = builtinGroupResources[group];
    return builtin ? builtin.map((r) => resourcePrefix({ group, resource: r })) : [`${registryRoot}${group}/`];
  }
  return [resourcePrefix({ group, resource: name })];
}

function parseAesGcm(v: unknown, field: string): EncryptionProvider {
  const keys = isObject(v) ? v.keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) throw new EncryptionConfigError(`${field}.keys: Required value: at least one key is required`);
  const names = new Set<string>();
  return {
    type: 'aesgcm',
    keys: keys.map((k, i): AesGcmKey => {
      const f = `${field}.keys[${i}]`;
      const name = isObject(k) ? k.name : undefined;
      const secret = isObject(k) ? k.secret : undefined;
      if (typeof name !== 'string' || !name) throw new EncryptionConfigError(`${f}.name: Required value: a key needs a name`);
      if (name.includes(':')) throw new EncryptionConfigError(`${f}.name: Invalid value: "${name}": should not contain ':'`);
      if (names.has(name)) throw new EncryptionConfigError(`${f}.name: Duplicate value: "${name}"`);
      names.add(name);
      if (typeof secret !== 'string' || !secret) throw new EncryptionConfigError(`${f}.secret: Required value: the key's base64 bytes`);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(secret) || secret.length % 4 !== 0) throw new EncryptionConfigError(`${f}.secret: Invalid value: REDACTED: secrets must be base64 encoded`);
      const bytes = Buffer.from(secret, 'base64');
      if (!aesKeyLengths.includes(bytes.length)) {
        throw new EncryptionConfigError(`${f}.secret: Invalid value: REDACTED: secret is not of the expected length, got ${bytes.length}, expected one of [16 24 32]`);
      }
      return { name, secret: bytes };
    }),
  };
}

function parseProvider(p: unknown, field: string): EncryptionProvider {
  const types = isObject(p) ? Object.keys(p) : [];
  if (types.length !== 1) throw new EncryptionConfigError(`${field}: Invalid value: provider does not contain exactly one of: aesgcm, identity`);
  const type = types[0]!;
  if (type === 'identity') return { type: 'identity' };
  if (type === 'aesgcm') return parseAesGcm((p as Record<string, unknown>).aesgcm, `${field}.aesgcm`);
  if (unsupportedProviders.includes(type)) throw new EncryptionConfigError(`${field}.${type}: Unsupported value: kubesvc implements the aesgcm and identity providers only`);
  throw new EncryptionConfigError(`${field}: Invalid value: unknown provider "${type}"`);
}

/** Checks an EncryptionConfiguration (YAML or JSON); `source` names it in errors. */
export function parseEncryptionConfig(text: string, source = 'the encryption configuration'): EncryptionConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new EncryptionConfigError(`${source}: not YAML: ${(e as Error).message}`);
  }
  const fail = (why: string): never => {
    throw new EncryptionConfigError(`${source}: ${why}`);
  };
  if (!isObject(doc)) return fail(`expected an ${kind} object`);
  if (doc.apiVersion !== apiVersion || doc.kind !== kind) return fail(`expected apiVersion ${apiVersion}, kind ${kind}; got ${String(doc.apiVersion)}, ${String(doc.kind)}`);
  if (!Array.isArray(doc.resources) || doc.resources.length === 0) return fail('resources: Required value: at least one resource entry is required');
  try {
    return {
      resources: doc.resources.map((r: unknown, i): ResourceEncryption => {
        const field = `resources[${i}]`;
        const names = isObject(r) ? r.resources : undefined;
        const providers = isObject(r) ? r.providers : undefined;
        if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
          throw new EncryptionConfigError(`${field}.resources: Required value: at least one resource is required`);
        }
        if (!Array.isArray(providers) || providers.length === 0) throw new EncryptionConfigError(`${field}.providers: Required value: at least one provider is required`);
        return {
          resources: names as string[],
          prefixes: (names as string[]).flatMap((n, j) => prefixesOf(n, `${field}.resources[${j}]`)),
          providers: providers.map((p, j) => parseProvider(p, `${field}.providers[${j}]`)),
        };
      }),
    };
  } catch (e) {
    if (e instanceof EncryptionConfigError) return fail(e.message);
    throw e;
  }
}
