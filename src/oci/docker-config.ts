// Registry credentials from a pod's imagePullSecrets, matched to an image as
// the kubelet's credential keyring does (pkg/credentialprovider): a
// kubernetes.io/dockerconfigjson Secret's ".dockerconfigjson" ({"auths":
// {...}}) or a kubernetes.io/dockercfg one's ".dockercfg" ({...}); each
// entry's key is a registry URL ("https://index.docker.io/v1/", "host:port",
// "host/path", "*.example.com"), its credentials "auth" (base64 of
// user:password) or username and password.
import type { RegistryCredentials } from './registry-auth.js';

export interface DockerConfigEntry {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
}

/** The part of a Secret the keyring reads; data values base64, as the API has them. */
export interface PullSecret {
  type?: string;
  data?: Record<string, string>;
}

const DEFAULT_REGISTRY_HOST = 'index.docker.io';

/** The username and password of an entry: "auth", when set, wins. */
export function entryCredentials(entry: DockerConfigEntry): RegistryCredentials {
  if (!entry.auth) return { username: entry.username ?? '', password: entry.password ?? '' };
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new Error('unable to parse auth field, must be formatted as base64(username:password)');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A schemeless URL as Go's url.Parse("https://" + s) splits it. */
function parseSchemeless(s: string): { host: string; path: string } | undefined {
  try {
    const u = new URL(`https://${s}`);
    return { host: u.host, path: decodeURIComponent(u.pathname === '/' && !s.includes('/') ? '' : u.pathname) };
  } catch {
    return undefined;
  }
}

function splitHost(host: string): [string[], string] {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host);
  return [(m?.[1] ?? host).split('.'), m?.[2] ?? ''];
}

/** Go's filepath.Match for one host label: * and ? within it, [...] classes. */
function globMatch(pattern: string, s: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  try {
    return new RegExp(`^${re}$`).test(s);
  } catch {
    return false;
  }
}

/** The keyring's URLsMatchStr: glob host labels, equal ports, the key's path a prefix of the image's. */
export function urlsMatch(glob: string, target: string): boolean {
  const g = parseSchemeless(glob);
  const t = parseSchemeless(target);
  if (!g || !t) return false;
  const [gParts, gPort] = splitHost(g.host);
  const [tParts, tPort] = splitHost(t.host);
  if (gPort !== tPort || gParts.length !== tParts.length) return false;
  if (!t.path.startsWith(g.path)) return false;
  return gParts.every((p, i) => globMatch(p, tParts[i]!));
}

/** Whether an image name pulls from Docker Hub (the keyring's isDefaultRegistryMatch). */
function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf('/');
  const first = slash < 0 ? image : image.slice(0, slash);
  if (!first) return false;
  if (slash < 0) return true;
  if (first === 'docker.io' || first === 'index.docker.io') return true;
  return !/[.:]/.test(first);
}

/** The keyring's key for a config entry: host, or host + path ("/v1/" and "/v2/" count as none). */
function keyOf(location: string): string | undefined {
  let value = location;
  if (!value.startsWith('https://') && !value.startsWith('http://')) value = `https://${value}`;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return undefined;
  }
  let path = decodeURIComponent(u.pathname);
  if (!/^[a-z]+:\/\/[^/]+\//.test(value)) path = '';
  if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
  return path.length > 0 && path !== '/' ? u.host + path : u.host;
}

export class DockerKeyring {
  private readonly creds = new Map<string, RegistryCredentials[]>();

  /** Adds the entries of one config ({registry: entry}). */
  add(config: Record<string, DockerConfigEntry>): this {
    for (const [location, entry] of Object.entries(config ?? {})) {
      const key = keyOf(location);
      if (key === undefined) continue;
      const list = this.creds.get(key) ?? [];
      list.push(entryCredentials(entry));
      this.creds.set(key, list);
    }
    return this;
  }

  /** Adds the pull secrets the kubelet reads (others are ignored); throws on one that is not JSON. */
  addSecrets(secrets: PullSecret[]): this {
    for (const s of secrets) {
      const json = s.data?.['.dockerconfigjson'];
      const cfg = s.data?.['.dockercfg'];
      if (s.type === 'kubernetes.io/dockerconfigjson' && json) this.add((JSON.parse(Buffer.from(json, 'base64').toString('utf8')) as { auths?: Record<string, DockerConfigEntry> }).auths ?? {});
      else if (s.type === 'kubernetes.io/dockercfg' && cfg) this.add(JSON.parse(Buffer.from(cfg, 'base64').toString('utf8')) as Record<string, DockerConfigEntry>);
    }
    return this;
  }

  /**
   * The credentials for `image`'s repository (its normalized name without tag,
   * e.g. docker.io/library/nginx or localhost:5000/app), most specific key
   * first; Docker Hub's entry for Docker Hub images; [] for anonymous.
   */
  lookup(repository: string): RegistryCredentials[] {
    const keys = [...this.creds.keys()].sort().reverse();
    const out = keys.filter((k) => urlsMatch(k, repository)).flatMap((k) => this.creds.get(k)!);
    if (out.length) return out;
    if (isDefaultRegistryMatch(repository)) return this.creds.get(DEFAULT_REGISTRY_HOST) ?? [];
    return [];
  }
}

/** The credentials the kubelet would try for `repository` with `secrets` as the pod's imagePullSecrets. */
export function credentialsFor(repository: string, secrets: PullSecret[]): RegistryCredentials[] {
  return new DockerKeyring().addSecrets(secrets).lookup(repository);
}
