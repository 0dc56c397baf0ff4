// Image references as the kubelet and containerd read them: the grammar of
// distribution/reference, normalized the Docker way (docker.io and library/
// for familiar names, tag "latest" when neither tag nor digest is given, a
// digest winning over a tag), and the kubelet's words for a name it cannot
// parse (reason InvalidImageName).
import { DigestError, validateDigest } from './digest.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

// The grammar (distribution/reference's regexp.go), written out for JavaScript.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainAndPort = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;
const referenceRegexp = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const anchoredNameRegexp = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const anchoredDomainRegexp = new RegExp(`^${domainAndPort}$`);
const identifierRegexp = /^[a-f0-9]{64}$/;

export interface ImageReference {
  /** The registry as named: "docker.io", "registry.k8s.io", "localhost:5000", "[::1]:5000". */
  domain: string;
  /** The repository in the registry: "library/nginx", "e2e-test-images/agnhost". */
  path: string;
  /** The tag; absent when the reference is by digest (a digest wins over a tag, as containerd's ParseDockerRef has it). */
  tag?: string;
  digest?: string;
  /** domain/path: "docker.io/library/nginx", the IMAGE column of crictl images. */
  name: string;
  /** The full normalized reference: "docker.io/library/nginx:latest" or "name@sha256:…". */
  normalized: string;
}

/** A name the kubelet refuses before pulling: the container waits with reason InvalidImageName. */
export class InvalidImageNameError extends Error {
  readonly reason = 'InvalidImageName';
}

/** The error of distribution/reference's Parse for the normalized name `s`. */
function parse(s: string): { domain: string; path: string; tag?: string; digest?: string } {
  if (s === '') throw new Error('repository name must have at least one component');
  const m = referenceRegexp.exec(s);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && referenceRegexp.test(lower)) throw new Error('repository name must be lowercase');
    throw new Error('invalid reference format');
  }
  const nameMatch = anchoredNameRegexp.exec(m[1]!);
  const domain = nameMatch?.[1] ?? '';
  const path = nameMatch ? nameMatch[2]! : m[1]!;
  if (path.length > NAME_TOTAL_LENGTH_MAX) throw new Error(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  let digest: string | undefined;
  if (m[3]) {
    try {
      digest = validateDigest(m[3]);
    } catch (e) {
      throw e instanceof DigestError ? new Error(e.message) : e;
    }
  }
  return { domain, path, tag: m[2] || undefined, digest };
}

/** distribution/reference's splitDockerDomain: the registry part of a familiar name. */
function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  let domain = DEFAULT_DOMAIN;
  let remote = name;
  if (maybeDomain === 'localhost' || /[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain) {
    // The legacy "Docker Index" host is Docker Hub.
    [domain, remote] = [maybeDomain === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : maybeDomain, maybeRemote];
  }
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_REPO_PREFIX + remote;
  return [domain, remote];
}

/** ParseNormalizedNamed: throws with distribution/reference's message. */
function parseNormalizedNamed(s: string): ImageReference {
  if (identifierRegexp.test(s)) throw new Error(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const [domain, remainder] = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) throw new Error(`invalid reference format: repository name (${remote}) must be lowercase`);
  const parsed = parse(`${domain}/${remainder}`);
  const name = parsed.domain ? `${parsed.domain}/${parsed.path}` : parsed.path;
  const tag = parsed.digest ? undefined : (parsed.tag ?? DEFAULT_TAG);
  return {
    domain: parsed.domain,
    path: parsed.path,
    tag,
    digest: parsed.digest,
    name,
    normalized: parsed.digest ? `${name}@${parsed.digest}` : `${name}:${tag}`,
  };
}

/**
 * Parses an image reference as the kubelet (applyDefaultImageTag) and then
 * containerd (ParseDockerRef) do. Throws InvalidImageNameError with the
 * kubelet's message: Failed to apply default image tag "X": couldn't parse
 * image name "X": invalid reference format.
 */
export function parseImageReference(image: string): ImageReference {
  try {
    return parseNormalizedNamed(image);
  } catch (e) {
    throw new InvalidImageNameError(`Failed to apply default image tag ${JSON.stringify(image)}: couldn't parse image name ${JSON.stringify(image)}: ${(e as Error).message}`);
  }
}

/**
 * Whether `name` is a registry an image reference can name: a domain (or IP)
 * with an optional port that splitDockerDomain takes for one — it has a dot
 * or a port, or is localhost; "docker.io" is Docker Hub's.
 */
export function isRegistryDomain(name: string): boolean {
  return anchoredDomainRegexp.test(name) && (name === 'localhost' || /[.:]/.test(name));
}

/** The host that serves a registry's API: Docker Hub's is registry-1.docker.io. */
export function registryApiHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? 'registry-1.docker.io' : domain;
}

/** The host name of a registry domain without its port ("[::1]:5000" → "::1"). */
export function domainHostname(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const colon = domain.lastIndexOf(':');
  return colon >= 0 ? domain.slice(0, colon) : domain;
}

/**
 * Docker's default insecure-registry set, where plain HTTP is allowed:
 * localhost, 127.0.0.0/8 and ::1.
 */
export function isLoopbackDomain(domain: string): boolean {
  const host = domainHostname(domain).toLowerCase();
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  const octets = host.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);
}
