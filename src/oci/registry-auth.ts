// Registry authentication as Docker's token specification and containerd's
// authorizer have it: a 401 carries WWW-Authenticate challenges; a Bearer
// challenge (realm, service, scope) is answered with a token fetched from
// the realm (with the user's basic credentials when there are any), a Basic
// one with the credentials themselves.
import { requestFailure, UnexpectedStatusError } from './registry-errors.js';

export interface RegistryCredentials {
  username?: string;
  password?: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses WWW-Authenticate: `Bearer realm="https://auth",service="registry",scope="repository:x:pull",error="insufficient_scope"`. */
export function parseChallenges(header: string | null): Challenge[] {
  const out: Challenge[] = [];
  const s = header ?? '';
  let i = 0;
  const token = () => {
    const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(s.slice(i));
    i += m ? m[0].length : 1;
    return m?.[0] ?? '';
  };
  const skip = (chars: RegExp) => {
    while (i < s.length && chars.test(s[i]!)) i++;
  };
  while (i < s.length) {
    skip(/[\s,]/);
    if (i >= s.length) break;
    const t = token();
    skip(/\s/);
    if (s[i] !== '=') {
      if (t) out.push({ scheme: t.toLowerCase(), params: {} });
      continue;
    }
    i++;
    skip(/\s/);
    let value = '';
    if (s[i] === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) value += s[i] === '\\' ? s[++i] ?? '' : s[i];
      i++;
    } else {
      value = token();
    }
    const current = out[out.length - 1];
    if (current && t) current.params[t.toLowerCase()] = value;
  }
  return out;
}

export function basicAuthorization(c: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;
}

export function hasCredentials(c: RegistryCredentials | undefined): c is Required<RegistryCredentials> {
  return !!c?.username && !!c.password;
}

/**
 * GETs a token from a Bearer challenge's realm for `scopes` (the fallback of
 * containerd's FetchToken, which every token server answers): basic
 * credentials when given, else anonymously.
 */
export async function fetchToken(challenge: Challenge, scopes: string[], creds: RegistryCredentials | undefined, doFetch: typeof fetch): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) throw new Error('no realm specified for token auth challenge');
  const url = new URL(realm);
  // Go's url.Values.Encode sorts the keys: scope before service.
  for (const s of scopes) url.searchParams.append('scope', s);
  if (challenge.params.service) url.searchParams.append('service', challenge.params.service);
  url.searchParams.sort();
  const headers: Record<string, string> = {};
  const withCreds = hasCredentials(creds);
  if (withCreds) headers.authorization = basicAuthorization(creds);
  const wrap = (e: Error) => new Error(`${withCreds ? 'failed to fetch oauth token' : 'failed to fetch anonymous token'}: ${e.message}`);
  let res: Response;
  try {
    res = await doFetch(url, { headers, redirect: 'follow' });
  } catch (e) {
    throw wrap(requestFailure('GET', url.href, e));
  }
  if (res.status < 200 || res.status > 299) {
    await res.body?.cancel();
    throw wrap(new UnexpectedStatusError('GET', url.href, res.status));
  }
  const body = (await res.json()) as { token?: string; access_token?: string };
  const token = body.token || body.access_token;
  if (!token) throw wrap(new Error('authorization server did not include a token in the response'));
  return token;
}
