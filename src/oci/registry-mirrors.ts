// Registry mirrors, as containerd's hosts.toml sets a registry namespace's
// `server`: pulls of images from registry NAME go to the mirror's URL and
// only there — no fall-back to the registry itself, so nothing leaves the
// machine when the mirror is on loopback. The image keeps its own name
// (in the store, the pod status and the events); only the endpoint its
// requests reach changes, and each request names the registry it stands in
// for in the query parameter `ns`, as containerd's requests to a mirror do.
// Plain HTTP is for loopback mirrors only, the rule registry-client.ts
// applies to registries.
import { DEFAULT_DOMAIN, isLoopbackDomain, isRegistryDomain } from './reference.js';

/** Mirror URLs by the registry they stand in for: { "registry.k8s.io": "http://127.0.0.1:5000" }. */
export type RegistryMirrors = Readonly<Record<string, string>>;

/** Where a registry's API is reached instead of the registry's own host. */
export interface RegistryEndpoint {
  scheme: 'http' | 'https';
  /** host[:port] ("127.0.0.1:5000", "[::1]:5000"). */
  host: string;
  /** The API root: "/v2", or the URL's path with /v2 appended as containerd appends it. */
  apiPath: string;
}

/** A mirror that cannot be used as given: its words name the flag's value. */
export class RegistryMirrorError extends Error {}

/** A registry's name as mirrors are keyed by it: lowercase (host names are), the legacy "index.docker.io" as Docker Hub. */
export function registryMirrorKey(registry: string): string {
  const name = registry.trim().toLowerCase();
  return name === 'index.docker.io' ? DEFAULT_DOMAIN : name;
}

/**
 * The endpoint of a mirror URL: http or https, a host and port, no
 * credentials, query or fragment; the path (if any) is where the API lives,
 * with /v2 appended unless it ends so. Plain HTTP only to loopback.
 */
export function mirrorEndpoint(url: string): RegistryEndpoint {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new RegistryMirrorError(`"${url}": a mirror's URL starts with http:// or https://`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RegistryMirrorError(`"${url}" is not a URL: a mirror is http://HOST[:PORT] (loopback only) or https://HOST[:PORT][/PATH]`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RegistryMirrorError(`"${url}": a mirror's URL starts with http:// or https://`);
  if (!u.host) throw new RegistryMirrorError(`"${url}" names no host`);
  if (u.username || u.password) throw new RegistryMirrorError(`"${url}": credentials do not belong in a mirror's URL (pods' imagePullSecrets carry them)`);
  if (u.search || u.hash) throw new RegistryMirrorError(`"${url}": a mirror's URL has no query or fragment`);
  const scheme = u.protocol === 'http:' ? 'http' : 'https';
  if (scheme === 'http' && !isLoopbackDomain(u.host)) {
    throw new RegistryMirrorError(`plain HTTP is refused for mirror "${url}": only loopback registries (localhost, 127.0.0.0/8, [::1]) may be reached without TLS`);
  }
  const path = u.pathname.replace(/\/+$/, '');
  return { scheme, host: u.host, apiPath: path.endsWith('/v2') ? path : `${path}/v2` };
}

/** One `--registry-mirror NAME=URL`, checked: the registry's key and the URL. */
export function parseRegistryMirror(value: string): [registry: string, url: string] {
  const eq = value.indexOf('=');
  if (eq < 0) throw new RegistryMirrorError(`"${value}" is not NAME=URL, e.g. registry.k8s.io=http://127.0.0.1:5000`);
  const registry = registryMirrorKey(value.slice(0, eq));
  const url = value.slice(eq + 1).trim();
  if (!isRegistryDomain(registry)) {
    throw new RegistryMirrorError(`"${value.slice(0, eq)}" is not a registry name: a host with a dot or a port, or localhost, as image references name it (docker.io for Docker Hub)`);
  }
  if (!url) throw new RegistryMirrorError(`"${value}" names no mirror URL, e.g. ${registry}=http://127.0.0.1:5000`);
  mirrorEndpoint(url);
  return [registry, url];
}

/** The mirror standing in for `domain` (an image reference's registry), if any. */
export function mirrorFor(mirrors: RegistryMirrors | undefined, domain: string): RegistryEndpoint | undefined {
  if (!mirrors) return undefined;
  const key = registryMirrorKey(domain);
  return Object.hasOwn(mirrors, key) ? mirrorEndpoint(mirrors[key]!) : undefined;
}
