// A client of the OCI distribution API for one repository, as containerd's
// resolver and fetcher talk to it: HEAD manifests/<tag> to resolve, GET
// manifests/<digest> and blobs/<digest> to fetch, 401s answered through
// registry-auth.ts. HTTPS always, except for loopback registries (Docker's
// default insecure set), which get plain HTTP when they do not speak TLS.
// A registry with a mirror (registry-mirrors.ts) is reached only there.
import { Readable } from 'node:stream';
import { digestOf, isDigest } from './digest.js';
import { MANIFEST_ACCEPT, type Descriptor } from './media-types.js';
import { isLoopbackDomain, registryApiHost } from './reference.js';
import type { RegistryEndpoint } from './registry-mirrors.js';
import { basicAuthorization, fetchToken, hasCredentials, parseChallenges, type Challenge, type RegistryCredentials } from './registry-auth.js';
import { AuthorizationError, isPlainHttpAnswer, NotFoundError, requestFailure, UnexpectedStatusError } from './registry-errors.js';

/** containerd's MaxManifestSize. */
export const MAX_MANIFEST_SIZE = 4 * 1048 * 1048;

export interface RegistryClientOptions {
  credentials?: RegistryCredentials;
  /** Plain HTTP from the first request: allowed only for loopback registries. */
  plainHttp?: boolean;
  /** The fetch to use (tests); global fetch by default. */
  fetch?: typeof fetch;
  /**
   * The mirror standing in for the registry: every request goes there (its
   * scheme, host and API path, the registry named in `ns`), none to the
   * registry itself, as containerd with a hosts.toml `server`.
   */
  mirror?: RegistryEndpoint;
}

/** Loopback registries found to speak plain HTTP, by host (containerd's HTTP fallback remembers them too). */
const plainHttpHosts = new Set<string>();

/** The scheme a registry's API is reached with; throws for plain HTTP to anything but loopback. */
export function registryScheme(domain: string, plainHttp = false): 'https' | 'http' {
  if (!plainHttp) return plainHttpHosts.has(registryApiHost(domain)) ? 'http' : 'https';
  if (!isLoopbackDomain(domain)) {
    throw new Error(`plain HTTP is refused for registry "${domain}": only loopback registries (localhost, 127.0.0.0/8, [::1]) may be reached without TLS`);
  }
  return 'http';
}

interface AuthState {
  scheme: 'basic' | 'bearer';
  challenge?: Challenge;
  token?: Promise<string>;
}

export class RegistryClient {
  readonly host: string;
  private scheme: 'https' | 'http';
  private readonly apiPath: string;
  /** `?ns=<registry>` on a mirror's requests. */
  private readonly query: string;
  private auth?: AuthState;
  private readonly doFetch: typeof fetch;

  constructor(
    readonly domain: string,
    readonly repository: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    const mirror = opts.mirror;
    this.host = mirror ? mirror.host : registryApiHost(domain);
    // A mirror's http:// is plain HTTP asked for: refused unless the mirror is on loopback.
    this.scheme = mirror ? registryScheme(mirror.host, opts.plainHttp || mirror.scheme === 'http') : registryScheme(domain, opts.plainHttp);
    this.apiPath = mirror ? mirror.apiPath : '/v2';
    this.query = mirror ? `?ns=${encodeURIComponent(domain)}` : '';
    this.doFetch = opts.fetch ?? fetch;
  }

  private url(kind: 'manifests' | 'blobs', object: string): string {
    return `${this.scheme}://${this.host}${this.apiPath}/${this.repository}/${kind}/${object}${this.query}`;
  }

  private authorization(): Promise<string | undefined> | string | undefined {
    if (!this.auth) return undefined;
    if (this.auth.scheme === 'basic') return basicAuthorization(this.opts.credentials ?? {});
    this.auth.token ??= fetchToken(this.auth.challenge!, [`repository:${this.repository}:pull`], this.opts.credentials, this.doFetch);
    return this.auth.token.then((t) => `Bearer ${t}`);
  }

  /** Takes a 401's challenges as containerd's authorizer does; false when there is nothing to retry with. */
  private addUnauthorized(res: Response, retried: boolean): boolean {
    for (const c of parseChallenges(res.headers.get('www-authenticate'))) {
      if (c.scheme === 'bearer') {
        const error = c.params.error;
        if (error && retried) {
          this.auth = undefined;
          throw new AuthorizationError(`server message: ${error}: authorization failed`);
        }
        if (this.auth?.scheme === 'bearer' && !error && retried) return false;
        this.auth = { scheme: 'bearer', challenge: c };
        return true;
      }
      if (c.scheme === 'basic') {
        if (!hasCredentials(this.opts.credentials)) throw new AuthorizationError('authorization failed: no basic auth credentials');
        if (this.auth?.scheme === 'basic' && retried) return false;
        this.auth = { scheme: 'basic' };
        return true;
      }
    }
    return false;
  }

