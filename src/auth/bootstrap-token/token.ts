// Bootstrap tokens as k8s.io/cluster-bootstrap defines them: a token
// `<id>.<secret>` ([a-z0-9]{6}.[a-z0-9]{16}) is the Secret
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token,
// whose data holds the id, the secret, an RFC 3339 expiration, the usages
// (usage-bootstrap-authentication, usage-bootstrap-signing) and extra groups
// (auth-extra-groups, each system:bootstrappers:…). Who a token
// authenticates as: system:bootstrap:<id> in system:bootstrappers + extras.
import { randomInt } from 'node:crypto';

export const bootstrapTokenSecretPrefix = 'bootstrap-token-';
export const secretTypeBootstrapToken = 'bootstrap.kubernetes.io/token';
export const tokenNamespace = 'kube-system';
export const bootstrapUserPrefix = 'system:bootstrap:';
export const bootstrapDefaultGroup = 'system:bootstrappers';

export const keys = {
  description: 'description',
  tokenID: 'token-id',
  tokenSecret: 'token-secret',
  expiration: 'expiration',
  extraGroups: 'auth-extra-groups',
  usagePrefix: 'usage-bootstrap-',
  usageAuthentication: 'usage-bootstrap-authentication',
  usageSigning: 'usage-bootstrap-signing',
} as const;

/** KnownTokenUsages. */
export const knownTokenUsages = ['signing', 'authentication'];

/** kubeadm's default group for tokens it makes (what its RBAC binds). */
export const kubeadmDefaultNodeTokenGroup = 'system:bootstrappers:kubeadm:default-node-token';

/** cluster-info in kube-public: the kubeconfig joining nodes trust, signed per token. */
export const clusterInfo = { namespace: 'kube-public', name: 'cluster-info', kubeconfigKey: 'kubeconfig', jwsKeyPrefix: 'jws-kubeconfig-' } as const;

export const bootstrapTokenPattern = '\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z';
const tokenRe = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const tokenIDRe = /^[a-z0-9]{6}$/;
const groupPattern = '\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z';
const groupRe = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const secretNameRe = /^bootstrap-token-([a-z0-9]{6})$/;

/** ParseToken: the id and secret of a token, or Go's error. */
export function parseToken(token: string): { id: string; secret: string } {
  const m = tokenRe.exec(token);
  if (!m) throw new Error(`token ${JSON.stringify(token)} was not of form ${JSON.stringify(bootstrapTokenPattern)}`);
  return { id: m[1]!, secret: m[2]! };
}

export const isValidTokenID = (id: string) => tokenIDRe.test(id);

/** The Secret name of a token id. */
export const secretName = (id: string) => bootstrapTokenSecretPrefix + id;

/** ParseName: the token id of a Secret name, or undefined. */
export function tokenIDOfSecretName(name: string): string | undefined {
  return secretNameRe.exec(name)?.[1];
}

/** GenerateBootstrapToken: 6 + 16 characters of [a-z0-9] from crypto/rand. */
export function generateToken(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

/** ValidateBootstrapGroupName. */
export function validateGroupName(name: string): string | undefined {
  return groupRe.test(name) ? undefined : `bootstrap group ${JSON.stringify(name)} is invalid (must match ${groupPattern})`;
}

export interface TokenSecret {
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: string };
  type?: string;
  data?: Record<string, string>;
}

/** GetData: a data value decoded from base64, '' when absent. */
export function secretData(secret: TokenSecret, key: string): string {
  const v = secret.data?.[key];
  return v === undefined ? '' : Buffer.from(v, 'base64').toString('utf8');
}

/** GetGroups: system:bootstrappers and the valid extra groups, sorted and unique; an invalid one is an error. */
export function tokenGroups(secret: TokenSecret): string[] {
  const groups = new Set([bootstrapDefaultGroup]);
  const extra = secretData(secret, keys.extraGroups);
  if (extra) {
    for (const g of extra.split(',')) {
      const err = validateGroupName(g);
      if (err) throw new Error(err);
      groups.add(g);
    }
  }
  return [...groups].sort();
}

/** HasExpired: an expiration that does not parse as RFC 3339 counts as expired; no expiration never expires. */
export function hasExpired(secret: TokenSecret, now = new Date()): boolean {
  const expiration = secretData(secret, keys.expiration);
  if (!expiration) return false;
  const t = parseRFC3339(expiration);
  if (t === undefined) return true;
  return t - now.getTime() <= 0;
}

/** time.Parse(time.RFC3339, s) in milliseconds, or undefined. */
export function parseRFC3339(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** The token's usages (the usage-bootstrap-* keys set to "true"), as kubeadm lists them. */
export function tokenUsages(secret: TokenSecret): string[] {
  return Object.keys(secret.data ?? {})
    .filter((k) => k.startsWith(keys.usagePrefix) && secretData(secret, k) === 'true')
    .map((k) => k.slice(keys.usagePrefix.length))
    .sort();
}

export interface NewToken {
  token: string;
  /** Time to live in ms; 0 never expires. */
  ttlMs: number;
  description?: string;
  usages?: string[];
  groups?: string[];
  now?: Date;
}

/** The Secret of a new token, as kubeadm's BootstrapToken.ToSecret writes it (data as base64). */
export function tokenSecret(t: NewToken): TokenSecret & { apiVersion: string; kind: string; metadata: { name: string; namespace: string } } {
  const { id, secret } = parseToken(t.token);
  const data: Record<string, string> = { [keys.tokenID]: id, [keys.tokenSecret]: secret };
  if (t.description) data[keys.description] = t.description;
  if (t.ttlMs > 0) data[keys.expiration] = rfc3339((t.now ?? new Date()).getTime() + t.ttlMs);
  for (const usage of t.usages ?? knownTokenUsages) data[keys.usagePrefix + usage] = 'true';
  if (t.groups?.length) data[keys.extraGroups] = t.groups.join(',');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName(id), namespace: tokenNamespace },
    type: secretTypeBootstrapToken,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/** RFC 3339 in UTC without fractional seconds, as Go's time.Format(time.RFC3339) of a UTC time. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
