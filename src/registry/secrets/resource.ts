// core/v1 secrets, served as upstream's pkg/registry/core/secret: the type
// defaults to Opaque, stringData is a write-only input merged into data, and
// a kubernetes.io/tls secret whose key does not match its certificate is
// accepted with a warning.
import type { KubeObject } from '../../api/object.js';
import { validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, type RequestContext, type ResourceDef } from '../resource.js';
import { table } from './table.js';
import { x509KeyPairError } from './tls.js';
import { secretBytes, secretTypes, tlsCertKey, tlsPrivateKeyKey, validateSecret, validateSecretUpdate, type Secret } from './validation.js';

const secret = (o: KubeObject) => o as unknown as Secret;

/**
 * What decoding a v1 Secret does before any strategy runs (SetDefaults_Secret
 * and Convert_v1_Secret_To_core_Secret): an empty type is Opaque, stringData
 * overwrites data key by key and is never kept. Values are re-encoded as Go
 * writes []byte (base64 with padding, no line breaks).
 */
function normalize(s: Secret): void {
  s.type ||= secretTypes.opaque;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('base64');
  for (const [k, v] of Object.entries(s.stringData ?? {})) data[k] = Buffer.from(v, 'utf8').toString('base64');
  delete s.stringData;
  // An empty map is omitted on output (omitempty), as it is after a round trip through storage.
  if (Object.keys(data).length) s.data = data;
  else delete s.data;
}

/** warningsForSecret: a TLS secret's certificate and key should make a pair. */
function warn(s: Secret, ctx: RequestContext): void {
  if (s.type !== secretTypes.tls) return;
  const why = x509KeyPairError(secretBytes(s, tlsCertKey) ?? Buffer.alloc(0), secretBytes(s, tlsPrivateKeyKey) ?? Buffer.alloc(0));
  if (why) ctx.warnings.push(why);
}

export const secretsResource: ResourceDef = {
  convertOnDecode: (obj) => normalize(secret(obj)),
  group: '',
  version: 'v1',
  kind: 'Secret',
  resource: 'secrets',
  singular: 'secret',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: standardVerbs,
  subresources: [],
  table,
  validateName: validateDNS1123SubdomainName,
  fields: (obj) => ({ type: String(secret(obj).type ?? '') }),
  strategy: {
    prepareForCreate(obj, ctx) {
      normalize(secret(obj));
      warn(secret(obj), ctx);
    },
    prepareForUpdate(obj, _old, ctx) {
      normalize(secret(obj));
      warn(secret(obj), ctx);
    },
    validate: (obj) => validateSecret(secret(obj)),
    validateUpdate: (obj, old) => validateSecretUpdate(secret(obj), secret(old)),
  },
};
