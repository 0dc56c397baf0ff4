// Who a request comes from, as upstream's authentication chain decides it:
// a verified client certificate, else a bearer token (ServiceAccount JWT),
// else anonymous (system:anonymous in system:unauthenticated). A credential
// that is presented but fails is not anonymous: it is a 401. Authenticated
// users get the group system:authenticated, as upstream's group adder does.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { anonymousUser, groups, type UserInfo } from '../user.js';
import { certificateUser } from './x509.js';

export interface TokenAuthenticator {
  /** The token's user and the audiences it was valid for, or why it is refused. */
  authenticate(token: string): Promise<{ user: UserInfo; audiences: string[] } | { error: string }>;
}

export type AuthenticationResult = { user: UserInfo; audiences?: string[] } | { error: string };

export interface RequestAuthenticator {
  authenticate(req: IncomingMessage): Promise<AuthenticationResult>;
}

export function createRequestAuthenticator(tokens: TokenAuthenticator): RequestAuthenticator {
  return {
    async authenticate(req) {
      const errors: string[] = [];
      const cert = certificateUser(req.socket as TLSSocket);
      if (cert && 'user' in cert) return { user: withAuthenticated(cert.user) };
      if (cert) errors.push(cert.error);
      const token = bearerToken(req.headers.authorization);
      if (token !== undefined) {
        const r = await tokens.authenticate(token);
        if ('user' in r) return { user: withAuthenticated(r.user), audiences: r.audiences };
        errors.push(r.error);
      }
      if (errors.length) return { error: errors.join(', ') };
      return { user: anonymousUser };
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header; undefined when there is none (other schemes are not ours). */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\s*bearer\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  return m[1]!.trim();
}

/** Every authenticated user is in system:authenticated (once). */
export function withAuthenticated(user: UserInfo): UserInfo {
  if (user.groups.includes(groups.authenticated)) return user;
  return { ...user, groups: [...user.groups, groups.authenticated] };
}