  /** One request with containerd's retries: after a 401 answered with credentials or a token, and over plain HTTP for a loopback registry that does not speak TLS. */
  private async request(method: 'HEAD' | 'GET', kind: 'manifests' | 'blobs', object: string, accept?: string): Promise<Response> {
    let retried = false;
    for (let attempt = 0; attempt < 5; attempt++) {
      const url = this.url(kind, object);
      const headers: Record<string, string> = { 'user-agent': 'kubesvc' };
      if (accept) headers.accept = accept;
      let authorization: string | undefined;
      try {
        authorization = await this.authorization();
      } catch (e) {
        throw new Error(`failed to authorize: ${(e as Error).message}`, { cause: e });
      }
      if (authorization) headers.authorization = authorization;
      let res: Response;
      try {
        res = await this.doFetch(url, { method, headers, redirect: 'follow' });
      } catch (e) {
        if (this.scheme === 'https' && isLoopbackDomain(this.host) && isPlainHttpAnswer(e)) {
          plainHttpHosts.add(this.host);
          this.scheme = 'http';
          continue;
        }
        const err = requestFailure(method, url, e);
        if (isPlainHttpAnswer(e)) err.message += ' (plain HTTP is allowed only for loopback registries: localhost, 127.0.0.0/8, [::1])';
        throw err;
      }
      if (res.status !== 401 || !this.addUnauthorized(res, retried)) return res;
      await res.body?.cancel();
      retried = true;
    }
    throw new Error(`too many retries for ${method} ${this.url(kind, object)}`);
  }

  /**
   * Resolves a tag or digest to the descriptor of its manifest or index, as
   * containerd's Resolve: HEAD, its Docker-Content-Digest and length, else a
   * GET. `ref` names the image in a not-found error.
   */
  async resolve(object: string, ref: string): Promise<Descriptor> {
    const byDigest = isDigest(object);
    const paths: Array<['manifests' | 'blobs', string]> = byDigest ? [['manifests', object], ['blobs', object]] : [['manifests', object]];
    for (const [kind, obj] of paths) {
      let res: Response;
      try {
        res = await this.request('HEAD', kind, obj, MANIFEST_ACCEPT);
      } catch (e) {
        if (e instanceof AuthorizationError) throw new AuthorizationError(`pull access denied, repository does not exist or may require authorization: ${e.message}`);
        throw e;
      }
      if (res.status === 404) continue;
      if (res.status > 299) throw new UnexpectedStatusError('HEAD', this.url(kind, obj), res.status);
      const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
      const length = res.headers.get('content-length');
      let digest = byDigest ? object : (res.headers.get('docker-content-digest') ?? '');
      let size = length === null ? -1 : Number(length);
      if (digest && !isDigest(digest)) throw new Error(`${JSON.stringify(digest)} in header not a valid digest`);
      if (!digest || size < 0) {
        const body = await this.readManifest(kind, obj);
        digest ||= body.digest;
        size = body.data.length;
      }
      if (size > MAX_MANIFEST_SIZE) throw new NotFoundError(`rejecting ${size} byte manifest for ${ref}: not found`);
      return { mediaType, digest, size };
    }
    throw new NotFoundError(`${ref}: not found`);
  }

  private async readManifest(kind: 'manifests' | 'blobs', object: string): Promise<{ data: Buffer; digest: string; mediaType: string }> {
    const res = await this.get(kind, object, MANIFEST_ACCEPT);
    const data = Buffer.from(await res.arrayBuffer());
    return { data, digest: res.headers.get('docker-content-digest') ?? digestOf(data), mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim() };
  }

  private async get(kind: 'manifests' | 'blobs', object: string, accept: string): Promise<Response> {
    const res = await this.request('GET', kind, object, accept);
    if (res.status === 404) {
      await res.body?.cancel();
      throw new NotFoundError(`content at ${this.url(kind, object)} not found: not found`);
    }
    if (res.status > 299) {
      await res.body?.cancel();
      throw new UnexpectedStatusError('GET', this.url(kind, object), res.status);
    }
    return res;
  }

  /** A manifest or index (by digest) as a stream, or a blob: the caller verifies its digest and size. */
  async fetch(desc: Descriptor, kind: 'manifests' | 'blobs'): Promise<Readable> {
    const accept = kind === 'manifests' ? `${desc.mediaType}, */*` : '*/*';
    let res: Response;
    try {
      res = await this.get(kind, desc.digest, accept);
    } catch (e) {
      throw new Error(`httpReadSeeker: failed open: ${(e as Error).message}`, { cause: e });
    }
    if (!res.body) return Readable.from([]);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
}
